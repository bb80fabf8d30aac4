"""Celery entry points of the records domain: thin, take ids, call services."""

from __future__ import annotations

import os
import socket

from celery import shared_task

from .models import RecordsRequest


@shared_task(acks_late=True)
def confirm_worker_sees_request(request_id: int) -> dict:
    """Report which process ran this and what it read: proves a worker shares the database."""
    records_request = RecordsRequest.objects.filter(pk=request_id).first()
    return {
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "reference": records_request.reference if records_request else None,
    }
