"""API tokens with which department systems push images, scoped to one department."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .departments import Department


class DepartmentToken(models.Model):
    """A revocable token for one department's system. Only its SHA-256 is stored."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="Which system uses it, e.g. 'PD evidence server'.")
    token_sha256 = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to recognise it.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["department__code", "name"]

    def __str__(self) -> str:
        return f"{self.department.code}: {self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
