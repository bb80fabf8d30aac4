"""A request's dedupe runs, as the request workflow sees them.

Starting a run is the clerk's act on a request: checked, audited, the request moved to
deduplicating, the run's settings (thresholds, the request's office of record) resolved
once and stored on the run. What the run covers (the request's stored items, their
images) and what the request does when the run ends (moves to review, audits) live here
too, in `RecordsRunWorkflow`, the seam dedupe.runs.workflow declares and records' app
registers; the run's own machinery (chunks, steps, progress) is dedupe/runs/.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from dedupe import tasks as dedupe_tasks
from dedupe.core.metadata import date_from_file_name, find_parcel_numbers
from dedupe.core.settings import MatchSettings
from dedupe.core.types import FINGERPRINT_ALGORITHM_VERSION, CaptureDateSource, Group, Relation, page_key
from dedupe.models import DedupeRun, ImageFingerprint, ItemImage
from dedupe.runs.lifecycle import RunAlreadyActive, active_run, create_run
from dedupe.runs.run_settings import RunSettings

from ..blobstore import stored_name
from ..errors import Conflict
from ..models import Blob, GatheredItem, ItemStatus, RecordsRequest, RequestStatus
from ..roles import User, require_clerk
from .audit import record_event
from .requests import move_status, move_status_if

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
        CaptureDateSource.PDF_CREATION,
    }
)


def departments_of_record(records_request: RecordsRequest) -> list[str]:
    """The request's department(s) of record, by code, for the authority rules."""
    office = records_request.office_of_record
    return [office.code] if office else []


def _covered_items(request_id: int) -> QuerySet[GatheredItem]:
    return GatheredItem.objects.filter(request_id=request_id, status=ItemStatus.STORED)


def start_run(
    *, actor: User, records_request: RecordsRequest, match_settings: MatchSettings | None = None
) -> DedupeRun:
    """Queue a dedupe run for a request; refused while another run on it is active.

    The run keeps the thresholds (`match_settings`, the defaults unless given) and the
    request's office of record as they are now, for every step and every later decision.
    """
    require_clerk(actor, "Only a clerk can run duplicate detection.")
    with transaction.atomic():
        locked = RecordsRequest.objects.select_for_update().get(pk=records_request.pk)
        active = active_run(locked.pk)
        if active is not None:
            raise Conflict(
                f"Duplicate detection is already running on {locked.reference} "
                f"(started {timezone.localtime(active.created_at):%b %-d %H:%M}); wait for it to finish.",
                code="run_already_active",
                details={"run": active.pk},
            )
        items = _covered_items(locked.pk)
        if not items.exists():
            raise Conflict("Nothing has been gathered for this request yet.", code="nothing_gathered")
        settings = RunSettings(
            match=match_settings or MatchSettings(),
            departments_of_record=tuple(departments_of_record(locked)),
        )
        try:
            run, steps = create_run(
                request_id=locked.pk, started_by=actor, items_total=items.count(), settings=settings
            )
        except RunAlreadyActive:
            # Another process created one between our check and our insert.
            raise Conflict(
                f"Duplicate detection is already running on {locked.reference}.", code="run_already_active"
            )
        run.request = locked
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
        dedupe_tasks.send(steps)
    return run


# ---------------------------------------------------------------- what a run covers


def _item_capture(fp: ImageFingerprint, gathered_path: str) -> tuple[str, str, str]:
    if fp.capture_date and fp.capture_date_source in EMBEDDED_SOURCES:
        return fp.capture_date, fp.capture_date_source, fp.capture_utc_offset
    from_name = date_from_file_name(gathered_path)
    if from_name is not None:
        return from_name.isoformat(), CaptureDateSource.FILE_NAME, ""
    return "", CaptureDateSource.UNKNOWN, ""


class _ImageFacts(TypedDict):
    """What an ItemImage says of its page besides its fingerprint: the item's own metadata."""

    key: str
    capture_date: str
    capture_date_source: str
    capture_utc_offset: str
    parcels: list[str]
    unreadable_reason: str


def sync_item_images(request_id: int) -> list[ItemImage]:
    """One ItemImage per page of every stored item, with the item's own metadata."""
    items = _covered_items(request_id).select_related("department")
    fingerprints: dict[str, list[ImageFingerprint]] = {}
    for fp in ImageFingerprint.objects.filter(
        blob_id__in=items.values("sha256"), algorithm_version=FINGERPRINT_ALGORITHM_VERSION
    ).order_by("blob_id", "page"):
        fingerprints.setdefault(fp.blob_id, []).append(fp)
    existing = {(i.item_id, i.page): i for i in ItemImage.objects.filter(item__request_id=request_id)}
    images = []
    for item in items:
        path = item.gathered_path
        for fp in fingerprints.get(item.sha256, []):
            key = page_key(path, fp.page)
            capture, source, offset = _item_capture(fp, path)
            facts: _ImageFacts = {
                "key": key,
                "capture_date": capture,
                "capture_date_source": source,
                "capture_utc_offset": offset,
                "parcels": sorted(set(fp.parcels) | set(find_parcel_numbers([path]))),
                "unreadable_reason": fp.unreadable_reason,
            }
            image = existing.get((item.pk, fp.page))
            if image is None:
                image = ItemImage.objects.create(item=item, page=fp.page, fingerprint=fp, **facts)
            else:
                # A re-run rewrites only the images whose facts changed (usually none).
                changed = [name for name, value in facts.items() if getattr(image, name) != value]
                if image.fingerprint_id != fp.pk:
                    changed.append("fingerprint")
                for name, value in facts.items():
                    setattr(image, name, value)
                image.fingerprint = fp  # also caches it for engine_fingerprint
                if changed:
                    image.save(update_fields=changed)
            image.item = item  # keeps engine_fingerprint free of a query per image
            images.append(image)
    return images


def run_counts(request_id: int, images: Sequence[ItemImage], groups: Sequence[Group]) -> dict[str, Any]:
    """Metrics inputs: per department and in total, what was gathered and what the packet drops."""
    relation_of: dict[str, str] = {}
    for group in groups:
        for member in group.members:
            relation_of[member.key] = member.relation
    per_department: dict[str, dict[str, int]] = {}
    all_items = GatheredItem.objects.filter(request_id=request_id).select_related("department")
    image_keys_by_item: dict[int, list[ItemImage]] = {}
    for image in images:
        image_keys_by_item.setdefault(image.item_id, []).append(image)
    for item in all_items:
        code = item.department.code if item.department is not None else "_unassigned"
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


class RecordsRunWorkflow:
    """The request workflow a dedupe run serves (dedupe.runs.workflow.RequestWorkflow)."""

    def blobs_to_cover(self, request_id: int) -> list[str]:
        return list(_covered_items(request_id).values_list("sha256", flat=True).distinct().order_by("sha256"))

    def blob_files(self, shas: Sequence[str]) -> dict[str, str]:
        return {blob.sha256: stored_name(blob) for blob in Blob.objects.filter(sha256__in=list(shas))}

    def item_images(self, request_id: int) -> list[ItemImage]:
        return sync_item_images(request_id)

    def run_counts(
        self, request_id: int, images: Sequence[ItemImage], groups: Sequence[Group]
    ) -> dict[str, Any]:
        return run_counts(request_id, images, groups)

    def grouping_finished(self, run: DedupeRun, groups: int) -> None:
        # The request was read before grouping; a clerk may have moved it since (withdrawn,
        # back to gathering), so the move is decided on the locked row.
        records_request = RecordsRequest.objects.get(pk=run.request_id)
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
            obj=run,
            request=records_request,
            details={"groups": groups, **run.counts.get("total", {})},
        )

    def run_failed(self, run: DedupeRun) -> None:
        record_event(
            actor=None,
            verb="dedupe_failed",
            obj=run,
            request=RecordsRequest.objects.get(pk=run.request_id),
            details={"error": run.error},
        )
