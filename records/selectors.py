"""Read paths: every queryset a page or the API shows, scoped to the user who asks.

Visibility lives here, not in views: a department uploader sees only its own
department's items; clerks and managers see every request.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from .models import AuditEvent, Department, GatheredItem, RecordsRequest
from .roles import is_clerk, is_manager, uploader_department
from .services.intake import GATHERING_STATUSES


def requests_visible_to(user: Any) -> QuerySet[RecordsRequest]:
    if is_clerk(user) or is_manager(user):
        return RecordsRequest.objects.all()
    if uploader_department(user) is not None:
        # Departments gather for open requests; they never see released packets here.
        return RecordsRequest.objects.filter(status__in=GATHERING_STATUSES)
    return RecordsRequest.objects.none()


def items_visible_to(user: Any) -> QuerySet[GatheredItem]:
    items = GatheredItem.objects.select_related("department", "request")
    if is_clerk(user) or is_manager(user):
        return items
    own = uploader_department(user)
    if own is not None:
        return items.filter(department=own, request__in=requests_visible_to(user))
    return items.none()


def departments_for_upload(user: Any) -> QuerySet[Department]:
    if is_clerk(user):
        return Department.objects.all()
    own = uploader_department(user)
    return Department.objects.filter(pk=own.pk) if own else Department.objects.none()


def department_counts(user: Any, records_request: RecordsRequest) -> list[dict[str, Any]]:
    """Per department: files gathered, refused and bytes, as the request page lists them."""
    return list(
        items_visible_to(user)
        .filter(request=records_request)
        .values("department__code", "department__name")
        .annotate(
            total=Count("id"),
            refused=Count("id", filter=Q(status="refused")),
            bytes=Sum("byte_size"),
        )
        .order_by("department__code")
    )


def audit_trail(user: Any, records_request: RecordsRequest) -> QuerySet[AuditEvent]:
    if not (is_clerk(user) or is_manager(user)):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(request=records_request).select_related("actor")


def latest_completed_run(records_request: RecordsRequest):
    from dedupe.models import DedupeRun, RunState

    return (
        DedupeRun.objects.filter(request=records_request, state=RunState.COMPLETED)
        .order_by("-finished_at", "-id")
        .first()
    )


def current_groups(user: Any, records_request: RecordsRequest):
    """The duplicate groups of the request's latest completed run, members prefetched."""
    from django.db.models import Prefetch

    from dedupe.models import DuplicateGroup, GroupMembership

    run = latest_completed_run(records_request)
    if run is None or not (is_clerk(user) or is_manager(user)):
        return DuplicateGroup.objects.none()
    members = GroupMembership.objects.select_related("image__item__department", "image__fingerprint")
    return (
        DuplicateGroup.objects.filter(run=run)
        .select_related("authoritative__item__department")
        .prefetch_related(Prefetch("memberships", queryset=members))
    )


def active_run(records_request: RecordsRequest):
    from dedupe.models import ACTIVE_RUN_STATES, DedupeRun

    return DedupeRun.objects.filter(request=records_request, state__in=ACTIVE_RUN_STATES).first()
