"""Celery entry points of a dedupe run: thin, take ids, call `dedupe.runs`.

Transient database and broker errors are retried with backoff; anything else fails the
run with its reason so a clerk can start it again. `acks_late` (in settings) means a
task whose worker dies is delivered again; every step is idempotent, and a watchdog in
each worker re-sends the work of a run that stopped progressing.
"""

from __future__ import annotations

import logging

from celery import bootsteps, shared_task
from django.db import InterfaceError, OperationalError, close_old_connections

from dedupe import runs
from packetdesk.celery import app

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
def plan_verification(run_id: int) -> None:
    _fail_on_error(run_id, lambda: runs.plan_verification(run_id))


@shared_task(acks_late=True, **RETRY)
def verify_pair_chunk(run_id: int, chunk_id: int) -> None:
    _fail_on_error(run_id, lambda: runs.verify_pair_chunk(run_id, chunk_id))


@shared_task(acks_late=True, **RETRY)
def group_run(run_id: int) -> None:
    _fail_on_error(run_id, lambda: runs.group_run(run_id))


class StalledRunWatchdog(bootsteps.StartStopStep):
    """A timer in every worker that re-sends the work of runs no worker is progressing.

    It runs in the worker's own process, not through the broker, so it keeps working after
    the broker restarts empty or a killed worker took its messages with it.
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker) -> None:
        interval = max(1.0, runs.stall_limit().total_seconds() / 2)
        self.tref = worker.timer.call_repeatedly(interval, self.check, priority=10)

    def stop(self, worker) -> None:
        if self.tref is not None:
            self.tref.cancel()

    def check(self) -> None:
        try:
            runs.resume_active_runs(stalled_after=runs.stall_limit())
        except Exception:  # the database may be restarting; try again on the next tick
            logger.exception("could not check for stalled dedupe runs")
        finally:
            close_old_connections()


app.steps["worker"].add(StalledRunWatchdog)
