"""One exception hierarchy with stable codes, shared by pages, the API and the packet.

Services raise these; the API's exception handler (records/api/errors.py) maps them to
HTTP, and views show `message` to the clerk as it is.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    code = "application_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class InvalidInput(ApplicationError):
    code = "invalid_input"


class IllegalTransition(ApplicationError):
    code = "illegal_transition"
    http_status = 409


class ExtensionRefused(ApplicationError):
    code = "extension_refused"
    http_status = 409


class RequestClosedForGathering(ApplicationError):
    code = "request_closed_for_gathering"
    http_status = 409


class NotPermitted(ApplicationError):
    code = "not_permitted"
    http_status = 403


class Conflict(ApplicationError):
    code = "conflict"
    http_status = 409
