"""Sending again what a stalled active run waits for.

A run is stalled when no worker has reported on it for a while: its messages died with a
killed worker (the file-system broker has no acknowledgements), with a broker that
restarted without persistence, or wait in Redis for a visibility timeout. The database
says what is unfinished, so everything unfinished is sent again; while any worker makes
progress nothing is re-sent, so a long queue is never duplicated.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.utils import timezone

from dedupe.models import ACTIVE_RUN_STATES, DedupeRun, PairChunk, RunPhase, RunState
from dedupe.runs.fingerprinting import FINGERPRINTING
from dedupe.runs.liveness import touch
from dedupe.runs.next_steps import NextStep, Step, after
from dedupe.runs.verification import VERIFYING

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resumed:
    stalled_runs: int
    steps: tuple[NextStep, ...]  # to be sent again


def resume_active_runs(stalled_after: datetime.timedelta = datetime.timedelta(0)) -> Resumed:
    """The work of every active run no worker has reported on for `stalled_after`."""
    stalled = 0
    steps: list[NextStep] = []
    cutoff = timezone.now() - stalled_after
    for run in DedupeRun.objects.filter(state__in=ACTIVE_RUN_STATES):
        last_heard = run.progress_at or run.created_at
        if last_heard > cutoff:
            continue
        stalled += 1
        logger.warning(
            "dedupe run %s has had no progress since %s; sending its work again", run.pk, last_heard
        )
        touch(run.pk)
        steps += _waiting_for(run)
    return Resumed(stalled_runs=stalled, steps=tuple(steps))


def _waiting_for(run: DedupeRun) -> list[NextStep]:
    if run.state == RunState.QUEUED:
        return after(Step.PLAN_RUN, run.pk)
    if run.phase == RunPhase.FINGERPRINTING:
        return FINGERPRINTING.resume(run.pk)
    if run.phase == RunPhase.VERIFYING:
        if PairChunk.objects.filter(run_id=run.pk).exists():
            return VERIFYING.resume(run.pk)
        return after(Step.PLAN_VERIFICATION, run.pk)
    if run.phase == RunPhase.GROUPING:
        return after(Step.GROUP_RUN, run.pk)
    return []
