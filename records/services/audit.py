"""Writing the append-only audit trail."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from ..models import AuditEvent, RecordsRequest
from ..roles import User, signed_in_user


def record_event(
    *,
    actor: User | None,
    verb: str,
    obj: models.Model,
    request: RecordsRequest | None,
    details: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one audit event. `actor` is a user, or None for the system (a worker, a command)."""
    user = signed_in_user(actor)
    label = actor_label or (user.get_username() if user else "system")
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=user,
        actor_label=label,
        verb=verb,
        # A model's Options always has model_name; the stubs allow None only before a class is attached.
        object_type=obj._meta.model_name or "",
        object_id=str(obj.pk),
        request=request,
        details=details or {},
    )
