"""Celery entry points of the records domain: thin, take ids, call services."""

from __future__ import annotations

import logging
import os
import socket

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .models import RecordsRequest
from .services import packets

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def confirm_worker_sees_request(request_id: int) -> dict:
    """Report which process ran this and what it read: proves a worker shares the database."""
    records_request = RecordsRequest.objects.filter(pk=request_id).first()
    return {
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "reference": records_request.reference if records_request else None,
    }


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=2, max_retries=8)
def build_packet(packet_id: int) -> None:
    """Render and store a packet; a failure is recorded on the packet for the clerk to see."""
    try:
        packets.build(packet_id)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        logger.exception("packet %s failed", packet_id)
        packets.fail_build(packet_id, f"{type(exc).__name__}: {exc}")


def send_build(packet_id: int) -> None:
    """Send a packet's build to a worker (the build sender records/apps.py gives the packet service)."""
    build_packet.delay(packet_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=2, max_retries=8)
def send_deadline_reminders() -> dict:
    """E-mail due-soon and overdue reminders (celery beat runs this; each task at most once a day)."""
    from .services.tasking import send_reminders

    report = send_reminders()
    return {"tasks": report.task_reminders, "requests": report.request_reminders}
