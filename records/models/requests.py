"""Records requests, their workflow and their CPRA deadlines."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models

from .departments import Department


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


# The one definition of the workflow's status sets; every module imports these.
# Open: the office still owes the requester a determination (§ 7922.535(a)). Departments
# may add files to an open request (a re-run picks new ones up).
OPEN_STATUSES = frozenset(
    {RequestStatus.RECEIVED, RequestStatus.GATHERING, RequestStatus.DEDUPLICATING, RequestStatus.IN_REVIEW}
)
GATHERING_STATUSES = OPEN_STATUSES
# Determined: the office answered the request, releasing records or denying it.
DETERMINED_STATUSES = frozenset({RequestStatus.RELEASED, RequestStatus.DENIED})
# Finished: no longer open, whichever way it ended (a withdrawal needs no determination).
FINISHED_STATUSES = frozenset(
    {RequestStatus.RELEASED, RequestStatus.CLOSED, RequestStatus.WITHDRAWN, RequestStatus.DENIED}
)


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

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


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
