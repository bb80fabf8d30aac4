"""PacketDesk: answer public-records requests with one authoritative copy of every image."""

from .celery import app as celery_app

__all__ = ("celery_app",)
