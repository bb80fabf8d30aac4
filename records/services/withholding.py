"""Withholding an item from the packet under a cited exemption (Gov. Code § 7922.540)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..errors import InvalidInput
from ..exemption_defaults import DEFAULT_EXEMPTIONS
from ..models import Exemption, GatheredItem, Withholding
from ..roles import User, require_clerk, signed_in_user
from .audit import record_event


@transaction.atomic
def withhold_item(*, actor: User, item: GatheredItem, exemption: Exemption, note: str = "") -> Withholding:
    """Keep `item` out of the delivered files; the index and the log cite `exemption`."""
    require_clerk(actor, "Only a clerk can withhold records.")
    if not exemption.active:
        raise InvalidInput(f"{exemption} is no longer on the office's list of exemptions.")
    withholding, created = Withholding.objects.update_or_create(
        item=item,
        defaults={
            "exemption": exemption,
            "note": note.strip(),
            "withheld_by": signed_in_user(actor),
            "withheld_at": timezone.now(),
        },
    )
    record_event(
        actor=actor,
        verb="withheld" if created else "withholding_changed",
        obj=item,
        request=item.request,
        details={
            "exemption": exemption.label,
            "code_section": exemption.code_section,
            "note": withholding.note,
        },
    )
    return withholding


@transaction.atomic
def release_withholding(*, actor: User, item: GatheredItem, reason: str) -> None:
    """Put a withheld item back into the packet."""
    require_clerk(actor, "Only a clerk can change a withholding.")
    deleted, _ = Withholding.objects.filter(item=item).delete()
    if deleted:
        record_event(
            actor=actor,
            verb="withholding_removed",
            obj=item,
            request=item.request,
            details={"reason": reason},
        )


def ensure_default_exemptions() -> None:
    """Create the starting list of exemptions where missing (idempotent; edits are kept)."""
    for label, section, description in DEFAULT_EXEMPTIONS:
        Exemption.objects.get_or_create(
            label=label, code_section=section, defaults={"description": description}
        )
