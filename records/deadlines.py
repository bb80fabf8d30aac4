"""CPRA calendar arithmetic: pure functions of dates and a holiday calendar.

Gov. Code § 7922.535(a): a determination within 10 days of receipt. Days are counted
as Code Civ. Proc. § 12 counts them: exclude the day of receipt, include the last day,
and when the last day is a holiday (§ 12a: a Saturday, Sunday or state holiday) move to
the next day that is not. § 7922.535(b): in unusual circumstances the time may be
extended by written notice by no more than 14 days; the extension is counted from the
unrolled tenth day and then rolled the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import holidays

INITIAL_DAYS = 10
MAX_EXTENSION_DAYS = 14


@dataclass(frozen=True)
class SkippedDay:
    day: datetime.date
    why: str  # "Saturday", "Sunday" or the holiday's name


@dataclass(frozen=True)
class Deadline:
    due: datetime.date
    counted_from: datetime.date  # the day of receipt (excluded from the count)
    unrolled: datetime.date  # the last counted day before moving past closures
    days: int
    skipped: tuple[SkippedDay, ...]

    def explanation(self) -> str:
        """The computation in words, as the request page and the extension notice show it."""
        text = (
            f"Received {self.counted_from:%A %B %-d, %Y}; the day of receipt is not counted; "
            f"{self.days} calendar days later is {self.unrolled:%A %B %-d, %Y}"
        )
        if self.skipped:
            reasons = ", ".join(f"{s.day:%a %b %-d} ({s.why})" for s in self.skipped)
            text += f", which the office is closed on, so it moves past {reasons} to {self.due:%A %B %-d, %Y}"
        return text + "."


@cache
def _california_calendar(year: int, ignored: tuple[str, ...]) -> dict[datetime.date, str]:
    calendar = holidays.country_holidays("US", subdiv="CA", years=year)
    result: dict[datetime.date, str] = {}
    for day, names in calendar.items():
        kept = [n for n in names.split("; ") if n not in ignored]
        if kept:
            result[day] = "; ".join(kept)
    return result


def california_holidays(
    years: Iterable[int],
    ignored: Iterable[str] = (),
    extra_closures: Mapping[datetime.date, str] | None = None,
) -> dict[datetime.date, str]:
    """California state holidays (from the `holidays` library) plus the city's own closures."""
    ignored_names = tuple(sorted(ignored))
    result: dict[datetime.date, str] = {}
    for year in years:
        result.update(_california_calendar(year, ignored_names))
    if extra_closures:
        result.update(extra_closures)
    return result


def _closure_reason(day: datetime.date, closures: Mapping[datetime.date, str]) -> str | None:
    if day in closures:
        return closures[day]
    if day.weekday() == 5:
        return "Saturday"
    if day.weekday() == 6:
        return "Sunday"
    return None


def roll_forward(
    day: datetime.date, closures: Mapping[datetime.date, str]
) -> tuple[datetime.date, tuple[SkippedDay, ...]]:
    """The first day on or after `day` that is not a weekend or closure, and what was skipped."""
    skipped: list[SkippedDay] = []
    reason = _closure_reason(day, closures)
    while reason is not None:
        skipped.append(SkippedDay(day, reason))
        day += datetime.timedelta(days=1)
        reason = _closure_reason(day, closures)
    return day, tuple(skipped)


def determination_deadline(received: datetime.date, closures: Mapping[datetime.date, str]) -> Deadline:
    """The § 7922.535(a) deadline for a request received on `received`."""
    unrolled = received + datetime.timedelta(days=INITIAL_DAYS)
    due, skipped = roll_forward(unrolled, closures)
    return Deadline(due=due, counted_from=received, unrolled=unrolled, days=INITIAL_DAYS, skipped=skipped)


def extended_deadline(
    received: datetime.date, extension_days: int, closures: Mapping[datetime.date, str]
) -> Deadline:
    """The deadline after a § 7922.535(b) extension of `extension_days` (1 to 14)."""
    if not 1 <= extension_days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"An extension is 1 to {MAX_EXTENSION_DAYS} days, not {extension_days}")
    days = INITIAL_DAYS + extension_days
    unrolled = received + datetime.timedelta(days=days)
    due, skipped = roll_forward(unrolled, closures)
    return Deadline(due=due, counted_from=received, unrolled=unrolled, days=days, skipped=skipped)


def days_left(due: datetime.date, today: datetime.date) -> int:
    """Calendar days until the deadline; negative when overdue."""
    return (due - today).days
