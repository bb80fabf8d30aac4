"""Many files chosen at once for a new request arrive as parallel uploads; every one succeeds.

The request page sends each chosen file in its own request (static/js/desk.js), so the
first upload of a request is really several at once, each of which read the request as
"received". Run in threads, each with its own database connection, against the test
database: PostgreSQL in the services pass (real row locks), the SQLite file otherwise.
"""

from __future__ import annotations

import io
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from records.models import AuditEvent, GatheredItem, ItemStatus, RequestStatus, StatusTransition
from records.services.requests import open_request
from tests.factories import DepartmentFactory, jpeg_bytes, make_clerk, make_uploader

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

UPLOADS = 8


def test_parallel_first_uploads_all_succeed_move_the_request_once_and_record_one_event_each(
    tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    police = DepartmentFactory(code="PD", name="Police")
    uploader = make_uploader(police)
    rr = open_request(actor=make_clerk(), requester_name="Ada Resident", description="Photos of 5th and Main")
    url = reverse("records:request-upload", args=[rr.reference])
    start = threading.Barrier(UPLOADS)
    answers: dict[int, tuple[int, dict]] = {}

    def upload(n: int) -> None:
        try:
            client = Client()
            client.force_login(uploader)
            photo = io.BytesIO(jpeg_bytes((n * 30 % 256, 40, 200 - n * 10)))
            photo.name = f"IMG_{n:04d}.jpg"
            start.wait(timeout=60)
            response = client.post(
                url, {"department": police.pk, "files": [photo]}, headers={"accept": "application/json"}
            )
            answers[n] = (response.status_code, response.json())
        finally:
            connection.close()  # this thread's connection, so the test database can be torn down

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(UPLOADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert {n: status for n, (status, _) in answers.items()} == dict.fromkeys(range(UPLOADS), 200), answers
    assert all(body["outcomes"][0]["result"] == "stored" for _, body in answers.values())
    assert GatheredItem.objects.filter(request=rr, status=ItemStatus.STORED).count() == UPLOADS
    rr.refresh_from_db()
    assert rr.status == RequestStatus.GATHERING
    moves = StatusTransition.objects.filter(request=rr).order_by("at", "id")
    assert [(t.from_status, t.to_status) for t in moves] == [("", "received"), ("received", "gathering")]
    gathered = AuditEvent.objects.filter(request=rr, verb="gathered")
    assert gathered.count() == UPLOADS
    assert sum(e.details["stored"] for e in gathered) == UPLOADS
