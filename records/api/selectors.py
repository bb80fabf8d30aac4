"""Read paths the API adds on top of records/selectors.py, scoped to the asking user.

Duplicate review and withholdings are the clerk's and manager's work: a
department system or uploader sees none of it. Packets are in records/selectors.py,
which the pages and the API share.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from dedupe.models import DedupeRun, DuplicateGroup, GroupMembership

from ..models import Exemption, Withholding
from ..roles import is_staff_member
from ..selectors import requests_visible_to


def runs_visible_to(user: Any) -> QuerySet[DedupeRun]:
    if not is_staff_member(user):
        return DedupeRun.objects.none()
    return DedupeRun.objects.filter(request__in=requests_visible_to(user)).select_related("request")


def groups_visible_to(user: Any) -> QuerySet[DuplicateGroup]:
    if not is_staff_member(user):
        return DuplicateGroup.objects.none()
    members = GroupMembership.objects.select_related("image__item__department")
    return (
        DuplicateGroup.objects.select_related("authoritative", "run", "request")
        .prefetch_related(Prefetch("memberships", queryset=members))
        .order_by("request_id", "id")
    )


def withholdings_visible_to(user: Any) -> QuerySet[Withholding]:
    if not is_staff_member(user):
        return Withholding.objects.none()
    return Withholding.objects.select_related("item__request", "exemption").order_by("-withheld_at", "-id")


def exemptions_visible_to(user: Any) -> QuerySet[Exemption]:
    return Exemption.objects.filter(active=True) if is_staff_member(user) else Exemption.objects.none()
