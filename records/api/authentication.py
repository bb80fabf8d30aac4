"""`Authorization: Token <token>` for department systems; only the token's SHA-256 is stored.

The request's user becomes the department's system user (an uploader bound to the
department), and `request.auth` the DepartmentToken, which throttling keys on.
A requester's packet-link token is not a DepartmentToken and fails here (401).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import F, Value
from django.db.models.functions import Concat, Lower
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from ..models import DepartmentToken
from ..services.api_tokens import (
    department_system_user,
    resolve_token,
    system_username,
    token_digest,
)

SYSTEM_USERNAME_PREFIX = "api-"  # records.services.api_tokens.system_username

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
        found = self._token_and_user(token)
        if found is None:
            # Not bound yet (a token made in the admin, a department renamed), or not a token.
            record = resolve_token(token)
            if record is None:
                raise exceptions.AuthenticationFailed("This token is unknown or has been revoked.")
            user = self._system_user(record)
            if not user.is_active:
                # A manager switched the department's system account off: its tokens stop too.
                raise exceptions.AuthenticationFailed("This department's system account is disabled.")
        else:
            user, record = found
        now = timezone.now()
        if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
            DepartmentToken.objects.filter(pk=record.pk).update(last_used_at=now)
        return user, record

    @staticmethod
    def _token_and_user(token: str) -> tuple[Any, DepartmentToken] | None:
        """The active token, its department and its bound, active system user in one query.

        None when any of them is missing; the caller then takes the slow path, which tells
        an unknown token from one whose system user still has to be bound.
        """
        from django.contrib.auth import get_user_model

        via = "uploader__department__api_tokens__"
        fields = [f.attname for f in DepartmentToken._meta.concrete_fields]
        user = (
            get_user_model()
            .objects.select_related("uploader__department")
            .filter(
                **{f"{via}token_sha256": token_digest(token), f"{via}revoked_at__isnull": True},
                is_active=True,
                username=Concat(Value(SYSTEM_USERNAME_PREFIX), Lower("uploader__department__code")),
            )
            .annotate(**{f"_token_{name}": F(f"{via}{name}") for name in fields})
            .first()
        )
        if user is None or user.username != system_username(user.uploader.department):
            return None
        record = DepartmentToken.from_db(
            user._state.db, fields, [getattr(user, f"_token_{name}") for name in fields]
        )
        record.department = user.uploader.department
        return user, record

    @staticmethod
    def _system_user(record: DepartmentToken) -> Any:
        from django.contrib.auth import get_user_model

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
