"""The clerk's desk pages of issue 6: filters, tasks, extension notice, dashboard, requester link, scoping."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from dedupe.models import ImageFingerprint, ItemImage
from records.services import tasking
from records.services.intake import gather_files
from tests.factories import (
    DepartmentFactory,
    RecordsRequestFactory,
    jpeg_bytes,
    make_clerk,
    make_manager,
    make_uploader,
)

pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def test_the_list_marks_due_soon_and_overdue_and_filters_overdue(client):
    client.force_login(make_clerk())
    RecordsRequestFactory(reference="26-00001", status="gathering", due_date=days(-2))
    RecordsRequestFactory(reference="26-00002", status="gathering", due_date=days(2))
    RecordsRequestFactory(reference="26-00003", status="gathering", due_date=days(9))
    page = client.get(reverse("records:request-list")).content.decode()
    assert "2 days overdue" in page and 'class="overdue"' in page
    assert "2 days left" in page and 'class="due-soon"' in page
    only_late = client.get(reverse("records:request-list"), {"overdue": "1"}).content.decode()
    assert "26-00001" in only_late and "26-00002" not in only_late


def test_the_list_filters_by_clerk(client):
    alice, bob = make_clerk("alice"), make_clerk("bob")
    client.force_login(alice)
    RecordsRequestFactory(reference="26-00011", assigned_clerk=alice)
    RecordsRequestFactory(reference="26-00012", assigned_clerk=bob)
    page = client.get(reverse("records:request-list"), {"clerk": str(bob.pk)}).content.decode()
    assert "26-00012" in page and "26-00011" not in page


def test_the_new_request_form_previews_the_deadline_with_its_holidays(client):
    client.force_login(make_clerk())
    preview = client.get(reverse("records:deadline-preview"), {"received": "2026-11-16T10:00"}).json()
    assert preview["due"] == "2026-11-30"
    assert "Thanksgiving Day" in preview["explanation"]


def test_an_extension_produces_the_written_notice(client):
    client.force_login(make_clerk())
    rr = RecordsRequestFactory(status="gathering")
    response = client.post(
        reverse("records:request-extend", args=[rr.reference]),
        {"days": 14, "ground": "voluminous", "reason": "Over 4,000 photographs across five departments."},
        follow=True,
    )
    page = response.content.decode()
    assert "notice of extension" in page
    assert "§ 7922.535(c)(2)" in page and "Over 4,000 photographs" in page


def test_the_extension_notice_gives_the_new_date_and_the_statutory_reason_not_the_calculation(client):
    from zoneinfo import ZoneInfo

    from records.services.requests import extend_deadline

    clerk = make_clerk()
    client.force_login(clerk)
    received = datetime.datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    rr = RecordsRequestFactory(status="gathering", received_at=received)
    extend_deadline(
        actor=clerk, records_request=rr, days=14, ground="consultation", reason="Police must be consulted."
    )
    rr.refresh_from_db()
    assert rr.extended_due_date == datetime.date(2026, 3, 30)  # Saturday the 28th rolls to Monday
    page = client.get(reverse("records:extension-notice", args=[rr.reference])).content.decode()
    assert "Monday, March 30, 2026" in page
    assert (
        "section 7922.535(b)" in page and "§ 7922.535(c)(3)" in page and "Police must be consulted." in page
    )
    for working in ("calendar days later", "not counted", "moves past", "Saturday", "office is closed"):
        assert working not in page, working


def test_an_uploader_sees_only_its_departments_tasks_and_answers_none(client):
    clerk, pd, pw = make_clerk(), DepartmentFactory(code="PD"), DepartmentFactory(code="PW")
    rr = RecordsRequestFactory(status="gathering", description="Bodycam stills")
    tasking.task_departments(
        actor=clerk, records_request=rr, departments=[pd, pw], due_date=days(3), note="PD note"
    )
    uploader = make_uploader(pd)
    client.force_login(uploader)
    page = client.get(reverse("records:my-tasks")).content.decode()
    assert "PD note" in page and page.count("We have no responsive records") == 1
    task = rr.department_tasks.get(department=pd)
    client.post(reverse("records:task-answer", args=[task.pk]), {"answer": "none", "note": "searched RMS"})
    task.refresh_from_db()
    assert task.state == "none" and task.answer_note == "searched RMS"
    other = rr.department_tasks.get(department=pw)
    assert client.post(reverse("records:task-answer", args=[other.pk]), {"answer": "none"}).status_code == 404


def test_an_uploader_cannot_open_review_packet_or_dashboard(client):
    pd = DepartmentFactory(code="PD")
    rr = RecordsRequestFactory(status="gathering")
    client.force_login(make_uploader(pd))
    assert client.get(reverse("records:review", args=[rr.reference])).status_code == 403
    assert client.get(reverse("records:packet", args=[rr.reference])).status_code == 403
    assert client.get(reverse("records:dashboard")).status_code == 403


def test_a_preview_is_served_only_to_who_may_see_the_item(client):
    pd, pw = DepartmentFactory(code="PD"), DepartmentFactory(code="PW")
    clerk = make_clerk()
    rr = RecordsRequestFactory(status="gathering")
    report = gather_files(
        actor=clerk, records_request=rr, department=pw, files=[("a.jpg", io.BytesIO(jpeg_bytes()))]
    )
    item = rr.items.get(pk=report.outcomes[0].item_id)
    fp = ImageFingerprint.objects.create(blob_id=item.sha256, preview_jpeg=jpeg_bytes(), width=64, height=48)
    image = ItemImage.objects.create(item=item, fingerprint=fp, key=item.gathered_path)
    url = reverse("records:image-preview", args=[image.pk])
    client.force_login(clerk)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    client.force_login(make_uploader(pd))
    assert client.get(url).status_code == 404


def test_dedupe_progress_answers_json_before_any_run(client):
    client.force_login(make_clerk())
    rr = RecordsRequestFactory()
    assert client.get(reverse("records:dedupe-progress", args=[rr.reference])).json() == {"run": None}


def test_the_dashboard_shows_numbers_and_exports_them_as_csv(client):
    client.force_login(make_manager())
    RecordsRequestFactory(status="gathering", due_date=days(-1))
    page = client.get(reverse("records:dashboard")).content.decode()
    assert 'data-stat="overdue">1<' in page and "<svg" in page
    csv = client.get(reverse("records:dashboard-csv"), {"start": "2026-01-01", "end": "2026-12-31"})
    assert csv["Content-Type"].startswith("text/csv")
    assert "requests,overdue_now,1" in csv.content.decode()


def test_an_unknown_requester_link_says_so_with_410(client):
    response = client.get(reverse("records:requester-packet", args=["not-a-real-token"]))
    assert response.status_code == 410
    assert b"This link is not valid" in response.content
