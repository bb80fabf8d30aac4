"""The manager's dashboard: deadlines kept, time to close, duplicates removed; charts, tables, CSV."""

from __future__ import annotations

import csv
import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..forms import DateRangeForm
from ..metrics import dashboard_numbers
from ..models import Department
from .charts import bar_chart
from .common import require_staff

DEFAULT_WEEKS = 12


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
    charts = {
        "requests": bar_chart(
            "Requests received and closed per week",
            labels,
            [("Received", [w["received"] for w in weeks]), ("Closed", [w["closed"] for w in weeks])],
        ),
        "images": bar_chart(
            "Images gathered and delivered per week (released packets)",
            labels,
            [("Gathered", [w["gathered"] for w in weeks]), ("Delivered", [w["delivered"] for w in weeks])],
        ),
        "duplicates": bar_chart(
            "Duplicates removed by department",
            [d["department"] for d in numbers["by_department"]],
            [
                ("Exact copies", [d["exact_duplicates"] for d in numbers["by_department"]]),
                ("Near duplicates", [d["near_duplicates"] for d in numbers["by_department"]]),
            ],
        ),
    }
    for row in numbers["by_department"]:
        row["name"] = names.get(row["department"], row["department"])
    return render(
        request,
        "records/dashboard.html",
        {"n": numbers, "form": form, "charts": charts, "query": request.GET.urlencode()},
    )


@login_required
@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """Every number on the dashboard as rows of (section, key, value), plus the weekly and department tables."""
    require_staff(request.user)
    start, end, _ = _range(request)
    n = dashboard_numbers(start, end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="packetdesk-metrics-{start}-{end}.csv"'
    out = csv.writer(response)
    out.writerow(["section", "key", "value"])
    out.writerow(["range", "start", start.isoformat()])
    out.writerow(["range", "end", end.isoformat()])
    for section in ("requests", "determined_within_10_days", "days_to_close", "images", "duplicates"):
        for key, value in n[section].items():
            out.writerow([section, key, "" if value is None else value])
    out.writerow([])
    week_keys = [
        "received",
        "closed",
        "gathered",
        "delivered",
        "exact_duplicates",
        "near_duplicates",
        "bytes_saved",
    ]
    out.writerow(["week_starting", *week_keys])
    for w in n["weeks"]:
        out.writerow([w["week"].isoformat(), *(w[k] for k in week_keys)])
    out.writerow([])
    dept_keys = ["gathered", "exact_duplicates", "near_duplicates", "bytes_gathered", "bytes_saved"]
    out.writerow(["department", *dept_keys])
    for d in n["by_department"]:
        out.writerow([d["department"], *(d[k] for k in dept_keys)])
    return response
