"""Departments and the uploaders bound to them."""

from __future__ import annotations

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
