"""A dedupe run through the real broker and a real worker process, including a killed worker."""

from __future__ import annotations

import io
import random
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from PIL import Image, ImageDraw

from dedupe.core.pipeline import run_dedupe, sources_from_folder
from dedupe.models import DedupeRun, GroupMembership, ImageFingerprint, ItemImage, RunState
from records.errors import Conflict
from records.models import GatheredItem
from records.selectors import current_groups
from records.services.dedupe_runs import start_run
from records.services.intake import gather_files
from tests.dedupe_runs.helpers import gathered_request
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_clerk

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float, worker=None, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    if worker is not None:
        print(worker.output()[-5000:])
    raise AssertionError("timed out waiting")


def finished(run_id: int) -> DedupeRun | None:
    run = DedupeRun.objects.get(pk=run_id)
    return run if run.state in (RunState.COMPLETED, RunState.FAILED) else None


def export_folder(rr, root: Path) -> None:
    """Write the request's gathered files as dedupe_folder reads them: department/path."""
    for item in GatheredItem.objects.filter(request=rr, status="stored").select_related("department", "blob"):
        target = root / item.gathered_path
        target.parent.mkdir(parents=True, exist_ok=True)
        with item.blob.file.open("rb") as src:
            target.write_bytes(src.read())


def test_a_run_on_a_real_worker_completes_with_the_engines_groups(celery_worker_process, tmp_path):
    clerk, rr = gathered_request()
    run = start_run(actor=clerk, records_request=rr)
    run = wait_for(lambda: finished(run.pk), 120, celery_worker_process)
    assert run.state == RunState.COMPLETED, run.error
    stored = {
        g.authoritative.key: sorted(m.image.key for m in g.memberships.all() if not m.is_authoritative)
        for g in current_groups(clerk, rr)
    }
    export_folder(rr, tmp_path / "folder")
    engine = run_dedupe(sources_from_folder(tmp_path / "folder"), jobs=1, departments_of_record=["PLN"])
    expected = {g.authoritative: sorted(m.key for m in g.members) for g in engine.groups}
    assert stored == expected


def photo_batch(count: int) -> list[tuple[str, bytes]]:
    """Distinct scenes (random shapes over sensor noise) large enough that a run takes a few seconds.

    Each scene's layout differs, so no two are near-duplicates and grouping stays cheap.
    """
    files = []
    for n in range(count):
        rng = random.Random(n)
        image = Image.effect_noise((1600, 1200), 30).convert("RGB")
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = rng.randrange(1600), rng.randrange(1200)
            w, h = rng.randrange(100, 700), rng.randrange(100, 500)
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x, y, x + w, y + h), fill=colour)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        files.append((f"batch/IMG_{n:04d}.jpg", buffer.getvalue()))
    return files


def test_a_worker_killed_mid_run_leaves_nothing_lost_or_duplicated(worker_factory):
    clerk = make_clerk()
    department = DepartmentFactory(code="PW")
    rr = RecordsRequestFactory(status="gathering")
    files = photo_batch(48)
    gather_files(
        actor=clerk, records_request=rr, department=department, files=[(n, io.BytesIO(d)) for n, d in files]
    )
    started = time.monotonic()
    first = worker_factory()
    run = start_run(actor=clerk, records_request=rr)
    wait_for(lambda: DedupeRun.objects.get(pk=run.pk).blobs_done >= 8, 120, first)
    first.kill()
    print(f"killed after {time.monotonic() - started:.1f} s")
    assert DedupeRun.objects.get(pk=run.pk).state == RunState.RUNNING
    second = worker_factory()
    run = wait_for(lambda: finished(run.pk), 180, second, every=0.5)
    print(f"completed after {time.monotonic() - started:.1f} s")
    assert run.state == RunState.COMPLETED, run.error
    shas = set(GatheredItem.objects.filter(request=rr).values_list("sha256", flat=True))
    assert len(shas) == 48
    fingerprints = list(ImageFingerprint.objects.filter(blob_id__in=shas).values_list("blob_id", "page"))
    assert sorted(fingerprints) == sorted((sha, 0) for sha in shas)  # each exactly once
    assert ItemImage.objects.filter(item__request=rr).count() == 48
    assert run.blobs_done == run.blobs_total == 48
    assert run.counts["total"]["gathered"] == 48


def test_two_runs_started_at_once_do_not_both_proceed(celery_worker_process):
    clerk, rr = gathered_request()
    outcomes: list[str] = []

    def start():
        try:
            start_run(actor=clerk, records_request=rr)
            outcomes.append("started")
        except Conflict as refused:
            outcomes.append(refused.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["run_already_active", "started"]
    run = DedupeRun.objects.get(request=rr)
    wait_for(lambda: finished(run.pk), 120, celery_worker_process)
    assert GroupMembership.objects.filter(group__run=run).exists()
