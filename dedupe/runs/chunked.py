"""A phase of a run done in chunks by any worker: one state machine for every such phase.

Fingerprinting (DedupeChunk) and comparing candidate pairs (PairChunk) move alike:
the phase's chunks are dispatched (a second copy of a message is harmless); a worker
claims one only while its run is running (a stale copy of a message for a finished run
does nothing); it reports progress as it goes, a heartbeat the watchdog reads; it marks
the chunk done once (a conditional update, so a re-delivered chunk counts nothing
twice); and whichever caller sees no chunk left moves the run to the next phase with a
conditional update that exactly one caller wins, and only that caller returns the next
step. A stalled phase is resumed by dispatching its unfinished chunks again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.utils import timezone

from dedupe.models import DedupeChunk, DedupeRun, PairChunk, RunPhase, RunState
from dedupe.runs.liveness import touch
from dedupe.runs.next_steps import NextStep, Step, after

Chunk = DedupeChunk | PairChunk


@dataclass(frozen=True)
class ChunkedPhase:
    chunks: type[DedupeChunk] | type[PairChunk]
    phase: RunPhase
    next_phase: RunPhase
    chunk_step: Step  # the step that does one chunk
    next_step: Step  # the step that follows the phase
    counter: str  # the run's field counting the work done ("blobs_done", "pairs_done")
    heartbeat_field: str | None = None  # a chunk's field its worker touches as it goes
    finished_stamp: str | None = None  # the run's field stamped when the phase ends
    # False when the run enters the phase before its chunks are made (comparing pairs):
    # then no chunk at all means "not planned yet", not "nothing to do".
    chunks_exist_with_the_phase: bool = True

    def dispatch_pending(self, run_id: int) -> list[NextStep]:
        """Every unfinished chunk of the run, to be sent to the workers."""
        ids = list(self.chunks.objects.filter(run_id=run_id, done=False).values_list("pk", flat=True))
        self.chunks.objects.filter(pk__in=ids).update(dispatched_at=timezone.now())
        return [NextStep(self.chunk_step, (run_id, chunk_id)) for chunk_id in ids]

    def claim(self, run_id: int, chunk_id: int) -> Chunk | None:
        """The chunk, with its run, while the run is running; None for a stale message."""
        chunk = self.chunks.objects.select_related("run").filter(pk=chunk_id, run_id=run_id).first()
        if chunk is None or chunk.run.state != RunState.RUNNING:
            return None
        # Any delivery, even of a chunk already done, shows a worker is draining this run's
        # messages; the watchdog re-sends work only when nothing has touched the run for a while.
        touch(run_id)
        return chunk

    def report(self, run_id: int, chunk_id: int, done: int) -> None:
        """`done` more units of work: a heartbeat for the watchdog and the progress count."""
        now = timezone.now()
        if self.heartbeat_field is not None:
            self.chunks.objects.filter(pk=chunk_id).update(**{self.heartbeat_field: now})
        DedupeRun.objects.filter(pk=run_id).update(**{self.counter: F(self.counter) + done}, progress_at=now)

    def complete(self, chunk_id: int, **results: Any) -> bool:
        """Mark the chunk done with its results; False when another delivery already did."""
        return bool(
            self.chunks.objects.filter(pk=chunk_id, done=False).update(
                done=True, finished_at=timezone.now(), **results
            )
        )

    def finish_if_complete(self, run_id: int) -> list[NextStep]:
        """Move the run on when no chunk is left; only the one caller that wins gets the next step."""
        if self.chunks.objects.filter(run_id=run_id, done=False).exists():
            return []
        if not self.chunks_exist_with_the_phase and not self.chunks.objects.filter(run_id=run_id).exists():
            return []  # the phase's plan is not made yet
        now = timezone.now()
        stamp = {self.finished_stamp: now} if self.finished_stamp else {}
        won = DedupeRun.objects.filter(pk=run_id, state=RunState.RUNNING, phase=self.phase).update(
            phase=self.next_phase, progress_at=now, **stamp
        )
        return after(self.next_step, run_id) if won else []

    def run_chunk(self, run_id: int, chunk_id: int, work: Callable[[Any], None]) -> list[NextStep]:
        """One delivery of a chunk: claimed, worked unless done already, the phase finished if it was the last."""
        chunk = self.claim(run_id, chunk_id)
        if chunk is None:
            return []
        if not chunk.done:
            work(chunk)
        return self.finish_if_complete(run_id)

    def resume(self, run_id: int) -> list[NextStep]:
        """What the phase still waits for: its unfinished chunks, or the next step when none is left."""
        return self.dispatch_pending(run_id) + self.finish_if_complete(run_id)
