"""A run's row: created for a request (one active run per request), found active, failed."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dedupe.models import ACTIVE_RUN_STATES, DedupeRun, RunState
from dedupe.runs.next_steps import NextStep, Step, after
from dedupe.runs.run_settings import RunSettings
from dedupe.runs.workflow import request_workflow


class RunAlreadyActive(Exception):
    """Another run on the request is queued or running (the database refused a second one)."""


def active_run(request_id: int) -> DedupeRun | None:
    return DedupeRun.objects.filter(request_id=request_id, state__in=ACTIVE_RUN_STATES).first()


def create_run(
    *, request_id: int, started_by: Any, items_total: int, settings: RunSettings
) -> tuple[DedupeRun, list[NextStep]]:
    """A queued run with the settings it will use in every step, and its first step.

    Raises RunAlreadyActive when another process created an active run on the request
    first (the partial unique index `one_active_run_per_request`).
    """
    try:
        with transaction.atomic():
            run = DedupeRun.objects.create(
                request_id=request_id,
                started_by=started_by,
                created_at=timezone.now(),
                items_total=items_total,
                settings_used=settings.as_stored(),
            )
    except IntegrityError:
        raise RunAlreadyActive(request_id)
    return run, after(Step.PLAN_RUN, run.pk)


def fail_run(run_id: int, error: str) -> None:
    """Mark a run failed with a reason a clerk can read; a new run can then be started."""
    with transaction.atomic():
        run = DedupeRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state not in ACTIVE_RUN_STATES:
            return
        run.state = RunState.FAILED
        run.error = error[:2000]
        run.finished_at = timezone.now()
        run.save()
        request_workflow().run_failed(run)
