"""Redactions: boxes a clerk draws on an item, mapped onto its copies, burned into its delivered file."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from ..errors import InvalidInput
from ..models import Exemption, GatheredItem, Redaction
from ..packet.delivered import needs_own_copy, write_delivered_copy
from ..packet.redact import Box, map_box
from ..roles import User, require_clerk, signed_in_user
from .audit import record_event

_CLERK_ONLY = "Only a clerk can redact."


def _require_readable(item: GatheredItem, page: int) -> None:
    """Only an image the engine could read is shown to draw on and delivered redacted."""
    from dedupe.models import ItemImage

    if item.status != "stored":
        raise InvalidInput(
            f"{item.gathered_path} was refused at intake ({item.error_reason or 'no reason recorded'}); "
            "there is nothing to redact."
        )
    unreadable = (
        ItemImage.objects.filter(item=item, page=page)
        .exclude(unreadable_reason="")
        .values_list("unreadable_reason", flat=True)
        .first()
    )
    if unreadable:
        raise InvalidInput(
            f"{item.gathered_path} cannot be read as an image ({unreadable}), so it cannot be redacted."
        )


def _image_size(item: GatheredItem, page: int = 0) -> tuple[int, int]:
    from dedupe.models import ImageFingerprint

    _require_readable(item, page)
    fp = ImageFingerprint.objects.filter(blob_id=item.sha256, page=page).exclude(width=0).first()
    if fp is None:
        raise InvalidInput("Run duplicate detection first: the image's size is not known yet.")
    return fp.width, fp.height


@transaction.atomic
def add_redaction(
    *,
    actor: User,
    item: GatheredItem,
    box: Box,
    exemption: Exemption,
    page: int = 0,
    mapped_from: Redaction | None = None,
    confirmed: bool = True,
) -> Redaction:
    """Record a box (in the upright image's pixels) to black out under `exemption`."""
    require_clerk(actor, _CLERK_ONLY)
    size = _image_size(item, page)
    clipped = box.clipped(size)
    if clipped is None:
        raise InvalidInput(f"The box lies outside the image ({size[0]}×{size[1]} pixels).")
    if not exemption.active:
        raise InvalidInput(f"{exemption} is no longer on the office's list of exemptions.")
    redaction = Redaction.objects.create(
        item=item,
        page=page,
        x=clipped.x,
        y=clipped.y,
        width=clipped.width,
        height=clipped.height,
        exemption=exemption,
        mapped_from=mapped_from,
        confirmed=confirmed,
        created_by=signed_in_user(actor),
        created_at=timezone.now(),
    )
    record_event(
        actor=actor,
        verb="redaction_added",
        obj=item,
        request=item.request,
        details={
            "redaction": redaction.pk,
            "box": [clipped.x, clipped.y, clipped.width, clipped.height],
            "exemption": exemption.code_section,
            "mapped_from": mapped_from.pk if mapped_from else None,
        },
    )
    return redaction


@transaction.atomic
def remove_redaction(*, actor: User, redaction: Redaction) -> None:
    require_clerk(actor, _CLERK_ONLY)
    item = redaction.item
    record_event(
        actor=actor,
        verb="redaction_removed",
        obj=item,
        request=item.request,
        details={
            "redaction": redaction.pk,
            "box": [redaction.x, redaction.y, redaction.width, redaction.height],
        },
    )
    redaction.delete()


@transaction.atomic
def confirm_redaction(*, actor: User, redaction: Redaction) -> Redaction:
    require_clerk(actor, _CLERK_ONLY)
    redaction.confirmed = True
    redaction.save(update_fields=["confirmed"])
    record_event(
        actor=actor,
        verb="redaction_confirmed",
        obj=redaction.item,
        request=redaction.item.request,
        details={"redaction": redaction.pk},
    )
    return redaction


@transaction.atomic
def apply_to_group(*, actor: User, redaction: Redaction) -> list[Redaction]:
    """Map a box onto every other member of the item's duplicate group, awaiting confirmation."""
    from dedupe.models import GroupMembership
    from records.selectors import latest_completed_run

    require_clerk(actor, _CLERK_ONLY)
    run = latest_completed_run(redaction.item.request)
    membership = (
        GroupMembership.objects.filter(group__run=run, image__item=redaction.item, image__page=redaction.page)
        .select_related("group")
        .first()
    )
    if membership is None:
        raise InvalidInput("This item is not in a duplicate group.")
    source_size = _image_size(redaction.item, redaction.page)
    source_rotation = membership.rotation
    box = Box(redaction.x, redaction.y, redaction.width, redaction.height)
    mapped = []
    for other in membership.group.memberships.exclude(pk=membership.pk).select_related("image__item"):
        target = other.image.item
        size = _image_size(target, other.image.page)
        # A membership's rotation is how far its pixels must turn counter-clockwise to match the
        # authoritative copy (dedupe/core/verify.py rotates the member by it). So the target is the
        # authoritative copy turned by -other.rotation, and the source by -source_rotation:
        # relative to the source, the target is turned by source_rotation - other.rotation.
        rotation = (source_rotation - other.rotation) % 360
        mapped.append(
            add_redaction(
                actor=actor,
                item=target,
                page=other.image.page,
                box=map_box(box, source_size, size, rotation),
                exemption=redaction.exemption,
                mapped_from=redaction,
                confirmed=False,
            )
        )
    return mapped


@transaction.atomic
def redact(
    *,
    actor: User,
    item: GatheredItem,
    box: Box,
    exemption: Exemption,
    page: int = 0,
    to_group: bool = False,
) -> tuple[Redaction, list[Redaction]]:
    """Add a box and, when asked, its mapped copies on the group: all of it or none of it."""
    created = add_redaction(actor=actor, item=item, box=box, exemption=exemption, page=page)
    mapped = apply_to_group(actor=actor, redaction=created) if to_group else []
    return created, mapped


def delivered_copy_path(
    item: GatheredItem, page: int, source: str, stack: contextlib.ExitStack
) -> str | None:
    """A temporary file holding what goes out for one page of an item, or None for its original.

    `source` is the item's file on local disk. A page of a multi-page file always gets its
    own copy; a single-page file only when it has confirmed redactions.
    """
    boxes = [Box(b.x, b.y, b.width, b.height) for b in item.redactions.filter(confirmed=True, page=page)]
    if not needs_own_copy(page, boxes):
        return None
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    copy = write_delivered_copy(source, page, boxes, folder / f"item-{item.pk}-page-{page}")
    return str(copy) if copy is not None else None
