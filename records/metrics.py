"""The numbers a records manager watches, for a date range: one function, plain dicts.

Sources: request rows and their StatusTransitions (received, determined, closed, extended),
the counts each completed DedupeRun stored (duplicates and bytes saved per department),
and the counts of released Packets (images gathered vs delivered). A request is
*determined* when it is first released or denied, and *closed* when it first reaches
released, closed, denied or withdrawn; "within 10 days" compares the determination date
with the § 7922.535(a) due date before any extension.
"""

from __future__ import annotations

import datetime
import math
import statistics
from typing import Any

from django.utils import timezone

from dedupe.models import DedupeRun, RunState

from .models import Packet, PacketState, RecordsRequest, RequestStatus, StatusTransition
from .services.requests import OPEN_STATUSES

DETERMINED_STATUSES = frozenset({RequestStatus.RELEASED, RequestStatus.DENIED})
CLOSED_STATUSES = frozenset(
    {RequestStatus.RELEASED, RequestStatus.CLOSED, RequestStatus.DENIED, RequestStatus.WITHDRAWN}
)
DEDUPE_KEYS = ("gathered", "exact_duplicates", "near_duplicates", "bytes_saved", "bytes_gathered")


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


def _first_transition_dates(statuses: frozenset[str]) -> dict[int, datetime.date]:
    first: dict[int, datetime.date] = {}
    for request_id, at in (
        StatusTransition.objects.filter(to_status__in=statuses).order_by("at").values_list("request_id", "at")
    ):
        first.setdefault(request_id, timezone.localdate(at))
    return first


def _latest_runs_finished_in(start: datetime.date, end: datetime.date) -> list[DedupeRun]:
    """Each request's last completed run, when it finished within the range (no double counting)."""
    latest: dict[int, DedupeRun] = {}
    for run in DedupeRun.objects.filter(state=RunState.COMPLETED, finished_at__isnull=False).order_by(
        "finished_at", "id"
    ):
        latest[run.request_id] = run
    return [r for r in latest.values() if start <= timezone.localdate(r.finished_at) <= end]


def dashboard_numbers(start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Every figure of the manager's dashboard for requests and work between start and end (inclusive)."""
    if end < start:
        start, end = end, start
    today = timezone.localdate()
    weeks = _weeks(start, end)
    by_week: dict[datetime.date, dict[str, int]] = {
        w: {
            "received": 0,
            "closed": 0,
            "gathered": 0,
            "delivered": 0,
            "exact_duplicates": 0,
            "near_duplicates": 0,
            "bytes_saved": 0,
        }
        for w in weeks
    }

    def in_range(day: datetime.date) -> bool:
        return start <= day <= end

    requests = list(RecordsRequest.objects.all())
    determined = _first_transition_dates(DETERMINED_STATUSES)
    closed = _first_transition_dates(CLOSED_STATUSES)

    received_count = 0
    for rr in requests:
        day = timezone.localdate(rr.received_at)
        if in_range(day):
            received_count += 1
            by_week[week_start(day)]["received"] += 1

    closed_count, days_to_close = 0, []
    for rr in requests:
        day = closed.get(rr.pk)
        if day is not None and in_range(day):
            closed_count += 1
            by_week[week_start(day)]["closed"] += 1
            days_to_close.append((day - timezone.localdate(rr.received_at)).days)

    determined_count = on_time = 0
    for rr in requests:
        day = determined.get(rr.pk)
        if day is not None and in_range(day):
            determined_count += 1
            on_time += day <= rr.due_date

    open_now = [rr for rr in requests if rr.status in OPEN_STATUSES]
    overdue_now = [rr for rr in open_now if rr.current_due_date < today]
    extensions = sum(1 for rr in requests if rr.extended_at and in_range(timezone.localdate(rr.extended_at)))

    departments: dict[str, dict[str, int]] = {}
    for run in _latest_runs_finished_in(start, end):
        week = by_week[week_start(timezone.localdate(run.finished_at))]
        for code, row in (run.counts or {}).get("departments", {}).items():
            dept = departments.setdefault(code, dict.fromkeys(DEDUPE_KEYS, 0))
            for key in DEDUPE_KEYS:
                dept[key] += int(row.get(key, 0))
            for key in ("exact_duplicates", "near_duplicates", "bytes_saved"):
                week[key] += int(row.get(key, 0))

    images = {"gathered": 0, "delivered": 0, "withheld": 0, "redacted": 0, "packets_released": 0}
    for packet in Packet.objects.filter(state=PacketState.RELEASED, released_at__isnull=False):
        day = timezone.localdate(packet.released_at)
        if not in_range(day):
            continue
        images["packets_released"] += 1
        for key in ("gathered", "delivered", "withheld", "redacted"):
            images[key] += int(packet.counts.get(key, 0))
        by_week[week_start(day)]["gathered"] += int(packet.counts.get("gathered", 0))
        by_week[week_start(day)]["delivered"] += int(packet.counts.get("delivered", 0))

    totals = {key: sum(d[key] for d in departments.values()) for key in DEDUPE_KEYS}
    return {
        "start": start,
        "end": end,
        "today": today,
        "requests": {
            "received": received_count,
            "closed": closed_count,
            "open_now": len(open_now),
            "overdue_now": len(overdue_now),
            "extensions_used": extensions,
        },
        "determined_within_10_days": {
            "determined": determined_count,
            "on_time": on_time,
            "percent": round(100 * on_time / determined_count, 1) if determined_count else None,
        },
        "days_to_close": {
            "count": len(days_to_close),
            "median": statistics.median(days_to_close) if days_to_close else None,
            "p90": percentile(days_to_close, 0.9),
        },
        "images": images,
        "duplicates": {
            "exact": totals["exact_duplicates"],
            "near": totals["near_duplicates"],
            "bytes_saved": totals["bytes_saved"],
            "bytes_gathered": totals["bytes_gathered"],
            "files_examined": totals["gathered"],
        },
        "by_department": [{"department": code, **row} for code, row in sorted(departments.items())],
        "weeks": [{"week": w, **by_week[w]} for w in weeks],
    }
