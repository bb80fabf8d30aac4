"""Two pictures whose camera clocks say different moments are never "the same photo".

The camera's own dates (EXIF DateTimeOriginal/Digitized, GPS time) are kept by every copy;
when they differ by more than MatchSettings.same_photo_max_seconds_apart the pictures were
taken at different moments: near-identical shots at most, with a date conflict. Dates that
software or people write (file names, EXIF DateTime, XMP) do not decide it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from PIL import Image

from dedupe.core.grouping import group_fingerprints
from dedupe.core.settings import MatchSettings
from dedupe.core.types import CaptureDateSource, Relation
from tests.dedupe.builders import fingerprint_of, metadata, reencode, scene

PICTURE = scene(11)
TEN = datetime(2024, 5, 1, 10, 0, 0)


def _burst_of(picture: Image.Image) -> Image.Image:
    rng = np.random.default_rng(0)
    shifted = np.roll(np.asarray(picture, dtype=float), 2, axis=1) + rng.normal(0, 4, (240, 320, 3))
    return Image.fromarray(np.clip(shifted, 0, 255).astype(np.uint8))


def _pair(when_b: datetime, source: CaptureDateSource = CaptureDateSource.EXIF_ORIGINAL, image=None):
    a = fingerprint_of(PICTURE, "a.jpg", meta=metadata(TEN, source=source))
    b = fingerprint_of(image or reencode(PICTURE)[0], "b.jpg", meta=metadata(when_b, source=source))
    return a, b


def test_a_burst_seconds_apart_stays_a_near_identical_shot() -> None:
    a, b = _pair(TEN + timedelta(seconds=4), image=_burst_of(PICTURE))
    (group,) = group_fingerprints([a, b])
    (member,) = group.members
    assert member.relation is Relation.NEAR_IDENTICAL_SHOT
    assert member.explanation.startswith("near-identical shot, taken 4 s apart")
    assert group.conflicts == ()


def test_a_reencode_with_the_same_camera_date_stays_the_same_image() -> None:
    (group,) = group_fingerprints(list(_pair(TEN)))
    assert group.members[0].relation is Relation.SAME_IMAGE
    assert group.conflicts == ()


def test_camera_dates_two_hours_apart_are_another_shot_with_a_date_conflict() -> None:
    (group,) = group_fingerprints(list(_pair(TEN + timedelta(hours=2, minutes=5))))
    (member,) = group.members
    assert member.relation is Relation.NEAR_IDENTICAL_SHOT  # the pixels alone would say same_image
    assert member.verification_score >= MatchSettings().same_image_score
    assert member.explanation.startswith("another shot: camera dates 2 h 5 min apart;")
    (conflict,) = group.conflicts
    assert conflict.field == "capture_date" and conflict.description.startswith(
        "camera dates differ by 2 h 5 min"
    )


def test_gps_times_count_as_the_camera_clock() -> None:
    utc = UTC
    gps = CaptureDateSource.GPS
    (group,) = group_fingerprints(list(_pair(datetime(2024, 5, 1, 14, tzinfo=utc), gps)))
    assert group.members[0].relation is Relation.SAME_IMAGE  # naive beside UTC: unknown zone
    a = fingerprint_of(PICTURE, "a.jpg", meta=metadata(datetime(2024, 5, 1, 10, tzinfo=utc), source=gps))
    b = fingerprint_of(
        reencode(PICTURE)[0], "b.jpg", meta=metadata(datetime(2024, 5, 1, 14, tzinfo=utc), source=gps)
    )
    (group,) = group_fingerprints([a, b])
    assert group.members[0].relation is Relation.NEAR_IDENTICAL_SHOT


def test_file_name_dates_two_hours_apart_do_not_make_another_shot() -> None:
    (group,) = group_fingerprints(list(_pair(TEN + timedelta(hours=2), CaptureDateSource.FILE_NAME)))
    assert group.members[0].relation is Relation.SAME_IMAGE
    assert group.conflicts == ()


def test_an_edited_exif_datetime_two_hours_apart_does_not_make_another_shot() -> None:
    # Plain EXIF DateTime is what editing software rewrites on every save.
    (group,) = group_fingerprints(list(_pair(TEN + timedelta(hours=2), CaptureDateSource.EXIF_DATETIME)))
    assert group.members[0].relation is Relation.SAME_IMAGE


def test_exact_and_same_pixel_copies_are_unaffected_by_dates() -> None:
    a = fingerprint_of(PICTURE, "a.jpg", data=b"same", meta=metadata(TEN))
    b = fingerprint_of(PICTURE, "b.jpg", data=b"same", meta=metadata(TEN + timedelta(days=3)))
    c = fingerprint_of(PICTURE, "c.png", data=b"other", meta=metadata(TEN + timedelta(days=3)))
    (group,) = group_fingerprints([a, b, c])
    assert {m.key: m.relation for m in group.members} == {
        "b.jpg": Relation.EXACT,
        "c.png": Relation.SAME_PIXELS,
    }


def test_the_limit_is_a_named_setting() -> None:
    a, b = _pair(TEN + timedelta(hours=2))
    loose = MatchSettings(same_photo_max_seconds_apart=3 * 3600.0)
    (group,) = group_fingerprints([a, b], loose)
    assert group.members[0].relation is Relation.SAME_IMAGE and group.conflicts == ()
