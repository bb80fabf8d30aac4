"""Dedupe runs of a records request, the Django edge of the engine, one concern per module.

A run is planned, fingerprinted in chunks, its candidate pairs compared in chunks, grouped
and persisted. Every step takes ids, reads its state from the database, can run twice
without harm (Celery delivers at least once, and a killed worker's chunks are sent
again) and returns the work that follows it as values (`next_steps.NextStep`), which
`dedupe.tasks` sends to the workers. What belongs to the request (which files a run
covers, its status, the audit trail) is asked of the workflow records registers
(`workflow.RequestWorkflow`); nothing here imports records.

- `next_steps`: the steps of a run and the value naming the next one
- `steps`: each step's function, by step
- `run_settings`: the thresholds and departments of record a run uses in every step
- `lifecycle`: a run's row created, found active, failed
- `chunked`: the state machine of a phase done in chunks by any worker
- `fingerprinting`: planning the run and fingerprinting its blobs in chunks
- `verification`: finding candidate pairs and comparing them on pixels in chunks
- `engine_inputs`: stored rows as the engine's values (fingerprints, clerk decisions)
- `group_rows`: engine groups written as rows, as a run and a clerk's decision store them
- `grouping`: grouping the run's fingerprints and completing the run
- `liveness`: how long a silent worker may be trusted; a heartbeat for long steps
- `progress`: what the request page and the API show of a run
- `watchdog`: sending again what a stalled run waits for
- `workflow`: the typed seam to the request workflow
"""
