"""Capture date and its source, camera, GPS and parcel numbers; garbage is absent, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from dedupe.core.fingerprint import fingerprint_bytes
from dedupe.core.metadata import extract_metadata, find_parcel_numbers, parse_exif_datetime, parse_pdf_date
from dedupe.core.types import CaptureDateSource, Fingerprint, GeoPoint, ImageMetadata
from tests.dedupe.images import encoded, exif_with, jpeg_bytes, png_bytes

ORIGINAL, DIGITIZED, OFFSET_ORIGINAL, USER_COMMENT = 0x9003, 0x9004, 0x9011, 0x9286
DATETIME, MAKE, MODEL, DESCRIPTION = 0x0132, 0x010F, 0x0110, 0x010E


def small_photo() -> Image.Image:
    return Image.effect_mandelbrot((64, 48), (-2, -1.2, 1, 1.2), 40).convert("RGB")


def metadata_of(data: bytes, key: str = "police/photo.jpg", mtime: float | None = None) -> ImageMetadata:
    (result,) = fingerprint_bytes(data, key, mtime=mtime)
    assert isinstance(result, Fingerprint)
    return result.metadata


def jpeg_with_exif(**ifds: dict[int, object]) -> bytes:
    return jpeg_bytes(small_photo(), exif=exif_with(**ifds))


def test_exif_original_date_with_offset_is_used():
    capture = metadata_of(
        jpeg_with_exif(
            base={DATETIME: "2024:05:01 09:00:00"},
            exif_ifd={
                ORIGINAL: "2024:03:12 10:15:02",
                OFFSET_ORIGINAL: "-07:00",
                DIGITIZED: "2024:03:12 10:15:03",
            },
        )
    ).capture
    assert capture.source is CaptureDateSource.EXIF_ORIGINAL
    assert capture.value == datetime(2024, 3, 12, 10, 15, 2, tzinfo=timezone(timedelta(hours=-7)))
    assert capture.utc_offset == "-07:00"
    assert capture.weak is False


def test_exif_original_date_without_offset_is_naive_local_time():
    capture = metadata_of(jpeg_with_exif(exif_ifd={ORIGINAL: "2024:03:12 10:15:02"})).capture
    assert capture.value == datetime(2024, 3, 12, 10, 15, 2)
    assert capture.utc_offset is None


def test_zero_date_in_exif_is_treated_as_absent():
    capture = metadata_of(
        jpeg_with_exif(exif_ifd={ORIGINAL: "0000:00:00 00:00:00", DIGITIZED: "2023:11:02 08:00:00"})
    ).capture
    assert capture.source is CaptureDateSource.EXIF_DIGITIZED
    assert capture.value == datetime(2023, 11, 2, 8, 0, 0)


@pytest.mark.parametrize(
    "text",
    [
        "0000:00:00 00:00:00",
        "2024:13:01 10:00:00",
        "2024:02:30 10:00:00",
        "2024:01:01 25:00:00",
        "    ",
        "x" * 500,
    ],
)
def test_invalid_exif_dates_are_absent(text):
    assert parse_exif_datetime(text) is None


def test_exif_datetime_is_used_when_no_original_date():
    capture = metadata_of(jpeg_with_exif(base={DATETIME: "2022:07:04 12:00:00"})).capture
    assert (capture.source, capture.value) == (CaptureDateSource.EXIF_DATETIME, datetime(2022, 7, 4, 12))


def test_tiff_datetime_is_named_as_such():
    data = encoded(small_photo(), "TIFF", exif=exif_with(base={DATETIME: "2019:01:02 03:04:05"}))
    capture = metadata_of(data, "clerk/scan.tif").capture
    assert (capture.source, capture.value) == (CaptureDateSource.TIFF_DATETIME, datetime(2019, 1, 2, 3, 4, 5))


def test_gps_date_is_used_when_it_is_the_only_time():
    gps = {29: "2024:03:12", 7: (Fraction(17), Fraction(15), Fraction(2))}
    capture = metadata_of(jpeg_with_exif(gps_ifd=gps)).capture
    assert capture.source is CaptureDateSource.GPS
    assert capture.value == datetime(2024, 3, 12, 17, 15, 2, tzinfo=UTC)
    assert capture.utc_offset == "+00:00"


def test_xmp_create_date_is_read():
    xmp = b'<x:xmpmeta><rdf:Description xmp:CreateDate="2021-06-30T14:05:00-07:00"/></x:xmpmeta>'
    capture = metadata_of(jpeg_bytes(small_photo(), xmp=xmp)).capture
    assert capture.source is CaptureDateSource.XMP
    assert capture.value == datetime(2021, 6, 30, 14, 5, tzinfo=timezone(timedelta(hours=-7)))


def test_photoshop_date_created_element_is_read():
    xmp = b"<x:xmpmeta><photoshop:DateCreated>2020-02-02T08:09:10</photoshop:DateCreated></x:xmpmeta>"
    capture = metadata_of(jpeg_bytes(small_photo(), xmp=xmp)).capture
    assert (capture.source, capture.value) == (CaptureDateSource.XMP, datetime(2020, 2, 2, 8, 9, 10))


def test_png_creation_time_text_is_read():
    text = PngImagePlugin.PngInfo()
    text.add_text("Creation Time", "Tue, 12 Mar 2024 10:15:02 -0700")
    capture = metadata_of(png_bytes(small_photo(), pnginfo=text), "parks/site.png").capture
    assert capture.source is CaptureDateSource.PNG_TEXT
    assert capture.value == datetime(2024, 3, 12, 10, 15, 2, tzinfo=timezone(timedelta(hours=-7)))
    assert capture.utc_offset == "-07:00"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("police/IMG_20240312_101502.jpg", datetime(2024, 3, 12, 10, 15, 2)),
        ("police/2024-03-12 10.15.02.jpg", datetime(2024, 3, 12, 10, 15, 2)),
        ("police/PXL_20240312_101502123.jpg", datetime(2024, 3, 12, 10, 15, 2)),
        ("police/Screenshot_2024-03-12-10-15-02.jpg", datetime(2024, 3, 12, 10, 15, 2)),
    ],
)
def test_file_name_date_is_used_when_exif_has_none(name, expected):
    capture = metadata_of(jpeg_bytes(small_photo()), name, mtime=1_700_000_000).capture
    assert (capture.source, capture.value, capture.weak) == (CaptureDateSource.FILE_NAME, expected, False)


def test_impossible_file_name_date_is_ignored():
    capture = metadata_of(jpeg_bytes(small_photo()), "police/IMG_20241399_101502.jpg").capture
    assert capture.source is CaptureDateSource.UNKNOWN


def test_file_time_is_the_weak_last_resort():
    capture = metadata_of(jpeg_bytes(small_photo()), "police/photo.jpg", mtime=1_710_238_502).capture
    assert capture.source is CaptureDateSource.FILE_TIME
    assert capture.weak is True
    assert capture.value == datetime(2024, 3, 12, 10, 15, 2, tzinfo=UTC)


def test_unknown_when_nothing_dates_the_image():
    capture = metadata_of(jpeg_bytes(small_photo()), "police/photo.jpg").capture
    assert capture.source is CaptureDateSource.UNKNOWN
    assert capture.is_known is False


def test_camera_make_model_mark_original_metadata():
    metadata = metadata_of(jpeg_with_exif(base={MAKE: "Apple\x00", MODEL: "iPhone 15"}))
    assert (metadata.camera_make, metadata.camera_model) == ("Apple", "iPhone 15")
    assert metadata.has_original_metadata is True
    assert metadata_of(jpeg_bytes(small_photo())).has_original_metadata is False


def test_oversized_and_garbage_camera_strings_are_absent():
    metadata = metadata_of(jpeg_with_exif(base={MAKE: "A" * 5000, MODEL: b"\xff\xfe\x00garbage\x80"}))
    assert (metadata.camera_make, metadata.camera_model) == (None, None)


def dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction(round(((value - degrees) * 60 - minutes) * 60 * 1000), 1000)
    return Fraction(degrees), Fraction(minutes), seconds


def test_gps_position_is_decimal_degrees():
    gps = {1: "N", 2: dms(34.0522), 3: "W", 4: dms(118.2437)}
    point = metadata_of(jpeg_with_exif(gps_ifd=gps)).gps
    assert point == GeoPoint(
        latitude=pytest.approx(34.0522, abs=1e-5), longitude=pytest.approx(-118.2437, abs=1e-5)
    )


@pytest.mark.parametrize(
    "gps",
    [
        {1: "N", 2: (Fraction(134), Fraction(0), Fraction(0)), 3: "W", 4: dms(118.2)},  # latitude > 90
        {1: "N", 2: dms(34.0), 3: "W", 4: (Fraction(200), Fraction(0), Fraction(0))},  # longitude > 180
        {1: "Q", 2: dms(34.0), 3: "W", 4: dms(118.2)},  # no such hemisphere
        {
            1: "N",
            2: (Fraction(0), Fraction(0), Fraction(0)),
            3: "E",
            4: (Fraction(0), Fraction(0), Fraction(0)),
        },
        {1: "N", 2: dms(34.0)},  # no longitude
    ],
)
def test_absurd_gps_is_absent(gps):
    assert metadata_of(jpeg_with_exif(gps_ifd=gps)).gps is None


def test_parcel_number_found_in_path():
    metadata = metadata_of(jpeg_bytes(small_photo()), "building/APN 5012-003-021/site_visit.jpg")
    assert metadata.parcels == ("5012-003-021",)


def test_parcel_number_found_next_to_underscores_in_a_file_name():
    assert metadata_of(jpeg_bytes(small_photo()), "building/lot_5012-003-021_front.jpg").parcels == (
        "5012-003-021",
    )


def test_parcel_numbers_found_in_description_and_user_comment():
    data = jpeg_with_exif(
        base={DESCRIPTION: "Encampment at parcel 4321-012-345"},
        exif_ifd={USER_COMMENT: b"ASCII\x00\x00\x00see also 4321-012-346 and 4321-012-345"},
    )
    assert metadata_of(data).parcels == ("4321-012-345", "4321-012-346")


def test_parcel_number_found_in_png_text():
    text = PngImagePlugin.PngInfo()
    text.add_text("Description", "Site plan, APN 2004-001-017")
    assert metadata_of(png_bytes(small_photo(), pnginfo=text), "plans/site.png").parcels == ("2004-001-017",)


@pytest.mark.parametrize(
    "text", ["12345-678-9012", "5012-003-0211", "15012-003-021", "5012-003-021-7", "5012-03-021"]
)
def test_parcel_number_is_not_taken_from_longer_digit_runs(text):
    assert find_parcel_numbers([text]) == ()


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.binary(max_size=80), st.none(), st.integers()))
def test_exif_date_parser_never_raises_on_arbitrary_input(value):
    result = parse_exif_datetime(value, value, value)
    assert result is None or 1900 <= result[0].year <= 2100


@settings(max_examples=150, deadline=None)
@given(
    original=st.one_of(st.text(max_size=40), st.binary(max_size=40)),
    offset=st.text(max_size=10),
    make=st.one_of(st.text(max_size=20), st.binary(max_size=20)),
    comment=st.binary(max_size=40),
)
def test_metadata_extraction_never_raises_on_arbitrary_exif_values(original, offset, make, comment):
    exif = exif_with(
        base={MAKE: make}, exif_ifd={ORIGINAL: original, OFFSET_ORIGINAL: offset, USER_COMMENT: comment}
    )
    metadata = extract_metadata(exif, {}, key="x/y.jpg", file_format="JPEG")
    assert isinstance(metadata, ImageMetadata)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_exif_date_strings_survive_a_round_trip_through_a_real_jpeg(original):
    data = jpeg_bytes(Image.new("RGB", (8, 8), "gray"), exif=exif_with(exif_ifd={ORIGINAL: original}))
    (result,) = fingerprint_bytes(data, "x.jpg")
    assert isinstance(result, Fingerprint)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            "D:20240312101502-07'00'",
            (datetime(2024, 3, 12, 10, 15, 2, tzinfo=timezone(timedelta(hours=-7))), "-07:00"),
        ),
        ("D:20240312101502Z", (datetime(2024, 3, 12, 10, 15, 2, tzinfo=UTC), "+00:00")),
        (
            "D:20240312101502+0530",
            (datetime(2024, 3, 12, 10, 15, 2, tzinfo=timezone(timedelta(hours=5, minutes=30))), "+05:30"),
        ),
        ("D:2024", (datetime(2024, 1, 1), None)),  # the parts after the year default
        ("20240312", (datetime(2024, 3, 12), None)),  # some writers leave out "D:"
    ],
)
def test_pdf_dates_are_read_as_the_standard_writes_them(written, expected):
    assert parse_pdf_date(written) == expected


@pytest.mark.parametrize(
    "garbage", ["", "D:", "D:20241332", "D:18000101", "D:2024031210150207'00'x", "x" * 500, None, 7]
)
def test_a_pdf_date_that_is_not_one_is_absent(garbage):
    assert parse_pdf_date(garbage) is None
