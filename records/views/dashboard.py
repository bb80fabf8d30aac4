"""The manager's dashboard: deadlines kept, time to determination, duplicates removed; charts, tables, CSV.

Every figure is shown with the sentence that defines it (records.metrics.DEFINITIONS), on
the page and in the CSV, so a number never stands alone.
"""

from __future__ import annotations

import csv
import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..forms import DateRangeForm
from ..metrics import DEFINITIONS, DEPARTMENT_KEYS, DEPARTMENTS_NOTE, WEEK_KEYS, WEEKS_NOTE, dashboard_numbers
from ..models import Department
from .charts import bar_chart
from .common import require_staff

DEFAULT_WEEKS = 12
SUMMARY_SECTIONS = ("requests", "determined_within_10_days", "days_to_determination", "images", "duplicates")


@dataclass(frozen=True)
class Tile:
    """One figure as the page shows it: its value, its label and the sentence that defines it."""

    stat: str  # the data-stat name tests and the definitions list refer to
    value: str
    label: str
    definition: str
    note: str = ""  # e.g. "3 of 4": the counts behind a percentage
    bad: bool = False
    href: str = ""


def _or_dash(value: Any, suffix: str = "") -> str:
    return "—" if value is None else f"{value:g}{suffix}" if isinstance(value, float) else f"{value}{suffix}"


def dashboard_tiles(n: dict[str, Any]) -> list[tuple[str, list[Tile]]]:
    """The dashboard's figures in sections, each with its definition from records.metrics."""
    r, d, t, i, dup = (
        n["requests"],
        n["determined_within_10_days"],
        n["days_to_determination"],
        n["images"],
        n["duplicates"],
    )

    def tile(stat: str, key: str, value: Any, label: str, **extra: Any) -> Tile:
        return Tile(stat=stat, value=str(value), label=label, definition=DEFINITIONS[key], **extra)

    overdue_href = reverse("records:request-list") + "?overdue=1"
    return [
        (
            "Requests",
            [
                tile("received", "requests.received", r["received"], "received in range"),
                tile("released", "requests.released", r["released"], "released in range"),
                tile("denied", "requests.denied", r["denied"], "denied in range"),
                tile("withdrawn", "requests.withdrawn", r["withdrawn"], "withdrawn in range"),
                tile("closed", "requests.closed", r["closed"], "closed in range"),
                tile("open", "requests.open_now", r["open_now"], "open now"),
                tile(
                    "overdue",
                    "requests.overdue_now",
                    r["overdue_now"],
                    "overdue now",
                    bad=bool(r["overdue_now"]),
                    href=overdue_href,
                ),
                tile(
                    "extensions",
                    "requests.extensions_used",
                    r["extensions_used"],
                    "deadlines extended in range",
                ),
            ],
        ),
        (
            "Deadlines",
            [
                tile(
                    "on-time",
                    "determined_within_10_days.on_time",
                    _or_dash(d["percent"], "%"),
                    "determined within 10 days",
                    note=f"{d['on_time']} of {d['determined']}",
                ),
                tile(
                    "by-deadline",
                    "determined_within_10_days.by_deadline",
                    _or_dash(d["percent_by_deadline"], "%"),
                    "determined by the due date in force",
                    note=f"{d['by_deadline']} of {d['determined']}",
                ),
                tile(
                    "determined",
                    "determined_within_10_days.determined",
                    d["determined"],
                    "determined in range",
                ),
                tile(
                    "median-days",
                    "days_to_determination.median",
                    _or_dash(t["median"]),
                    "median days to determination",
                ),
                tile(
                    "p90-days",
                    "days_to_determination.p90",
                    _or_dash(t["p90"]),
                    "90th percentile days to determination",
                ),
            ],
        ),
        (
            "Images in released packets",
            [
                tile(
                    "packets",
                    "images.packets_released",
                    i["packets_released"],
                    "requests with a packet released",
                ),
                tile("gathered", "images.gathered", i["gathered"], "images gathered"),
                tile("delivered", "images.delivered", i["delivered"], "images delivered"),
                tile("withheld", "images.withheld", i["withheld"], "images withheld"),
                tile("redacted", "images.redacted", i["redacted"], "images redacted"),
                tile("unreadable", "images.unreadable", i["unreadable"], "images unreadable"),
            ],
        ),
        (
            "Duplicates removed from released packets",
            [
                tile("examined", "duplicates.files_examined", dup["files_examined"], "files searched"),
                tile("exact", "duplicates.exact", dup["exact"], "exact duplicates removed"),
                tile("near", "duplicates.near", dup["near"], "near duplicates removed"),
                tile(
                    "bytes-saved",
                    "duplicates.bytes_saved",
                    filesizeformat(dup["bytes_saved"]),
                    "not sent twice",
                ),
            ],
        ),
    ]


def _range(request: HttpRequest) -> tuple[datetime.date, datetime.date, DateRangeForm]:
    today = timezone.localdate()
    default_start = today - datetime.timedelta(weeks=DEFAULT_WEEKS)
    form = DateRangeForm(request.GET or None, initial={"start": default_start, "end": today})
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    else:
        start, end = default_start, today
    return min(start, end), max(start, end), form


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    require_staff(request.user)
    start, end, form = _range(request)
    numbers = dashboard_numbers(start, end)
    names = dict(Department.objects.values_list("code", "name"))
    weeks = numbers["weeks"]
    labels = [f"{w['week']:%b %-d}" for w in weeks]
    for row in numbers["by_department"]:
        row["name"] = names.get(row["department"], row["department"])
    charts = {
        "requests": bar_chart(
            "Requests received, released, denied and withdrawn per week",
            labels,
            [
                ("Received", [w["received"] for w in weeks]),
                ("Released", [w["released"] for w in weeks]),
                ("Denied", [w["denied"] for w in weeks]),
                ("Withdrawn", [w["withdrawn"] for w in weeks]),
            ],
        ),
        "images": bar_chart(
            "Images gathered and delivered per week, in packets released that week",
            labels,
            [("Gathered", [w["gathered"] for w in weeks]), ("Delivered", [w["delivered"] for w in weeks])],
        ),
        "duplicates": bar_chart(
            "Duplicates removed from released packets, by department",
            [d["department"] for d in numbers["by_department"]],
            [
                ("Exact copies", [d["exact_duplicates"] for d in numbers["by_department"]]),
                ("Near duplicates", [d["near_duplicates"] for d in numbers["by_department"]]),
            ],
        ),
    }
    return render(
        request,
        "records/dashboard.html",
        {
            "n": numbers,
            "sections": dashboard_tiles(numbers),
            "weeks_note": WEEKS_NOTE,
            "departments_note": DEPARTMENTS_NOTE,
            "form": form,
            "charts": charts,
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """Every number on the dashboard as rows of (section, key, value, definition), then the tables."""
    require_staff(request.user)
    start, end, _ = _range(request)
    n = dashboard_numbers(start, end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="packetdesk-metrics-{start}-{end}.csv"'
    out = csv.writer(response)
    out.writerow(["section", "key", "value", "definition"])
    out.writerow(["range", "start", start.isoformat(), "The first day counted (local time)."])
    out.writerow(["range", "end", end.isoformat(), "The last day counted, included."])
    for section in SUMMARY_SECTIONS:
        for key, value in n[section].items():
            out.writerow([section, key, "" if value is None else value, DEFINITIONS[f"{section}.{key}"]])
    out.writerow([])
    out.writerow(["# weeks", WEEKS_NOTE])
    out.writerow(["week_starting", *WEEK_KEYS])
    for w in n["weeks"]:
        out.writerow([w["week"].isoformat(), *(w[k] for k in WEEK_KEYS)])
    out.writerow([])
    out.writerow(["# departments", DEPARTMENTS_NOTE])
    out.writerow(["department", *DEPARTMENT_KEYS])
    for d in n["by_department"]:
        out.writerow([d["department"], *(d[k] for k in DEPARTMENT_KEYS)])
    return response
