"""The numbers a records manager watches, for a date range: one function, plain dicts.

Each figure counts one thing, and its definition is written in DEFINITIONS beside the
arithmetic (the dashboard and its CSV print these sentences). Sources: requests and the
first time each reached a status (StatusTransition), the packets released to requesters
(what went out), and the duplicate search each of those packets was built from (per
department). The status sets are the workflow's own (records.models.requests).
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.db.models import (
    BigIntegerField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncWeek
from django.utils import timezone

from dedupe.models import DedupeRun, RunState

from .models import (
    DETERMINED_STATUSES,
    OPEN_STATUSES,
    Packet,
    PacketState,
    RecordsRequest,
    RequestStatus,
    StatusTransition,
)
from .selectors import overdue_condition

S = RequestStatus
# Statuses counted by the first time a request reached them in the range.
REACHED = {"released": S.RELEASED, "denied": S.DENIED, "withdrawn": S.WITHDRAWN, "closed": S.CLOSED}
IMAGE_KEYS = ("gathered", "delivered", "withheld", "redacted", "unreadable")
DEPARTMENT_KEYS = ("gathered", "exact_duplicates", "near_duplicates", "bytes_gathered", "bytes_saved")
WEEK_KEYS = (
    "received",
    "released",
    "denied",
    "withdrawn",
    "closed",
    "gathered",
    "delivered",
    "exact_duplicates",
    "near_duplicates",
    "bytes_saved",
)

# What each figure counts, in the words the dashboard and the CSV show ("section.key").
DEFINITIONS: dict[str, str] = {
    "requests.received": "Requests whose received date is in the range.",
    "requests.released": "Requests that first became Released in the range (records given to the requester).",
    "requests.denied": "Requests that first became Denied in the range.",
    "requests.withdrawn": "Requests that first became Withdrawn in the range (the requester withdrew).",
    "requests.closed": (
        "Requests moved to Closed in the range: the file closed after a release or a denial. "
        "Released requests are not counted here until they are closed."
    ),
    "requests.open_now": (
        "Today, whatever the range: requests that are received, gathering, deduplicating or in review."
    ),
    "requests.overdue_now": (
        "Today, whatever the range: open requests whose due date has passed "
        "(the extended due date when the deadline was extended)."
    ),
    "requests.extensions_used": "Requests whose deadline was extended (Gov. Code § 7922.535(b)) in the range.",
    "determined_within_10_days.determined": (
        "Requests determined in the range: first released or denied. "
        "Withdrawn requests need no determination and are not counted."
    ),
    "determined_within_10_days.on_time": (
        "Of the requests determined in the range, those released or denied by the 10-day due date "
        "of Gov. Code § 7922.535(a), before any extension."
    ),
    "determined_within_10_days.percent": "The requests determined within 10 days, as a share of those determined.",
    "determined_within_10_days.by_deadline": (
        "Of the requests determined in the range, those released or denied by the due date in force: "
        "the extended due date when the deadline was extended."
    ),
    "determined_within_10_days.percent_by_deadline": (
        "The requests determined by the due date in force, as a share of those determined."
    ),
    "days_to_determination.count": "Requests determined in the range (released or denied).",
    "days_to_determination.median": (
        "Median calendar days from receipt to determination (release or denial), "
        "for the requests determined in the range."
    ),
    "days_to_determination.p90": (
        "90th percentile (nearest rank) of the calendar days from receipt to determination, "
        "for the requests determined in the range."
    ),
    "images.packets_released": (
        "Requests with a packet released in the range. A request released again counts once, "
        "with its latest packet released in the range; the image figures come from these packets only."
    ),
    "images.gathered": (
        "Images in the released packets (a page of a multi-page file counts as one image), "
        "whatever their fate."
    ),
    "images.delivered": "Images of the released packets that went to the requester, redacted ones included.",
    "images.withheld": "Images of the released packets withheld in full under an exemption.",
    "images.redacted": "Images of the released packets delivered with parts redacted.",
    "images.unreadable": (
        "Images of the released packets that could not be read, files refused at intake included."
    ),
    "duplicates.files_examined": (
        "Files gathered for the requests with a released packet, as counted by the duplicate search "
        "each packet was built from."
    ),
    "duplicates.exact": (
        "Of those files, exact copies of another file (the same bytes or the same pixels): "
        "the packet sends one copy."
    ),
    "duplicates.near": (
        "Of those files, near duplicates of another file (resized, re-encoded, cropped or turned copies): "
        "the packet sends one copy."
    ),
    "duplicates.bytes_gathered": "The size of those files.",
    "duplicates.bytes_saved": "The size of the exact and near duplicates: bytes not sent twice.",
}
WEEKS_NOTE = (
    "Each column counts what the figure of the same name counts, in the week (Monday to Sunday) "
    "it happened: received, first released, denied, withdrawn or closed, or the packet released."
)
DEPARTMENTS_NOTE = (
    "Per uploading department, from the duplicate search each released packet of the range was built "
    "from (the request's last completed search before the build)."
)


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of the day's week: the dashboard's bucket."""
    return day - datetime.timedelta(days=day.weekday())


def _weeks(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    weeks, day = [], week_start(start)
    while day <= end:
        weeks.append(day)
        day += datetime.timedelta(days=7)
    return weeks


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (the value at rank ceil(p·n)); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The range as local moments: from the start day's midnight to the midnight after the end day."""
    tz = timezone.get_current_timezone()
    lo = datetime.datetime.combine(start, datetime.time.min, tz)
    hi = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tz)
    return lo, hi


def _local_week(field: str) -> TruncWeek:
    """The Monday of the local week a moment falls in, as the database computes it.

    TruncWeek converts to the current time zone first (as `week_start(localdate(...))`
    does), on SQLite and PostgreSQL alike; both start weeks on Monday.
    """
    return TruncWeek(field, output_field=DateField())


def _an_earlier(same_kind: Q) -> Exists:
    """Whether another transition of the request matching `same_kind` comes before this one.

    Ordered by (at, id), so exactly one row per request has none: the one at the request's
    Min("at") among them, ties taken once. Counting those counts requests by the first time
    they got there.
    """
    earlier = Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk"))
    return Exists(StatusTransition.objects.filter(same_kind, earlier, request_id=OuterRef("request_id")))


def _latest_packets_released(lo: datetime.datetime, hi: datetime.datetime) -> QuerySet[Packet]:
    """Each request's latest packet released in the range (a re-release replaces the earlier one)."""
    released = Packet.objects.filter(state=PacketState.RELEASED, released_at__gte=lo, released_at__lt=hi)
    later = Q(released_at__gt=OuterRef("released_at")) | Q(
        released_at=OuterRef("released_at"), version__gt=OuterRef("version")
    )
    return released.filter(~Exists(released.filter(later, request_id=OuterRef("request_id"))))


def _departments_of_run_behind() -> Subquery:
    """Per packet, the department figures of the run it was built from: its request's last
    completed run finished by the build (ties on the moment go to the later run)."""
    behind = DedupeRun.objects.filter(
        request_id=OuterRef("request_id"),
        state=RunState.COMPLETED,
        finished_at__isnull=False,
        finished_at__lte=OuterRef("requested_at"),
    ).order_by("-finished_at", "-pk")
    return Subquery(behind.values("counts__departments")[:1], output_field=JSONField())


def _count_in(key: str) -> Cast:
    """One figure of a packet's stored counts (absent: NULL, which Sum skips)."""
    return Cast(KT(f"counts__{key}"), BigIntegerField())


def _nth(histogram: dict[int, int], index: int) -> int:
    """The value at `index` (from 0) of the sorted values a {value: how many} histogram holds."""
    for value in sorted(histogram):
        if index < histogram[value]:
            return value
        index -= histogram[value]
    raise IndexError(index)


def _median(histogram: dict[int, int]) -> float | int | None:
    """statistics.median of the values the histogram holds (the mean of the middle two when even)."""
    n = sum(histogram.values())
    if not n:
        return None
    if n % 2:
        return _nth(histogram, n // 2)
    return (_nth(histogram, n // 2 - 1) + _nth(histogram, n // 2)) / 2


def _percentile(histogram: dict[int, int], fraction: float) -> int | None:
    """percentile() (nearest rank) of the values the histogram holds."""
    n = sum(histogram.values())
    return _nth(histogram, max(1, math.ceil(fraction * n)) - 1) if n else None


def dashboard_numbers(start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Every figure of the manager's dashboard for requests and work between start and end (inclusive).

    The database counts, sums and groups by local week and by days to determination, so no
    query returns a row per request: six queries whose answers are bounded by the weeks in the
    range, the distinct day counts, and the packets released in it (for per-department figures,
    which live as keys of each run's stored counts and so are added up here).
    """
    if end < start:
        start, end = end, start
    today = timezone.localdate()
    lo, hi = _bounds(start, end)
    weeks = _weeks(start, end)
    by_week: dict[datetime.date, dict[str, int]] = {w: dict.fromkeys(WEEK_KEYS, 0) for w in weeks}
    in_range = {"at__gte": lo, "at__lt": hi}

    requests = RecordsRequest.objects.aggregate(
        received=Count("pk", filter=Q(received_at__gte=lo, received_at__lt=hi)),
        open_now=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue_now=Count("pk", filter=overdue_condition(today)),
        extensions_used=Count("pk", filter=Q(extended_at__gte=lo, extended_at__lt=hi)),
    )
    for row in (
        RecordsRequest.objects.filter(received_at__gte=lo, received_at__lt=hi)
        .values(week=_local_week("received_at"))
        .annotate(n=Count("pk"))
        .order_by()
    ):
        by_week[row["week"]]["received"] += row["n"]

    reached = dict.fromkeys(REACHED, 0)
    key_of = {status: key for key, status in REACHED.items()}
    for row in (
        StatusTransition.objects.filter(to_status__in=REACHED.values(), **in_range)
        .filter(~_an_earlier(Q(to_status=OuterRef("to_status"))))
        .values("to_status", week=_local_week("at"))
        .annotate(n=Count("pk"))
        .order_by()
    ):
        key = key_of[row["to_status"]]
        reached[key] += row["n"]
        by_week[row["week"]][key] += row["n"]

    # Per number of days from receipt to the first release or denial: how many requests, and
    # how many of them by the 10-day date and by the date in force. Local days on both sides.
    days: dict[int, int] = {}
    on_time = by_deadline = 0
    for row in (
        StatusTransition.objects.filter(to_status__in=DETERMINED_STATUSES, **in_range)
        .filter(~_an_earlier(Q(to_status__in=DETERMINED_STATUSES)))
        .annotate(day=TruncDate("at"))
        .values(
            days=ExpressionWrapper(F("day") - TruncDate("request__received_at"), output_field=DurationField())
        )
        .annotate(
            n=Count("pk"),
            on_time=Count("pk", filter=Q(day__lte=F("request__due_date"))),
            by_deadline=Count(
                "pk", filter=Q(day__lte=Coalesce("request__extended_due_date", "request__due_date"))
            ),
        )
        .order_by()
    ):
        days[row["days"].days] = days.get(row["days"].days, 0) + row["n"]
        on_time += row["on_time"]
        by_deadline += row["by_deadline"]
    determined = sum(days.values())

    packets = _latest_packets_released(lo, hi)
    images = dict.fromkeys(IMAGE_KEYS, 0)
    packets_released = 0
    for row in (
        packets.values(week=_local_week("released_at"))
        .annotate(n=Count("pk"), **{key: Sum(_count_in(key)) for key in IMAGE_KEYS})
        .order_by()
    ):
        packets_released += row["n"]
        for key in IMAGE_KEYS:
            images[key] += int(row[key] or 0)
        by_week[row["week"]]["gathered"] += int(row["gathered"] or 0)
        by_week[row["week"]]["delivered"] += int(row["delivered"] or 0)

    departments: dict[str, dict[str, int]] = {}
    for packet_week, figures in (
        packets.annotate(week=_local_week("released_at"), departments=_departments_of_run_behind())
        .values_list("week", "departments")
        .order_by()
        .iterator(chunk_size=2000)  # a row per packet released: added up as they stream, not kept
    ):
        for code, row in (figures or {}).items():
            department = departments.setdefault(code, dict.fromkeys(DEPARTMENT_KEYS, 0))
            for key in DEPARTMENT_KEYS:
                department[key] += int(row.get(key, 0))
            for key in ("exact_duplicates", "near_duplicates", "bytes_saved"):
                by_week[packet_week][key] += int(row.get(key, 0))

    totals = {key: sum(d[key] for d in departments.values()) for key in DEPARTMENT_KEYS}
    return {
        "start": start,
        "end": end,
        "today": today,
        "requests": {
            "received": requests["received"],
            **reached,
            "open_now": requests["open_now"],
            "overdue_now": requests["overdue_now"],
            "extensions_used": requests["extensions_used"],
        },
        "determined_within_10_days": {
            "determined": determined,
            "on_time": on_time,
            "percent": _percent(on_time, determined),
            "by_deadline": by_deadline,
            "percent_by_deadline": _percent(by_deadline, determined),
        },
        "days_to_determination": {
            "count": determined,
            "median": _median(days),
            "p90": _percentile(days, 0.9),
        },
        "images": {"packets_released": packets_released, **images},
        "duplicates": {
            "files_examined": totals["gathered"],
            "exact": totals["exact_duplicates"],
            "near": totals["near_duplicates"],
            "bytes_gathered": totals["bytes_gathered"],
            "bytes_saved": totals["bytes_saved"],
        },
        "by_department": [{"department": code, **row} for code, row in sorted(departments.items())],
        "weeks": [{"week": w, **by_week[w]} for w in weeks],
        "definitions": DEFINITIONS,
    }
