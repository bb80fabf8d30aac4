"""The append-only audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .requests import RecordsRequest


class AuditEvent(models.Model):
    """Append-only record of who changed what. Rows are never updated or deleted."""

    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="Who acted, kept even if the user is deleted.")
    verb = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    request = models.ForeignKey(
        RecordsRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["request", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs) -> None:
        # An audit trail that can be edited is not an audit trail.
        if self.pk is not None:
            raise ValueError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only")
