"""The first files of a request move it to gathering once, however many uploads race for it."""

import io

import pytest

from records.models import AuditEvent, RecordsRequest, RequestStatus, StatusTransition
from records.services.intake import gather_files, gather_uploads
from records.services.requests import move_status, move_status_if
from tests.factories import DepartmentFactory, RecordsRequestFactory, jpeg_bytes, make_clerk, make_uploader

pytestmark = pytest.mark.django_db


def opened_request():
    rr = RecordsRequestFactory()
    StatusTransition.objects.create(request=rr, from_status="", to_status="received", at=rr.received_at)
    return rr


def test_an_upload_that_read_the_request_as_received_still_gathers_and_records_its_event():
    police = DepartmentFactory(code="PD")
    clerk = make_clerk()
    rr = opened_request()
    stale = RecordsRequest.objects.get(pk=rr.pk)  # read as "received", like a parallel upload
    gather_files(
        actor=clerk, records_request=rr, department=police, files=[("first.jpg", io.BytesIO(jpeg_bytes()))]
    )
    assert stale.status == RequestStatus.RECEIVED

    report = gather_files(
        actor=clerk,
        records_request=stale,
        department=police,
        files=[("second.jpg", io.BytesIO(jpeg_bytes((1, 2, 3))))],
    )

    assert report.counts["stored"] == 1
    assert stale.status == RequestStatus.GATHERING  # refreshed from the locked row
    moves = StatusTransition.objects.filter(request=rr).exclude(from_status="")
    assert [(t.from_status, t.to_status) for t in moves] == [("received", "gathering")]
    gathered = AuditEvent.objects.filter(request=rr, verb="gathered")
    assert gathered.count() == 2
    assert all(e.details["stored"] == 1 for e in gathered)


def test_an_uploader_whose_request_was_read_before_another_upload_gets_no_conflict():
    police = DepartmentFactory(code="PD")
    uploader = make_uploader(police)
    rr = opened_request()
    stale = RecordsRequest.objects.get(pk=rr.pk)
    gather_uploads(
        actor=uploader, records_request=rr, department=police, files=[("a.jpg", io.BytesIO(jpeg_bytes()))]
    )
    report = gather_uploads(
        actor=uploader,
        records_request=stale,
        department=police,
        files=[("b.jpg", io.BytesIO(jpeg_bytes((9, 9, 9))))],
    )
    assert [o.result for o in report.outcomes] == ["stored"]
    assert AuditEvent.objects.filter(request=rr, verb="gathered").count() == 2


def test_a_conditional_move_leaves_a_request_that_already_moved_alone():
    clerk = make_clerk()
    rr = RecordsRequestFactory()
    stale = RecordsRequest.objects.get(pk=rr.pk)
    move_status(actor=clerk, records_request=rr, to_status=RequestStatus.WITHDRAWN)

    moved = move_status_if(
        actor=clerk,
        records_request=stale,
        from_statuses=frozenset({RequestStatus.RECEIVED}),
        to_status=RequestStatus.GATHERING,
    )

    assert moved is False
    assert stale.status == RequestStatus.WITHDRAWN
    rr.refresh_from_db()
    assert rr.status == RequestStatus.WITHDRAWN
    assert StatusTransition.objects.filter(request=rr, to_status=RequestStatus.GATHERING).count() == 0
