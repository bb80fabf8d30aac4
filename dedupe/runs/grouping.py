"""Grouping a run's fingerprints from the stored comparisons, and completing the run.

The step replaces its own output when it runs twice; a clerk's acceptance of a group
carries over to the new run's group while that group is exactly the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from dedupe.core.grouping import CandidatePlan, PairCheck, Verification, group_fingerprints
from dedupe.core.types import Fingerprint, Group
from dedupe.models import DedupeRun, DuplicateGroup, ItemImage, RunPhase, RunState
from dedupe.runs.engine_inputs import clerk_decisions, run_images
from dedupe.runs.group_rows import (
    accepted_groups,
    authority_decisions,
    conflict_rows,
    stored_reason,
    write_memberships,
)
from dedupe.runs.liveness import heartbeat
from dedupe.runs.next_steps import NextStep
from dedupe.runs.run_settings import run_settings
from dedupe.runs.verification import verified_plan
from dedupe.runs.workflow import request_workflow


def group_run(run_id: int) -> list[NextStep]:
    """Group the run's fingerprints, persist the groups and the run's metrics (idempotent)."""
    run = DedupeRun.objects.filter(pk=run_id).first()
    if run is None or run.state != RunState.RUNNING or run.phase != RunPhase.GROUPING:
        return []
    images, fingerprints = run_images(run)
    plan, verified = verified_plan(run)
    with heartbeat(run_id):
        groups = engine_groups(run, fingerprints, plan, verified)
    _complete(run, images, groups)
    return []  # the last step: the workflow hears of it in the transaction that completes the run


def engine_groups(
    run: DedupeRun,
    fingerprints: list[Fingerprint],
    plan: CandidatePlan | None = None,
    verified: dict[PairCheck, Verification] | None = None,
) -> list[Group]:
    """The engine's groups of the run's fingerprints, with the run's settings and the clerks' decisions."""
    settings = run_settings(run)
    return group_fingerprints(
        fingerprints,
        settings.match,
        departments_of_record=list(settings.departments_of_record),
        decisions=clerk_decisions(run.request_id),
        plan=plan,
        verified=verified,
    )


def _complete(run: DedupeRun, images: Sequence[ItemImage], groups: Sequence[Group]) -> None:
    by_key = {i.key: i for i in images}
    decided_authority = authority_decisions(run.request_id)
    accepted = accepted_groups(run.request_id, exclude_run=run.pk)
    workflow = request_workflow()
    with transaction.atomic():
        locked = DedupeRun.objects.select_for_update().get(pk=run.pk)
        if locked.state != RunState.RUNNING:
            return
        DuplicateGroup.objects.filter(run=locked).delete()  # a repeated step replaces its output
        for group in groups:
            reason, decided_by = stored_reason(group, decided_authority)
            row = DuplicateGroup.objects.create(
                run=locked,
                request_id=locked.request_id,
                engine_id=group.id,
                authoritative=by_key[group.authoritative],
                rule=group.rule,
                reason=reason,
                conflicts=conflict_rows(group),
                decided_by=decided_by,
            )
            earlier = accepted.get((group.authoritative, frozenset(group.keys)))
            if earlier is not None:
                row.accepted_by_id, row.accepted_at = earlier
                row.save(update_fields=["accepted_by", "accepted_at"])
            write_memberships(row, group, by_key)
        locked.counts = workflow.run_counts(locked.request_id, images, groups)
        locked.state = RunState.COMPLETED
        locked.phase = RunPhase.DONE
        locked.finished_at = locked.progress_at = timezone.now()
        locked.save()
        workflow.grouping_finished(locked, groups=len(groups))
