"""Stored bytes and the gathered items that point at them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .departments import Department
from .requests import RecordsRequest


class Blob(models.Model):
    """Stored bytes, addressed by their SHA-256: one copy however many times gathered."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    byte_size = models.BigIntegerField()
    file = models.FileField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256


class ItemStatus(models.TextChoices):
    STORED = "stored", "Stored"
    REFUSED = "refused", "Refused"


class GatheredItem(models.Model):
    """One file a department gave for a request, kept whatever its fate."""

    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="items")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    original_path = models.CharField(
        max_length=1024, help_text="Path as gathered, relative to the department's folder."
    )
    file_name = models.CharField(max_length=255)
    blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="items")
    byte_size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    detected_format = models.CharField(max_length=12, blank=True)
    mislabelled = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=ItemStatus, default=ItemStatus.STORED)
    error_reason = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["department__code", "original_path", "id"]
        indexes = [models.Index(fields=["request", "department", "original_path"])]

    def __str__(self) -> str:
        return self.gathered_path

    @property
    def gathered_path(self) -> str:
        """The path as it appears in the manifest: department folder, then the original path."""
        folder = self.department.code if self.department_id else "_unassigned"
        return f"{folder}/{self.original_path}"
