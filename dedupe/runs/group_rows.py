"""Engine groups written as rows, the same way when a run stores them and when a clerk's
decision re-forms them (records/services/decisions.py)."""

from __future__ import annotations

from typing import Any

from dedupe.core.authority import CLERK_OVERRIDE
from dedupe.core.types import Group
from dedupe.models import ClerkDecision, DuplicateGroup, GroupMembership, ItemImage

# (authoritative key, member keys) -> (accepted_by id, accepted_at)
Acceptances = dict[tuple[str, frozenset[str]], tuple[Any, Any]]


def authority_decisions(request_id: int) -> dict[str, ClerkDecision]:
    """The latest clerk's choice of each chosen key, by that key."""
    rows = ClerkDecision.objects.filter(request_id=request_id, kind=ClerkDecision.Kind.AUTHORITY)
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


def accepted_groups(request_id: int, exclude_run: int) -> Acceptances:
    """Groups a clerk accepted in earlier runs of the request, by authoritative and member keys."""
    accepted: Acceptances = {}
    earlier = (
        DuplicateGroup.objects.filter(request_id=request_id, accepted_at__isnull=False)
        .exclude(run_id=exclude_run)
        .select_related("authoritative")
        .prefetch_related("memberships__image")
        .order_by("run_id")
    )
    for group in earlier:
        keys = frozenset(m.image.key for m in group.memberships.all())
        accepted[(group.authoritative.key, keys)] = (group.accepted_by_id, group.accepted_at)
    return accepted
