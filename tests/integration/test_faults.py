"""Faults on this machine's real services mid-run: the run finishes, nothing lost or duplicated.

These restart the PostgreSQL and Redis servers the services pass uses, so they run only
there (DATABASE_URL=postgres://..., CELERY_BROKER_URL=redis://...). The worker-kill fault
runs on every setup (tests/integration/test_dedupe_run.py).
"""

from __future__ import annotations

import io
import os
import subprocess
import time

import pytest
from django.conf import settings
from django.db import connection, connections

from dedupe.models import DedupeRun, ImageFingerprint, ItemImage, RunState
from records.models import GatheredItem
from records.services.dedupe_runs import start_run
from records.services.intake import gather_files
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_clerk
from tests.integration.test_dedupe_run import photo_batch

on_services = settings.DATABASES["default"]["ENGINE"].endswith(
    "postgresql"
) and settings.CELERY_BROKER_URL.startswith("redis://")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not on_services, reason="restarts PostgreSQL and Redis: runs in the services pass"),
]

REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def postgres_cluster() -> list[str]:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def restart_redis() -> None:
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False, capture_output=True)
    time.sleep(1)
    subprocess.run(REDIS_START, check=True, capture_output=True)


def restart_postgres() -> None:
    subprocess.run([*postgres_cluster(), "restart"], check=True, capture_output=True, timeout=120)


def run_state(run_id: int) -> DedupeRun | None:
    """The run, reconnecting if the database went away under us."""
    try:
        return DedupeRun.objects.get(pk=run_id)
    except Exception:
        for conn in connections.all():
            conn.close()
        return None


def wait_until(predicate, timeout: float, worker) -> DedupeRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    print(worker.output()[-6000:])
    raise AssertionError("timed out")


def gathered(count: int):
    clerk = make_clerk()
    department = DepartmentFactory(code="PW")
    rr = RecordsRequestFactory(status="gathering")
    gather_files(
        actor=clerk,
        records_request=rr,
        department=department,
        files=[(n, io.BytesIO(d)) for n, d in photo_batch(count)],
    )
    return clerk, rr


def assert_complete_and_exact(run: DedupeRun, rr, count: int) -> None:
    assert run.state == RunState.COMPLETED, run.error
    shas = set(GatheredItem.objects.filter(request=rr).values_list("sha256", flat=True))
    assert len(shas) == count
    pairs = sorted(ImageFingerprint.objects.filter(blob_id__in=shas).values_list("blob_id", "page"))
    assert pairs == sorted((sha, 0) for sha in shas)  # every blob fingerprinted exactly once
    assert ItemImage.objects.filter(item__request=rr).count() == count
    assert run.blobs_done == run.blobs_total == count


def test_the_broker_restarted_empty_mid_run_and_the_run_still_completes(worker_factory):
    clerk, rr = gathered(120)
    worker = worker_factory()
    run = start_run(actor=clerk, records_request=rr)
    wait_until(lambda: (r := run_state(run.pk)) and r.blobs_done >= 8 and r, 120, worker)
    restart_redis()  # Redis here keeps nothing on disk: every queued message is gone
    done = wait_until(
        lambda: (r := run_state(run.pk)) and r.state in ("completed", "failed") and r, 240, worker
    )
    assert_complete_and_exact(done, rr, 120)


def test_postgresql_restarted_mid_run_and_the_run_still_completes(worker_factory):
    clerk, rr = gathered(120)
    worker = worker_factory()
    run = start_run(actor=clerk, records_request=rr)
    wait_until(lambda: (r := run_state(run.pk)) and r.blobs_done >= 8 and r, 120, worker)
    restart_postgres()
    connection.close()
    done = wait_until(
        lambda: (r := run_state(run.pk)) and r.state in ("completed", "failed") and r, 240, worker
    )
    assert_complete_and_exact(done, rr, 120)
