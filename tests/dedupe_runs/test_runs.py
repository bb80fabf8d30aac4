"""A dedupe run of a request: planned, fingerprinted in chunks, grouped, persisted, re-run."""

import datetime

import pytest
from django.utils import timezone

from dedupe import tasks as dedupe_tasks
from dedupe.core.types import FINGERPRINT_ALGORITHM_VERSION
from dedupe.models import DedupeRun, DuplicateGroup, ImageFingerprint, ItemImage, PairChunk, RunState
from dedupe.runs import fingerprinting, verification
from dedupe.runs.engine_inputs import run_images
from dedupe.runs.grouping import engine_groups
from dedupe.runs.liveness import stall_limit
from dedupe.runs.progress import run_progress
from records.errors import Conflict
from records.models import AuditEvent, RequestStatus
from records.selectors import current_groups
from records.services.decisions import choose_authoritative, merge_groups, split_member
from records.services.dedupe_runs import start_run
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch):
    q = InProcessQueue()
    q.install(monkeypatch)
    return q


def run_to_completion(clerk, rr, queue, capture):
    with capture(execute=True):
        run = start_run(actor=clerk, records_request=rr)
    queue.drain()
    run.refresh_from_db()
    return run


def run_until_comparing(queue, capture) -> None:
    """Start a run on gathered_request() and run its steps until pairs are to be compared."""
    clerk, rr = gathered_request()
    with capture(execute=True):
        start_run(actor=clerk, records_request=rr)
    while queue.pending and queue.pending[0][0] != "verify_pair_chunk":
        with capture(execute=True):
            queue.deliver_next()


def groups_by_authority(user, rr):
    return {
        g.authoritative.key: sorted(m.image.key for m in g.memberships.all() if not m.is_authoritative)
        for g in current_groups(user, rr)
    }


def test_a_run_groups_copies_across_departments_around_the_department_of_record(
    queue, django_capture_on_commit_callbacks
):
    clerk, rr = gathered_request()
    run = run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    assert run.state == RunState.COMPLETED, run.error
    groups = groups_by_authority(clerk, rr)
    assert groups["PLN/IMG_20240312_101502.jpg"] == ["PD/case/astronaut.jpg", "PW/astronaut_small.jpg"]
    assert groups["PLN/coffee.png"] == ["PW/coffee_turned.jpg"]
    assert len(groups) == 2
    group = DuplicateGroup.objects.get(authoritative__key="PLN/IMG_20240312_101502.jpg")
    assert group.rule == "department_of_record"
    relations = {m.image.key: m.relation for m in group.memberships.all()}
    assert relations["PD/case/astronaut.jpg"] == "exact"
    assert relations["PW/astronaut_small.jpg"] == "same_image"
    rr.refresh_from_db()
    assert rr.status == RequestStatus.IN_REVIEW


def test_an_unreadable_file_becomes_an_image_with_a_reason_and_the_run_goes_on(
    queue, django_capture_on_commit_callbacks
):
    clerk, rr = gathered_request()
    run = run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    notes = ItemImage.objects.get(key="PD/truncated.jpg")
    assert notes.unreadable_reason
    assert run.counts["total"]["gathered"] == 7
    assert run.counts["total"]["unreadable"] == 1
    assert run.counts["total"]["exact_duplicates"] == 1
    assert run.counts["total"]["near_duplicates"] == 2
    assert run.counts["departments"]["PD"]["exact_duplicates"] == 1


def test_the_file_name_date_belongs_to_the_item_not_the_bytes(queue, django_capture_on_commit_callbacks):
    clerk, rr = gathered_request()
    run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    named = ItemImage.objects.get(key="PLN/IMG_20240312_101502.jpg")
    copy = ItemImage.objects.get(key="PD/case/astronaut.jpg")
    assert named.fingerprint_id == copy.fingerprint_id
    assert named.capture_date == "2024-03-12T10:15:02"
    assert named.capture_date_source == "file_name"
    assert copy.capture_date_source == "unknown"


def test_a_second_run_while_one_is_active_is_refused(queue, django_capture_on_commit_callbacks):
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        start_run(actor=clerk, records_request=rr)
    with pytest.raises(Conflict, match="already running"):
        start_run(actor=clerk, records_request=rr)


def test_a_rerun_fingerprints_nothing_again_and_gives_the_same_groups(
    queue, django_capture_on_commit_callbacks
):
    clerk, rr = gathered_request()
    run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    first = groups_by_authority(clerk, rr)
    fingerprints = ImageFingerprint.objects.count()
    queue.sent.clear()
    second_run = run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    assert second_run.blobs_total == 0
    assert not [s for s in queue.sent if s[0] == "fingerprint_chunk"]
    assert ImageFingerprint.objects.count() == fingerprints
    assert groups_by_authority(clerk, rr) == first


def test_every_step_can_run_twice_without_harm(queue, django_capture_on_commit_callbacks):
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(actor=clerk, records_request=rr)
    # Deliver every message twice, as a broker may after a worker dies.
    while queue.pending:
        step = queue.pending.popleft()
        with django_capture_on_commit_callbacks(execute=True):
            queue.deliver(step)
            queue.deliver(step)
    run.refresh_from_db()
    assert run.state == RunState.COMPLETED
    assert run.blobs_done == run.blobs_total
    assert ItemImage.objects.count() == 7
    assert DuplicateGroup.objects.filter(run=run).count() == 2


def test_clerk_decisions_survive_a_rerun_and_are_shown_as_the_clerks(
    queue, django_capture_on_commit_callbacks
):
    clerk, rr = gathered_request()
    run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    astronaut = DuplicateGroup.objects.get(authoritative__key="PLN/IMG_20240312_101502.jpg")
    small = ItemImage.objects.get(key="PW/astronaut_small.jpg")
    exact = ItemImage.objects.get(key="PD/case/astronaut.jpg")
    choose_authoritative(actor=clerk, group=astronaut, image=exact, reason="Police case file is the record")
    astronaut = DuplicateGroup.objects.get(authoritative=exact)
    split_member(actor=clerk, group=astronaut, image=small, reason="A different shot")
    assert AuditEvent.objects.filter(verb__in=["authority_overridden", "member_split"]).count() == 2

    run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    groups = groups_by_authority(clerk, rr)
    assert groups["PD/case/astronaut.jpg"] == ["PLN/IMG_20240312_101502.jpg"]
    regrouped = DuplicateGroup.objects.get(
        run=DedupeRun.objects.first(), authoritative__key="PD/case/astronaut.jpg"
    )
    assert regrouped.rule == "clerk_override"
    assert regrouped.reason == f"chosen by {clerk.username}: Police case file is the record"
    assert not any("PW/astronaut_small.jpg" in members for members in groups.values())


def test_merged_groups_stay_merged_after_a_rerun(queue, django_capture_on_commit_callbacks):
    clerk, rr = gathered_request()
    run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    astronaut = DuplicateGroup.objects.get(authoritative__key="PLN/IMG_20240312_101502.jpg")
    coffee = DuplicateGroup.objects.get(authoritative__key="PLN/coffee.png")
    merge_groups(actor=clerk, into=astronaut, other=coffee, reason="Same incident file")
    assert "PLN/coffee.png" in groups_by_authority(clerk, rr)["PLN/IMG_20240312_101502.jpg"]
    run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    merged = [members for members in groups_by_authority(clerk, rr).values() if "PLN/coffee.png" in members]
    assert merged, groups_by_authority(clerk, rr)


def test_progress_reports_done_total_phase_and_time_left(
    queue, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(fingerprinting, "CHUNK_BLOBS", 2)
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(actor=clerk, records_request=rr)
    with django_capture_on_commit_callbacks(execute=True):
        queue.deliver_next()  # plan_run
    assert queue.pending[0][0] == "fingerprint_chunk"
    queue.deliver_next()
    run.refresh_from_db()
    progress = run_progress(run)
    assert progress.phase == "fingerprinting"
    assert (progress.done, progress.total) == (2, 6)  # six distinct blobs, two per chunk
    assert progress.unit == "files"
    assert run.chunks_total == 3
    assert progress.remaining_seconds is not None


def test_candidate_pairs_are_compared_in_chunks_any_worker_can_take(
    queue, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(verification, "CHUNK_PAIRS", 1)
    clerk, rr = gathered_request()
    run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    run = DedupeRun.objects.get()
    sent = [name for name, _ in queue.sent]
    assert sent.index("plan_verification") < sent.index("verify_pair_chunk") < sent.index("group_run")
    chunks = list(PairChunk.objects.filter(run=run))
    to_compare = [c for c in chunks if c.index > 0]
    assert run.pairs_total == len(to_compare) >= 2  # one pair per chunk here
    assert run.pairs_done == run.pairs_total
    assert all(c.done and len(c.results) == len(c.checks) for c in chunks)
    # The groups are the engine's own, as if one process had compared every pair.
    grouped = engine_groups(run, run_images(run)[1])
    assert {g.authoritative for g in grouped} == set(
        DuplicateGroup.objects.filter(run=run).values_list("authoritative__key", flat=True)
    )


def test_progress_while_comparing_counts_pairs(queue, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(verification, "CHUNK_PAIRS", 1)
    run_until_comparing(queue, django_capture_on_commit_callbacks)
    queue.deliver_next()  # verify_pair_chunk
    progress = run_progress(DedupeRun.objects.get())
    assert progress.phase == "verifying"
    assert progress.phase_label == "Comparing candidate pairs"
    assert progress.done == 1 and progress.total >= 2
    assert progress.unit == "pairs"  # the page says "1 of N pairs", not files
    assert progress.remaining_seconds is not None


def test_a_run_stalled_while_comparing_gets_its_pairs_sent_again(
    queue, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(verification, "CHUNK_PAIRS", 1)
    run_until_comparing(queue, django_capture_on_commit_callbacks)
    lost = len(queue.pending)
    queue.pending.clear()  # the worker holding them was killed
    DedupeRun.objects.update(progress_at=timezone.now() - datetime.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert dedupe_tasks.resume_stalled_runs(stalled_after=datetime.timedelta(minutes=1)) == 1
    assert [name for name, _ in queue.pending] == ["verify_pair_chunk"] * lost
    queue.drain()
    run = DedupeRun.objects.get()
    assert run.state == RunState.COMPLETED
    assert DuplicateGroup.objects.filter(run=run).count() == 2


def test_a_stalled_run_is_sent_again_by_the_watchdog_and_a_progressing_one_is_not(
    queue, django_capture_on_commit_callbacks
):
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(actor=clerk, records_request=rr)
    queue.deliver_next()  # plan_run
    queue.pending.clear()  # the broker lost every chunk message with a killed worker
    assert dedupe_tasks.resume_stalled_runs(stalled_after=stall_limit()) == 0  # it was heard from just now
    DedupeRun.objects.filter(pk=run.pk).update(progress_at=timezone.now() - datetime.timedelta(minutes=5))
    assert dedupe_tasks.resume_stalled_runs(stalled_after=stall_limit()) == 1
    queue.drain()
    run.refresh_from_db()
    assert run.state == RunState.COMPLETED


def test_an_accepted_group_is_audited_and_stays_accepted_while_a_rerun_leaves_it_unchanged(
    queue, django_capture_on_commit_callbacks
):
    from records.services.decisions import accept_group

    clerk, rr = gathered_request()
    run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    coffee = DuplicateGroup.objects.get(authoritative__key="PLN/coffee.png")
    accept_group(actor=clerk, group=coffee)
    assert AuditEvent.objects.filter(verb="group_accepted").count() == 1
    rerun = run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    again = DuplicateGroup.objects.get(run=rerun, authoritative__key="PLN/coffee.png")
    assert again.accepted_by == clerk and again.accepted_at is not None
    other = DuplicateGroup.objects.get(run=rerun, authoritative__key="PLN/IMG_20240312_101502.jpg")
    assert other.accepted_at is None


def _as_if_fingerprinted_by_an_older_release() -> None:
    ImageFingerprint.objects.update(algorithm_version="pd-fp-0")


def test_after_a_fingerprint_upgrade_a_rerun_fingerprints_again_and_keeps_its_groups(
    queue, django_capture_on_commit_callbacks
):
    clerk, rr = gathered_request()
    run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    first = groups_by_authority(clerk, rr)
    blobs = ImageFingerprint.objects.values("blob_id").distinct().count()
    _as_if_fingerprinted_by_an_older_release()
    rerun = run_to_completion(clerk, rr, queue, django_capture_on_commit_callbacks)
    assert rerun.blobs_total == blobs
    assert groups_by_authority(clerk, rr) == first
    assert all(
        image.fingerprint.algorithm_version == FINGERPRINT_ALGORITHM_VERSION
        for image in ItemImage.objects.filter(item__request=rr).select_related("fingerprint")
    )
