"""The duplicate engine: `core/` (no Django) finds and groups copies; the rest is its Django edge
(stored fingerprints, runs as Celery steps, the city library)."""
