"""Asking departments for records, their answers, and the reminders that keep both on time.

A clerk tasks one or more departments with a due date and a note; each department
answers by uploading files or by saying it has no responsive records. Reminders go by
e-mail through Django's mail framework, at most once a day per task, to departments late
or nearly late on their tasks and to the clerk of a request nearing its CPRA deadline.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ..errors import Conflict, InvalidInput, NotPermitted
from ..models import GATHERING_STATUSES, OPEN_STATUSES, Department, DepartmentTask, RecordsRequest
from ..roles import (
    Role,
    SignedInUser,
    User,
    can_gather_for,
    require_clerk,
    signed_in_user,
)
from .audit import record_event
from .intake import IntakeReport, gather_uploads

# A task or request this many days or fewer from its due date gets a "due soon" reminder.
DUE_SOON_DAYS = 2


@transaction.atomic
def task_departments(
    *,
    actor: User,
    records_request: RecordsRequest,
    departments: Iterable[Department],
    due_date: datetime.date,
    note: str = "",
) -> list[DepartmentTask]:
    """Ask each department for records; a department already asked keeps its task."""
    require_clerk(actor, "Only a clerk can ask departments for records.")
    if records_request.status not in GATHERING_STATUSES:
        raise Conflict("Departments can only be asked while the request is open for gathering.")
    if due_date < timezone.localdate():
        raise InvalidInput("The due date for departments cannot be in the past.")
    created = []
    for department in departments:
        task, made = DepartmentTask.objects.get_or_create(
            request=records_request,
            department=department,
            defaults={
                "due_date": due_date,
                "note": note.strip(),
                "requested_by": signed_in_user(actor),
                "requested_at": timezone.now(),
            },
        )
        if made:
            created.append(task)
            record_event(
                actor=actor,
                verb="department_tasked",
                obj=task,
                request=records_request,
                details={"department": department.code, "due": due_date.isoformat(), "note": note.strip()},
            )
    if not created:
        raise InvalidInput("Every department chosen has already been asked for this request.")
    return created


def _require_department_of(actor: User, task: DepartmentTask) -> None:
    # The same rule as gathering: a clerk for every department, an uploader for its own.
    if not can_gather_for(actor, task.department):
        raise NotPermitted("Only the tasked department (or a clerk) can answer this task.")
    if task.request.status not in GATHERING_STATUSES:
        raise Conflict("This request is no longer gathering records.")


def _mark_answered(
    actor: User, task: DepartmentTask, state: str, note: str, details: dict[str, Any]
) -> DepartmentTask:
    task.state = state
    task.answered_by = signed_in_user(actor)
    task.answered_at = timezone.now()
    task.answer_note = note.strip()
    task.save(update_fields=["state", "answered_by", "answered_at", "answer_note"])
    record_event(
        actor=actor,
        verb="task_answered",
        obj=task,
        request=task.request,
        details={"department": task.department.code, "answer": state, "note": task.answer_note, **details},
    )
    return task


def answer_with_files(
    *, actor: User, task: DepartmentTask, files: list[tuple[str, BinaryIO]], note: str = ""
) -> IntakeReport:
    """Gather the department's files for the request and mark its task answered."""
    _require_department_of(actor, task)
    if not files:
        raise InvalidInput("Choose the files to send, or answer that there are none.")
    report = gather_uploads(
        actor=actor, records_request=task.request, department=task.department, files=files
    )
    counts = report.counts
    if counts["stored"] or counts["already_in_request"]:
        with transaction.atomic():
            locked = DepartmentTask.objects.select_for_update().select_related("request", "department")
            _mark_answered(
                actor, locked.get(pk=task.pk), DepartmentTask.State.ANSWERED, note, {"files": counts}
            )
    return report


@transaction.atomic
def answer_none(*, actor: User, task: DepartmentTask, note: str = "") -> DepartmentTask:
    """The department has no records responsive to the request."""
    task = DepartmentTask.objects.select_for_update().select_related("request", "department").get(pk=task.pk)
    _require_department_of(actor, task)
    if task.request.items.filter(department=task.department).exists():
        raise Conflict("Files from this department are already gathered; it cannot answer 'none'.")
    return _mark_answered(actor, task, DepartmentTask.State.NONE_RESPONSIVE, note, {})


# ------------------------------------------------------------------------- reminders


@dataclass
class ReminderReport:
    task_reminders: int = 0
    request_reminders: int = 0
    recipients: list[str] = field(default_factory=list)


def _when(due: datetime.date, today: datetime.date) -> str:
    left = (due - today).days
    if left < 0:
        return f"was due {due:%A %B %-d} ({-left} day{'s' if left != -1 else ''} overdue)"
    if left == 0:
        return f"is due today, {due:%A %B %-d}"
    return f"is due {due:%A %B %-d} ({left} day{'s' if left != 1 else ''} left)"


def _uploader_emails(department: Department) -> list[str]:
    users = get_user_model().objects.filter(
        uploader__department=department, is_active=True, groups__name=Role.DEPARTMENT_UPLOADER.value
    )
    return sorted({u.email for u in users if u.email})


def _clerk_email(records_request: RecordsRequest, fallback: SignedInUser | None = None) -> list[str]:
    clerk = records_request.assigned_clerk or fallback
    return [clerk.email] if clerk is not None and clerk.email else []


def _site(path: str) -> str:
    return f"{settings.PACKETDESK_SITE_URL.rstrip('/')}{path}"


def send_reminders(today: datetime.date | None = None) -> ReminderReport:
    """E-mail due-soon and overdue reminders; each task is reminded at most once a day."""
    today = today or timezone.localdate()
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    report = ReminderReport()
    office = settings.PACKETDESK_OFFICE_NAME
    tasks = DepartmentTask.objects.filter(
        state=DepartmentTask.State.OPEN, due_date__lte=soon, request__status__in=GATHERING_STATUSES
    ).select_related("request__assigned_clerk", "department", "requested_by")
    for task in tasks:
        if task.reminded_at is not None and timezone.localdate(task.reminded_at) == today:
            continue
        rr = task.request
        to = _uploader_emails(task.department)
        cc = _clerk_email(rr, task.requested_by) if task.due_date < today else []
        if not to and not cc:
            continue
        send_mail(
            subject=f"Records request {rr.reference}: {task.department.name} {_when(task.due_date, today)}",
            message=(
                f"The {office} asked {task.department.name} for records for request {rr.reference}.\n"
                f"Your answer {_when(task.due_date, today)}.\n\n"
                f"Request: {rr.description}\n"
                f"Note from the clerk: {task.note or '(none)'}\n\n"
                f"Answer by uploading the records or by saying you have none: {_site(reverse('records:my-tasks'))}\n"
            ),
            from_email=None,
            recipient_list=to + cc,
        )
        DepartmentTask.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
        report.task_reminders += 1
        report.recipients.extend(to + cc)
    requests = RecordsRequest.objects.filter(status__in=OPEN_STATUSES).select_related("assigned_clerk")
    for rr in requests:
        if rr.current_due_date > soon:
            continue
        to = _clerk_email(rr)
        if not to:
            continue
        open_tasks = rr.department_tasks.filter(state=DepartmentTask.State.OPEN).count()
        send_mail(
            subject=f"Records request {rr.reference} {_when(rr.current_due_date, today)}",
            message=(
                f"Request {rr.reference} from {rr.requester_name} {_when(rr.current_due_date, today)} "
                f"(Gov. Code § 7922.535).\n"
                f"Status: {rr.get_status_display()}; departments still to answer: {open_tasks}.\n\n"
                f"{_site(reverse('records:request-detail', args=[rr.reference]))}\n"
            ),
            from_email=None,
            recipient_list=to,
        )
        report.request_reminders += 1
        report.recipients.extend(to)
    return report
