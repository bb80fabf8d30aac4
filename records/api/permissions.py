"""API permissions. Visibility of lists and objects lives in the selectors; these classes
only refuse whole endpoints to callers who can never use them, with a clear 403."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from ..roles import is_clerk, is_staff_member


class IsStaff(BasePermission):
    """Clerks and managers: duplicate review, withholdings, packets, metrics."""

    message = "Only clerks and managers can use this part of the API."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and is_staff_member(request.user))


class IsClerk(BasePermission):
    """Clerks only: redaction is a clerk's decision under an exemption (managers read the packet)."""

    message = "Only a clerk can redact."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and is_clerk(request.user))
