"""A real Celery worker process for integration tests, sharing the test database and media.

The worker is a separate OS process started with `celery -A packetdesk worker`; it
reads the test database (SQLite file or PostgreSQL) through DATABASE_URL and the same
broker as this process (file system by default, Redis in the services pass).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from packetdesk.celery import worker_command

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, media_root: Path, concurrency: int = 1):
        self.media_root = media_root
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None
        self.log_path = media_root.parent / f"worker-{time.monotonic_ns()}.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": database_url(),
                "MEDIA_ROOT": str(self.media_root),
                "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                "CELERY_BROKER_FOLDER": str(settings.CELERY_BROKER_FOLDER),
                "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
                "PACKETDESK_VAR_DIR": str(settings.VAR_DIR),
                "PACKETDESK_STALLED_CHUNK_SECONDS": "3",
            }
        )
        return env

    def start(self) -> WorkerProcess:
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            worker_command(self.concurrency, f"test-worker-{os.getpid()}@%h"),
            cwd=ROOT,
            env=self.env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool children, as a crashed machine would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker_factory(transactional_db, tmp_path, settings):
    """Start real worker processes; each is stopped at the end of the test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    started: list[WorkerProcess] = []
    # Messages left by an earlier test (whose ids this test's rows may reuse) must not reach
    # this test's worker.
    from packetdesk.celery import app

    app.control.purge()

    def start(concurrency: int = 1) -> WorkerProcess:
        worker = WorkerProcess(Path(settings.MEDIA_ROOT), concurrency).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def celery_worker_process(worker_factory):
    return worker_factory()
