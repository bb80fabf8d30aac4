"""Forms refuse what they should, each with its own reason: empty files, future received
dates, status moves the workflow does not allow."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from records.errors import InvalidInput
from records.models import GatheredItem, ItemStatus, RecordsRequest, ReferenceCounter, RequestStatus
from records.services.intake import gather_zip
from records.services.requests import open_request
from tests.factories import DepartmentFactory, RecordsRequestFactory, jpeg_bytes, make_clerk, zip_bytes

pytestmark = pytest.mark.django_db


def named(data: bytes, name: str) -> io.BytesIO:
    stream = io.BytesIO(data)
    stream.name = name
    return stream


# ------------------------------------------------------------------------------ empty files


def test_an_empty_file_on_the_page_is_refused_as_empty_and_the_others_are_gathered(client):
    police = DepartmentFactory(code="PD")
    client.force_login(make_clerk())
    rr = RecordsRequestFactory()
    response = client.post(
        reverse("records:request-upload", args=[rr.reference]),
        {"department": police.pk, "files": [named(b"", "blank.jpg"), named(jpeg_bytes(), "IMG_1.jpg")]},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200, response.content
    results = {o["name"]: (o["result"], o["reason"]) for o in response.json()["outcomes"]}
    assert results == {"blank.jpg": ("refused", "this file is empty"), "IMG_1.jpg": ("stored", "")}
    refused = GatheredItem.objects.get(file_name="blank.jpg")
    assert refused.status == ItemStatus.REFUSED and refused.error_reason == "this file is empty"
    assert refused.department == police  # kept, so the packet index lists it with its fate


def test_a_single_empty_file_on_the_page_is_not_blamed_on_the_department(client):
    police = DepartmentFactory(code="PD")
    client.force_login(make_clerk())
    rr = RecordsRequestFactory()
    response = client.post(
        reverse("records:request-upload", args=[rr.reference]),
        {"department": police.pk, "files": [named(b"", "blank.jpg")]},
        follow=True,
    )
    page = response.content.decode()
    assert "blank.jpg: this file is empty" in page
    assert "Choose a department" not in page


def test_an_empty_zip_entry_is_refused_as_empty_beside_the_entries_that_are_gathered():
    police = DepartmentFactory(code="PD")
    archive = zip_bytes({"PD/blank.jpg": b"", "PD/IMG_1.jpg": jpeg_bytes()})
    report = gather_zip(
        actor=make_clerk(), records_request=RecordsRequestFactory(), zip_file=io.BytesIO(archive)
    )
    results = {o.name: (o.result, o.reason) for o in report.outcomes}
    assert results == {"blank.jpg": ("refused", "this file is empty"), "IMG_1.jpg": ("stored", "")}
    assert GatheredItem.objects.get(file_name="blank.jpg").department == police


# ------------------------------------------------------------------------ future received dates


def new_request_form(received: datetime.datetime) -> dict:
    return {
        "requester_name": "Ada Resident",
        "requester_kind": "resident",
        "description": "Photos of 5th and Main",
        "received_at": timezone.localtime(received).strftime("%Y-%m-%dT%H:%M"),
    }


def test_a_received_date_in_the_future_is_refused_on_the_form_and_numbers_nothing(client):
    client.force_login(make_clerk())
    future = timezone.make_aware(datetime.datetime(2031, 3, 3, 10, 0))
    response = client.post(reverse("records:request-new"), new_request_form(future))
    assert response.status_code == 200  # the form again, with the reason beside the field
    assert "is in the future" in response.context["form"].errors["received_at"][0]
    assert not RecordsRequest.objects.exists()
    assert not ReferenceCounter.objects.filter(year=2031).exists()


def test_the_live_deadline_preview_refuses_a_future_received_date_instead_of_computing_one(client):
    client.force_login(make_clerk())
    future = timezone.localtime() + datetime.timedelta(days=400)
    response = client.get(
        reverse("records:deadline-preview"), {"received": future.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 400
    assert "in the future" in response.json()["error"]["message"]
    today = client.get(
        reverse("records:deadline-preview"), {"received": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    )
    assert today.status_code == 200 and today.json()["due"]


def test_a_received_date_a_minute_ahead_of_the_clock_is_accepted_as_clock_skew(client):
    client.force_login(make_clerk())
    ahead = timezone.now() + datetime.timedelta(minutes=1)
    response = client.post(reverse("records:request-new"), new_request_form(ahead))
    assert response.status_code == 302
    assert RecordsRequest.objects.count() == 1


def test_the_service_refuses_a_future_received_date_with_a_clear_message():
    with pytest.raises(InvalidInput, match="is in the future"):
        open_request(
            actor=make_clerk(),
            requester_name="Ada Resident",
            description="Photos",
            received_at=timezone.now() + datetime.timedelta(days=1),
        )


# ------------------------------------------------------------------------------- status form


def status_options(page: str) -> tuple[list[str], str | None]:
    select = re.search(r'<select name="to_status".*?</select>', page, re.S)
    if select is None:
        return [], None
    options = re.findall(r'<option value="([a-z_]+)"( selected)?>', select.group(0))
    return [value for value, _ in options], next((value for value, chosen in options if chosen), None)


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        ("received", ["received", "gathering", "withdrawn", "denied"]),
        ("gathering", ["gathering", "deduplicating", "withdrawn", "denied"]),
        ("in_review", ["in_review", "gathering", "deduplicating", "released", "withdrawn", "denied"]),
        ("released", ["released", "closed"]),
        ("denied", ["denied", "closed"]),
    ],
)
def test_the_status_form_preselects_the_current_status_and_offers_only_allowed_moves(client, status, offered):
    client.force_login(make_clerk())
    rr = RecordsRequestFactory(status=status)
    page = client.get(reverse("records:request-detail", args=[rr.reference])).content.decode()
    assert status_options(page) == (offered, status)


@pytest.mark.parametrize("status", [RequestStatus.CLOSED, RequestStatus.WITHDRAWN])
def test_a_request_that_can_move_no_further_shows_no_status_form(client, status):
    client.force_login(make_clerk())
    rr = RecordsRequestFactory(status=status)
    page = client.get(reverse("records:request-detail", args=[rr.reference])).content.decode()
    assert status_options(page) == ([], None)
    assert "moves no further" in page


def test_submitting_the_preselected_status_changes_nothing_and_says_so(client):
    client.force_login(make_clerk())
    rr = RecordsRequestFactory(status=RequestStatus.GATHERING)
    response = client.post(
        reverse("records:request-status", args=[rr.reference]), {"to_status": "gathering"}, follow=True
    )
    assert "The status is already gathering." in response.content.decode()
    assert not rr.transitions.exists()
