"""`Authorization: Token <token>` for department systems; only the token's SHA-256 is stored.

The request's user becomes the department's system user (an uploader bound to the
department), and `request.auth` the DepartmentToken, which throttling keys on.
A requester's packet-link token is not a DepartmentToken and fails here (401).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from ..models import DepartmentToken
from ..services.api_tokens import department_system_user, resolve_token

# last_used_at is for people auditing tokens, not a counter: write it at most this often,
# so a busy system does not turn every read into a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class DepartmentTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request) -> tuple[Any, DepartmentToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as 'Authorization: Token <token>'.")
        try:
            token = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The token contains invalid characters.") from exc
        record = resolve_token(token)
        if record is None:
            raise exceptions.AuthenticationFailed("This token is unknown or has been revoked.")
        user = self._system_user(record)
        now = timezone.now()
        if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
            DepartmentToken.objects.filter(pk=record.pk).update(last_used_at=now)
        return user, record

    @staticmethod
    def _system_user(record: DepartmentToken) -> Any:
        from django.contrib.auth import get_user_model

        from ..services.api_tokens import system_username

        user = (
            get_user_model()
            .objects.select_related("uploader")
            .filter(username=system_username(record.department), is_active=True)
            .first()
        )
        binding = getattr(user, "uploader", None) if user else None
        if binding is None or binding.department_id != record.department_id:
            # A token made in the admin, or a department renamed: bind (idempotently) now.
            user = department_system_user(record.department)
        return user

    def authenticate_header(self, request) -> str:
        return self.keyword


class DepartmentTokenScheme(OpenApiAuthenticationExtension):
    target_class = "records.api.authentication.DepartmentTokenAuthentication"
    name = "departmentToken"

    def get_security_definition(self, auto_schema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A department token: `Token <token>` (manage.py create_department_token).",
        }
