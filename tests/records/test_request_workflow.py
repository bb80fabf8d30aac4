"""Opening requests, the status workflow and deadline extensions."""

import datetime
import zoneinfo

import pytest

from records.errors import ExtensionRefused, IllegalTransition, NotPermitted
from records.models import AuditEvent, ExtensionGround, RequestStatus
from records.services.requests import extend_deadline, move_status, open_request
from tests.factories import make_clerk, make_manager

pytestmark = pytest.mark.django_db
LA = zoneinfo.ZoneInfo("America/Los_Angeles")


def _open(clerk, received=datetime.datetime(2026, 3, 4, 16, 30, tzinfo=LA)):
    return open_request(
        actor=clerk, requester_name="Ada Resident", description="Parcel photos", received_at=received
    )


def test_opening_a_request_numbers_it_by_year_and_computes_the_deadline():
    clerk = make_clerk()
    first = _open(clerk)
    second = _open(clerk)
    assert (first.reference, second.reference) == ("26-00001", "26-00002")
    assert first.due_date == datetime.date(2026, 3, 16)  # Sat Mar 14 rolls to Monday
    assert first.status == RequestStatus.RECEIVED
    event = AuditEvent.objects.get(request=first, verb="opened")
    assert "Saturday" in event.details["computation"]


def test_a_request_received_late_at_night_counts_from_the_california_date():
    # 11:30 pm in Los Angeles is already the next day in UTC; the deadline counts from the local date.
    rr = _open(make_clerk(), received=datetime.datetime(2026, 3, 3, 23, 30, tzinfo=LA))
    assert rr.due_date == datetime.date(2026, 3, 13)


def test_only_a_clerk_can_open_a_request():
    with pytest.raises(NotPermitted):
        _open(make_manager())


def test_status_moves_along_the_workflow_and_records_each_transition():
    clerk = make_clerk()
    rr = _open(clerk)
    for status in ("gathering", "deduplicating", "in_review", "released", "closed"):
        move_status(actor=clerk, records_request=rr, to_status=status)
    rr.refresh_from_db()
    assert rr.status == RequestStatus.CLOSED
    assert [t.to_status for t in rr.transitions.all()] == [
        "received",
        "gathering",
        "deduplicating",
        "in_review",
        "released",
        "closed",
    ]
    assert AuditEvent.objects.filter(request=rr, verb="status_changed").count() == 5


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((), "released"),
        (("gathering",), "closed"),
        (("withdrawn",), "gathering"),
        (("denied", "closed"), "received"),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_message(path, illegal):
    clerk = make_clerk()
    rr = _open(clerk)
    for status in path:
        move_status(actor=clerk, records_request=rr, to_status=status)
    with pytest.raises(IllegalTransition) as refused:
        move_status(actor=clerk, records_request=rr, to_status=illegal)
    assert "cannot become" in refused.value.message
    rr.refresh_from_db()
    assert rr.status == (path[-1] if path else "received")


def test_an_extension_needs_a_reason_and_a_ground_and_happens_once():
    clerk = make_clerk()
    rr = _open(clerk, received=datetime.datetime(2026, 3, 3, 9, 0, tzinfo=LA))
    with pytest.raises(ExtensionRefused, match="written reason"):
        extend_deadline(
            actor=clerk, records_request=rr, days=14, ground=ExtensionGround.VOLUMINOUS, reason=" "
        )
    with pytest.raises(ExtensionRefused, match="1 to 14"):
        extend_deadline(
            actor=clerk, records_request=rr, days=15, ground=ExtensionGround.VOLUMINOUS, reason="Many"
        )
    extended = extend_deadline(
        actor=clerk,
        records_request=rr,
        days=14,
        ground=ExtensionGround.VOLUMINOUS,
        reason="Photos from 6 depts",
    )
    assert extended.extended_due_date == datetime.date(2026, 3, 27)
    assert extended.current_due_date == datetime.date(2026, 3, 27)
    with pytest.raises(ExtensionRefused, match="already been extended"):
        extend_deadline(
            actor=clerk, records_request=rr, days=2, ground=ExtensionGround.VOLUMINOUS, reason="More"
        )
    assert AuditEvent.objects.filter(request=rr, verb="extended").count() == 1


def test_audit_events_cannot_be_edited_or_deleted():
    rr = _open(make_clerk())
    event = AuditEvent.objects.filter(request=rr).first()
    event.verb = "tampered"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
