"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import os
import sys

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "packetdesk.settings")

app = Celery("packetdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def worker_command(concurrency: int, hostname: str) -> list[str]:
    """The `celery worker` command line that integration tests and benchmarks start.

    Gossip, mingle and heartbeat only add start-up time and chatter between workers that
    live for one test or one measurement; the Procfile's long-lived worker keeps them.
    """
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "packetdesk",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname",
        hostname,
    ]
