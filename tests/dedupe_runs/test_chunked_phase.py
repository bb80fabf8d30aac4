"""Both chunked phases (fingerprinting, comparing pairs) move the same way: any delivery of
any chunk is harmless, and the last one moves the run on exactly once."""

import pytest

from dedupe import tasks as dedupe_tasks
from dedupe.models import DedupeChunk, DedupeRun, PairChunk, RunPhase
from dedupe.runs import fingerprinting, verification
from dedupe.runs.next_steps import NextStep, Step
from dedupe.runs.steps import run_step
from records.services.dedupe_runs import start_run
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch):
    monkeypatch.setattr(fingerprinting, "CHUNK_BLOBS", 2)
    monkeypatch.setattr(verification, "CHUNK_PAIRS", 1)
    return InProcessQueue().install(monkeypatch)


def refuse_to_send(steps):
    raise AssertionError(f"a step sent {steps} itself instead of returning them")


def until(queue, step: Step) -> list[NextStep]:
    """Deliver the queue's steps until the chunks of `step` are pending; take those."""
    while queue.pending[0].step != step:
        queue.deliver_next()
    chunks = list(queue.pending)
    queue.pending.clear()
    return chunks


@pytest.mark.parametrize(
    ("chunk_step", "chunks", "phase", "next_step"),
    [
        (Step.FINGERPRINT_CHUNK, DedupeChunk, RunPhase.FINGERPRINTING, Step.PLAN_VERIFICATION),
        (Step.VERIFY_PAIR_CHUNK, PairChunk, RunPhase.VERIFYING, Step.GROUP_RUN),
    ],
)
def test_the_last_chunk_moves_the_run_on_once_however_often_each_is_delivered(
    queue, django_capture_on_commit_callbacks, monkeypatch, chunk_step, chunks, phase, next_step
):
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(actor=clerk, records_request=rr)
    pending = until(queue, chunk_step)
    assert len(pending) >= 2
    monkeypatch.setattr(dedupe_tasks, "sender", refuse_to_send)

    for step in pending[:-1]:
        assert run_step(step) == [] and run_step(step) == []  # nothing follows while chunks remain
    assert DedupeRun.objects.get(pk=run.pk).phase == phase
    assert run_step(pending[-1]) == [NextStep(next_step, (run.pk,))]
    assert run_step(pending[-1]) == []  # a second delivery of the last chunk moves nothing
    assert all(run_step(step) == [] for step in pending)
    assert not chunks.objects.filter(run=run, done=False).exists()
    assert DedupeRun.objects.get(pk=run.pk).phase != phase
