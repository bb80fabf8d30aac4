"""Server-rendered pages for clerks, managers and department uploaders. Thin: parse, call, render."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import selectors
from .deadlines import days_left
from .errors import ApplicationError
from .forms import ExtendForm, OpenRequestForm, StatusForm, UploadForm
from .models import RecordsRequest, RequestStatus
from .roles import is_clerk
from .services import intake
from .services import requests as request_services

ZIP_MAGIC = b"PK\x03\x04"


def _require_clerk(user) -> None:
    if not is_clerk(user):
        raise PermissionDenied("Only a clerk can do this.")


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    requests = selectors.requests_visible_to(request.user).select_related("assigned_clerk")
    query = request.GET.get("q", "").strip()
    if query:
        requests = requests.filter(Q(reference__icontains=query) | Q(requester_name__icontains=query))
    status = request.GET.get("status", "")
    if status in RequestStatus.values:
        requests = requests.filter(status=status)
    page = Paginator(requests, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(r, days_left(r.current_due_date, today)) for r in page]
    return render(
        request,
        "records/request_list.html",
        {"page": page, "rows": rows, "query": query, "status": status, "statuses": RequestStatus.choices},
    )


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    _require_clerk(request.user)
    form = OpenRequestForm(
        request.POST or None, initial={"received_at": timezone.localtime().replace(second=0, microsecond=0)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = request_services.open_request(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, f"Request {created.reference} opened; due {created.due_date:%A %B %-d, %Y}."
            )
            return redirect("records:request-detail", reference=created.reference)
    return render(request, "records/request_form.html", {"form": form})


def _visible_request(request: HttpRequest, reference: str) -> RecordsRequest:
    return get_object_or_404(selectors.requests_visible_to(request.user), reference=reference)


@login_required
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = _visible_request(request, reference)
    items = selectors.items_visible_to(request.user).filter(request=records_request)
    page = Paginator(items, 100).get_page(request.GET.get("page"))
    deadline = request_services.deadline_for(records_request.received_at)
    return render(
        request,
        "records/request_detail.html",
        {
            "rr": records_request,
            "items_page": page,
            "department_counts": selectors.department_counts(request.user, records_request),
            "audit_events": selectors.audit_trail(request.user, records_request)[:50],
            "deadline": deadline,
            "days_left": days_left(records_request.current_due_date, timezone.localdate()),
            "upload_form": UploadForm(departments=selectors.departments_for_upload(request.user)),
            "extend_form": ExtendForm(),
            "status_form": StatusForm(),
            "transitions": records_request.transitions.select_related("actor"),
        },
    )


def _is_zip(uploaded) -> bool:
    head = uploaded.read(4)
    uploaded.seek(0)
    return head == ZIP_MAGIC


@login_required
@require_POST
def request_upload(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = _visible_request(request, reference)
    form = UploadForm(request.POST, request.FILES, departments=selectors.departments_for_upload(request.user))
    wants_json = "application/json" in request.headers.get("Accept", "")
    if not form.is_valid():
        if wants_json:
            return JsonResponse(
                {"error": {"code": "invalid_input", "message": "Choose files to upload."}}, status=400
            )
        messages.error(request, "Choose files to upload.")
        return redirect("records:request-detail", reference=reference)
    department = form.cleaned_data["department"]
    outcomes: list[intake.IntakeOutcome] = []
    try:
        plain = []
        for uploaded in form.cleaned_data["files"]:
            if _is_zip(uploaded):
                report = intake.gather_zip(
                    actor=request.user,
                    records_request=records_request,
                    zip_file=uploaded,
                    department=department,
                )
                outcomes.extend(report.outcomes)
            else:
                plain.append((uploaded.name, uploaded))
        if plain:
            if department is None:
                raise ApplicationError("Choose the department these files come from.")
            outcomes.extend(
                intake.gather_files(
                    actor=request.user, records_request=records_request, department=department, files=plain
                ).outcomes
            )
    except ApplicationError as exc:
        if wants_json:
            return JsonResponse({"error": {"code": exc.code, "message": exc.message}}, status=exc.http_status)
        messages.error(request, exc.message)
        return redirect("records:request-detail", reference=reference)
    if wants_json:
        return JsonResponse({"outcomes": [o.__dict__ for o in outcomes]})
    summary = intake.IntakeReport(outcomes).counts
    messages.info(
        request,
        f"{summary['stored']} stored, {summary['already_in_request']} already in this request, "
        f"{summary['refused']} refused.",
    )
    for outcome in outcomes:
        if outcome.result == "refused":
            messages.warning(request, f"{outcome.name}: {outcome.reason}")
    return redirect("records:request-detail", reference=reference)


@login_required
@require_POST
def request_extend(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = _visible_request(request, reference)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The extension needs days (1 to 14), a ground and a written reason.")
    else:
        try:
            extended = request_services.extend_deadline(
                actor=request.user, records_request=records_request, **form.cleaned_data
            )
            messages.success(request, f"Extended; now due {extended.extended_due_date:%A %B %-d, %Y}.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return redirect("records:request-detail", reference=reference)


@login_required
@require_POST
def request_status(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = _visible_request(request, reference)
    _require_clerk(request.user)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            request_services.move_status(
                actor=request.user, records_request=records_request, **form.cleaned_data
            )
            messages.success(request, f"Status is now {records_request.get_status_display().lower()}.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return redirect("records:request-detail", reference=reference)


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True, "time": datetime.datetime.now(datetime.UTC).isoformat()})
