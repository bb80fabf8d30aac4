"""The clerk's pages: login, request list and detail, upload, and who sees what."""

import io

import pytest
from django.urls import reverse

from records.models import GatheredItem, RecordsRequest
from records.services.intake import gather_files
from tests.factories import (
    DepartmentFactory,
    RecordsRequestFactory,
    jpeg_bytes,
    make_clerk,
    make_manager,
    make_uploader,
    zip_bytes,
)

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client):
    response = client.get(reverse("records:request-list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_clerk_logs_in_and_sees_the_requests(client):
    make_clerk("alice")
    RecordsRequestFactory(reference="26-00077", requester_name="Bo Journalist")
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct-horse-battery"}, follow=True
    )
    assert b"26-00077" in response.content and b"Bo Journalist" in response.content


def test_a_clerk_opens_a_request_and_sees_how_its_deadline_was_computed(client):
    client.force_login(make_clerk())
    response = client.post(
        reverse("records:request-new"),
        {
            "requester_name": "Ada Resident",
            "requester_kind": "resident",
            "description": "Photos of 5th and Main",
            "received_at": "2026-11-16T10:00",
        },
        follow=True,
    )
    rr = RecordsRequest.objects.get()
    assert rr.due_date.isoformat() == "2026-11-30"
    assert b"Thanksgiving Day" in response.content


def test_a_clerk_uploads_a_zip_of_department_folders_and_sees_every_outcome(client):
    DepartmentFactory(code="PD", name="Police Department")
    client.force_login(make_clerk())
    rr = RecordsRequestFactory()
    archive = zip_bytes({"PD/a.jpg": jpeg_bytes(), "PD/readme.txt": b"hello"})
    upload = io.BytesIO(archive)
    upload.name = "batch.zip"
    response = client.post(
        reverse("records:request-upload", args=[rr.reference]), {"files": [upload]}, follow=True
    )
    assert b"1 stored, 0 already in this request, 1 refused." in response.content
    assert b"readme.txt: not an image" in response.content


def test_upload_answers_json_per_file_for_the_drag_and_drop_page(client):
    pd = DepartmentFactory(code="PD")
    client.force_login(make_clerk())
    rr = RecordsRequestFactory()
    photo = io.BytesIO(jpeg_bytes())
    photo.name = "IMG_1.jpg"
    response = client.post(
        reverse("records:request-upload", args=[rr.reference]),
        {"department": pd.pk, "files": [photo]},
        headers={"accept": "application/json"},
    )
    assert response.json()["outcomes"][0]["result"] == "stored"


def test_a_department_uploader_sees_only_its_own_departments_items(client):
    pd, pw = DepartmentFactory(code="PD"), DepartmentFactory(code="PW")
    clerk = make_clerk()
    rr = RecordsRequestFactory()
    gather_files(
        actor=clerk, records_request=rr, department=pd, files=[("pd-photo.jpg", io.BytesIO(jpeg_bytes()))]
    )
    gather_files(
        actor=clerk,
        records_request=rr,
        department=pw,
        files=[("pw-photo.jpg", io.BytesIO(jpeg_bytes((1, 1, 1))))],
    )
    client.force_login(make_uploader(pd))
    page = client.get(reverse("records:request-detail", args=[rr.reference]))
    assert b"pd-photo.jpg" in page.content
    assert b"pw-photo.jpg" not in page.content
    assert b"Audit trail" not in page.content


def test_a_department_uploader_cannot_add_files_for_another_department(client):
    pd, pw = DepartmentFactory(code="PD"), DepartmentFactory(code="PW")
    rr = RecordsRequestFactory()
    client.force_login(make_uploader(pd))
    photo = io.BytesIO(jpeg_bytes())
    photo.name = "x.jpg"
    response = client.post(
        reverse("records:request-upload", args=[rr.reference]),
        {"department": pw.pk, "files": [photo]},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 400  # PW is not a department this user may choose
    assert not GatheredItem.objects.exists()


def test_a_manager_cannot_open_requests_or_change_status(client):
    client.force_login(make_manager())
    rr = RecordsRequestFactory()
    assert client.get(reverse("records:request-new")).status_code == 403
    assert (
        client.post(
            reverse("records:request-status", args=[rr.reference]), {"to_status": "gathering"}
        ).status_code
        == 403
    )


def test_an_illegal_status_move_is_shown_to_the_clerk(client):
    client.force_login(make_clerk())
    rr = RecordsRequestFactory()
    response = client.post(
        reverse("records:request-status", args=[rr.reference]), {"to_status": "released"}, follow=True
    )
    assert b"cannot become released" in response.content


def test_file_names_with_html_are_shown_as_text(client):
    pd = DepartmentFactory(code="PD")
    clerk = make_clerk()
    rr = RecordsRequestFactory()
    gather_files(
        actor=clerk,
        records_request=rr,
        department=pd,
        files=[("<script>alert(1)</script>.jpg", io.BytesIO(jpeg_bytes()))],
    )
    client.force_login(clerk)
    page = client.get(reverse("records:request-detail", args=[rr.reference]))
    assert b"<script>alert(1)</script>" not in page.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;.jpg" in page.content
