"""Opening a records request, moving it through its workflow, extending its deadline."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import deadlines
from ..errors import ExtensionRefused, IllegalTransition, InvalidInput
from ..models import (
    OPEN_STATUSES,
    Department,
    ExtensionGround,
    RecordsRequest,
    ReferenceCounter,
    RequesterKind,
    RequestStatus,
    StatusTransition,
)
from ..roles import SignedInUser, User, require_clerk, signed_in_user
from .audit import record_event

S = RequestStatus

# The workflow: received → gathering → deduplicating → in review → released → closed, with
# withdrawal and denial possible until release. Dedupe can be re-run from review, and more
# files can be gathered after a run.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.GATHERING, S.WITHDRAWN, S.DENIED}),
    S.GATHERING: frozenset({S.DEDUPLICATING, S.WITHDRAWN, S.DENIED}),
    S.DEDUPLICATING: frozenset({S.IN_REVIEW, S.GATHERING, S.WITHDRAWN, S.DENIED}),
    S.IN_REVIEW: frozenset({S.RELEASED, S.GATHERING, S.DEDUPLICATING, S.WITHDRAWN, S.DENIED}),
    S.RELEASED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.DENIED: frozenset({S.CLOSED}),
}

# A received date this far ahead of the server's clock is a clock's difference, not the future.
RECEIVED_CLOCK_SKEW = datetime.timedelta(minutes=5)


def future_received_refusal(received_at: datetime.datetime, now: datetime.datetime | None = None) -> str:
    """Why a received date cannot be used ('' when it can): it lies in the future.

    The deadline runs from receipt (§ 7922.535(a)): a future date would number and time the
    request wrongly.
    """
    if received_at <= (now or timezone.now()) + RECEIVED_CLOCK_SKEW:
        return ""
    return (
        f"The received date ({timezone.localtime(received_at):%B %-d, %Y, %-I:%M %p}) is in the future; "
        "enter when the request reached the city."
    )


def next_statuses(current: str) -> list[str]:
    """The statuses a request in `current` may move to, in workflow order (for the status form)."""
    return [status for status in S.values if status in ALLOWED_TRANSITIONS[current]]


def city_closures(years: range | list[int]) -> dict[datetime.date, str]:
    """Weekday closures for these years: California holidays, as the settings adjust them."""
    extra = {}
    for iso in settings.PACKETDESK_EXTRA_CLOSURES:
        extra[datetime.date.fromisoformat(iso)] = "City closure"
    return deadlines.california_holidays(years, settings.PACKETDESK_IGNORED_HOLIDAYS, extra)


def _closures_around(day: datetime.date) -> dict[datetime.date, str]:
    return city_closures([day.year, day.year + 1])


def local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def extended_deadline_for(received_at: datetime.datetime, extension_days: int) -> deadlines.Deadline:
    received = local_date(received_at)
    return deadlines.extended_deadline(received, extension_days, _closures_around(received))


def deadline_for(received_at: datetime.datetime) -> deadlines.Deadline:
    received = local_date(received_at)
    return deadlines.determination_deadline(received, _closures_around(received))


def _next_reference(year: int) -> str:
    counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{year % 100:02d}-{counter.last_number:05d}"


@transaction.atomic
def open_request(
    *,
    actor: User,
    requester_name: str,
    description: str,
    received_at: datetime.datetime | None = None,
    requester_email: str = "",
    requester_organisation: str = "",
    requester_kind: str = RequesterKind.RESIDENT,
    assigned_clerk: SignedInUser | None = None,
    office_of_record: Department | None = None,
    bates_prefix: str = "",
) -> RecordsRequest:
    """Log a new request and compute its 10-day deadline."""
    require_clerk(actor)
    if not requester_name.strip():
        raise InvalidInput("The requester's name is required.")
    if not description.strip():
        raise InvalidInput("Describe the records requested.")
    now = timezone.now()
    received_at = received_at or now
    refusal = future_received_refusal(received_at, now)
    if refusal:
        raise InvalidInput(refusal, details={"field": "received_at"})
    deadline = deadline_for(received_at)
    reference = _next_reference(local_date(received_at).year)
    records_request = RecordsRequest.objects.create(
        reference=reference,
        requester_name=requester_name.strip(),
        requester_email=requester_email,
        requester_organisation=requester_organisation,
        requester_kind=requester_kind,
        description=description.strip(),
        received_at=received_at,
        due_date=deadline.due,
        status=S.RECEIVED,
        status_changed_at=timezone.now(),
        assigned_clerk=assigned_clerk or (actor if actor.is_authenticated else None),
        office_of_record=office_of_record,
        bates_prefix=bates_prefix or f"PRA{reference.replace('-', '')}",
    )
    StatusTransition.objects.create(
        request=records_request,
        from_status="",
        to_status=S.RECEIVED,
        at=records_request.status_changed_at,
        actor=signed_in_user(actor),
    )
    record_event(
        actor=actor,
        verb="opened",
        obj=records_request,
        request=records_request,
        details={"due_date": deadline.due.isoformat(), "computation": deadline.explanation()},
    )
    return records_request


@transaction.atomic
def move_status(
    *, actor: User | None, records_request: RecordsRequest, to_status: str, note: str = ""
) -> RecordsRequest:
    """Move a request to `to_status`, refusing moves the workflow does not allow."""
    locked = RecordsRequest.objects.select_for_update().get(pk=records_request.pk)
    return _move_locked(actor, locked, records_request, to_status, note)


@transaction.atomic
def move_status_if(
    *,
    actor: User | None,
    records_request: RecordsRequest,
    from_statuses: frozenset[str],
    to_status: str,
    note: str = "",
) -> bool:
    """Move a request to `to_status` only if, under the row lock, it is in one of `from_statuses`.

    For moves the system makes as a side effect (first files gathered, a run finished):
    the caller's copy of the request may be stale, because another upload, a worker or a
    clerk moved it since it was read, so the decision is taken on the locked row. True when it moved; `records_request` is refreshed either way.
    """
    locked = RecordsRequest.objects.select_for_update().get(pk=records_request.pk)
    if locked.status not in from_statuses:
        records_request.status = locked.status
        records_request.status_changed_at = locked.status_changed_at
        return False
    _move_locked(actor, locked, records_request, to_status, note)
    return True


def _move_locked(
    actor: User | None, locked: RecordsRequest, records_request: RecordsRequest, to_status: str, note: str
) -> RecordsRequest:
    current = locked.status
    if to_status not in S.values:
        raise InvalidInput(f"'{to_status}' is not a request status.")
    if to_status not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(S(s).label.lower() for s in sorted(ALLOWED_TRANSITIONS[current])) or "nothing"
        raise IllegalTransition(
            f"A request that is {S(current).label.lower()} cannot become {S(to_status).label.lower()}; "
            f"it can become: {allowed}.",
            details={"from": current, "to": to_status},
        )
    now = timezone.now()
    locked.status = to_status
    locked.status_changed_at = now
    locked.save(update_fields=["status", "status_changed_at"])
    StatusTransition.objects.create(
        request=locked,
        from_status=current,
        to_status=to_status,
        at=now,
        actor=signed_in_user(actor),
        note=note,
    )
    record_event(
        actor=actor,
        verb="status_changed",
        obj=locked,
        request=locked,
        details={"from": current, "to": to_status, "note": note},
    )
    records_request.status = locked.status
    records_request.status_changed_at = now
    return locked


@transaction.atomic
def extend_deadline(
    *, actor: User, records_request: RecordsRequest, days: int, ground: str, reason: str
) -> RecordsRequest:
    """Extend the deadline by up to 14 days with a written reason (Gov. Code § 7922.535(b), (c))."""
    require_clerk(actor)
    locked = RecordsRequest.objects.select_for_update().get(pk=records_request.pk)
    if locked.extension_days:
        raise ExtensionRefused("This request has already been extended; the law allows one extension.")
    if locked.status not in OPEN_STATUSES:
        raise ExtensionRefused("Only an open request can be extended.")
    if not 1 <= days <= deadlines.MAX_EXTENSION_DAYS:
        raise ExtensionRefused(f"An extension is 1 to {deadlines.MAX_EXTENSION_DAYS} days (§ 7922.535(b)).")
    if ground not in ExtensionGround.values:
        raise ExtensionRefused("Choose the unusual circumstance of § 7922.535(c) that applies.")
    if not reason.strip():
        raise ExtensionRefused("An extension needs a written reason for the requester.")
    deadline = extended_deadline_for(locked.received_at, days)
    locked.extension_days = days
    locked.extended_due_date = deadline.due
    locked.extension_ground = ground
    locked.extension_reason = reason.strip()
    locked.extended_at = timezone.now()
    locked.extended_by = signed_in_user(actor)
    locked.save()
    record_event(
        actor=actor,
        verb="extended",
        obj=locked,
        request=locked,
        details={
            "days": days,
            "ground": ground,
            "reason": locked.extension_reason,
            "extended_due_date": deadline.due.isoformat(),
            "computation": deadline.explanation(),
        },
    )
    return locked
