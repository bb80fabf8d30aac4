"""What every page module shares: role checks, the request a user may see, JSON errors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404

from .. import selectors
from ..errors import ApplicationError
from ..models import RecordsRequest
from ..roles import is_clerk, is_staff_member


# The page edge of the guards in records/roles.py: the same predicates, refused with Django's
# PermissionDenied so a page answers with the 403 page rather than a service's JSON error.
def require_clerk(user: Any) -> None:
    if not is_clerk(user):
        raise PermissionDenied("Only a clerk can do this.")


def require_staff(user: Any) -> None:
    """Clerks and managers: the pages that span departments."""
    if not is_staff_member(user):
        raise PermissionDenied("Only the records office can see this page.")


def visible_request(request: HttpRequest, reference: str) -> RecordsRequest:
    return get_object_or_404(selectors.requests_visible_to(request.user), reference=reference)


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def json_error(exc: ApplicationError) -> JsonResponse:
    return JsonResponse({"error": {"code": exc.code, "message": exc.message}}, status=exc.http_status)
