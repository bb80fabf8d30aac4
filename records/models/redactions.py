"""Boxes a clerk draws on an image to withhold part of it, burned into the delivered copy."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .items import GatheredItem
from .withholding import Exemption


class Redaction(models.Model):
    """A rectangle in the original image's pixels after EXIF orientation; the original is never changed."""

    item = models.ForeignKey(GatheredItem, on_delete=models.CASCADE, related_name="redactions")
    page = models.PositiveIntegerField(default=0)
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    exemption = models.ForeignKey(Exemption, on_delete=models.PROTECT, related_name="redactions")
    mapped_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mapped_copies",
        help_text="The redaction on another member of the group this box was mapped from.",
    )
    confirmed = models.BooleanField(default=True, help_text="Mapped boxes wait for a clerk's confirmation.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["item_id", "page", "y", "x"]

    def __str__(self) -> str:
        return f"{self.width}×{self.height} at ({self.x}, {self.y}) on {self.item_id}"
