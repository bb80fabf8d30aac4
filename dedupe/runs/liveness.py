"""How long a worker may be silent before its work is presumed lost, and a heartbeat that
keeps a long single step from looking so."""

from __future__ import annotations

import contextlib
import datetime
import threading
from collections.abc import Iterator

from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from dedupe.models import DedupeRun


def stall_limit() -> datetime.timedelta:
    """How long a chunk's worker may be silent before the chunk is presumed lost with it.

    Workers report after every blob, which takes well under a second to a few seconds.
    """
    return datetime.timedelta(seconds=django_settings.PACKETDESK_STALLED_CHUNK_SECONDS)


def touch(run_id: int) -> None:
    """A worker is on this run now: the watchdog leaves it alone for another stall limit."""
    DedupeRun.objects.filter(pk=run_id).update(progress_at=timezone.now())


@contextlib.contextmanager
def heartbeat(run_id: int) -> Iterator[None]:
    """Tell the watchdog a long step is alive: touch the run's progress time every few seconds."""
    stop = threading.Event()
    every = max(0.5, stall_limit().total_seconds() / 3)

    def beat() -> None:
        try:
            while not stop.wait(every):
                touch(run_id)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"dedupe-heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
