"""The clerk's desk: request list, new request, the request page, upload, extend, status, tasking, dedupe."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from dedupe.models import DedupeRun
from dedupe.runs.progress import run_progress

from .. import page_search, selectors
from ..deadlines import days_left
from ..errors import ApplicationError
from ..forms import ExtendForm, OpenRequestForm, StatusForm, TaskDepartmentsForm, UploadForm
from ..models import GATHERING_STATUSES, DepartmentTask, RequestStatus
from ..roles import is_clerk
from ..services import dedupe_runs, intake, tasking
from ..services import requests as request_services
from .common import json_error, require_clerk, visible_request, wants_json

LIST_PAGE_SIZE = 50
ITEMS_PAGE_SIZE = 100


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    status = status if status in RequestStatus.values else ""
    clerk = request.GET.get("clerk", "")
    overdue = request.GET.get("overdue") == "1"
    today = timezone.localdate()
    requests = selectors.filtered_requests(
        request.user, query=query, status=status, clerk=clerk, overdue=overdue, today=today
    )
    page = Paginator(requests, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(r, days_left(r.current_due_date, today)) for r in page]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "records/request_list.html",
        {
            "page": page,
            "rows": rows,
            "query": query,
            "status": status,
            "clerk": clerk,
            "overdue": overdue,
            "statuses": RequestStatus.choices,
            "clerks": get_user_model().objects.filter(groups__name="clerk").order_by("username"),
            "filter_query": params.urlencode(),
        },
    )


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    require_clerk(request.user)
    form = OpenRequestForm(
        request.POST or None, initial={"received_at": timezone.localtime().replace(second=0, microsecond=0)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = request_services.open_request(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            field = exc.details.get("field")
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"Request {created.reference} opened; due {created.due_date:%A %B %-d, %Y}."
            )
            return redirect("records:request-detail", reference=created.reference)
    received = form["received_at"].value()
    preview = _deadline_preview(received if isinstance(received, str) else None)
    return render(request, "records/request_form.html", {"form": form, "preview": preview})


def _deadline_preview(received: str | None) -> dict | None:
    moment = parse_datetime(received) if received else timezone.now()
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    refusal = request_services.future_received_refusal(moment)
    if refusal:
        return {"refusal": refusal}
    deadline = request_services.deadline_for(moment)
    return {
        "due": deadline.due.isoformat(),
        "due_label": f"{deadline.due:%A %B %-d, %Y}",
        "explanation": deadline.explanation(),
        "skipped": [{"day": s.day.isoformat(), "why": s.why} for s in deadline.skipped],
    }


@login_required
@require_GET
def deadline_preview(request: HttpRequest) -> JsonResponse:
    """The due date for a received date, while the clerk types it on the new-request form."""
    preview = _deadline_preview(request.GET.get("received", ""))
    if preview is None or "refusal" in preview:
        message = preview["refusal"] if preview else "Not a date and time."
        return JsonResponse({"error": {"code": "invalid_input", "message": message}}, status=400)
    return JsonResponse(preview)


@login_required
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    user = request.user
    items = selectors.items_visible_to(user).filter(request=records_request)
    page = Paginator(items, ITEMS_PAGE_SIZE).get_page(request.GET.get("page"))
    deadline = request_services.deadline_for(records_request.received_at)
    tasks = list(selectors.tasks_visible_to(user).filter(request=records_request))
    task_form = None
    if is_clerk(user):
        asked = {t.department_id for t in tasks}
        task_form = TaskDepartmentsForm(
            initial={"due_date": min(records_request.current_due_date, _days_from_today(5))}
        )
        task_form.fields["departments"].queryset = task_form.fields["departments"].queryset.exclude(
            pk__in=asked
        )
    run = selectors.active_run(records_request) or (
        DedupeRun.objects.filter(request=records_request).order_by("-created_at", "-id").first()
    )
    sole_department = selectors.sole_upload_department(user)
    next_statuses = request_services.next_statuses(records_request.status)
    query = request.GET.get("q", "").strip()[:200]
    pages = selectors.item_images_visible_to(user).filter(
        item__request=records_request, item__status="stored"
    )
    hits = page_search.search_hits(pages, query) if query else []
    return render(
        request,
        "records/request_detail.html",
        {
            "rr": records_request,
            "items_page": page,
            "query": query,
            "hits": hits,
            "department_counts": selectors.department_counts(user, records_request),
            "audit_events": [
                (event, "; ".join(f"{k}: {v}" for k, v in event.details.items()))
                for event in selectors.audit_trail(user, records_request)[:100]
            ],
            "deadline": deadline,
            "days_left": days_left(records_request.current_due_date, timezone.localdate()),
            "upload_form": UploadForm(
                departments=selectors.departments_for_upload(user), sole_department=sole_department
            ),
            "upload_department": sole_department,
            "can_upload": records_request.status in GATHERING_STATUSES,
            "extend_form": ExtendForm(),
            "status_form": StatusForm(current=records_request.status, offered=next_statuses),
            "next_statuses": next_statuses,
            "transitions": records_request.transitions.select_related("actor"),
            "tasks": tasks,
            "today": timezone.localdate(),
            "tasks_done": sum(1 for t in tasks if t.state != DepartmentTask.State.OPEN),
            "task_form": task_form,
            "run": run,
            "run_progress": run_progress(run) if run else None,
            "files_since_run": selectors.files_since_last_run(user, records_request),
            "packet": selectors.packets_visible_to(user).filter(request=records_request).first(),
        },
    )


def _days_from_today(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


@login_required
@require_POST
def request_upload(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    sole_department = selectors.sole_upload_department(request.user)
    form = UploadForm(
        request.POST,
        request.FILES,
        departments=selectors.departments_for_upload(request.user),
        sole_department=sole_department,
    )
    as_json = wants_json(request)
    if not form.is_valid() or not form.cleaned_data["files"]:
        message = _upload_form_problem(form)
        if as_json:
            return JsonResponse({"error": {"code": "invalid_input", "message": message}}, status=400)
        messages.error(request, message)
        return redirect("records:request-detail", reference=reference)
    department = form.cleaned_data["department"] or sole_department
    try:
        outcomes = intake.gather_uploads(
            actor=request.user,
            records_request=records_request,
            department=department,
            files=[(uploaded.name, uploaded) for uploaded in form.cleaned_data["files"]],
        ).outcomes
    except ApplicationError as exc:
        if as_json:
            return json_error(exc)
        messages.error(request, exc.message)
        return redirect("records:request-detail", reference=reference)
    if as_json:
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


def _upload_form_problem(form: UploadForm) -> str:
    if form.is_valid():
        return "Choose files to upload."
    if "department" in form.errors:
        return "Choose a department you upload for."
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


@login_required
@require_POST
def request_extend(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The extension needs days (1 to 14), a ground and a written reason.")
        return redirect("records:request-detail", reference=reference)
    try:
        extended = request_services.extend_deadline(
            actor=request.user, records_request=records_request, **form.cleaned_data
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("records:request-detail", reference=reference)
    messages.success(
        request,
        f"Extended; now due {extended.extended_due_date:%A %B %-d, %Y}. "
        "Send the requester the written notice below.",
    )
    return redirect("records:extension-notice", reference=reference)


@login_required
def extension_notice(request: HttpRequest, reference: str) -> HttpResponse:
    """The written notice of extension (§ 7922.535(b)), laid out to print or save as PDF."""
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    if not records_request.extension_days:
        messages.error(request, "This request has not been extended.")
        return redirect("records:request-detail", reference=reference)
    # The notice gives the requester the new date and the statutory reason; how the date was
    # counted (days skipped, holidays) is the office's working, shown on the request page.
    new_due = (
        records_request.extended_due_date
        or request_services.extended_deadline_for(
            records_request.received_at, records_request.extension_days
        ).due
    )
    return render(
        request,
        "records/extension_notice.html",
        {
            "rr": records_request,
            "new_due": new_due,
            "original": request_services.deadline_for(records_request.received_at),
            "staff_title": settings.PACKETDESK_STAFF_TITLE,
        },
    )


@login_required
@require_POST
def request_status(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    form = StatusForm(request.POST)
    if form.is_valid() and form.cleaned_data["to_status"] == records_request.status:
        messages.info(request, f"The status is already {records_request.get_status_display().lower()}.")
    elif form.is_valid():
        try:
            request_services.move_status(
                actor=request.user, records_request=records_request, **form.cleaned_data
            )
            messages.success(request, f"Status is now {records_request.get_status_display().lower()}.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Choose a status to move to.")
    return redirect("records:request-detail", reference=reference)


@login_required
@require_POST
def request_task(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    form = TaskDepartmentsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose at least one department and a due date.")
        return redirect("records:request-detail", reference=reference)
    try:
        created = tasking.task_departments(
            actor=request.user, records_request=records_request, **form.cleaned_data
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        names = ", ".join(t.department.name for t in created)
        messages.success(request, f"Asked {names} for records.")
    return redirect("records:request-detail", reference=reference)


@login_required
@require_POST
def dedupe_start(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    try:
        dedupe_runs.start_run(actor=request.user, records_request=records_request)
    except ApplicationError as exc:
        if wants_json(request):
            return json_error(exc)
        messages.error(request, exc.message)
    return redirect(reverse("records:request-detail", args=[reference]) + "#duplicates")


@login_required
@require_GET
def dedupe_progress(request: HttpRequest, reference: str) -> JsonResponse:
    """The latest run's progress, which the request page polls (so it survives a reload)."""
    records_request = visible_request(request, reference)
    run = DedupeRun.objects.filter(request=records_request).order_by("-created_at", "-id").first()
    if run is None:
        return JsonResponse({"run": None})
    progress = run_progress(run)
    return JsonResponse(
        {
            "run": progress.run_id,
            "state": progress.state,
            "phase": progress.phase,
            "phase_label": progress.phase_label,
            "done": progress.done,
            "total": progress.total,
            "unit": progress.unit,
            "percent": progress.percent,
            "elapsed_seconds": progress.elapsed_seconds,
            "remaining_seconds": progress.remaining_seconds,
            "error": progress.error,
            "groups": run.groups.count() if progress.state == "completed" else None,
        }
    )
