"""Read paths the API adds on top of records/selectors.py, scoped to the asking user.

Duplicate review, withholdings and packets are the clerk's and manager's work: a
department system or uploader sees none of it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from dedupe.models import DedupeRun, DuplicateGroup, GroupMembership

from ..models import Exemption, Packet, Withholding
from ..roles import is_clerk, is_manager
from ..selectors import requests_visible_to


def _staff(user: Any) -> bool:
    return is_clerk(user) or is_manager(user)


def runs_visible_to(user: Any) -> QuerySet[DedupeRun]:
    if not _staff(user):
        return DedupeRun.objects.none()
    return DedupeRun.objects.filter(request__in=requests_visible_to(user)).select_related("request")


def groups_visible_to(user: Any) -> QuerySet[DuplicateGroup]:
    if not _staff(user):
        return DuplicateGroup.objects.none()
    members = GroupMembership.objects.select_related("image__item__department")
    return (
        DuplicateGroup.objects.select_related("authoritative", "run", "request")
        .prefetch_related(Prefetch("memberships", queryset=members))
        .order_by("request_id", "id")
    )


def withholdings_visible_to(user: Any) -> QuerySet[Withholding]:
    if not _staff(user):
        return Withholding.objects.none()
    return Withholding.objects.select_related("item__request", "exemption").order_by("-withheld_at", "-id")


def exemptions_visible_to(user: Any) -> QuerySet[Exemption]:
    return Exemption.objects.filter(active=True) if _staff(user) else Exemption.objects.none()


def packets_visible_to(user: Any) -> QuerySet[Packet]:
    if not _staff(user):
        return Packet.objects.none()
    return Packet.objects.select_related("request").prefetch_related("links").order_by("-requested_at", "-id")
