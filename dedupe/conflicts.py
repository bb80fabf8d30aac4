"""Disagreements inside one group: capture dates, parcel numbers and places (DESIGN.md s. 7).

The same image carrying different dates, parcels or places across departments is the
legal exposure the city worries about, so each conflict names what disagrees and who said
what.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from math import asin, cos, radians, sin, sqrt

from dedupe.settings import MatchSettings
from dedupe.types import Conflict, Fingerprint, GeoPoint

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def haversine_metres(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance between two points, in metres."""
    lat1, lat2 = radians(a.latitude), radians(b.latitude)
    dlat, dlon = lat2 - lat1, radians(b.longitude - a.longitude)
    h = sin(dlat / 2) ** 2 + cos(lat1) * cos(lat2) * sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))


def _who(fps: Sequence[Fingerprint]) -> str:
    return ", ".join(sorted({f.department for f in fps}))


def capture_date_conflict(members: Sequence[Fingerprint], settings: MatchSettings) -> Conflict | None:
    # Weak dates (file times) change whenever a file is copied, so they cannot conflict.
    dated = [f for f in members if f.metadata.capture.is_known and not f.metadata.capture.weak]
    if len(dated) < 2:
        return None
    mixed = len({f.metadata.capture.value.tzinfo is None for f in dated}) > 1  # type: ignore[union-attr]

    def when(f: Fingerprint) -> datetime:
        # A date pinned to UTC beside local wall-clock dates: compare wall clocks, which is
        # off by at most the zone difference, well inside the one-day threshold.
        value = f.metadata.capture.value
        assert value is not None
        return value.replace(tzinfo=None) if mixed else value

    dated.sort(key=lambda f: (when(f), f.key))
    first, last = dated[0], dated[-1]
    gap = when(last) - when(first)
    if gap.total_seconds() <= settings.conflict_capture_days * 86400:
        return None
    return Conflict(
        "capture_date",
        f"capture dates differ by {gap.days} days: {first.metadata.capture.value:%Y-%m-%d} "
        f"({first.department}) vs {last.metadata.capture.value:%Y-%m-%d} ({last.department})",
    )


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
    placed = sorted((f for f in members if f.metadata.gps is not None), key=lambda f: f.key)
    worst: tuple[float, Fingerprint, Fingerprint] | None = None
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            d = haversine_metres(a.metadata.gps, b.metadata.gps)  # type: ignore[arg-type]
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
