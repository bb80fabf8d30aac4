"""Planning a run and fingerprinting its blobs in chunks any worker can take.

A blob seen in any earlier request (or at the library door) has its fingerprints
already: only the others are split into chunks. Fingerprints are unique per blob, page
and algorithm version, so two workers on one blob store it once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from dedupe.core.fingerprint import fingerprint_file
from dedupe.core.types import FINGERPRINT_ALGORITHM_VERSION, SourceFile
from dedupe.models import ACTIVE_RUN_STATES, DedupeChunk, DedupeRun, ImageFingerprint, RunPhase, RunState
from dedupe.runs.chunked import ChunkedPhase
from dedupe.runs.next_steps import NextStep, Step
from dedupe.runs.workflow import request_workflow
from dedupe.stored import rows_from_results

# Blobs per fingerprinting task: small enough that two workers share a request evenly and
# progress moves every few seconds, large enough that task overhead stays under a few %.
CHUNK_BLOBS = 8

FINGERPRINTING = ChunkedPhase(
    chunks=DedupeChunk,
    phase=RunPhase.FINGERPRINTING,
    next_phase=RunPhase.VERIFYING,
    chunk_step=Step.FINGERPRINT_CHUNK,
    next_step=Step.PLAN_VERIFICATION,
    counter="blobs_done",
    heartbeat_field="claimed_at",
    finished_stamp="fingerprinted_at",
)


def _blobs_needing_fingerprints(request_id: int) -> list[str]:
    shas = request_workflow().blobs_to_cover(request_id)
    done = set(
        ImageFingerprint.objects.filter(
            blob_id__in=shas, algorithm_version=FINGERPRINT_ALGORITHM_VERSION
        ).values_list("blob_id", flat=True)
    )
    return [sha for sha in shas if sha not in done]


def plan_run(run_id: int) -> list[NextStep]:
    """Split the run's new blobs into chunks for the workers (idempotent)."""
    with transaction.atomic():
        run = DedupeRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state not in ACTIVE_RUN_STATES:
            return []
        if run.state == RunState.QUEUED:
            pending = _blobs_needing_fingerprints(run.request_id)
            DedupeChunk.objects.bulk_create(
                DedupeChunk(run=run, index=n, blob_shas=pending[lo : lo + CHUNK_BLOBS])
                for n, lo in enumerate(range(0, len(pending), CHUNK_BLOBS))
            )
            now = timezone.now()
            run.state = RunState.RUNNING
            run.phase = RunPhase.FINGERPRINTING
            run.started_at = run.progress_at = now
            run.blobs_total = len(pending)
            run.chunks_total = (len(pending) + CHUNK_BLOBS - 1) // CHUNK_BLOBS
            run.save()
    return FINGERPRINTING.resume(run_id)


def fingerprint_blob(sha256: str, file_name: str, *, on_stored: Callable[[], None] | None = None) -> bool:
    """Fingerprint one stored blob (`file_name` in the media storage) unless it already is.

    True when this call did the work. `on_stored` runs inside the transaction that stores
    the fingerprints, so a caller's progress report costs no commit of its own and
    counts exactly the blobs stored.
    """
    if ImageFingerprint.objects.filter(
        blob_id=sha256, algorithm_version=FINGERPRINT_ALGORITHM_VERSION
    ).exists():
        return False
    # "blob" as the key: metadata taken from a file's name belongs to each item, not the bytes.
    try:
        path = default_storage.path(file_name)
        results = fingerprint_file(SourceFile(key="blob", department="", disk_path=path))
    except NotImplementedError:  # object storage: copy to a local temporary file first
        with tempfile.NamedTemporaryFile() as tmp, default_storage.open(file_name, "rb") as src:
            while chunk := src.read(1024 * 1024):
                tmp.write(chunk)
            tmp.flush()
            results = fingerprint_file(SourceFile(key="blob", department="", disk_path=tmp.name))
    rows = rows_from_results(sha256, results)
    try:
        with transaction.atomic():
            ImageFingerprint.objects.bulk_create(rows)
            if on_stored is not None:
                on_stored()
    except IntegrityError:
        return False  # another worker stored the same blob's fingerprints first
    return True


def fingerprint_chunk(run_id: int, chunk_id: int) -> list[NextStep]:
    """Fingerprint one chunk of a run's blobs, reporting progress after each (idempotent)."""

    def work(chunk: DedupeChunk) -> None:
        files = request_workflow().blob_files(chunk.blob_shas)

        def report(done: int) -> None:
            # One write per blob, committed with its fingerprints: a heartbeat for the
            # watchdog and the progress count (each separate commit cost a WAL flush).
            FINGERPRINTING.report(run_id, chunk_id, done)

        for sha in chunk.blob_shas:
            if sha not in files:
                raise LookupError(f"the stored file {sha} is gone")
            if not fingerprint_blob(sha, files[sha], on_stored=lambda: report(1)):
                with transaction.atomic():
                    report(0)  # known already (or stored by another worker): still a heartbeat
        FINGERPRINTING.complete(chunk_id)

    return FINGERPRINTING.run_chunk(run_id, chunk_id, work)
