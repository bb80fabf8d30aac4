"""Read paths: every queryset a page or the API shows, scoped to the user who asks.

Visibility lives here, not in views: a department uploader sees only its own
department's items; clerks and managers see every request.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from .group_numbering import group_sort_key, number_groups
from .models import (
    GATHERING_STATUSES,
    OPEN_STATUSES,
    AuditEvent,
    Department,
    DepartmentTask,
    Exemption,
    GatheredItem,
    ItemStatus,
    Packet,
    PacketState,
    RecordsRequest,
    Redaction,
    Withholding,
)
from .roles import is_clerk, is_staff_member, uploader_department


def requests_visible_to(user: Any) -> QuerySet[RecordsRequest]:
    if is_staff_member(user):
        return RecordsRequest.objects.all()
    if uploader_department(user) is not None:
        # Departments gather for open requests; they never see released packets here.
        return RecordsRequest.objects.filter(status__in=GATHERING_STATUSES)
    return RecordsRequest.objects.none()


def items_visible_to(user: Any) -> QuerySet[GatheredItem]:
    items = GatheredItem.objects.select_related("department", "request")
    if is_staff_member(user):
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


def sole_upload_department(user: Any) -> Department | None:
    """The one department a user uploads for when they have no other to choose (a department
    uploader); None for clerks, who choose, or may let a ZIP's folders name the departments."""
    if is_clerk(user):
        return None
    return uploader_department(user)


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
    if not is_staff_member(user):
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
    if run is None or not is_staff_member(user):
        return DuplicateGroup.objects.none()
    members = GroupMembership.objects.select_related("image__item__department", "image__fingerprint")
    return (
        DuplicateGroup.objects.filter(run=run)
        .select_related("authoritative__item__department", "accepted_by")
        .prefetch_related(Prefetch("memberships", queryset=members))
    )


class GroupsInIndexOrder(Sequence):
    """Current groups in the index's order, each with the number the index prints ("Group n").

    Slices fetch only their own groups (with their members), so a Paginator over thousands
    of groups loads one page of them.
    """

    def __init__(self, groups: QuerySet, pks: list[int], numbers: dict[int, int]) -> None:
        self._groups, self._pks, self._numbers = groups, pks, numbers

    def __len__(self) -> int:
        return len(self._pks)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self._groups.get(pk=self._pks[index])
        pks = self._pks[index]
        by_pk = {g.pk: g for g in self._groups.filter(pk__in=pks)}
        return [by_pk[pk] for pk in pks]

    def number(self, group: Any) -> int:
        return self._numbers[group.pk]

    def choices(self) -> list[tuple[int, int, str]]:
        """(pk, number, authoritative key) of every group listed, for choosing one."""
        keys = dict(self._groups.values_list("pk", "authoritative__key"))
        return [(pk, self._numbers[pk], keys[pk]) for pk in self._pks]


def groups_in_index_order(
    user: Any, records_request: RecordsRequest, *, conflicts_only: bool = False
) -> GroupsInIndexOrder:
    """The current groups numbered and ordered as the index PDF lists them (records/group_numbering.py).

    Numbers count every group of the run, so a filtered list keeps each group's own number.
    """
    groups = current_groups(user, records_request)
    rows = groups.values_list(
        "pk", "engine_id", "authoritative__item__department__code", "authoritative__key"
    )
    numbers = number_groups({pk: group_sort_key(code or "", key, gid) for pk, gid, code, key in rows})
    shown = groups.exclude(conflicts=[]) if conflicts_only else groups
    pks = sorted(shown.values_list("pk", flat=True), key=numbers.__getitem__)
    return GroupsInIndexOrder(groups, pks, numbers)


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
        requests = overdue_among(requests, today or timezone.localdate())
    return requests


def overdue_condition(today: datetime.date) -> Q:
    """Open, with its current due date (the extended one when extended) before today.

    A condition, not a queryset, so the dashboard can count it inside one aggregate query.
    """
    return Q(status__in=OPEN_STATUSES) & (
        Q(extended_due_date__lt=today) | Q(extended_due_date__isnull=True, due_date__lt=today)
    )


def overdue_among(requests: QuerySet[RecordsRequest], today: Any) -> QuerySet[RecordsRequest]:
    """Open requests whose current due date (the extended one when extended) is before today."""
    return requests.filter(overdue_condition(today))


def tasks_visible_to(user: Any) -> QuerySet[DepartmentTask]:
    """Department tasks: clerks and managers see all; an uploader only its department's."""
    tasks = DepartmentTask.objects.select_related("request", "department", "answered_by")
    if is_staff_member(user):
        return tasks
    own = uploader_department(user)
    if own is not None:
        return tasks.filter(department=own, request__in=requests_visible_to(user))
    return tasks.none()


def packets_visible_to(user: Any) -> QuerySet[Packet]:
    if is_staff_member(user):
        return Packet.objects.select_related("request", "built_by", "released_by")
    return Packet.objects.none()


def item_images_visible_to(user: Any):
    """Images (pages) of the items the user may see, with their fingerprints."""
    from dedupe.models import ItemImage

    return ItemImage.objects.filter(item__in=items_visible_to(user)).select_related("fingerprint", "item")


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


# ------------------------------------------------- stale states the pages must show (issue 21 point 8)

ITEMS_NAMED = 5  # a message names this many items, then "and N more"


@dataclass(frozen=True)
class NamedItem:
    """An item as a message names it: its number and where it came from."""

    id: int
    where: str  # department name, then the path as gathered: "Police/IMG_2211.JPG"

    def __str__(self) -> str:
        return f"item {self.id} ({self.where})"


def named_item(item: GatheredItem, page: int = 0) -> NamedItem:
    department = item.department.name if item.department_id else "(no department)"
    where = f"{department}/{item.original_path}" + (f", page {page}" if page else "")
    return NamedItem(id=item.pk, where=where)


def naming(items: list[NamedItem], total: int) -> str:
    """The first few items, then how many more: 'item 3 (Police/a.jpg), item 4 (...) and 2 more'."""
    shown = ", ".join(str(i) for i in items[:ITEMS_NAMED])
    more = total - min(len(items), ITEMS_NAMED)
    return f"{shown} and {more} more" if more > 0 else shown


def files_not_in_latest_run(records_request: RecordsRequest) -> QuerySet[GatheredItem]:
    """Stored files the latest completed duplicate search did not see.

    A file has no image until a run fingerprints it; a file gathered after the last
    completed run finished was not in it even if a later, unfinished run made its image.
    """
    from dedupe.models import ItemImage

    stored = GatheredItem.objects.filter(request=records_request, status=ItemStatus.STORED).select_related(
        "department"
    )
    run = latest_completed_run(records_request)
    unseen = ~Q(pk__in=ItemImage.objects.values("item_id"))
    if run is not None and run.finished_at is not None:
        unseen |= Q(uploaded_at__gt=run.finished_at)
    return stored.filter(unseen)


@dataclass(frozen=True)
class FilesSinceRun:
    count: int
    items: tuple[NamedItem, ...]  # the first few

    @property
    def named(self) -> str:
        return naming(list(self.items), self.count)


def files_since_last_run(user: Any, records_request: RecordsRequest) -> FilesSinceRun | None:
    """For staff: the stored files the last completed run did not see, unless a run is under way."""
    if not is_staff_member(user) or active_run(records_request) is not None:
        return None
    if latest_completed_run(records_request) is None:
        return None
    files = files_not_in_latest_run(records_request)
    count = files.count()
    if not count:
        return None
    first = files.order_by("department__name", "original_path", "id")[:ITEMS_NAMED]
    return FilesSinceRun(count=count, items=tuple(named_item(i) for i in first))


@dataclass(frozen=True)
class BuildBlocker:
    """Why the packet cannot be built now, naming the items that stand in the way."""

    code: str
    message: str
    items: tuple[NamedItem, ...] = ()


def packet_build_blockers(records_request: RecordsRequest) -> list[BuildBlocker]:
    """What stops a build of the request's packet now, in the order a clerk fixes them."""
    if latest_completed_run(records_request) is None:
        return [BuildBlocker("no_dedupe_run", "Run duplicate detection before building the packet.")]
    blockers = []
    waiting = list(
        Redaction.objects.filter(item__request=records_request, confirmed=False)
        .select_related("item__department")
        .order_by("item_id", "page", "id")
    )
    if waiting:
        items = list(dict.fromkeys(named_item(r.item, r.page) for r in waiting))
        blockers.append(
            BuildBlocker(
                "redactions_unconfirmed",
                f"Build blocked: {len(waiting)} redaction box(es) mapped onto duplicate copies wait for "
                f"confirmation on {naming(items, len(items))}. Confirm or delete them before building, "
                "so no copy goes out unredacted.",
                tuple(items[:ITEMS_NAMED]),
            )
        )
    unseen = files_not_in_latest_run(records_request)
    count = unseen.count()
    if count:
        items = [
            named_item(i) for i in unseen.order_by("department__name", "original_path", "id")[:ITEMS_NAMED]
        ]
        blockers.append(
            BuildBlocker(
                "dedupe_out_of_date",
                f"Build blocked: {count} file(s) were gathered after the last duplicate search: "
                f"{naming(items, count)}. Run it again first.",
                tuple(items),
            )
        )
    return blockers


def packet_inputs(records_request: RecordsRequest):
    """A packet's inputs besides its run, each with when it was made: decisions, withholdings, redactions."""
    from dedupe.models import ClerkDecision

    return (
        ("decision", ClerkDecision.objects.filter(request=records_request), "decided_at"),
        ("withholding", Withholding.objects.filter(item__request=records_request), "withheld_at"),
        ("redaction", Redaction.objects.filter(item__request=records_request), "created_at"),
    )


def packet_inputs_changed_at(records_request: RecordsRequest, run) -> datetime.datetime:
    """The last change to the inputs of a packet built from `run` (the time the packet prints)."""
    moments = [run.finished_at or run.created_at]
    for _name, rows, field in packet_inputs(records_request):
        latest = rows.order_by(f"-{field}").values_list(field, flat=True).first()
        if latest is not None:
            moments.append(latest)
    return max(moments)


# Changes the packet's rows keep no time of (a removal, a confirmation) or that are not rows of its own.
UNTIMED_INPUT_VERBS = {
    "withholding_removed": "withholding",
    "redaction_removed": "redaction",
    "redaction_confirmed": "redaction",
    "extended": "deadline extension",
}


@dataclass(frozen=True)
class PacketChanges:
    """What changed in a built packet's inputs since it was built, in words a clerk acts on."""

    packet: Packet
    changes: tuple[str, ...]  # "2 decisions on groups", "a newer duplicate search", ...
    last_change: datetime.datetime
    needs_run: bool  # files were gathered since: the duplicate search must run before a rebuild

    @property
    def today(self) -> bool:
        return timezone.localdate(self.last_change) == timezone.localdate()


# How a count of each kind of change reads: (one, many).
CHANGE_WORDS = {
    "decision": ("decision on a group", "decisions on groups"),
    "withholding": ("withholding added or removed", "withholdings added or removed"),
    "redaction": ("redaction box added, confirmed or removed", "redaction boxes added, confirmed or removed"),
    "deadline extension": ("deadline extension", "deadline extensions"),
    "file": ("file gathered", "files gathered"),
}


def _counted(count: int, kind: str) -> str:
    one, many = CHANGE_WORDS[kind]
    return f"{count} {one if count == 1 else many}"


def packet_changes_since(packet: Packet) -> PacketChanges | None:
    """How the request changed after the packet was built, or None when the packet is current.

    The packet prints the last change to its inputs (generated_at, whole seconds): an
    input made a second or more later was not in it. Changes no row keeps a time of come
    from the audit trail, counted from the moment the build was asked for.
    """
    if packet.state not in (PacketState.READY, PacketState.RELEASED):
        return None
    records_request = packet.request
    since = packet.requested_at
    cut = (packet.generated_at or since) + datetime.timedelta(seconds=1)
    changes: list[str] = []
    moments: list[datetime.datetime] = []
    run = latest_completed_run(records_request)
    if run is not None and run.finished_at and run.finished_at >= cut:
        changes.append("a newer duplicate search")
        moments.append(run.finished_at)
    counts: dict[str, int] = {}
    for name, rows, field in packet_inputs(records_request):
        newer = list(rows.filter(**{f"{field}__gte": cut}).values_list(field, flat=True))
        if newer:
            counts[name] = len(newer)
            moments.append(max(newer))
    for verb, at in AuditEvent.objects.filter(
        request=records_request, verb__in=UNTIMED_INPUT_VERBS, at__gt=since
    ).values_list("verb", "at"):
        name = UNTIMED_INPUT_VERBS[verb]
        counts[name] = counts.get(name, 0) + 1
        moments.append(at)
    changes += [_counted(count, name) for name, count in counts.items()]
    gathered = list(
        GatheredItem.objects.filter(request=records_request, uploaded_at__gt=since).values_list(
            "uploaded_at", "status"
        )
    )
    if gathered:
        changes.append(_counted(len(gathered), "file"))
        moments.append(max(at for at, _status in gathered))
    if not changes:
        return None
    return PacketChanges(
        packet=packet,
        changes=tuple(changes),
        last_change=max(moments),
        needs_run=any(status == ItemStatus.STORED for _at, status in gathered),
    )
