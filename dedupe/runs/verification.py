"""Finding a run's candidate pairs and comparing them on pixels in chunks any worker can take.

The hash search and the coarse checks see every fingerprint at once, so one step plans
them; comparing the pairs on pixels, most of grouping's work, is spread over workers.
Pairs that failed the coarse search need no comparison: they sit in chunk 0, created
done, so grouping finds every candidate in the run's PairChunk rows.
"""

from __future__ import annotations

import dataclasses

from django.db import transaction
from django.utils import timezone

from dedupe.core.grouping import CandidatePlan, PairCheck, Verification, plan_candidates, verify_checks
from dedupe.core.types import Fingerprint
from dedupe.models import DedupeRun, ItemImage, PairChunk, RunPhase, RunState
from dedupe.runs.chunked import ChunkedPhase
from dedupe.runs.engine_inputs import engine_fingerprint, run_images
from dedupe.runs.liveness import heartbeat
from dedupe.runs.next_steps import NextStep, Step
from dedupe.runs.run_settings import run_settings

# Candidate pairs per comparing task: a pair takes ~2-5 ms, so a chunk a few tenths of a
# second: enough to spread a request's pairs over every worker, few enough tasks.
CHUNK_PAIRS = 64

VERIFYING = ChunkedPhase(
    chunks=PairChunk,
    phase=RunPhase.VERIFYING,
    next_phase=RunPhase.GROUPING,
    chunk_step=Step.VERIFY_PAIR_CHUNK,
    next_step=Step.GROUP_RUN,
    counter="pairs_done",
    chunks_exist_with_the_phase=False,
)


def plan_verification(run_id: int) -> list[NextStep]:
    """Find the run's candidate pairs and split them into chunks for the workers (idempotent)."""
    run = DedupeRun.objects.filter(pk=run_id).first()
    if run is None or run.state != RunState.RUNNING or run.phase != RunPhase.VERIFYING:
        return []
    if not PairChunk.objects.filter(run_id=run_id).exists():
        settings = run_settings(run)
        _, fingerprints = run_images(run)
        with heartbeat(run_id):
            plan = plan_candidates(
                fingerprints, settings.match, departments_of_record=list(settings.departments_of_record)
            )
        _store_plan(run_id, plan)
    return VERIFYING.resume(run_id)


def _store_plan(run_id: int, plan: CandidatePlan) -> None:
    to_verify = plan.to_verify
    needless = [c for c in plan.checks if not c.needs_comparing]
    with transaction.atomic():
        locked = DedupeRun.objects.select_for_update().get(pk=run_id)
        if locked.phase != RunPhase.VERIFYING or PairChunk.objects.filter(run_id=run_id).exists():
            return  # another delivery of this step stored it first
        chunks = [PairChunk(run=locked, index=0, checks=[_check_row(c) for c in needless], done=True)]
        for n, lo in enumerate(range(0, len(to_verify), CHUNK_PAIRS), start=1):
            chunks.append(
                PairChunk(
                    run=locked, index=n, checks=[_check_row(c) for c in to_verify[lo : lo + CHUNK_PAIRS]]
                )
            )
        PairChunk.objects.bulk_create(chunks)
        locked.pairs_total, locked.pairs_done = len(to_verify), 0
        locked.plan_digest = plan.digest
        locked.progress_at = timezone.now()
        locked.save(update_fields=["pairs_total", "pairs_done", "plan_digest", "progress_at"])


def verify_pair_chunk(run_id: int, chunk_id: int) -> list[NextStep]:
    """Compare one chunk of candidate pairs on pixels and store the results (idempotent)."""

    def work(chunk: PairChunk) -> None:
        checks = [_check_from_row(row) for row in chunk.checks]
        by_key = _fingerprints_of(chunk.run, {key for c in checks for key in (c.ref, c.other)})
        if by_key is None:
            results = []  # an item went away since the plan: grouping will search afresh
        else:
            match = run_settings(chunk.run).match
            results = [dataclasses.asdict(v) for v in verify_checks(checks, by_key, match)]
        with transaction.atomic():
            if VERIFYING.complete(chunk_id, results=results):
                VERIFYING.report(run_id, chunk_id, len(checks))

    return VERIFYING.run_chunk(run_id, chunk_id, work)


def _fingerprints_of(run: DedupeRun, keys: set[str]) -> dict[str, Fingerprint] | None:
    """The engine's fingerprints of the run's images with these keys; None when one is gone."""
    images = ItemImage.objects.filter(item__request_id=run.request_id, key__in=keys).select_related(
        "fingerprint", "item", "item__department"
    )
    by_key = {image.key: engine_fingerprint(image) for image in images}
    return None if keys - by_key.keys() else by_key


def _check_row(check: PairCheck) -> list:
    coarse = None if check.coarse is None else [list(c) for c in check.coarse]
    return [check.ref, check.other, list(check.rotations), coarse, check.recheck]


def _check_from_row(row: list) -> PairCheck:
    ref, other, rotations, coarse, recheck = row
    fits = None if coarse is None else tuple((int(t), sc, kx, ky) for t, sc, kx, ky in coarse)
    return PairCheck(ref, other, tuple(rotations), fits, bool(recheck))


def verified_plan(run: DedupeRun) -> tuple[CandidatePlan | None, dict[PairCheck, Verification]]:
    """The run's candidate plan and the pixel comparisons its workers stored."""
    chunks = list(PairChunk.objects.filter(run=run).order_by("index"))
    if not chunks or not run.plan_digest:
        return None, {}
    checks, verified = [], {}
    for chunk in chunks:
        chunk_checks = [_check_from_row(row) for row in chunk.checks]
        checks.extend(chunk_checks)
        for check, result in zip(chunk_checks, chunk.results, strict=False):
            verified[check] = Verification(**result)
    return CandidatePlan(run.plan_digest, tuple(checks)), verified
