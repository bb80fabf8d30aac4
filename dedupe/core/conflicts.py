"""Disagreements inside one group: capture dates, parcel numbers and places (DESIGN.md s. 7).

The same image carrying different dates, parcels or places across departments is the
legal exposure the city worries about, so each conflict names what disagrees and who said
what.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from math import asin, cos, radians, sin, sqrt

from dedupe.core.settings import MatchSettings
from dedupe.core.types import CAMERA_CLOCK_SOURCES, Conflict, Fingerprint, GeoPoint

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def haversine_metres(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance between two points, in metres."""
    lat1, lat2 = radians(a.latitude), radians(b.latitude)
    dlat, dlon = lat2 - lat1, radians(b.longitude - a.longitude)
    h = sin(dlat / 2) ** 2 + cos(lat1) * cos(lat2) * sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))


def _who(fps: Sequence[Fingerprint]) -> str:
    return ", ".join(sorted({f.department for f in fps}))


def duration_words(seconds: float) -> str:
    """A time span in its largest unit and the next one or two down: '3 days', '1 day 2 h',
    '1 day 7 min', '12 min 5 s', '3 s'."""
    total = round(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    units = [(days, " day"), (hours, " h"), (minutes, " min"), (secs, " s")]
    first = next((n for n, (value, _) in enumerate(units) if value), 3)
    shown = [units[first], *[u for u in units[first + 1 : first + 3] if u[0]][:1]]
    return " ".join(f"{value}{unit}{'s' if unit == ' day' and value != 1 else ''}" for value, unit in shown)


def from_camera_clock(f: Fingerprint) -> bool:
    """The capture date is the camera's own (dedupe.core.types.CAMERA_CLOCK_SOURCES)."""
    capture = f.metadata.capture
    return capture.is_known and not capture.weak and capture.source in CAMERA_CLOCK_SOURCES


def _any_date_conflict(dated: list[Fingerprint], settings: MatchSettings) -> tuple[float, Conflict] | None:
    values = [f.metadata.capture.value for f in dated]
    mixed = len({value.tzinfo is None for value in values if value is not None}) > 1

    def when(f: Fingerprint) -> datetime:
        # A date pinned to UTC beside local wall-clock dates: compare wall clocks, which is
        # off by at most the zone difference, well inside the one-day threshold.
        value = f.metadata.capture.value
        assert value is not None
        return value.replace(tzinfo=None) if mixed else value

    dated = sorted(dated, key=lambda f: (when(f), f.key))
    first, last = dated[0], dated[-1]
    gap = when(last) - when(first)
    if gap.total_seconds() <= settings.conflict_capture_days * 86400:
        return None
    return gap.total_seconds(), Conflict(
        "capture_date",
        f"capture dates differ by {duration_words(gap.total_seconds())}: "
        f"{first.metadata.capture.value:%Y-%m-%d} ({first.department}) vs "
        f"{last.metadata.capture.value:%Y-%m-%d} ({last.department})",
    )


def _camera_date_conflict(dated: list[Fingerprint], settings: MatchSettings) -> tuple[float, Conflict] | None:
    # Camera clocks are held to the hour, so a naive local time and one pinned to UTC (a GPS
    # fix) are not compared: the zone between them is unknown and can be that large.
    widest: tuple[float, Fingerprint, Fingerprint] | None = None
    for pinned in (True, False):
        stamped = sorted(
            (
                (_when(f), f.key, f)
                for f in dated
                if from_camera_clock(f) and (_when(f).tzinfo is not None) == pinned
            ),
            key=lambda t: (t[0], t[1]),
        )
        if len(stamped) < 2:
            continue
        (first_at, _, first), (last_at, _, last) = stamped[0], stamped[-1]
        gap = (last_at - first_at).total_seconds()
        if widest is None or gap > widest[0]:
            widest = (gap, first, last)
    if widest is None or widest[0] <= settings.same_photo_max_seconds_apart:
        return None
    gap, first, last = widest
    return gap, Conflict(
        "capture_date",
        f"camera dates differ by {duration_words(gap)}: {_when(first):%Y-%m-%d %H:%M} ({first.department}) "
        f"vs {_when(last):%Y-%m-%d %H:%M} ({last.department})",
    )


def _when(f: Fingerprint) -> datetime:
    value = f.metadata.capture.value
    assert value is not None
    return value


def capture_date_conflict(members: Sequence[Fingerprint], settings: MatchSettings) -> Conflict | None:
    """Any known dates more than settings.conflict_capture_days apart, or camera dates more
    than settings.same_photo_max_seconds_apart apart: one conflict, naming the wider gap
    (in the camera's words, to the minute, when the camera dates span it)."""
    # Weak dates (file times) change whenever a file is copied, so they cannot conflict.
    dated = [f for f in members if f.metadata.capture.is_known and not f.metadata.capture.weak]
    if len(dated) < 2:
        return None
    found = [c for c in (_camera_date_conflict(dated, settings), _any_date_conflict(dated, settings)) if c]
    return max(found, key=lambda c: c[0])[1] if found else None


def parcel_conflict(members: Sequence[Fingerprint]) -> Conflict | None:
    by_parcel: dict[str, list[Fingerprint]] = {}
    for f in members:
        for parcel in f.metadata.parcels:
            by_parcel.setdefault(parcel, []).append(f)
    if len(by_parcel) < 2:
        return None
    said = "; ".join(f"{p} ({_who(fs)})" for p, fs in sorted(by_parcel.items()))
    return Conflict("parcel", f"parcel numbers differ: {said}")


def place_conflict(members: Sequence[Fingerprint], settings: MatchSettings) -> Conflict | None:
    placed = sorted(((f, at) for f in members if (at := f.metadata.gps) is not None), key=lambda p: p[0].key)
    worst: tuple[float, Fingerprint, Fingerprint] | None = None
    for i, (a, at_a) in enumerate(placed):
        for b, at_b in placed[i + 1 :]:
            d = haversine_metres(at_a, at_b)
            if worst is None or d > worst[0]:
                worst = (d, a, b)
    if worst is None or worst[0] <= settings.conflict_place_metres:
        return None
    d, a, b = worst
    return Conflict(
        "place", f"places differ by {d:,.0f} m: {a.key} ({a.department}) vs {b.key} ({b.department})"
    )


def find_conflicts(
    members: Sequence[Fingerprint], settings: MatchSettings | None = None
) -> tuple[Conflict, ...]:
    """Every way the members of one group (authoritative copy included) disagree."""
    s = settings or MatchSettings()
    found = (capture_date_conflict(members, s), parcel_conflict(members), place_conflict(members, s))
    return tuple(c for c in found if c is not None)
