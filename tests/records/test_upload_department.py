"""An uploader bound to one department uploads without choosing it; a clerk still chooses."""

import io

import pytest
from django.urls import reverse

from records.models import GatheredItem
from tests.factories import DepartmentFactory, RecordsRequestFactory, jpeg_bytes, make_clerk, make_uploader

pytestmark = pytest.mark.django_db


def named(data: bytes, name: str) -> io.BytesIO:
    stream = io.BytesIO(data)
    stream.name = name
    return stream


@pytest.fixture
def police():
    return DepartmentFactory(code="PD", name="Police")


def test_a_one_department_uploader_sees_their_department_instead_of_a_choice(client, police):
    DepartmentFactory(code="PW", name="Public Works")
    client.force_login(make_uploader(police))
    rr = RecordsRequestFactory()
    page = client.get(reverse("records:request-detail", args=[rr.reference])).content.decode()
    assert '<select name="department"' not in page
    assert f'<input type="hidden" name="department" value="{police.pk}"' in page
    assert "Files are gathered for <strong>Police</strong>" in page


def test_a_one_department_uploader_uploads_without_naming_the_department(client, police):
    client.force_login(make_uploader(police))
    rr = RecordsRequestFactory()
    response = client.post(
        reverse("records:request-upload", args=[rr.reference]),
        {"files": [named(jpeg_bytes(), "IMG_1.jpg")]},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200, response.content
    assert [o["result"] for o in response.json()["outcomes"]] == ["stored"]
    assert GatheredItem.objects.get().department == police


def test_a_clerk_still_chooses_the_department(client, police):
    client.force_login(make_clerk())
    rr = RecordsRequestFactory()
    page = client.get(reverse("records:request-detail", args=[rr.reference])).content.decode()
    assert '<select name="department"' in page
    response = client.post(
        reverse("records:request-upload", args=[rr.reference]),
        {"files": [named(jpeg_bytes(), "IMG_1.jpg")]},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Choose the department these files come from."
    assert not GatheredItem.objects.exists()
