"""Grouping invariants under any subset and order of a small corpus (hypothesis).

No chaining: every member of a group is verified against the group's authoritative copy
itself. Every item is in at most one group. The same items give the same groups.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.core.grouping import group_fingerprints
from dedupe.core.relations import relation_between
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Relation
from dedupe.core.verify import verify_pair
from tests.dedupe.builders import blend, fingerprint_of, reencode, scene

A, B = scene(11), scene(12)
# A chain in the making: A ~ A25 ~ A50 ~ ... ~ B, each step a small blend towards B.
CORPUS = [
    fingerprint_of(A, "d1/a.jpg", data=b"a"),
    fingerprint_of(A, "d2/a-copy.jpg", data=b"a"),
    fingerprint_of(reencode(A)[0], "d2/a-reencoded.jpg"),
    fingerprint_of(A.resize((160, 120)), "d3/a-small.jpg"),
    fingerprint_of(blend(A, B, 0.25), "d3/a25.jpg"),
    fingerprint_of(blend(A, B, 0.5), "d1/a50.jpg"),
    fingerprint_of(blend(A, B, 0.75), "d2/a75.jpg"),
    fingerprint_of(B, "d3/b.jpg"),
    fingerprint_of(reencode(B)[0], "d1/b-reencoded.jpg"),
]
SETTINGS = MatchSettings()


@given(st.lists(st.sampled_from(range(len(CORPUS))), min_size=2, max_size=len(CORPUS), unique=True))
@settings(max_examples=15, deadline=None)
def test_no_chaining_and_one_group_per_item_under_any_subset_and_order(indices):
    fingerprints = [CORPUS[i] for i in indices]
    by_key = {f.key: f for f in fingerprints}
    groups = group_fingerprints(fingerprints, SETTINGS)
    seen: set[str] = set()
    for group in groups:
        assert not seen & set(group.keys)
        seen |= set(group.keys)
        authoritative = by_key[group.authoritative]
        for member in group.members:
            if member.relation in (Relation.EXACT, Relation.SAME_PIXELS):
                continue
            other = by_key[member.key]
            check = verify_pair(authoritative, other, SETTINGS, (0, 90, 180, 270))
            assert relation_between(authoritative, other, check, SETTINGS) is not None, member
    assert group_fingerprints(list(reversed(fingerprints)), SETTINGS) == groups
