"""One error body for the whole API: {"error": {"code": ..., "message": ..., "details": ...}}."""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import ApplicationError


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(
            {"error": {"code": exc.code, "message": exc.message, "details": exc.details}},
            status=exc.http_status,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    detail = response.data
    message = (
        detail.get("detail") if isinstance(detail, dict) and "detail" in detail else "The request is invalid."
    )
    response.data = {
        "error": {
            "code": code if response.status_code != status.HTTP_400_BAD_REQUEST else "invalid_input",
            "message": str(message),
            "details": detail if not (isinstance(detail, dict) and set(detail) == {"detail"}) else {},
        }
    }
    return response
