"""The public-records domain: departments, requests, gathered files and the audit trail.

Write paths live in `records/services/`, read paths in `records/selectors.py`; models
hold data, constraints and small derived properties only.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models


class Department(models.Model):
    class UploadPolicy(models.TextChoices):
        # What happens when a department pushes an image already in the city's library.
        ALLOW = "allow", "Store it"
        FLAG = "flag", "Store it and list the matches"
        REJECT = "reject", "Refuse it and list the matches"

    name = models.CharField(max_length=120, unique=True)
    code = models.SlugField(max_length=20, unique=True, help_text="Short code, e.g. PD for Police.")
    office_of_record_for = models.CharField(
        max_length=250,
        blank=True,
        help_text="Kinds of record this department keeps the official copy of, e.g. 'parcel photos'.",
    )
    authority_rank = models.PositiveSmallIntegerField(
        default=100,
        help_text="Lower ranks win when two departments hold the same image and neither is of record.",
    )
    upload_policy = models.CharField(max_length=10, choices=UploadPolicy, default=UploadPolicy.FLAG)

    class Meta:
        ordering = ["authority_rank", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class DepartmentUploader(models.Model):
    """Binds a user in the department-uploader role to the one department they upload for."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploader")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="uploaders")

    def __str__(self) -> str:
        return f"{self.user} uploads for {self.department.code}"


class RequesterKind(models.TextChoices):
    RESIDENT = "resident", "Resident"
    ATTORNEY = "attorney", "Attorney"
    JOURNALIST = "journalist", "Journalist"
    OTHER = "other", "Other"


class RequestStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    GATHERING = "gathering", "Gathering"
    DEDUPLICATING = "deduplicating", "Deduplicating"
    IN_REVIEW = "in_review", "In review"
    RELEASED = "released", "Released"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    DENIED = "denied", "Denied"


class ExtensionGround(models.TextChoices):
    """The unusual circumstances of Gov. Code § 7922.535(c) that allow an extension."""

    SEARCH_ELSEWHERE = (
        "search_elsewhere",
        "§ 7922.535(c)(1): records are in field facilities or other establishments separate from the office",
    )
    VOLUMINOUS = "voluminous", "§ 7922.535(c)(2): a voluminous amount of separate and distinct records"
    CONSULTATION = (
        "consultation",
        "§ 7922.535(c)(3): consultation with another agency or two or more components of this agency",
    )
    DATA_EXTRACTION = (
        "data_extraction",
        "§ 7922.535(c)(4): compiling data, writing programming or constructing a computer report",
    )


class ReferenceCounter(models.Model):
    """The last request number issued in a year, so references are gapless per year."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class RecordsRequest(models.Model):
    reference = models.CharField(max_length=16, unique=True, help_text="e.g. 26-00123")
    requester_name = models.CharField(max_length=200)
    requester_email = models.EmailField(blank=True)
    requester_organisation = models.CharField(max_length=200, blank=True)
    requester_kind = models.CharField(max_length=12, choices=RequesterKind, default=RequesterKind.RESIDENT)
    description = models.TextField()
    received_at = models.DateTimeField()
    due_date = models.DateField(help_text="The 10-day determination deadline (Gov. Code § 7922.535(a)).")
    extension_days = models.PositiveSmallIntegerField(null=True, blank=True)
    extended_due_date = models.DateField(null=True, blank=True)
    extension_ground = models.CharField(max_length=20, choices=ExtensionGround, blank=True)
    extension_reason = models.TextField(blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=RequestStatus, default=RequestStatus.RECEIVED)
    status_changed_at = models.DateTimeField()
    assigned_clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_requests",
    )
    office_of_record = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Its copy wins when departments hold the same image (the first authority rule).",
    )
    bates_prefix = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def current_due_date(self) -> datetime.date:
        return self.extended_due_date or self.due_date


class StatusTransition(models.Model):
    """One move of a request through its workflow, with who and when."""

    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=16, choices=RequestStatus, blank=True)
    to_status = models.CharField(max_length=16, choices=RequestStatus)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status or '-'} → {self.to_status} at {self.at:%Y-%m-%d %H:%M}"


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
