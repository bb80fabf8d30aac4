"""Tasking departments, their answers, and the e-mail reminders for due-soon and late work."""

import datetime
import io

import pytest
from django.core import mail
from django.utils import timezone

from records.errors import Conflict, InvalidInput, NotPermitted
from records.models import AuditEvent, DepartmentTask, GatheredItem
from records.services import tasking
from records.tasks import send_deadline_reminders
from tests.factories import (
    DepartmentFactory,
    RecordsRequestFactory,
    jpeg_bytes,
    make_clerk,
    make_uploader,
    zip_bytes,
)

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


def test_a_clerk_asks_departments_and_each_is_asked_once():
    clerk = make_clerk()
    pd, pw = DepartmentFactory(code="PD"), DepartmentFactory(code="PW")
    rr = RecordsRequestFactory(status="gathering")
    tasks = tasking.task_departments(actor=clerk, records_request=rr, departments=[pd, pw], due_date=days(5))
    assert {t.department.code for t in tasks} == {"PD", "PW"}
    assert AuditEvent.objects.filter(verb="department_tasked").count() == 2
    with pytest.raises(InvalidInput):
        tasking.task_departments(actor=clerk, records_request=rr, departments=[pd], due_date=days(5))


def test_only_a_clerk_may_task_departments():
    pd = DepartmentFactory(code="PD")
    with pytest.raises(NotPermitted):
        tasking.task_departments(
            actor=make_uploader(pd),
            records_request=RecordsRequestFactory(),
            departments=[pd],
            due_date=days(3),
        )


def test_a_department_answers_with_files_including_a_zip():
    clerk, pd = make_clerk(), DepartmentFactory(code="PD")
    rr = RecordsRequestFactory(status="gathering")
    (task,) = tasking.task_departments(actor=clerk, records_request=rr, departments=[pd], due_date=days(3))
    archive = io.BytesIO(zip_bytes({"case/a.jpg": jpeg_bytes()}))
    photo = io.BytesIO(jpeg_bytes((1, 2, 3)))
    report = tasking.answer_with_files(
        actor=make_uploader(pd), task=task, files=[("batch.zip", archive), ("b.jpg", photo)]
    )
    assert report.counts["stored"] == 2, report.outcomes
    task.refresh_from_db()
    assert task.state == DepartmentTask.State.ANSWERED
    assert set(GatheredItem.objects.values_list("department__code", flat=True)) == {"PD"}


def test_another_department_cannot_answer_the_task():
    clerk, pd, pw = make_clerk(), DepartmentFactory(code="PD"), DepartmentFactory(code="PW")
    (task,) = tasking.task_departments(
        actor=clerk,
        records_request=RecordsRequestFactory(status="gathering"),
        departments=[pd],
        due_date=days(3),
    )
    with pytest.raises(NotPermitted):
        tasking.answer_none(actor=make_uploader(pw), task=task)


def test_none_is_refused_once_the_department_sent_files():
    clerk, pd = make_clerk(), DepartmentFactory(code="PD")
    rr = RecordsRequestFactory(status="gathering")
    (task,) = tasking.task_departments(actor=clerk, records_request=rr, departments=[pd], due_date=days(3))
    uploader = make_uploader(pd)
    tasking.answer_with_files(actor=uploader, task=task, files=[("a.jpg", io.BytesIO(jpeg_bytes()))])
    with pytest.raises(Conflict):
        tasking.answer_none(actor=uploader, task=task)


def test_reminders_go_to_late_departments_and_their_clerk_once_a_day(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clerk, pd, pw = make_clerk(), DepartmentFactory(code="PD", name="Police"), DepartmentFactory(code="PW")
    make_uploader(pd, "pd-up")
    make_uploader(pw, "pw-up")
    rr = RecordsRequestFactory(status="gathering", assigned_clerk=clerk, due_date=days(20))
    tasking.task_departments(actor=clerk, records_request=rr, departments=[pd], due_date=days(1))
    tasking.task_departments(actor=clerk, records_request=rr, departments=[pw], due_date=days(10))
    DepartmentTask.objects.filter(department=pd).update(due_date=days(-2))  # now late

    report = tasking.send_reminders()
    assert report.task_reminders == 1 and report.request_reminders == 0
    (message,) = mail.outbox
    assert set(message.to) == {"pd-up@city.example", "clerk1@city.example"}
    assert "2 days overdue" in message.subject and rr.reference in message.subject

    assert tasking.send_reminders().task_reminders == 0  # already reminded today


def test_the_clerk_is_reminded_of_a_request_nearing_its_deadline(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clerk = make_clerk()
    rr = RecordsRequestFactory(status="in_review", assigned_clerk=clerk, due_date=days(1))
    RecordsRequestFactory(status="closed", assigned_clerk=clerk, due_date=days(1))
    assert send_deadline_reminders() == {"tasks": 0, "requests": 1}
    assert mail.outbox[0].to == ["clerk1@city.example"]
    assert f"{rr.reference} is due" in mail.outbox[0].subject


def test_beat_runs_the_reminders_every_day(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["deadline-reminders"]
    assert entry["task"] == "records.tasks.send_deadline_reminders"
