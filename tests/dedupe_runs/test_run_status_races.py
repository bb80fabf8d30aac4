"""A run that finishes after a clerk moved its request finishes without undoing the clerk's move."""

import io

import pytest

from dedupe.models import DuplicateGroup, RunState
from dedupe.runs import grouping
from records.models import RecordsRequest, RequestStatus, StatusTransition
from records.services.dedupe_runs import start_run
from records.services.intake import gather_files
from records.services.requests import move_status
from tests.dedupe_runs.helpers import InProcessQueue
from tests.factories import DepartmentFactory, RecordsRequestFactory, jpeg_bytes, make_clerk

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch):
    q = InProcessQueue()
    q.install(monkeypatch)
    return q


def request_with_a_copy(clerk):
    police = DepartmentFactory(code="PD")
    rr = RecordsRequestFactory(status=RequestStatus.GATHERING)
    photo = jpeg_bytes((120, 30, 200), size=(96, 64))
    gather_files(
        actor=clerk,
        records_request=rr,
        department=police,
        files=[("a.jpg", io.BytesIO(photo)), ("copy/a.jpg", io.BytesIO(photo))],
    )
    return rr


@pytest.mark.parametrize("clerk_moves_to", [RequestStatus.WITHDRAWN, RequestStatus.GATHERING])
def test_a_clerk_moving_the_request_while_it_is_grouped_does_not_fail_the_run(
    queue, django_capture_on_commit_callbacks, monkeypatch, clerk_moves_to
):
    clerk = make_clerk()
    rr = request_with_a_copy(clerk)
    group = grouping.engine_groups

    def grouping_while_the_clerk_acts(run, *args, **kwargs):
        # group_run has read the request as deduplicating; the clerk acts before it persists.
        fresh = RecordsRequest.objects.get(pk=rr.pk)
        move_status(actor=clerk, records_request=fresh, to_status=clerk_moves_to, note="the clerk's own move")
        return group(run, *args, **kwargs)

    monkeypatch.setattr(grouping, "engine_groups", grouping_while_the_clerk_acts)
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(actor=clerk, records_request=rr)
    queue.drain()

    run.refresh_from_db()
    assert run.state == RunState.COMPLETED, run.error
    assert DuplicateGroup.objects.filter(run=run).count() == 1
    rr.refresh_from_db()
    assert rr.status == clerk_moves_to
    assert not StatusTransition.objects.filter(request=rr, to_status=RequestStatus.IN_REVIEW).exists()
