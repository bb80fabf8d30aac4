"""A clerk's decisions on duplicate groups: each is shown at once, audited, and survives re-runs.

The decision is stored by item key (ClerkDecision) so the engine applies it again on every
later run; the current groups are changed in place so the review page reflects it now.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from dedupe.models import ClerkDecision, DuplicateGroup, GroupMembership, ItemImage
from records.errors import InvalidInput, NotPermitted
from records.roles import is_clerk
from records.services.audit import record_event


def _require_clerk_and_reason(actor: Any, reason: str) -> str:
    if not is_clerk(actor):
        raise NotPermitted("Only a clerk can change duplicate groups.")
    if not reason.strip():
        raise InvalidInput("Give the reason for this decision; it is shown in the packet index.")
    return reason.strip()


def _member(group: DuplicateGroup, image: ItemImage) -> GroupMembership:
    membership = group.memberships.filter(image=image).first()
    if membership is None:
        raise InvalidInput(f"{image.key} is not in this group.")
    return membership


@transaction.atomic
def choose_authoritative(
    *, actor: Any, group: DuplicateGroup, image: ItemImage, reason: str
) -> DuplicateGroup:
    """Make another member the group's authoritative copy."""
    reason = _require_clerk_and_reason(actor, reason)
    group = DuplicateGroup.objects.select_for_update().get(pk=group.pk)
    chosen = _member(group, image)
    previous = group.authoritative
    if previous.pk == image.pk:
        raise InvalidInput("That copy is already the authoritative one.")
    ClerkDecision.objects.create(
        request=group.request,
        kind=ClerkDecision.Kind.AUTHORITY,
        first_key=previous.key,
        second_key=image.key,
        reason=reason,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    group.memberships.filter(is_authoritative=True).update(is_authoritative=False)
    chosen.is_authoritative = True
    chosen.save(update_fields=["is_authoritative"])
    group.authoritative = image
    group.rule = "clerk_override"
    group.reason = f"chosen by {actor.get_username()}: {reason}"
    group.decided_by = actor
    group.save(update_fields=["authoritative", "rule", "reason", "decided_by"])
    record_event(
        actor=actor,
        verb="authority_overridden",
        obj=group,
        request=group.request,
        details={"from": previous.key, "to": image.key, "reason": reason},
    )
    return group


@transaction.atomic
def split_member(
    *, actor: Any, group: DuplicateGroup, image: ItemImage, reason: str
) -> DuplicateGroup | None:
    """Take a member out of a group: it is its own item, and never merged with these again.

    Returns the group, or None when too few members remain for it to be a group.
    """
    reason = _require_clerk_and_reason(actor, reason)
    group = DuplicateGroup.objects.select_for_update().get(pk=group.pk)
    membership = _member(group, image)
    if membership.is_authoritative:
        raise InvalidInput("Choose another authoritative copy before splitting this one out.")
    others = list(group.memberships.exclude(pk=membership.pk).select_related("image"))
    now = timezone.now()
    ClerkDecision.objects.bulk_create(
        ClerkDecision(
            request=group.request,
            kind=ClerkDecision.Kind.SPLIT,
            first_key=image.key,
            second_key=other.image.key,
            reason=reason,
            decided_by=actor,
            decided_at=now,
        )
        for other in others
    )
    membership.delete()
    record_event(
        actor=actor,
        verb="member_split",
        obj=group,
        request=group.request,
        details={"item": image.key, "reason": reason},
    )
    if len(others) < 2:
        group.delete()
        return None
    return group


@transaction.atomic
def merge_groups(*, actor: Any, into: DuplicateGroup, other: DuplicateGroup, reason: str) -> DuplicateGroup:
    """Merge `other` into `into`: the clerk says they are the same record."""
    reason = _require_clerk_and_reason(actor, reason)
    if into.pk == other.pk:
        raise InvalidInput("Choose two different groups to merge.")
    into = DuplicateGroup.objects.select_for_update().get(pk=into.pk)
    other = DuplicateGroup.objects.select_for_update().get(pk=other.pk)
    if into.run_id != other.run_id:
        raise InvalidInput("These groups come from different runs; run duplicate detection again first.")
    ClerkDecision.objects.create(
        request=into.request,
        kind=ClerkDecision.Kind.MERGE,
        first_key=into.authoritative.key,
        second_key=other.authoritative.key,
        reason=reason,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    who = actor.get_username()
    for membership in other.memberships.all():
        membership.group = into
        membership.is_authoritative = False
        membership.explanation = f"merged by {who}: {reason}"
        membership.save()
    merged_key = other.authoritative.key
    other.delete()
    record_event(
        actor=actor,
        verb="groups_merged",
        obj=into,
        request=into.request,
        details={"into": into.authoritative.key, "merged": merged_key, "reason": reason},
    )
    return into


@transaction.atomic
def accept_group(*, actor: Any, group: DuplicateGroup) -> DuplicateGroup:
    """Record that a clerk reviewed the group and accepts it as it stands (the review's 'a' key)."""
    if not is_clerk(actor):
        raise NotPermitted("Only a clerk can review duplicate groups.")
    group = DuplicateGroup.objects.select_for_update().get(pk=group.pk)
    if group.accepted_at is None:
        group.accepted_by = actor
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
