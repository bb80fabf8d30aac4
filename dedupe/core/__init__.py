"""The duplicate-detection engine's core: plain Python, no Django and no records.

It opens files once (sniff, imaging), reads their metadata, fingerprints them, finds
candidates through a Hamming index, verifies them on pixels, groups them without
chaining and chooses each group's authoritative copy by written rules. Its inputs are
paths, bytes and frozen values (types); its outputs are frozen values. `dedupe/` around
it is the Django edge (models, runs, tasks); `records/` is the request workflow.
"""
