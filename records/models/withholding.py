"""Exemptions the office cites and items withheld under them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .items import GatheredItem


class Exemption(models.Model):
    """A legal basis for withholding or redacting, as the office cites it. Managers edit the list."""

    label = models.CharField(max_length=120, help_text="Short label, e.g. 'Personal privacy'.")
    code_section = models.CharField(max_length=80, help_text="e.g. Gov. Code § 7927.700")
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code_section", "label"]
        constraints = [models.UniqueConstraint(fields=["label", "code_section"], name="unique_exemption")]

    def __str__(self) -> str:
        return f"{self.label} ({self.code_section})"


class Withholding(models.Model):
    """An item kept out of the packet, with the exemption cited and who decided (§ 7922.540)."""

    item = models.OneToOneField(GatheredItem, on_delete=models.CASCADE, related_name="withholding")
    exemption = models.ForeignKey(Exemption, on_delete=models.PROTECT, related_name="withholdings")
    note = models.TextField(blank=True, help_text="Description for the withholding log.")
    withheld_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    withheld_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.item_id} withheld under {self.exemption}"
