"""Stored rows as the engine's values: a gathered item's image as a Fingerprint, the
clerks' decisions as ClerkDecisions, the run's images as the engine sees them."""

from __future__ import annotations

import datetime

from django.db import transaction

from dedupe.core.grouping import ClerkDecisions
from dedupe.core.types import CaptureDate, CaptureDateSource, Fingerprint
from dedupe.models import ClerkDecision, DedupeRun, ItemImage
from dedupe.runs.workflow import request_workflow
from dedupe.stored import fingerprint_from_row


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


def run_images(run: DedupeRun) -> tuple[list[ItemImage], list[Fingerprint]]:
    """The run's item images (brought up to date by the workflow) and the engine's view of the readable ones."""
    with transaction.atomic():
        images = request_workflow().item_images(run.request_id)
    return images, [engine_fingerprint(i) for i in images if not i.unreadable_reason]


def clerk_decisions(request_id: int) -> ClerkDecisions:
    """Every clerk decision on the request's grouping, as the engine applies them."""
    rows = list(ClerkDecision.objects.filter(request_id=request_id).order_by("decided_at", "id"))
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
