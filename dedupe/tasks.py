"""Celery entry points of a dedupe run: thin, take ids, call `dedupe.runs`.

Transient database and broker errors are retried with backoff; anything else fails the
run with its reason so a clerk can start it again. `acks_late` (in settings) means a
task whose worker dies is delivered again; every step is idempotent.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import InterfaceError, OperationalError

from dedupe import runs

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
RETRY = {"autoretry_for": TRANSIENT, "retry_backoff": 2, "retry_backoff_max": 60, "max_retries": 8}


def _fail_on_error(run_id: int, step) -> None:
    try:
        step()
    except TRANSIENT:
        raise
    except Exception as exc:
        logger.exception("dedupe run %s failed", run_id)
        runs.fail_run(run_id, f"{type(exc).__name__}: {exc}")


@shared_task(acks_late=True, **RETRY)
def plan_run(run_id: int) -> None:
    _fail_on_error(run_id, lambda: runs.plan_run(run_id))


@shared_task(acks_late=True, **RETRY)
def fingerprint_chunk(run_id: int, chunk_id: int) -> None:
    _fail_on_error(run_id, lambda: runs.fingerprint_chunk(run_id, chunk_id))


@shared_task(acks_late=True, **RETRY)
def group_run(run_id: int) -> None:
    _fail_on_error(run_id, lambda: runs.group_run(run_id))


@shared_task(acks_late=True, **RETRY)
def watch_active_runs() -> int:
    """Send again what a dead worker left unfinished; repeat while any run is active.

    A broker without acknowledgements (the file-system one) loses the messages a killed
    worker had taken, and Redis gives them back only after its visibility timeout; the
    database knows what is unfinished, so this watchdog closes the gap.
    """
    limit = runs.stall_limit()
    active = runs.resume_active_runs(stalled_after=limit)
    if active:
        watch_active_runs.apply_async(countdown=limit.total_seconds() + 1)
    return active


@worker_ready.connect
def _watch_on_worker_start(sender=None, **kwargs) -> None:
    try:
        runs.resume_active_runs(stalled_after=runs.stall_limit())
        watch_active_runs.apply_async(countdown=runs.stall_limit().total_seconds() + 1)
    except Exception:  # a worker must start even if the database or broker is briefly away
        logger.exception("could not resume active dedupe runs")
