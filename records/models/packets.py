"""Built packets and the expiring links through which requesters download them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .requests import RecordsRequest


class PacketState(models.TextChoices):
    BUILDING = "building", "Building"
    READY = "ready", "Ready for review"
    FAILED = "failed", "Failed"
    RELEASED = "released", "Released"
    SUPERSEDED = "superseded", "Superseded by a newer build"


class Packet(models.Model):
    """One build of a request's packet: index, letter, manifests and delivered files in a ZIP."""

    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="packets")
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=12, choices=PacketState, default=PacketState.BUILDING)
    every_copy = models.BooleanField(
        default=False, help_text="Deliver every copy, not only authoritative ones."
    )
    load_files = models.BooleanField(default=False, help_text="Add eDiscovery .dat/.opt load files.")
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    built_at = models.DateTimeField(null=True)
    generated_at = models.DateTimeField(
        null=True, help_text="The time printed in the packet (fixed per build)."
    )
    zip_file = models.CharField(max_length=300, blank=True, help_text="Storage name of the packet ZIP.")
    zip_sha256 = models.CharField(max_length=64, blank=True)
    zip_bytes = models.BigIntegerField(default=0)
    index_file = models.CharField(max_length=300, blank=True)
    letter_file = models.CharField(max_length=300, blank=True)
    counts = models.JSONField(default=dict)
    bates_first = models.CharField(max_length=40, blank=True)
    bates_last = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    released_at = models.DateTimeField(null=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["request", "version"], name="one_packet_per_version")]

    def __str__(self) -> str:
        return f"{self.request_id} packet v{self.version}"


class RequesterLink(models.Model):
    """An unguessable, expiring, revocable link to one released packet.

    Only the SHA-256 of the token is stored: the token itself (256 random bits) exists
    only in the link given to the requester, so a database leak reveals no link.
    """

    packet = models.ForeignKey(Packet, on_delete=models.CASCADE, related_name="links")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    downloads = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"link to {self.packet}"
