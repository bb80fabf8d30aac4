"""Dedupe runs of a records request: plan, fingerprint in chunks, group, persist.

The Django edge of the engine. Every step takes ids, reads its state from the database
and can run twice without harm (Celery delivers at least once, and a killed worker's
chunks are dispatched again): fingerprints are unique per blob and page, a chunk is
marked done once, the grouping step replaces its own output. Progress lives on the
`DedupeRun` row, where the request page and the API read it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from dedupe.core.authority import CLERK_OVERRIDE
from dedupe.core.fingerprint import fingerprint_file
from dedupe.core.grouping import (
    CandidatePlan,
    ClerkDecisions,
    PairCheck,
    Verification,
    group_fingerprints,
    plan_candidates,
    verify_checks,
)
from dedupe.core.metadata import date_from_file_name, find_parcel_numbers
from dedupe.core.settings import MatchSettings
from dedupe.core.types import (
    FINGERPRINT_ALGORITHM_VERSION,
    CaptureDate,
    CaptureDateSource,
    Fingerprint,
    Group,
    Relation,
    SourceFile,
    page_key,
)
from dedupe.models import (
    ACTIVE_RUN_STATES,
    ClerkDecision,
    DedupeChunk,
    DedupeRun,
    DuplicateGroup,
    GroupMembership,
    ImageFingerprint,
    ItemImage,
    PairChunk,
    RunPhase,
    RunState,
)
from dedupe.stored import fingerprint_from_row, rows_from_results
from records.errors import Conflict, NotPermitted
from records.models import Blob, GatheredItem, ItemStatus, RecordsRequest, RequestStatus
from records.roles import is_clerk
from records.services.audit import record_event
from records.services.requests import move_status, move_status_if

logger = logging.getLogger(__name__)

# Blobs per fingerprinting task: small enough that two workers share a request evenly and
# progress moves every few seconds, large enough that task overhead stays under a few %.
CHUNK_BLOBS = 8
# Candidate pairs per comparing task: a pair takes ~2-5 ms, so a chunk a few tenths of a
# second: enough to spread a request's pairs over every worker, few enough tasks.
CHUNK_PAIRS = 64


def stall_limit() -> datetime.timedelta:
    """How long a chunk's worker may be silent before the chunk is presumed lost with it.

    Workers report after every blob, which takes well under a second to a few seconds.
    """
    return datetime.timedelta(seconds=django_settings.PACKETDESK_STALLED_CHUNK_SECONDS)


# Capture-date sources embedded in the bytes; weaker ones are re-derived per item name.
EMBEDDED_SOURCES = frozenset(
    {
        CaptureDateSource.EXIF_ORIGINAL,
        CaptureDateSource.EXIF_DIGITIZED,
        CaptureDateSource.EXIF_DATETIME,
        CaptureDateSource.GPS,
        CaptureDateSource.TIFF_DATETIME,
        CaptureDateSource.XMP,
        CaptureDateSource.PNG_TEXT,
    }
)

Dispatch = Callable[[str, tuple], None]


def _celery_dispatch(task_name: str, args: tuple) -> None:
    from dedupe import tasks

    getattr(tasks, task_name).delay(*args)


# Tests replace this to run steps in-process; production sends them to the broker.
dispatch: Dispatch = _celery_dispatch


def _after_commit(task_name: str, *args: Any) -> None:
    transaction.on_commit(lambda: dispatch(task_name, args))


# ----------------------------------------------------------------------------- start


def start_run(*, actor: Any, records_request: RecordsRequest) -> DedupeRun:
    """Queue a dedupe run for a request; refused while another run on it is active."""
    if not is_clerk(actor):
        raise NotPermitted("Only a clerk can run duplicate detection.")
    with transaction.atomic():
        locked = RecordsRequest.objects.select_for_update().get(pk=records_request.pk)
        active = DedupeRun.objects.filter(request=locked, state__in=ACTIVE_RUN_STATES).first()
        if active is not None:
            raise Conflict(
                f"Duplicate detection is already running on {locked.reference} "
                f"(started {timezone.localtime(active.created_at):%b %-d %H:%M}); wait for it to finish.",
                code="run_already_active",
                details={"run": active.pk},
            )
        items = GatheredItem.objects.filter(request=locked, status=ItemStatus.STORED)
        if not items.exists():
            raise Conflict("Nothing has been gathered for this request yet.", code="nothing_gathered")
        try:
            with transaction.atomic():
                run = DedupeRun.objects.create(
                    request=locked,
                    started_by=actor,
                    created_at=timezone.now(),
                    items_total=items.count(),
                    settings_used=MatchSettings().as_dict(),
                )
        except IntegrityError:
            # Another process created one between our check and our insert.
            raise Conflict(
                f"Duplicate detection is already running on {locked.reference}.", code="run_already_active"
            )
        if locked.status in (RequestStatus.GATHERING, RequestStatus.IN_REVIEW):
            move_status(
                actor=actor,
                records_request=locked,
                to_status=RequestStatus.DEDUPLICATING,
                note="duplicate detection started",
            )
        record_event(
            actor=actor, verb="dedupe_started", obj=run, request=locked, details={"items": run.items_total}
        )
        _after_commit("plan_run", run.pk)
    return run


# ------------------------------------------------------------------------------ plan


def _blobs_needing_fingerprints(records_request_id: int) -> list[str]:
    shas = (
        GatheredItem.objects.filter(request_id=records_request_id, status=ItemStatus.STORED)
        .values_list("sha256", flat=True)
        .distinct()
        .order_by("sha256")
    )
    done = set(
        ImageFingerprint.objects.filter(
            blob_id__in=list(shas), algorithm_version=FINGERPRINT_ALGORITHM_VERSION
        ).values_list("blob_id", flat=True)
    )
    return [sha for sha in shas if sha not in done]


def plan_run(run_id: int) -> None:
    """Split the run's new blobs into chunks and send them to workers (idempotent)."""
    with transaction.atomic():
        run = DedupeRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state not in ACTIVE_RUN_STATES:
            return
        if run.state == RunState.QUEUED:
            pending = _blobs_needing_fingerprints(run.request_id)
            for index in range(0, len(pending), CHUNK_BLOBS):
                DedupeChunk.objects.create(
                    run=run, index=index // CHUNK_BLOBS, blob_shas=pending[index : index + CHUNK_BLOBS]
                )
            now = timezone.now()
            run.state = RunState.RUNNING
            run.phase = RunPhase.FINGERPRINTING
            run.started_at = run.progress_at = now
            run.blobs_total = len(pending)
            run.chunks_total = (len(pending) + CHUNK_BLOBS - 1) // CHUNK_BLOBS
            run.save()
    dispatch_pending_chunks(run_id)
    _finish_fingerprinting_if_complete(run_id)


def dispatch_pending_chunks(run_id: int) -> int:
    """Send every unfinished chunk of a run to the workers (a second copy is harmless)."""
    chunks = DedupeChunk.objects.filter(run_id=run_id, done=False)
    ids = list(chunks.values_list("pk", flat=True))
    DedupeChunk.objects.filter(pk__in=ids).update(dispatched_at=timezone.now())
    for chunk_id in ids:
        dispatch("fingerprint_chunk", (run_id, chunk_id))
    return len(ids)


# ----------------------------------------------------------------------- fingerprint


def fingerprint_blob(sha256: str, *, on_stored: Callable[[], None] | None = None) -> bool:
    """Fingerprint one stored blob unless it already is. True when this call did the work.

    `on_stored` runs inside the transaction that stores the fingerprints, so a caller's
    progress report costs no commit of its own and counts exactly the blobs stored.
    """
    if ImageFingerprint.objects.filter(
        blob_id=sha256, algorithm_version=FINGERPRINT_ALGORITHM_VERSION
    ).exists():
        return False
    blob = Blob.objects.get(pk=sha256)
    # "blob" as the key: metadata taken from a file's name belongs to each item, not the bytes.
    try:
        path = default_storage.path(blob.file.name)
        results = fingerprint_file(SourceFile(key="blob", department="", disk_path=path))
    except NotImplementedError:  # object storage: copy to a local temporary file first
        with tempfile.NamedTemporaryFile() as tmp, default_storage.open(blob.file.name, "rb") as src:
            while chunk := src.read(1024 * 1024):
                tmp.write(chunk)
            tmp.flush()
            results = fingerprint_file(SourceFile(key="blob", department="", disk_path=tmp.name))
    rows = rows_from_results(blob, results)
    try:
        with transaction.atomic():
            ImageFingerprint.objects.bulk_create(rows)
            if on_stored is not None:
                on_stored()
    except IntegrityError:
        return False  # another worker stored the same blob's fingerprints first
    return True


def fingerprint_chunk(run_id: int, chunk_id: int) -> None:
    """Fingerprint one chunk of a run's blobs, reporting progress after each (idempotent)."""
    chunk = DedupeChunk.objects.select_related("run").filter(pk=chunk_id, run_id=run_id).first()
    if chunk is None or chunk.run.state != RunState.RUNNING:
        return  # a stale copy of a message for a run that has finished or is gone
    # Any delivery, even of a chunk already done, shows a worker is draining this run's
    # messages; the watchdog re-sends work only when nothing has touched the run for a while.
    DedupeRun.objects.filter(pk=run_id).update(progress_at=timezone.now())
    if not chunk.done:

        def report(done: int) -> None:
            # One write per blob, committed with its fingerprints: a heartbeat for the
            # watchdog and the progress count (each separate commit cost a WAL flush).
            now = timezone.now()
            DedupeChunk.objects.filter(pk=chunk_id).update(claimed_at=now)
            DedupeRun.objects.filter(pk=run_id).update(blobs_done=F("blobs_done") + done, progress_at=now)

        for sha in chunk.blob_shas:
            if not fingerprint_blob(sha, on_stored=lambda: report(1)):
                with transaction.atomic():
                    report(0)  # known already (or stored by another worker): still a heartbeat
        DedupeChunk.objects.filter(pk=chunk_id, done=False).update(done=True, finished_at=timezone.now())
    _finish_fingerprinting_if_complete(run_id)


def _finish_fingerprinting_if_complete(run_id: int) -> None:
    if DedupeChunk.objects.filter(run_id=run_id, done=False).exists():
        return
    with transaction.atomic():
        # Exactly one caller wins the move from fingerprinting to grouping.
        won = DedupeRun.objects.filter(
            pk=run_id, state=RunState.RUNNING, phase=RunPhase.FINGERPRINTING
        ).update(phase=RunPhase.VERIFYING, fingerprinted_at=timezone.now(), progress_at=timezone.now())
        if won:
            _after_commit("plan_verification", run_id)


# -------------------------------------------------------------------------- verify


def _run_fingerprints(records_request: RecordsRequest) -> tuple[list[ItemImage], list[Fingerprint]]:
    """The request's item images (brought up to date) and the engine's view of the readable ones."""
    with transaction.atomic():
        images = sync_item_images(records_request)
    return images, [engine_fingerprint(i) for i in images if not i.unreadable_reason]


def plan_verification(run_id: int) -> None:
    """Find the run's candidate pairs and send them to workers in chunks (idempotent).

    The hash search and the coarse checks see every fingerprint at once, so one task does
    them; comparing the pairs on pixels, most of grouping's work, is spread over workers.
    """
    run = DedupeRun.objects.select_related("request", "request__office_of_record").filter(pk=run_id).first()
    if run is None or run.state != RunState.RUNNING or run.phase != RunPhase.VERIFYING:
        return
    if not PairChunk.objects.filter(run_id=run_id).exists():
        _, fingerprints = _run_fingerprints(run.request)
        with heartbeat(run_id):
            plan = plan_candidates(
                fingerprints, MatchSettings(), departments_of_record=departments_of_record(run.request)
            )
        to_verify = plan.to_verify
        needless = [c for c in plan.checks if not c.needs_comparing]
        with transaction.atomic():
            locked = DedupeRun.objects.select_for_update().get(pk=run_id)
            if locked.phase == RunPhase.VERIFYING and not PairChunk.objects.filter(run_id=run_id).exists():
                PairChunk.objects.create(
                    run=locked, index=0, checks=[_check_row(c) for c in needless], done=True
                )
                for n, lo in enumerate(range(0, len(to_verify), CHUNK_PAIRS), start=1):
                    PairChunk.objects.create(
                        run=locked, index=n, checks=[_check_row(c) for c in to_verify[lo : lo + CHUNK_PAIRS]]
                    )
                locked.pairs_total, locked.pairs_done = len(to_verify), 0
                locked.plan_digest = plan.digest
                locked.progress_at = timezone.now()
                locked.save(update_fields=["pairs_total", "pairs_done", "plan_digest", "progress_at"])
    dispatch_pending_pair_chunks(run_id)
    _finish_verifying_if_complete(run_id)


def dispatch_pending_pair_chunks(run_id: int) -> int:
    """Send every unfinished pair chunk of a run to the workers (a second copy is harmless)."""
    ids = list(PairChunk.objects.filter(run_id=run_id, done=False).values_list("pk", flat=True))
    PairChunk.objects.filter(pk__in=ids).update(dispatched_at=timezone.now())
    for chunk_id in ids:
        dispatch("verify_pair_chunk", (run_id, chunk_id))
    return len(ids)


def verify_pair_chunk(run_id: int, chunk_id: int) -> None:
    """Compare one chunk of candidate pairs on pixels and store the results (idempotent)."""
    chunk = PairChunk.objects.select_related("run", "run__request").filter(pk=chunk_id, run_id=run_id).first()
    if chunk is None or chunk.run.state != RunState.RUNNING:
        return
    DedupeRun.objects.filter(pk=run_id).update(progress_at=timezone.now())
    if not chunk.done:
        checks = [_check_from_row(row) for row in chunk.checks]
        wanted = {key for c in checks for key in (c.ref, c.other)}
        by_key = {}
        for image in ItemImage.objects.filter(
            item__request_id=chunk.run.request_id, key__in=wanted
        ).select_related("fingerprint", "item", "item__department"):
            by_key[image.key] = engine_fingerprint(image)
        if wanted - by_key.keys():
            results = []  # an item went away since the plan: grouping will search afresh
        else:
            results = [dataclasses.asdict(v) for v in verify_checks(checks, by_key, MatchSettings())]
        with transaction.atomic():
            stored = PairChunk.objects.filter(pk=chunk_id, done=False).update(
                done=True, results=results, finished_at=timezone.now()
            )
            if stored:
                DedupeRun.objects.filter(pk=run_id).update(
                    pairs_done=F("pairs_done") + len(checks), progress_at=timezone.now()
                )
    _finish_verifying_if_complete(run_id)


def _finish_verifying_if_complete(run_id: int) -> None:
    if PairChunk.objects.filter(run_id=run_id, done=False).exists():
        return
    if not PairChunk.objects.filter(run_id=run_id).exists():
        return  # the plan is not made yet
    with transaction.atomic():
        won = DedupeRun.objects.filter(pk=run_id, state=RunState.RUNNING, phase=RunPhase.VERIFYING).update(
            phase=RunPhase.GROUPING, progress_at=timezone.now()
        )
        if won:
            _after_commit("group_run", run_id)


def departments_of_record(records_request: RecordsRequest) -> list[str]:
    """The request's department(s) of record, by code, for the authority rules."""
    office = records_request.office_of_record
    return [office.code] if office else []


def _check_row(check: PairCheck) -> list:
    coarse = None if check.coarse is None else [list(c) for c in check.coarse]
    return [check.ref, check.other, list(check.rotations), coarse, check.recheck]


def _check_from_row(row: list) -> PairCheck:
    ref, other, rotations, coarse, recheck = row
    fits = None if coarse is None else tuple((int(t), sc, kx, ky) for t, sc, kx, ky in coarse)
    return PairCheck(ref, other, tuple(rotations), fits, bool(recheck))


def _verified_plan(run: DedupeRun) -> tuple[CandidatePlan | None, dict[PairCheck, Verification]]:
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


# --------------------------------------------------------------------------- group


@contextlib.contextmanager
def heartbeat(run_id: int) -> Iterator[None]:
    """Tell the watchdog a long step is alive: touch the run's progress time every few seconds."""
    stop = threading.Event()
    every = max(0.5, stall_limit().total_seconds() / 3)

    def beat() -> None:
        try:
            while not stop.wait(every):
                DedupeRun.objects.filter(pk=run_id).update(progress_at=timezone.now())
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"dedupe-heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _item_capture(fp: ImageFingerprint, gathered_path: str) -> tuple[str, str, str]:
    if fp.capture_date and fp.capture_date_source in EMBEDDED_SOURCES:
        return fp.capture_date, fp.capture_date_source, fp.capture_utc_offset
    from_name = date_from_file_name(gathered_path)
    if from_name is not None:
        return from_name.isoformat(), CaptureDateSource.FILE_NAME, ""
    return "", CaptureDateSource.UNKNOWN, ""


def sync_item_images(records_request: RecordsRequest) -> list[ItemImage]:
    """One ItemImage per page of every stored item, with the item's own metadata."""
    items = GatheredItem.objects.filter(request=records_request, status=ItemStatus.STORED).select_related(
        "department"
    )
    fingerprints: dict[str, list[ImageFingerprint]] = {}
    for fp in ImageFingerprint.objects.filter(
        blob_id__in=items.values("sha256"), algorithm_version=FINGERPRINT_ALGORITHM_VERSION
    ).order_by("blob_id", "page"):
        fingerprints.setdefault(fp.blob_id, []).append(fp)
    existing = {(i.item_id, i.page): i for i in ItemImage.objects.filter(item__request=records_request)}
    images = []
    for item in items:
        path = item.gathered_path
        for fp in fingerprints.get(item.sha256, []):
            key = page_key(path, fp.page)
            capture, source, offset = _item_capture(fp, path)
            values = {
                "fingerprint": fp,
                "key": key,
                "capture_date": capture,
                "capture_date_source": source,
                "capture_utc_offset": offset,
                "parcels": sorted(set(fp.parcels) | set(find_parcel_numbers([path]))),
                "unreadable_reason": fp.unreadable_reason,
            }
            image = existing.get((item.pk, fp.page))
            if image is None:
                image = ItemImage.objects.create(item=item, page=fp.page, **values)
            else:
                # A re-run rewrites only the images whose facts changed (usually none).
                fingerprint = values.pop("fingerprint")
                changed = [name for name, value in values.items() if getattr(image, name) != value]
                if image.fingerprint_id != fingerprint.pk:
                    changed.append("fingerprint")
                for name, value in values.items():
                    setattr(image, name, value)
                image.fingerprint = fingerprint  # also caches it for engine_fingerprint
                if changed:
                    image.save(update_fields=changed)
            image.item = item  # keeps engine_fingerprint free of a query per image
            images.append(image)
    return images


def engine_fingerprint(image: ItemImage) -> Fingerprint:
    """The engine's view of one gathered item's image: the stored row plus the item's own facts."""
    item = image.item
    capture_value = datetime.datetime.fromisoformat(image.capture_date) if image.capture_date else None
    return fingerprint_from_row(
        image.fingerprint,
        key=image.key,
        source_key=item.gathered_path,
        department=item.department.code if item.department_id else "",
        sha256=item.sha256,
        byte_size=item.byte_size,
        mislabelled=item.mislabelled,
        capture=CaptureDate(
            capture_value, CaptureDateSource(image.capture_date_source), image.capture_utc_offset or None
        ),
        parcels=tuple(image.parcels),
        uploaded_order=item.pk,
    )


def clerk_decisions(records_request: RecordsRequest) -> ClerkDecisions:
    """Every clerk decision on the request's grouping, as the engine applies them."""
    rows = list(ClerkDecision.objects.filter(request=records_request).order_by("decided_at", "id"))
    K = ClerkDecision.Kind
    authority: dict[str, str] = {}
    for d in rows:
        if d.kind == K.AUTHORITY:
            # In decision order, a later choice for the same anchor moving to the end: when
            # several apply to one group the engine takes the last.
            authority.pop(d.first_key, None)
            authority[d.first_key] = d.second_key
    merges = [d for d in rows if d.kind == K.MERGE]
    return ClerkDecisions(
        distinct_pairs=ClerkDecisions.pairs((d.first_key, d.second_key) for d in rows if d.kind == K.SPLIT),
        forced_merges=ClerkDecisions.pairs((d.first_key, d.second_key) for d in merges),
        forced_authority=authority,
        merge_reasons={frozenset((d.first_key, d.second_key)): d.reason for d in merges},
    )


def authority_decisions(records_request: RecordsRequest) -> dict[str, ClerkDecision]:
    """The latest clerk's choice of each chosen key, by that key."""
    rows = ClerkDecision.objects.filter(request=records_request, kind=ClerkDecision.Kind.AUTHORITY)
    return {d.second_key: d for d in rows.select_related("decided_by").order_by("decided_at", "id")}


def stored_reason(group: Group, decided_authority: dict[str, ClerkDecision]) -> tuple[str, Any]:
    """The reason a group's row gives, and the clerk who decided it: a clerk's choice of the
    authoritative copy names the clerk and quotes their reason."""
    override = decided_authority.get(group.authoritative) if group.rule == CLERK_OVERRIDE else None
    if override is None:
        return group.reason, None
    who = override.decided_by.get_username() if override.decided_by else "a clerk"
    return f"chosen by {who}: {override.reason}", override.decided_by


def write_memberships(row: DuplicateGroup, group: Group, by_key: dict[str, ItemImage]) -> None:
    """The group's memberships with each member's evidence, as a run and a decision store them."""
    memberships = [GroupMembership(group=row, image=by_key[group.authoritative], is_authoritative=True)]
    for member in group.members:
        memberships.append(
            GroupMembership(
                group=row,
                image=by_key[member.key],
                relation=member.relation,
                phash_distance=member.phash_distance,
                dhash_distance=member.dhash_distance,
                verification_score=member.verification_score,
                rotation=member.rotation,
                explanation=member.explanation,
            )
        )
    GroupMembership.objects.bulk_create(memberships)


def conflict_rows(group: Group) -> list[dict[str, str]]:
    return [{"field": c.field, "description": c.description} for c in group.conflicts]


def group_run(run_id: int) -> None:
    """Group the request's fingerprints, persist the groups and the run's metrics (idempotent)."""
    run = DedupeRun.objects.select_related("request", "request__office_of_record").filter(pk=run_id).first()
    if run is None or run.state != RunState.RUNNING or run.phase != RunPhase.GROUPING:
        return
    records_request = run.request
    images, fingerprints = _run_fingerprints(records_request)
    by_key = {i.key: i for i in images}
    plan, verified = _verified_plan(run)
    with heartbeat(run_id):
        groups = _group(records_request, fingerprints, plan, verified)
    _persist_groups(run_id, records_request, images, by_key, groups)


def _group(
    records_request: RecordsRequest,
    fingerprints: list[Fingerprint],
    plan: CandidatePlan | None = None,
    verified: dict[PairCheck, Verification] | None = None,
):
    return group_fingerprints(
        fingerprints,
        MatchSettings(),
        departments_of_record=departments_of_record(records_request),
        decisions=clerk_decisions(records_request),
        plan=plan,
        verified=verified,
    )


def _persist_groups(run_id: int, records_request: RecordsRequest, images, by_key, groups) -> None:
    decided_authority = authority_decisions(records_request)
    accepted = _accepted_groups(records_request, exclude_run=run_id)
    with transaction.atomic():
        locked = DedupeRun.objects.select_for_update().get(pk=run_id)
        if locked.state != RunState.RUNNING:
            return
        DuplicateGroup.objects.filter(run=locked).delete()  # a repeated step replaces its output
        for group in groups:
            reason, decided_by = stored_reason(group, decided_authority)
            row = DuplicateGroup.objects.create(
                run=locked,
                request=records_request,
                engine_id=group.id,
                authoritative=by_key[group.authoritative],
                rule=group.rule,
                reason=reason,
                conflicts=conflict_rows(group),
                decided_by=decided_by,
            )
            # A clerk's acceptance carries over while the group is exactly the same.
            earlier = accepted.get((group.authoritative, frozenset(group.keys)))
            if earlier is not None:
                row.accepted_by_id, row.accepted_at = earlier
                row.save(update_fields=["accepted_by", "accepted_at"])
            write_memberships(row, group, by_key)
        locked.counts = run_counts(records_request, images, groups)
        locked.state = RunState.COMPLETED
        locked.phase = RunPhase.DONE
        locked.finished_at = locked.progress_at = timezone.now()
        locked.save()
        # `records_request` was read before grouping; a clerk may have moved it since (withdrawn,
        # back to gathering), so the move is decided on the locked row.
        move_status_if(
            actor=None,
            records_request=records_request,
            from_statuses=frozenset({RequestStatus.DEDUPLICATING}),
            to_status=RequestStatus.IN_REVIEW,
            note="duplicate detection finished",
        )
        record_event(
            actor=None,
            verb="dedupe_completed",
            obj=locked,
            request=records_request,
            details={"groups": len(groups), **locked.counts.get("total", {})},
        )


def _accepted_groups(records_request: RecordsRequest, exclude_run: int) -> dict:
    """(authoritative key, member keys) → (accepted_by id, accepted_at) from earlier runs."""
    accepted = {}
    earlier = (
        DuplicateGroup.objects.filter(request=records_request, accepted_at__isnull=False)
        .exclude(run_id=exclude_run)
        .select_related("authoritative")
        .prefetch_related("memberships__image")
        .order_by("run_id")
    )
    for group in earlier:
        keys = frozenset(m.image.key for m in group.memberships.all())
        accepted[(group.authoritative.key, keys)] = (group.accepted_by_id, group.accepted_at)
    return accepted


def run_counts(records_request: RecordsRequest, images: list[ItemImage], groups) -> dict:
    """Metrics inputs: per department and in total, what was gathered and what the packet drops."""
    relation_of: dict[str, str] = {}
    for group in groups:
        for member in group.members:
            relation_of[member.key] = member.relation
    per_department: dict[str, dict[str, int]] = {}
    all_items = GatheredItem.objects.filter(request=records_request).select_related("department")
    image_keys_by_item: dict[int, list[ItemImage]] = {}
    for image in images:
        image_keys_by_item.setdefault(image.item_id, []).append(image)
    for item in all_items:
        code = item.department.code if item.department_id else "_unassigned"
        row = per_department.setdefault(
            code,
            {
                "gathered": 0,
                "unique": 0,
                "exact_duplicates": 0,
                "near_duplicates": 0,
                "unreadable": 0,
                "bytes_gathered": 0,
                "bytes_saved": 0,
            },
        )
        row["gathered"] += 1
        row["bytes_gathered"] += item.byte_size
        item_images = image_keys_by_item.get(item.pk, [])
        if (
            item.status != ItemStatus.STORED
            or not item_images
            or all(i.unreadable_reason for i in item_images)
        ):
            row["unreadable"] += 1
            continue
        relations = {relation_of.get(i.key) for i in item_images}
        if relations == {None} or None in relations:
            row["unique"] += 1
        elif relations <= {Relation.EXACT, Relation.SAME_PIXELS}:
            row["exact_duplicates"] += 1
            row["bytes_saved"] += item.byte_size
        else:
            row["near_duplicates"] += 1
            row["bytes_saved"] += item.byte_size
    total = {
        key: sum(d[key] for d in per_department.values()) for key in next(iter(per_department.values()), {})
    }
    return {"total": total, "departments": per_department}


# -------------------------------------------------------------------- progress, resume


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


def fail_run(run_id: int, error: str) -> None:
    """Mark a run failed with a reason a clerk can read; a new run can then be started."""
    with transaction.atomic():
        run = DedupeRun.objects.select_for_update().select_related("request").filter(pk=run_id).first()
        if run is None or run.state not in ACTIVE_RUN_STATES:
            return
        run.state = RunState.FAILED
        run.error = error[:2000]
        run.finished_at = timezone.now()
        run.save()
        record_event(
            actor=None, verb="dedupe_failed", obj=run, request=run.request, details={"error": run.error}
        )


def resume_active_runs(stalled_after: datetime.timedelta = datetime.timedelta(0)) -> int:
    """Send again what a stalled active run waits for; returns how many runs were stalled.

    A run is stalled when no worker has reported on it for `stalled_after`: its messages
    died with a killed worker (the file-system broker has no acknowledgements), with a
    broker that restarted without persistence, or wait in Redis for a visibility timeout.
    The database says what is unfinished, so everything unfinished is sent again; while
    any worker makes progress nothing is re-sent, so a long queue is never duplicated.
    """
    stalled = 0
    cutoff = timezone.now() - stalled_after
    for run in DedupeRun.objects.filter(state__in=ACTIVE_RUN_STATES):
        last_heard = run.progress_at or run.created_at
        if last_heard > cutoff:
            continue
        stalled += 1
        logger.warning(
            "dedupe run %s has had no progress since %s; sending its work again", run.pk, last_heard
        )
        DedupeRun.objects.filter(pk=run.pk).update(progress_at=timezone.now())
        if run.state == RunState.QUEUED:
            dispatch("plan_run", (run.pk,))
        elif run.phase == RunPhase.FINGERPRINTING:
            dispatch_pending_chunks(run.pk)
            _finish_fingerprinting_if_complete(run.pk)
        elif run.phase == RunPhase.VERIFYING:
            if PairChunk.objects.filter(run_id=run.pk).exists():
                dispatch_pending_pair_chunks(run.pk)
                _finish_verifying_if_complete(run.pk)
            else:
                dispatch("plan_verification", (run.pk,))
        elif run.phase == RunPhase.GROUPING:
            dispatch("group_run", (run.pk,))
    return stalled
