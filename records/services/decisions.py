"""A clerk's decisions on duplicate groups: each is shown at once, audited, and survives re-runs.

The decision is stored by item key (ClerkDecision) so the engine applies it again on every
later run; the groups it touches are then re-formed at once by the engine's own code
(dedupe.core.grouping.regroup), so every member's relation and evidence is measured against the
group's authoritative copy as it now is, and a re-run writes the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dedupe.core.grouping import authority_for, identical_copies, regroup
from dedupe.core.types import Fingerprint, Group
from dedupe.models import ClerkDecision, DedupeRun, DuplicateGroup, GroupMembership, ItemImage
from dedupe.runs.engine_inputs import clerk_decisions, engine_fingerprint
from dedupe.runs.group_rows import authority_decisions, conflict_rows, stored_reason, write_memberships
from dedupe.runs.run_settings import run_settings
from records.errors import InvalidInput
from records.roles import User, require_clerk, signed_in_user
from records.services.audit import record_event


def _require_clerk_and_reason(actor: User, reason: str) -> str:
    require_clerk(actor, "Only a clerk can change duplicate groups.")
    if not reason.strip():
        raise InvalidInput("Give the reason for this decision; it is shown in the packet index.")
    return reason.strip()


def _member(group: DuplicateGroup, image: ItemImage) -> GroupMembership:
    membership = group.memberships.filter(image=image).first()
    if membership is None:
        raise InvalidInput(f"{image.key} is not in this group.")
    return membership


def _decide(
    group: DuplicateGroup, kind: str, pairs: Iterable[tuple[str, str]], reason: str, actor: User | None
) -> None:
    now = timezone.now()
    ClerkDecision.objects.bulk_create(
        ClerkDecision(
            request_id=group.request_id,
            kind=kind,
            first_key=first,
            second_key=second,
            reason=reason,
            decided_by=signed_in_user(actor),
            decided_at=now,
        )
        for first, second in pairs
    )


def _images(rows: Sequence[DuplicateGroup], extra: Sequence[ItemImage] = ()) -> list[ItemImage]:
    """The member images of `rows` and `extra`, loaded as the engine needs them."""
    ids = set(GroupMembership.objects.filter(group__in=rows).values_list("image_id", flat=True))
    ids |= {image.pk for image in extra}
    return list(
        ItemImage.objects.filter(pk__in=ids).select_related("fingerprint", "item", "item__department")
    )


def _fingerprints(images: Sequence[ItemImage]) -> list[Fingerprint]:
    return [engine_fingerprint(image) for image in images]


def _regroup(
    run: DedupeRun,
    rows: Sequence[DuplicateGroup],
    extra: Sequence[ItemImage] = (),
    *,
    follow: Sequence[str] = (),
) -> list[DuplicateGroup]:
    """Re-form the copies of `rows` (and `extra`) with the engine, after a decision is stored.

    Each row keeps its id (the review page's anchor) for the new group that holds the key
    it follows (`follow`, one per row; by default its former authoritative copy); rows
    left without a group are deleted and further groups are new rows. A clerk's
    acceptance stays only on a group that is exactly as it was. Returns the rows now
    holding the groups, by authoritative key.
    """
    records_request = run.request
    images = _images(rows, extra)
    by_key = {image.key: image for image in images}
    before = {
        row.pk: (
            row.authoritative.key,
            frozenset(m.image.key for m in row.memberships.select_related("image")),
        )
        for row in rows
    }
    # As the run grouped: its stored thresholds and departments of record.
    settings = run_settings(run)
    groups = regroup(
        _fingerprints(images),
        settings.match,
        departments_of_record=list(settings.departments_of_record),
        decisions=clerk_decisions(records_request.pk),
    )
    unclaimed = list(groups)
    placed: list[tuple[DuplicateGroup, Group]] = []
    for n, row in enumerate(rows):
        key = follow[n] if n < len(follow) else before[row.pk][0]
        group = next((g for g in unclaimed if key in g.keys), None)
        if group is None:
            row.delete()
            continue
        unclaimed.remove(group)
        placed.append((row, group))
    placed += [(DuplicateGroup(run=run, request=records_request), g) for g in unclaimed]
    decided_authority = authority_decisions(records_request.pk)
    out = []
    for row, group in placed:
        reason, decided_by = stored_reason(group, decided_authority)
        row.engine_id = group.id
        row.authoritative = by_key[group.authoritative]
        row.rule, row.reason, row.decided_by = group.rule, reason, decided_by
        row.conflicts = conflict_rows(group)
        if row.pk is None or before[row.pk] != (group.authoritative, frozenset(group.keys)):
            row.accepted_by, row.accepted_at = None, None
        row.save()
        row.memberships.all().delete()
        write_memberships(row, group, by_key)
        out.append(row)
    return sorted(out, key=lambda r: r.authoritative.key)


def _member_keys(rows: Sequence[DuplicateGroup]) -> set[str]:
    return set(GroupMembership.objects.filter(group__in=rows).values_list("image__key", flat=True))


def _forget_splits(group: DuplicateGroup, one_side: set[str], other_side: set[str]) -> None:
    """A merge overrules an earlier split between the copies it puts together."""
    splits = ClerkDecision.objects.filter(request_id=group.request_id, kind=ClerkDecision.Kind.SPLIT)
    splits.filter(
        Q(first_key__in=one_side, second_key__in=other_side)
        | Q(first_key__in=other_side, second_key__in=one_side)
    ).delete()


def _holding(rows: Sequence[DuplicateGroup], key: str) -> DuplicateGroup | None:
    return next((r for r in rows if r.memberships.filter(image__key=key).exists()), None)


@transaction.atomic
def choose_authoritative(
    *, actor: User, group: DuplicateGroup, image: ItemImage, reason: str
) -> DuplicateGroup:
    """Make another member the group's authoritative copy; every member is measured against it."""
    reason = _require_clerk_and_reason(actor, reason)
    group = DuplicateGroup.objects.select_for_update().select_related("run__request").get(pk=group.pk)
    _member(group, image)
    previous = group.authoritative
    if previous.pk == image.pk:
        raise InvalidInput("That copy is already the authoritative one.")
    members_before = _member_keys([group])
    _decide(group, ClerkDecision.Kind.AUTHORITY, [(previous.key, image.key)], reason, actor)
    rows = _regroup(group.run, [group], follow=[image.key])
    chosen = next(r for r in rows if r.authoritative_id == image.pk)
    # Members that do not verify against the new authoritative copy leave, as on a re-run.
    left = sorted(members_before - _member_keys([chosen]))
    record_event(
        actor=actor,
        verb="authority_overridden",
        obj=chosen,
        request=chosen.request,
        details={"from": previous.key, "to": image.key, "reason": reason, "left_the_group": left},
    )
    return chosen


@transaction.atomic
def split_member(
    *, actor: User, group: DuplicateGroup, image: ItemImage, reason: str
) -> DuplicateGroup | None:
    """Take a member out of a group, with its exact and same-pixel copies: never merged with
    the others again. Two or more copies split out form a group of their own.

    Returns the group, or None when too few members remain for it to be a group.
    """
    reason = _require_clerk_and_reason(actor, reason)
    group = DuplicateGroup.objects.select_for_update().select_related("run__request").get(pk=group.pk)
    membership = _member(group, image)
    if membership.is_authoritative:
        raise InvalidInput("Choose another authoritative copy before splitting this one out.")
    images = _images([group])
    fps = _fingerprints(images)
    authority = group.authoritative.key
    moving = {f.key for f in identical_copies(image.key, fps)}
    if authority in moving:
        raise InvalidInput(
            f"{image.key} has the same bytes or pixels as the authoritative copy, so it cannot be told "
            "apart from it. Choose another authoritative copy first; the identical copies then split out together."
        )
    staying = sorted({f.key for f in fps} - moving)
    _decide(group, ClerkDecision.Kind.SPLIT, [(m, o) for m in sorted(moving) for o in staying], reason, actor)
    _keep_authority(group, [f for f in fps if f.key not in moving], actor, image.key)
    rows = _regroup(group.run, [group])
    remaining = next((r for r in rows if r.authoritative.key == authority), None)
    record_event(
        actor=actor,
        verb="member_split",
        obj=remaining or image,
        request=group.request,
        details={"item": image.key, "moved": sorted(moving), "reason": reason, "group": group.engine_id},
    )
    return remaining


def _keep_authority(group: DuplicateGroup, staying: list[Fingerprint], actor: User, split_key: str) -> None:
    """A split never changes the authoritative copy: when the copies staying would elect
    another (the clerk's earlier choice named a copy now split out), record the choice again."""
    records_request = group.run.request
    current = group.authoritative.key
    settings = run_settings(group.run)
    elected = authority_for(
        staying,
        list(settings.departments_of_record),
        settings.match,
        clerk_decisions(records_request.pk),
    )
    if elected.key == current:
        return
    earlier = authority_decisions(records_request.pk).get(current)
    why = earlier.reason if earlier else f"kept as the authoritative copy when {split_key} was split out"
    # Restated in the earlier clerk's name when there was one, so the group still says who chose it.
    _decide(
        group,
        ClerkDecision.Kind.AUTHORITY,
        [(elected.key, current)],
        why,
        earlier.decided_by if earlier else actor,
    )


def _merge_pairs(into: DuplicateGroup, keys: Iterable[str]) -> list[tuple[str, str]]:
    # Every copy linked to one anchor: the merged group stays whole whichever copy the
    # authority rules then choose, and a re-run finds it so.
    anchor = into.authoritative.key
    return [(anchor, key) for key in sorted(set(keys) - {anchor})]


@transaction.atomic
def merge_groups(*, actor: User, into: DuplicateGroup, other: DuplicateGroup, reason: str) -> DuplicateGroup:
    """Merge `other` into `into`: the clerk says they are the same record. The authority rules
    choose the merged group's authoritative copy, and every member is measured against it."""
    reason = _require_clerk_and_reason(actor, reason)
    if into.pk == other.pk:
        raise InvalidInput("Choose two different groups to merge.")
    into = DuplicateGroup.objects.select_for_update().select_related("run__request").get(pk=into.pk)
    other = DuplicateGroup.objects.select_for_update().get(pk=other.pk)
    if into.run_id != other.run_id:
        raise InvalidInput("These groups come from different runs; run duplicate detection again first.")
    merged_key = other.authoritative.key
    ours, theirs = _member_keys([into]), _member_keys([other])
    _forget_splits(into, ours, theirs)
    _decide(into, ClerkDecision.Kind.MERGE, _merge_pairs(into, ours | theirs), reason, actor)
    rows = _regroup(into.run, [into, other])
    merged = _holding(rows, merged_key) or into
    record_event(
        actor=actor,
        verb="groups_merged",
        obj=merged,
        request=merged.request,
        details={"into": merged.authoritative.key, "merged": merged_key, "reason": reason},
    )
    return merged


@transaction.atomic
def merge_item(*, actor: User, into: DuplicateGroup, image: ItemImage, reason: str) -> DuplicateGroup:
    """Put an image that is in no group into `into`: the clerk says it is the same record."""
    reason = _require_clerk_and_reason(actor, reason)
    into = DuplicateGroup.objects.select_for_update().select_related("run__request").get(pk=into.pk)
    if image.item.request_id != into.request_id:
        raise InvalidInput(f"{image.key} was gathered for another request.")
    if image.fingerprint_id is None or image.unreadable_reason:
        raise InvalidInput(f"{image.key} could not be read as an image, so it cannot join a group.")
    elsewhere = (
        GroupMembership.objects.filter(group__run_id=into.run_id, image=image).select_related("group").first()
    )
    if elsewhere is not None:
        raise InvalidInput(
            f"{image.key} is already in a group (#{elsewhere.group_id}); merge that group instead."
        )
    ours = _member_keys([into])
    _forget_splits(into, ours, {image.key})
    _decide(into, ClerkDecision.Kind.MERGE, _merge_pairs(into, ours | {image.key}), reason, actor)
    rows = _regroup(into.run, [into], extra=[image])
    merged = _holding(rows, image.key) or into
    record_event(
        actor=actor,
        verb="item_merged",
        obj=merged,
        request=merged.request,
        details={"into": merged.authoritative.key, "item": image.key, "reason": reason},
    )
    return merged


@transaction.atomic
def accept_group(*, actor: User, group: DuplicateGroup) -> DuplicateGroup:
    """Record that a clerk reviewed the group and accepts it as it stands (the review's 'a' key)."""
    require_clerk(actor, "Only a clerk can review duplicate groups.")
    group = DuplicateGroup.objects.select_for_update().get(pk=group.pk)
    if group.accepted_at is None:
        group.accepted_by = signed_in_user(actor)
        group.accepted_at = timezone.now()
        group.save(update_fields=["accepted_by", "accepted_at"])
        record_event(
            actor=actor,
            verb="group_accepted",
            obj=group,
            request=group.request,
            details={"authoritative": group.authoritative.key, "rule": group.rule},
        )
    return group
