"""A clerk's request to a department for records, and the department's answer."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .departments import Department
from .requests import RecordsRequest


class DepartmentTask(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered with files"
        NONE_RESPONSIVE = "none", "No responsive records"

    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="department_tasks")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="tasks")
    due_date = models.DateField()
    note = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State, default=State.OPEN)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_note = models.TextField(blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "department__code"]
        constraints = [
            models.UniqueConstraint(fields=["request", "department"], name="one_task_per_department")
        ]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.department.code} ({self.state})"
