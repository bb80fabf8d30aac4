"""From the database to a prepared `Packet`: the only module of the packet that queries.

Every gathered file becomes items (one per image, so pages of a multi-page file are items
of their own) with its fate: delivered, duplicate of another item, withheld with its
citation, or unreadable with its reason. Nothing is left out.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.utils import timezone

from dedupe.core.sniff import usual_extension
from dedupe.models import DedupeRun, DuplicateGroup, GroupMembership, ItemImage
from records.models import GatheredItem, ItemStatus, RecordsRequest, Redaction, Withholding
from records.selectors import packet_inputs_changed_at

from .data import (
    Citation,
    Fate,
    MatchExplanation,
    Packet,
    PacketGroup,
    PacketItem,
    PacketRequest,
    UnreadableFiles,
    assign_bates,
    grouped_fields,
    unreadable_fields,
)


@dataclass(frozen=True)
class PreparedPacket:
    packet: Packet
    # Which stored item each produced packet item's file comes from (item id by path).
    item_ids: dict[str, int]


def _person(user) -> str:
    if user is None:
        return "the Public Records Unit"
    return user.get_full_name() or user.get_username()


def _citation(exemption, user) -> Citation:
    return Citation(
        exemption=exemption.label,
        section=exemption.code_section,
        responsible_name=_person(user),
        responsible_title=settings.PACKETDESK_STAFF_TITLE,
    )


def bates_prefix_for(records_request: RecordsRequest) -> str:
    prefix = re.sub(r"[^A-Z0-9_-]", "", (records_request.bates_prefix or records_request.reference).upper())
    return prefix[:20] or "PRA"


def generated_at_for(records_request: RecordsRequest, run: DedupeRun) -> datetime.datetime:
    """The time printed in the packet: the last change to its inputs, so a rebuild is identical."""
    return packet_inputs_changed_at(records_request, run).replace(microsecond=0)


def _capture(image: ItemImage) -> datetime.datetime | None:
    if not image.capture_date:
        return None
    try:
        value = datetime.datetime.fromisoformat(image.capture_date)
    except ValueError:
        return None
    return value.replace(tzinfo=None)


def _received_extension(name: str) -> str:
    """A refused file's own extension, when it is a plain one (it names the file that goes out)."""
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


@dataclass(frozen=True)
class _Decisions:
    """What the run and the clerk decided about a request's images, loaded in a few queries."""

    groups: list[DuplicateGroup]
    membership_of: dict[int, tuple[DuplicateGroup, GroupMembership]]  # by image pk
    withholdings: dict[int, Withholding]  # by item pk
    # By item and page: a page of a multi-page file goes out alone, with its own boxes only.
    redactions: dict[tuple[int, int], list[Redaction]]
    # A withheld record is withheld in every copy: its duplicates must not deliver it.
    withheld_groups: dict[int, Withholding]  # by group pk

    def withholding_of(self, image: ItemImage) -> Withholding | None:
        own = self.withholdings.get(image.item_id)
        if own is None and image.pk in self.membership_of:
            return self.withheld_groups.get(self.membership_of[image.pk][0].pk)
        return own


def _load_decisions(records_request: RecordsRequest, run: DedupeRun, images: list[ItemImage]) -> _Decisions:
    groups = list(
        DuplicateGroup.objects.filter(run=run)
        .select_related("authoritative")
        .prefetch_related("memberships__image")
    )
    membership_of = {m.image_id: (group, m) for group in groups for m in group.memberships.all()}
    withholdings = {
        w.item_id: w
        for w in Withholding.objects.filter(item__request=records_request).select_related(
            "exemption", "withheld_by"
        )
    }
    redactions: dict[tuple[int, int], list[Redaction]] = {}
    for redaction in Redaction.objects.filter(item__request=records_request, confirmed=True).select_related(
        "exemption", "created_by"
    ):
        redactions.setdefault((redaction.item_id, redaction.page), []).append(redaction)
    withheld_groups: dict[int, Withholding] = {}
    for image in images:
        if image.item_id in withholdings and image.pk in membership_of:
            withheld_groups.setdefault(membership_of[image.pk][0].pk, withholdings[image.item_id])
    return _Decisions(groups, membership_of, withholdings, redactions, withheld_groups)


def _image_item(image: ItemImage, decisions: _Decisions, rule: UnreadableFiles) -> PacketItem:
    """One image's packet item: unreadable, or delivered / duplicate / withheld / redacted."""
    item = image.item
    fp = image.fingerprint
    department = item.department
    common = {
        "path": image.key,
        "department_code": department.code if department else "",
        "department_name": department.name if department else "(no department)",
        "sha256": item.sha256,
        "byte_size": item.byte_size,
        "capture_date": _capture(image),
        "capture_date_source": image.capture_date_source,
        "capture_utc_offset": image.capture_utc_offset or None,
        "parcels": tuple(image.parcels),
        "camera": " ".join(filter(None, [fp.camera_make, fp.camera_model])) if fp else "",
        "thumbnail_jpeg": bytes(fp.preview_jpeg) if fp and fp.preview_jpeg else None,
        "extension": usual_extension(item.detected_format),
    }
    if image.unreadable_reason:
        fields = unreadable_fields(rule, page=image.page, original_kept=item.blob_id is not None)
        return PacketItem(
            status=Fate.UNREADABLE, unreadable_reason=image.unreadable_reason, **common, **fields
        )
    fate = Fate.DELIVERED
    extra: dict = {}
    if image.pk in decisions.membership_of:
        group, membership = decisions.membership_of[image.pk]
        fate, extra = grouped_fields(
            group_id=group.engine_id,
            is_authoritative=membership.is_authoritative,
            rule=group.rule,
            reason=group.reason,
            relation=membership.relation,
            explanation=membership.explanation,
        )
    withholding = decisions.withholding_of(image)
    if withholding is not None:
        fate = Fate.WITHHELD
        extra["withholding"] = _citation(withholding.exemption, withholding.withheld_by)
        extra["description"] = withholding.note or f"Image from {common['department_name']}"
    boxes = decisions.redactions.get((item.pk, image.page), [])
    if boxes:
        extra["redaction_count"] = len(boxes)
        extra["redaction_exemptions"] = tuple(
            dict.fromkeys(_citation(b.exemption, b.created_by) for b in boxes)
        )
        extra.setdefault("description", f"Image from {common['department_name']}, delivered redacted")
    return PacketItem(status=fate, **common, **extra)


def _refused_item(item: GatheredItem, rule: UnreadableFiles) -> PacketItem:
    """A file refused at intake has no image; it is an item of the packet all the same."""
    return PacketItem(
        path=item.gathered_path,
        department_code=item.department.code if item.department else "",
        department_name=item.department.name if item.department else "(no department)",
        sha256=item.sha256,
        byte_size=item.byte_size,
        status=Fate.REFUSED,
        unreadable_reason=item.error_reason,
        extension=_received_extension(item.original_path) or usual_extension(item.detected_format),
        **unreadable_fields(rule, page=0, original_kept=item.blob_id is not None),
    )


def _packet_request(records_request: RecordsRequest) -> PacketRequest:
    return PacketRequest(
        city=settings.PACKETDESK_CITY_NAME,
        office=settings.PACKETDESK_OFFICE_NAME,
        reference=records_request.reference,
        requester_name=records_request.requester_name,
        requester_organisation=records_request.requester_organisation,
        requester_kind=records_request.get_requester_kind_display(),
        requester_email=records_request.requester_email,
        received=timezone.localtime(records_request.received_at).date(),
        due=records_request.due_date,
        extended_due=records_request.extended_due_date,
        clerk_name=_person(records_request.assigned_clerk),
        clerk_title=settings.PACKETDESK_STAFF_TITLE,
        bates_prefix=bates_prefix_for(records_request),
        description=records_request.description,
    )


def _packet_group(group: DuplicateGroup) -> PacketGroup:
    return PacketGroup(
        id=group.engine_id,
        authoritative_path=group.authoritative.key,
        rule=group.rule,
        reason=group.reason,
        member_paths=tuple(sorted(m.image.key for m in group.memberships.all())),
        conflicts=tuple(c["description"] for c in group.conflicts),
    )


def prepare_packet(
    records_request: RecordsRequest, run: DedupeRun, *, every_copy: bool = False
) -> PreparedPacket:
    """The request's packet from its latest run and the clerk's decisions: every file, with its fate."""
    rule = UnreadableFiles(settings.PACKETDESK_UNREADABLE_FILES)
    images = list(
        ItemImage.objects.filter(item__request=records_request).select_related(
            "fingerprint", "item__department"
        )
    )
    decisions = _load_decisions(records_request, run, images)
    items = [_image_item(image, decisions, rule) for image in images]
    item_ids = {image.key: image.item_id for image in images}
    refused = GatheredItem.objects.filter(request=records_request, status=ItemStatus.REFUSED).select_related(
        "department"
    )
    for item in refused:
        item_ids[item.gathered_path] = item.pk
        items.append(_refused_item(item, rule))
    request_data = _packet_request(records_request)
    packet = Packet(
        request=request_data,
        items=assign_bates(items, request_data.bates_prefix, every_copy=every_copy),
        groups=tuple(_packet_group(group) for group in decisions.groups),
        explanation=MatchExplanation.from_settings(run.settings_used),
        generated_at=timezone.localtime(generated_at_for(records_request, run)).replace(tzinfo=None),
        unreadable_files=rule,
    )
    return PreparedPacket(packet=packet, item_ids=item_ids)
