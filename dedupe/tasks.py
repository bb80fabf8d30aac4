"""Celery entry points of a dedupe run: thin, take ids, run one step, send what it returns.

Each step (dedupe.runs.steps) returns the steps that follow it as values; this module
owns sending them: after the transaction that made them commits, to the Celery task of
each. Tests put an in-process queue in `sender` and run the same values.

Transient database and broker errors are retried with backoff; anything else fails the
run with its reason so a clerk can start it again. `acks_late` (in settings) means a
task whose worker dies is delivered again; every step is idempotent, and a watchdog in
each worker re-sends the work of a run that stopped progressing.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable, Sequence

from celery import Task, bootsteps, shared_task
from django.db import InterfaceError, OperationalError, close_old_connections, transaction

from dedupe.runs.lifecycle import fail_run
from dedupe.runs.liveness import stall_limit
from dedupe.runs.next_steps import NextStep, Step
from dedupe.runs.steps import STEPS
from dedupe.runs.watchdog import resume_active_runs
from packetdesk.celery import app

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
RETRY = {"autoretry_for": TRANSIENT, "retry_backoff": 2, "retry_backoff_max": 60, "max_retries": 8}


def _perform(step: Step, *args: int) -> None:
    run_id = args[0]
    try:
        send(STEPS[step](*args))
    except TRANSIENT:
        raise
    except Exception as exc:
        logger.exception("dedupe run %s failed", run_id)
        fail_run(run_id, f"{type(exc).__name__}: {exc}")


@shared_task(acks_late=True, **RETRY)
def plan_run(run_id: int) -> None:
    _perform(Step.PLAN_RUN, run_id)


@shared_task(acks_late=True, **RETRY)
def fingerprint_chunk(run_id: int, chunk_id: int) -> None:
    _perform(Step.FINGERPRINT_CHUNK, run_id, chunk_id)


@shared_task(acks_late=True, **RETRY)
def plan_verification(run_id: int) -> None:
    _perform(Step.PLAN_VERIFICATION, run_id)


@shared_task(acks_late=True, **RETRY)
def verify_pair_chunk(run_id: int, chunk_id: int) -> None:
    _perform(Step.VERIFY_PAIR_CHUNK, run_id, chunk_id)


@shared_task(acks_late=True, **RETRY)
def group_run(run_id: int) -> None:
    _perform(Step.GROUP_RUN, run_id)


TASKS: dict[Step, Task] = {
    Step.PLAN_RUN: plan_run,
    Step.FINGERPRINT_CHUNK: fingerprint_chunk,
    Step.PLAN_VERIFICATION: plan_verification,
    Step.VERIFY_PAIR_CHUNK: verify_pair_chunk,
    Step.GROUP_RUN: group_run,
}


def send_to_workers(steps: Sequence[NextStep]) -> None:
    """Queue each step's task once the current transaction commits (at once outside one)."""
    for step in steps:
        transaction.on_commit(functools.partial(TASKS[step.step].delay, *step.args))


# Production sends to the broker; tests put an in-process queue here.
sender: Callable[[Sequence[NextStep]], None] = send_to_workers


def send(steps: Sequence[NextStep]) -> None:
    """Send the steps a step or the request workflow returned (records.services.dedupe_runs)."""
    sender(steps)


def resume_stalled_runs(stalled_after: datetime.timedelta) -> int:
    """Send again the work of every run stalled for `stalled_after`; how many were stalled."""
    resumed = resume_active_runs(stalled_after=stalled_after)
    send(resumed.steps)
    return resumed.stalled_runs


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
        interval = max(1.0, stall_limit().total_seconds() / 2)
        self.tref = worker.timer.call_repeatedly(interval, self.check, priority=10)

    def stop(self, worker) -> None:
        if self.tref is not None:
            self.tref.cancel()

    def check(self) -> None:
        try:
            resume_stalled_runs(stall_limit())
        except Exception:  # the database may be restarting; try again on the next tick
            logger.exception("could not check for stalled dedupe runs")
        finally:
            close_old_connections()


app.steps["worker"].add(StalledRunWatchdog)
