"""`manage.py` commands: demo data, department tokens, deduplicating a folder."""
