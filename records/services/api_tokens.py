"""Department API tokens: issue, revoke, resolve. Only a token's SHA-256 is stored.

A token acts in the API as its department's *system user*: a user in the
department-uploader role bound to that department. The selectors and services then
apply to a department system exactly the rules they apply to a person uploading for
the department (its own items only, open requests only, uploads for itself only), so
the API cannot drift from the web app's permissions.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from ..errors import InvalidInput
from ..models import Department, DepartmentToken, DepartmentUploader
from ..roles import (
    Role,
    SignedInUser,
    User,
    ensure_role_groups,
    require_staff,
    signed_in_user,
)
from .audit import record_event

# 32 random bytes: 256 bits, as for requester links; the prefix only helps a person
# recognise a token in a list and is never enough to use it.
TOKEN_BYTES = 32
PREFIX_CHARS = 8
TOKEN_MARK = "pdt_"


@dataclass(frozen=True)
class IssuedToken:
    record: DepartmentToken
    token: str  # shown once to whoever created it; only its hash is kept


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def system_username(department: Department) -> str:
    return f"api-{department.code.lower()}"


def department_system_user(department: Department) -> SignedInUser:
    """The user a department's tokens act as: an uploader bound to the department (idempotent)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=system_username(department),
        defaults={"first_name": "API", "last_name": department.name[:150]},
    )
    if created:
        user.set_unusable_password()  # a system user never logs in to the web app
        user.save(update_fields=["password"])
    if not user.groups.filter(name=Role.DEPARTMENT_UPLOADER.value).exists():
        ensure_role_groups()
        user.groups.add(Group.objects.get(name=Role.DEPARTMENT_UPLOADER.value))
    DepartmentUploader.objects.update_or_create(user=user, defaults={"department": department})
    return user


def _require_token_admin(actor: User | None) -> None:
    # Command-line calls pass actor=None: whoever runs manage.py already holds the keys.
    if actor is None:
        return
    # Administrators pass too: is_clerk and is_manager count a superuser as both.
    require_staff(actor, "Only clerks, managers and administrators manage API tokens.")


@transaction.atomic
def create_token(*, actor: User | None, department: Department, name: str) -> IssuedToken:
    """Issue a new token for `department`'s system; the token is returned once, never stored."""
    _require_token_admin(actor)
    if not name.strip():
        raise InvalidInput("Name the system that will use the token, e.g. 'PD evidence server'.")
    department_system_user(department)
    token = TOKEN_MARK + secrets.token_urlsafe(TOKEN_BYTES)
    record = DepartmentToken.objects.create(
        department=department,
        name=name.strip()[:100],
        token_sha256=token_digest(token),
        prefix=token[:PREFIX_CHARS],
        created_by=signed_in_user(actor),
        created_at=timezone.now(),
    )
    record_event(
        actor=actor,
        verb="api_token_created",
        obj=record,
        request=None,
        details={"department": department.code, "name": record.name, "prefix": record.prefix},
    )
    return IssuedToken(record=record, token=token)


@transaction.atomic
def revoke_token(*, actor: User | None, record: DepartmentToken) -> DepartmentToken:
    """Revoke a token at once, for every process (the check reads the row on each call)."""
    _require_token_admin(actor)
    locked = DepartmentToken.objects.select_for_update().get(pk=record.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event(
            actor=actor,
            verb="api_token_revoked",
            obj=locked,
            request=None,
            details={"department": locked.department.code, "prefix": locked.prefix},
        )
    return locked


def resolve_token(token: str) -> DepartmentToken | None:
    """The active token record for `token`, or None (unknown or revoked)."""
    record = (
        DepartmentToken.objects.select_related("department")
        .filter(token_sha256=token_digest(token), revoked_at__isnull=True)
        .first()
    )
    return record
