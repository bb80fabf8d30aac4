"""A task submitted by the web process runs in a separate worker process on the same database."""

import os

import pytest

from records.tasks import confirm_worker_sees_request
from tests.factories import RecordsRequestFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_task_submitted_here_runs_in_the_worker_process_and_reads_our_rows(celery_worker_process, settings):
    records_request = RecordsRequestFactory(reference="26-04242")
    result = confirm_worker_sees_request.delay(records_request.pk)
    try:
        answer = result.get(timeout=90)
    except Exception:
        print(celery_worker_process.output())
        raise
    assert answer["pid"] != os.getpid()
    assert answer["reference"] == "26-04242"
