"""Read paths: every queryset a page or the API shows, scoped to the user who asks.

Visibility lives here, not in views: a department uploader sees only its own
department's items; clerks and managers see every request.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from .models import (
    AuditEvent,
    Department,
    DepartmentTask,
    Exemption,
    GatheredItem,
    Packet,
    RecordsRequest,
    Redaction,
)
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
        .select_related("authoritative__item__department", "accepted_by")
        .prefetch_related(Prefetch("memberships", queryset=members))
    )


def active_run(records_request: RecordsRequest):
    from dedupe.models import ACTIVE_RUN_STATES, DedupeRun

    return DedupeRun.objects.filter(request=records_request, state__in=ACTIVE_RUN_STATES).first()


# ------------------------------------------------------------------ pages (issue 6)


def filtered_requests(
    user: Any,
    *,
    query: str = "",
    status: str = "",
    clerk: str = "",
    overdue: bool = False,
    today: Any = None,
) -> QuerySet[RecordsRequest]:
    """The request list as a clerk filters it: search, status, assigned clerk, overdue only."""
    from django.utils import timezone

    from .services.requests import OPEN_STATUSES

    requests = requests_visible_to(user).select_related("assigned_clerk")
    if query:
        requests = requests.filter(Q(reference__icontains=query) | Q(requester_name__icontains=query))
    if status:
        requests = requests.filter(status=status)
    if clerk == "none":
        requests = requests.filter(assigned_clerk__isnull=True)
    elif clerk.isdigit():
        requests = requests.filter(assigned_clerk_id=int(clerk))
    if overdue:
        today = today or timezone.localdate()
        requests = requests.filter(status__in=OPEN_STATUSES).filter(
            Q(extended_due_date__lt=today) | Q(extended_due_date__isnull=True, due_date__lt=today)
        )
    return requests


def tasks_visible_to(user: Any) -> QuerySet[DepartmentTask]:
    """Department tasks: clerks and managers see all; an uploader only its department's."""
    tasks = DepartmentTask.objects.select_related("request", "department", "answered_by")
    if is_clerk(user) or is_manager(user):
        return tasks
    own = uploader_department(user)
    if own is not None:
        return tasks.filter(department=own, request__in=requests_visible_to(user))
    return tasks.none()


def packets_visible_to(user: Any) -> QuerySet[Packet]:
    if is_clerk(user) or is_manager(user):
        return Packet.objects.select_related("request", "built_by", "released_by")
    return Packet.objects.none()


def item_images_visible_to(user: Any):
    """Images (pages) of the items the user may see, with their fingerprints."""
    from dedupe.models import ItemImage

    return ItemImage.objects.filter(item__in=items_visible_to(user)).select_related("fingerprint", "item")


def ungrouped_items(user: Any, records_request: RecordsRequest) -> QuerySet[GatheredItem]:
    """Stored items of the request that the latest run put in no duplicate group, less those
    no page of which could be read (unreadable_images lists them)."""
    from dedupe.models import GroupMembership, ItemImage

    items = items_visible_to(user).filter(request=records_request, status="stored")
    unreadable = ItemImage.objects.filter(item__request=records_request).exclude(unreadable_reason="")
    readable = ItemImage.objects.filter(item__request=records_request, unreadable_reason="")
    items = items.exclude(Q(pk__in=unreadable.values("item_id")) & ~Q(pk__in=readable.values("item_id")))
    run = latest_completed_run(records_request)
    if run is None:
        return items
    grouped = GroupMembership.objects.filter(group__run=run).values("image__item_id")
    return items.exclude(pk__in=grouped)


def ungrouped_images(user: Any, records_request: RecordsRequest):
    """Readable images (pages) of the request in no group of the latest run: what a clerk may
    merge into a group."""
    from dedupe.models import GroupMembership

    images = item_images_visible_to(user).filter(
        item__request=records_request, item__status="stored", unreadable_reason="", fingerprint__isnull=False
    )
    run = latest_completed_run(records_request)
    if run is None:
        return images.none()
    grouped = GroupMembership.objects.filter(group__run=run).values("image_id")
    return images.exclude(pk__in=grouped).order_by("key")


def unreadable_images(user: Any, records_request: RecordsRequest):
    """Images (pages) of the request's stored items the engine could not decode, with the reason."""
    return (
        item_images_visible_to(user)
        .filter(item__request=records_request, item__status="stored")
        .exclude(unreadable_reason="")
        .select_related("item__department")
        .order_by("key")
    )


def refused_items(user: Any, records_request: RecordsRequest) -> QuerySet[GatheredItem]:
    """Files refused at intake (not an image, too large, unsafe), with the reason."""
    return items_visible_to(user).filter(request=records_request, status="refused").order_by("original_path")


def active_exemptions() -> QuerySet[Exemption]:
    return Exemption.objects.filter(active=True)


def redactions_visible_to(user: Any) -> QuerySet[Redaction]:
    if not is_clerk(user):
        return Redaction.objects.none()
    return Redaction.objects.select_related("exemption", "item")
