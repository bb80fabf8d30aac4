"""The API refuses what the pages refuse, with the same reasons: empty files, future dates."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from records.models import GatheredItem, ItemStatus, RecordsRequest
from tests.api.helpers import upload, zip_upload
from tests.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


def test_an_empty_file_pushed_over_the_api_is_refused_as_empty_and_the_others_are_stored(
    police_client, open_request
):
    response = police_client.post(
        f"/api/v1/requests/{open_request.pk}/items/",
        {"department": "PD", "files": [upload("blank.jpg", b""), upload("IMG_1.jpg", jpeg_bytes())]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    results = {o["name"]: (o["result"], o["reason"]) for o in response.json()["outcomes"]}
    assert results == {"blank.jpg": ("refused", "this file is empty"), "IMG_1.jpg": ("stored", "")}
    assert GatheredItem.objects.get(file_name="blank.jpg").status == ItemStatus.REFUSED


def test_an_empty_entry_of_a_pushed_zip_is_refused_as_empty(police_client, open_request):
    response = police_client.post(
        f"/api/v1/requests/{open_request.pk}/items/",
        {"department": "PD", "zip": zip_upload({"blank.jpg": b"", "IMG_1.jpg": jpeg_bytes()})},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    results = {o["name"]: (o["result"], o["reason"]) for o in response.json()["outcomes"]}
    assert results == {"blank.jpg": ("refused", "this file is empty"), "IMG_1.jpg": ("stored", "")}


def test_a_request_received_in_the_future_is_refused_over_the_api(clerk_client):
    response = clerk_client.post(
        "/api/v1/requests/",
        {
            "requester_name": "Ada Resident",
            "description": "Parcel photos",
            "received_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and "is in the future" in error["message"]
    assert not RecordsRequest.objects.exists()
