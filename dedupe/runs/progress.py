"""What the request page and the API show of a run: done of total, the phase, time left."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from dedupe.models import DedupeRun, RunPhase, RunState


@dataclass(frozen=True)
class RunProgress:
    run_id: int
    state: str
    phase: str
    phase_label: str
    done: int
    total: int
    unit: str  # what done and total count: "files", or "pairs" while comparing them
    elapsed_seconds: float
    remaining_seconds: float | None
    error: str

    @property
    def percent(self) -> int:
        if self.state == RunState.COMPLETED:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


def run_progress(run: DedupeRun, now: datetime.datetime | None = None) -> RunProgress:
    now = now or timezone.now()
    end = run.finished_at or now
    elapsed = (end - (run.started_at or run.created_at)).total_seconds()
    remaining = None
    # Files while fingerprinting; candidate pairs while comparing them.
    done, total, since, unit = run.blobs_done, run.blobs_total, run.started_at, "files"
    if run.phase == RunPhase.VERIFYING:
        done, total, since, unit = run.pairs_done, run.pairs_total, run.fingerprinted_at, "pairs"
    if run.phase in (RunPhase.FINGERPRINTING, RunPhase.VERIFYING) and done and since:
        remaining = (now - since).total_seconds() / done * (total - done)
    elif run.state == RunState.COMPLETED:
        remaining = 0.0
    return RunProgress(
        run_id=run.pk,
        state=run.state,
        phase=run.phase,
        phase_label=RunPhase(run.phase).label,
        done=done,
        total=total,
        unit=unit,
        elapsed_seconds=round(elapsed, 1),
        remaining_seconds=round(remaining, 1) if remaining is not None else None,
        error=run.error,
    )
