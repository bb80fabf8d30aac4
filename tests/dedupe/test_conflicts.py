"""A group whose members disagree on date, parcel or place says what disagrees and who said it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from dedupe.core.conflicts import find_conflicts, haversine_metres
from dedupe.core.types import CaptureDateSource, GeoPoint
from tests.dedupe.builders import fingerprint_of, metadata, scene

PICTURE = scene(9)


def test_conflicting_capture_dates_are_flagged() -> None:
    a = fingerprint_of(PICTURE, "police/a.jpg", "police", meta=metadata(datetime(2024, 3, 12, 10)))
    b = fingerprint_of(PICTURE, "parks/b.jpg", "parks", meta=metadata(datetime(2024, 3, 15, 10)))
    (conflict,) = find_conflicts([a, b])
    assert conflict.field == "capture_date"
    assert "3 days" in conflict.description
    assert "police" in conflict.description and "parks" in conflict.description


def test_other_dates_within_a_day_and_unknown_dates_do_not_conflict() -> None:
    named = CaptureDateSource.FILE_NAME
    a = fingerprint_of(PICTURE, "a.jpg", meta=metadata(datetime(2024, 3, 12, 10), source=named))
    b = fingerprint_of(PICTURE, "b.jpg", meta=metadata(datetime(2024, 3, 12, 22), source=named))
    c = fingerprint_of(PICTURE, "c.jpg")
    assert find_conflicts([a, b, c]) == ()


def test_camera_dates_within_an_hour_do_not_conflict() -> None:
    a = fingerprint_of(PICTURE, "a.jpg", meta=metadata(datetime(2024, 3, 12, 10)))
    b = fingerprint_of(PICTURE, "b.jpg", meta=metadata(datetime(2024, 3, 12, 10, 59)))
    assert find_conflicts([a, b]) == ()


def test_camera_dates_more_than_an_hour_apart_conflict_in_words() -> None:
    a = fingerprint_of(PICTURE, "police/a.jpg", "police", meta=metadata(datetime(2024, 3, 12, 10)))
    b = fingerprint_of(PICTURE, "parks/b.jpg", "parks", meta=metadata(datetime(2024, 3, 12, 12, 5)))
    (conflict,) = find_conflicts([a, b])
    assert conflict.field == "capture_date"
    assert conflict.description == (
        "camera dates differ by 2 h 5 min: 2024-03-12 10:00 (police) vs 2024-03-12 12:05 (parks)"
    )


def test_a_camera_date_pinned_to_utc_is_not_held_to_the_hour_against_a_local_one() -> None:
    # A GPS fix (UTC) beside the camera's local clock: the zone between them is unknown.
    gps = CaptureDateSource.GPS
    fix = fingerprint_of(PICTURE, "a.jpg", meta=metadata(datetime(2024, 3, 12, 17, tzinfo=UTC), source=gps))
    local = fingerprint_of(PICTURE, "b.jpg", meta=metadata(datetime(2024, 3, 12, 10)))
    assert find_conflicts([fix, local]) == ()


def test_different_parcels_are_flagged_with_departments() -> None:
    a = fingerprint_of(PICTURE, "police/a.jpg", "police", meta=metadata(parcels=("1234-567-890",)))
    b = fingerprint_of(PICTURE, "planning/b.jpg", "planning", meta=metadata(parcels=("1234-567-891",)))
    (conflict,) = find_conflicts([a, b])
    assert conflict.field == "parcel"
    assert "1234-567-890 (police)" in conflict.description
    assert "1234-567-891 (planning)" in conflict.description


def test_places_more_than_100_m_apart_are_flagged() -> None:
    a = fingerprint_of(PICTURE, "a.jpg", "police", meta=metadata(gps=(34.0522, -118.2437)))
    near = fingerprint_of(PICTURE, "b.jpg", "parks", meta=metadata(gps=(34.0526, -118.2437)))
    far = fingerprint_of(PICTURE, "c.jpg", "parks", meta=metadata(gps=(34.0552, -118.2437)))
    assert find_conflicts([a, near]) == ()
    (conflict,) = find_conflicts([a, far])
    assert conflict.field == "place" and "334 m" in conflict.description


def test_haversine_matches_a_known_distance() -> None:
    # One degree of latitude is about 111.2 km.
    assert abs(haversine_metres(GeoPoint(0, 0), GeoPoint(1, 0)) - 111_195) < 50


def test_a_date_with_a_utc_offset_beside_one_without_compares_wall_clocks() -> None:
    # Regression: comparing an aware datetime with a naive one raised TypeError.
    pinned = datetime(2024, 3, 12, 10, tzinfo=timezone(timedelta(hours=-7)))
    a = fingerprint_of(PICTURE, "police/a.jpg", "police", meta=metadata(pinned))
    b = fingerprint_of(PICTURE, "parks/b.jpg", "parks", meta=metadata(datetime(2024, 3, 12, 18)))
    assert find_conflicts([a, b]) == ()
    c = fingerprint_of(PICTURE, "parks/c.jpg", "parks", meta=metadata(datetime(2024, 3, 16, 10)))
    (conflict,) = find_conflicts([a, c])
    assert conflict.field == "capture_date" and "4 days" in conflict.description
