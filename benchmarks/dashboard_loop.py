"""The dashboard's figures as records/metrics.py computed them before issue 14: verbatim.

The baseline of benchmarks/dashboard.py: it reads every request received, every first
transition and every packet released in the range into Python and counts there. Only the
module docstring and the package-relative imports differ from that version (365790d).
"""

from __future__ import annotations

import datetime
import math
import statistics
from typing import Any

from django.db.models import Min
from django.utils import timezone

from dedupe.models import DedupeRun, RunState
from records.models import (
    DETERMINED_STATUSES,
    OPEN_STATUSES,
    Packet,
    PacketState,
    RecordsRequest,
    RequestStatus,
    StatusTransition,
)
from records.selectors import overdue_among

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


def _latest_packets_released(lo: datetime.datetime, hi: datetime.datetime) -> list[Packet]:
    """Each request's latest packet released in the range (a re-release replaces the earlier one)."""
    latest: dict[int, Packet] = {}
    for packet in Packet.objects.filter(
        state=PacketState.RELEASED, released_at__gte=lo, released_at__lt=hi
    ).order_by("released_at", "version"):
        latest[packet.request_id] = packet
    return list(latest.values())


def _runs_behind(packets: list[Packet]) -> dict[int, DedupeRun]:
    """Per packet, the run it was built from: its request's last completed run before the build."""
    runs: dict[int, list[DedupeRun]] = {}
    for run in DedupeRun.objects.filter(
        request_id__in=[p.request_id for p in packets], state=RunState.COMPLETED, finished_at__isnull=False
    ).order_by("finished_at", "id"):
        runs.setdefault(run.request_id, []).append(run)
    behind: dict[int, DedupeRun] = {}
    for packet in packets:
        before = [r for r in runs.get(packet.request_id, []) if r.finished_at <= packet.requested_at]
        if before:
            behind[packet.pk] = before[-1]
    return behind


def dashboard_numbers(start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Every figure of the manager's dashboard for requests and work between start and end (inclusive)."""
    if end < start:
        start, end = end, start
    today = timezone.localdate()
    lo, hi = _bounds(start, end)
    weeks = _weeks(start, end)
    by_week: dict[datetime.date, dict[str, int]] = {w: dict.fromkeys(WEEK_KEYS, 0) for w in weeks}

    def count_in_week(moment: datetime.datetime, key: str, amount: int = 1) -> None:
        by_week[week_start(timezone.localdate(moment))][key] += amount

    received = list(
        RecordsRequest.objects.filter(received_at__gte=lo, received_at__lt=hi).values_list(
            "received_at", flat=True
        )
    )
    for moment in received:
        count_in_week(moment, "received")

    reached = dict.fromkeys(REACHED, 0)
    key_of = {status: key for key, status in REACHED.items()}
    for row in (
        StatusTransition.objects.filter(to_status__in=REACHED.values())
        .values("request_id", "to_status")
        .annotate(first=Min("at"))
        .filter(first__gte=lo, first__lt=hi)
    ):
        key = key_of[row["to_status"]]
        reached[key] += 1
        count_in_week(row["first"], key)

    days_to_determination: list[int] = []
    on_time = by_deadline = 0
    for row in (
        StatusTransition.objects.filter(to_status__in=DETERMINED_STATUSES)
        .values("request_id", "request__received_at", "request__due_date", "request__extended_due_date")
        .annotate(first=Min("at"))
        .filter(first__gte=lo, first__lt=hi)
    ):
        day = timezone.localdate(row["first"])
        days_to_determination.append((day - timezone.localdate(row["request__received_at"])).days)
        on_time += day <= row["request__due_date"]
        by_deadline += day <= (row["request__extended_due_date"] or row["request__due_date"])
    determined = len(days_to_determination)

    open_requests = RecordsRequest.objects.filter(status__in=OPEN_STATUSES)
    packets = _latest_packets_released(lo, hi)
    runs = _runs_behind(packets)

    images = dict.fromkeys(IMAGE_KEYS, 0)
    departments: dict[str, dict[str, int]] = {}
    for packet in packets:
        for key in IMAGE_KEYS:
            images[key] += int(packet.counts.get(key, 0))
        count_in_week(packet.released_at, "gathered", int(packet.counts.get("gathered", 0)))
        count_in_week(packet.released_at, "delivered", int(packet.counts.get("delivered", 0)))
        run = runs.get(packet.pk)
        for code, row in ((run.counts or {}).get("departments", {}) if run else {}).items():
            department = departments.setdefault(code, dict.fromkeys(DEPARTMENT_KEYS, 0))
            for key in DEPARTMENT_KEYS:
                department[key] += int(row.get(key, 0))
            for key in ("exact_duplicates", "near_duplicates", "bytes_saved"):
                count_in_week(packet.released_at, key, int(row.get(key, 0)))

    totals = {key: sum(d[key] for d in departments.values()) for key in DEPARTMENT_KEYS}
    return {
        "start": start,
        "end": end,
        "today": today,
        "requests": {
            "received": len(received),
            **reached,
            "open_now": open_requests.count(),
            "overdue_now": overdue_among(open_requests, today).count(),
            "extensions_used": RecordsRequest.objects.filter(extended_at__gte=lo, extended_at__lt=hi).count(),
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
            "median": statistics.median(days_to_determination) if days_to_determination else None,
            "p90": percentile(days_to_determination, 0.9),
        },
        "images": {"packets_released": len(packets), **images},
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
