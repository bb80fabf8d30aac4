"""Capture date and where it came from, camera, GPS position and parcel numbers of one image.

Reads what `imaging.py` already parsed (Pillow's EXIF, XMP and PNG text) plus the file's
gathered path; never decodes pixels. Every value is validated: a zero date, month 13, an
oversized string or bytes garbage is absent, never a crash.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from PIL import ExifTags, Image

from dedupe.core.types import CaptureDate, CaptureDateSource, GeoPoint, ImageMetadata

# Pillow's Image.info (XMP, PNG text chunks, ICC profile ...): its keys are names, and
# Pillow allows (x, y) pairs as well.
ImageInfo = Mapping[str | tuple[int, int], Any]

# A date string longer than this is not a date (EXIF's is 19 characters, ISO 8601 with
# fractions and offset ~35); refusing early keeps regexes cheap on hostile input.
MAX_DATE_CHARS = 64

# Camera make/model longer than this is garbage, not a camera name.
MAX_CAMERA_CHARS = 64

# Only this much of any one metadata text is searched for parcel numbers and dates; an
# XMP packet is a few KB, a hostile one can be megabytes.
MAX_TEXT_CHARS = 65536

# Years outside this range are a reset camera clock or garbage, not a capture date.
MIN_YEAR, MAX_YEAR = 1900, 2100

# LA County Assessor's Parcel Number, "####-###-###", not part of a longer run of digits
# (a plain \b would miss "lot_5012-003-021", since "_" is a word character).
PARCEL_RE = re.compile(r"(?<![\d-])(\d{4}-\d{3}-\d{3})(?![\d]|-\d)")

_EXIF_DATE_RE = re.compile(
    r"^\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,](\d{1,9}))?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)
_OFFSET_RE = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")

# Phone and camera file names: IMG_20240312_101502, PXL_20240312_101502123,
# 2024-03-12 10.15.02, Screenshot_2024-03-12-10-15-02, VID-20240312-WA0001 has no time.
_FILE_NAME_DATE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})[-_.]?(\d{2})[-_.]?(\d{2})"  # date
    r"[ _T-]?(\d{2})[-_.:h]?(\d{2})[-_.:m]?(\d{2})(?:\d{1,3})?(?!\d)"  # time, optional milliseconds
)

_XMP_DATE_FIELDS = ("xmp:CreateDate", "photoshop:DateCreated", "exif:DateTimeOriginal")

# PNG text keys that carry a creation date (PNG spec "Creation Time"; ImageMagick "date:create").
_PNG_DATE_KEYS = ("creation time", "creation_time", "creationtime", "date:create", "create-date", "date")

# A PDF date (ISO 32000-1, 7.9.4): "D:YYYYMMDDHHmmSSOHH'mm'", everything after the year
# optional, O one of "+", "-" or "Z".
_PDF_DATE_RE = re.compile(
    r"^\s*(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"(?:(Z)|([+-])(\d{2})'?(?:(\d{2})'?)?)?\s*$"
)
# Pillow-style info keys of the PDF document information entries (dedupe.core.pdf).
_PDF_TEXT_KEYS = ("pdf:Title", "pdf:Subject", "pdf:Keywords")

_EXIF_IFD = ExifTags.IFD.Exif
_GPS_IFD = ExifTags.IFD.GPSInfo
_T = ExifTags.Base
_G = ExifTags.GPS


def extract_metadata(
    exif: Image.Exif | None,
    info: ImageInfo | None,
    *,
    key: str,
    file_format: str,
    mtime: float | None = None,
) -> ImageMetadata:
    """Everything we can honestly say about an image's origin, from its parsed headers and path."""
    exif_base: Mapping[int, Any] = _safe(lambda: dict(exif), {}) if exif is not None else {}
    exif_ifd: Mapping[int, Any] = _safe(lambda: dict(exif.get_ifd(_EXIF_IFD)), {}) if exif is not None else {}
    gps_ifd: Mapping[int, Any] = _safe(lambda: dict(exif.get_ifd(_GPS_IFD)), {}) if exif is not None else {}
    info = info or {}
    xmp = _xmp_text(info, exif_base)
    png_text = _text_entries(info) if file_format == "PNG" else {}
    pdf_info = _text_entries(info) if file_format == "PDF" else {}  # dedupe.core.pdf's "pdf:..." entries

    make = _camera_name(exif_base.get(_T.Make))
    model = _camera_name(exif_base.get(_T.Model))
    capture = capture_date(
        exif_base, exif_ifd, gps_ifd, xmp, png_text, key, file_format, mtime, pdf_info.get("pdf:CreationDate")
    )
    texts = [
        key,
        clean_text(exif_base.get(_T.ImageDescription), MAX_TEXT_CHARS) or "",
        user_comment(exif_ifd.get(_T.UserComment)) or "",
        clean_text(exif_base.get(_T.XPComment), MAX_TEXT_CHARS, utf16=True) or "",
        xmp,
        *png_text.values(),
        *(pdf_info.get(name, "") for name in _PDF_TEXT_KEYS),
    ]
    return ImageMetadata(
        capture=capture,
        camera_make=make,
        camera_model=model,
        gps=gps_position(gps_ifd),
        parcels=find_parcel_numbers(texts),
        # "Original" = written by a camera: a make/model or a shutter date, not an editor's export.
        has_original_metadata=bool(make or model or parse_exif_datetime(exif_ifd.get(_T.DateTimeOriginal))),
    )


def capture_date(
    exif_base: Mapping[int, Any],
    exif_ifd: Mapping[int, Any],
    gps_ifd: Mapping[int, Any],
    xmp: str,
    png_text: Mapping[str, str],
    key: str,
    file_format: str,
    mtime: float | None,
    pdf_creation: str | None = None,
) -> CaptureDate:
    """The strongest capture date the file offers, in `CaptureDateSource` order."""
    candidates = (
        (CaptureDateSource.EXIF_ORIGINAL, _T.DateTimeOriginal, _T.OffsetTimeOriginal, _T.SubsecTimeOriginal),
        (
            CaptureDateSource.EXIF_DIGITIZED,
            _T.DateTimeDigitized,
            _T.OffsetTimeDigitized,
            _T.SubsecTimeDigitized,
        ),
    )
    for source, tag, offset_tag, subsec_tag in candidates:
        parsed = parse_exif_datetime(exif_ifd.get(tag), exif_ifd.get(offset_tag), exif_ifd.get(subsec_tag))
        if parsed:
            return CaptureDate(parsed[0], source, parsed[1])
    # IFD0 DateTime is the file's change time; in a TIFF it is all the scanner writes.
    ifd0_source = (
        CaptureDateSource.TIFF_DATETIME if file_format == "TIFF" else CaptureDateSource.EXIF_DATETIME
    )
    ifd0 = parse_exif_datetime(exif_base.get(_T.DateTime), exif_ifd.get(_T.OffsetTime))
    if ifd0 and ifd0_source is CaptureDateSource.EXIF_DATETIME:
        return CaptureDate(ifd0[0], ifd0_source, ifd0[1])
    gps = gps_datetime(gps_ifd)
    if gps:
        return CaptureDate(gps, CaptureDateSource.GPS, "+00:00")
    if ifd0:
        return CaptureDate(ifd0[0], ifd0_source, ifd0[1])
    for name in _XMP_DATE_FIELDS:
        parsed = parse_exif_datetime(_xmp_field(xmp, name))
        if parsed:
            return CaptureDate(parsed[0], CaptureDateSource.XMP, parsed[1])
    for text_key, value in png_text.items():
        if text_key.lower() in _PNG_DATE_KEYS:
            parsed = parse_exif_datetime(value) or _parse_rfc2822(value)
            if parsed:
                return CaptureDate(parsed[0], CaptureDateSource.PNG_TEXT, parsed[1])
    pdf_created = parse_pdf_date(pdf_creation)
    if pdf_created:
        return CaptureDate(pdf_created[0], CaptureDateSource.PDF_CREATION, pdf_created[1])
    from_name = date_from_file_name(key)
    if from_name:
        return CaptureDate(from_name, CaptureDateSource.FILE_NAME)
    if mtime is not None and math.isfinite(mtime):
        stamp = _safe(lambda: datetime.fromtimestamp(mtime, tz=UTC), None)
        if stamp is not None and MIN_YEAR <= stamp.year <= MAX_YEAR:
            return CaptureDate(stamp, CaptureDateSource.FILE_TIME, "+00:00", weak=True)
    return CaptureDate(None, CaptureDateSource.UNKNOWN)


def parse_exif_datetime(
    value: object, offset: object = None, subsec: object = None
) -> tuple[datetime, str | None] | None:
    """An EXIF/ISO 8601 date-time and its UTC offset ("-07:00"), or None when absent or invalid.

    Accepts "2024:03:12 10:15:02", "2024-03-12T10:15:02.123-07:00" and the like. With an
    offset the datetime is aware; without it, naive local time as the camera wrote it.
    """
    text = _as_text(value, MAX_DATE_CHARS)
    if not text:
        return None
    match = _EXIF_DATE_RE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups()[:6])
    fraction = match.group(7) or _as_text(subsec, 9) or ""
    micro = int(fraction[:6].ljust(6, "0")) if fraction.isdigit() else 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        stamp = datetime(year, month, day, hour, minute, second, micro)  # noqa: DTZ001 - local time as written
    except ValueError:
        return None
    utc_offset = _parse_offset(match.group(8)) if match.group(8) else _parse_offset(_as_text(offset, 16))
    return _at_offset(stamp, utc_offset)


def parse_pdf_date(value: object) -> tuple[datetime, str | None] | None:
    """A PDF date string ("D:20240312101502-07'00'") as a datetime and its UTC offset, or None.

    With an offset the datetime is aware; without one, naive local time as written. Missing
    parts default as the standard says (month and day 1, time 0)."""
    text = _as_text(value, MAX_DATE_CHARS)
    match = _PDF_DATE_RE.match(text) if text else None
    if not match:
        return None
    year, month, day, hour, minute, second = (
        int(g) if g else d for g, d in zip(match.groups()[:6], (0, 1, 1, 0, 0, 0), strict=True)
    )
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        stamp = datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - local time as written
    except ValueError:
        return None
    zulu, sign, hours, minutes = match.groups()[6:]
    written = "Z" if zulu else f"{sign}{hours}:{minutes or '00'}" if sign else None
    return _at_offset(stamp, _parse_offset(written))


def _at_offset(stamp: datetime, utc_offset: str | None) -> tuple[datetime, str | None]:
    """A local time and its offset ("-07:00") as an aware datetime; naive with no offset."""
    if utc_offset is None:
        return stamp, None
    sign = -1 if utc_offset[0] == "-" else 1
    delta = timedelta(hours=int(utc_offset[1:3]), minutes=int(utc_offset[4:6])) * sign
    return stamp.replace(tzinfo=timezone(delta)), utc_offset


def _parse_offset(text: str | None) -> str | None:
    if not text:
        return None
    if text.strip() == "Z":
        return "+00:00"
    match = _OFFSET_RE.match(text)
    if not match:
        return None
    hours, minutes = int(match.group(2)), int(match.group(3))
    if hours > 14 or minutes > 59:
        return None
    return f"{match.group(1)}{hours:02d}:{minutes:02d}"


def _parse_rfc2822(text: str) -> tuple[datetime, str | None] | None:
    # The PNG specification suggests RFC 1123 dates for "Creation Time".
    if len(text) > MAX_DATE_CHARS:
        return None
    try:
        stamp = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if stamp is None or not MIN_YEAR <= stamp.year <= MAX_YEAR:
        return None
    offset = stamp.utcoffset()
    if offset is None:  # a local time with no zone
        return stamp, None
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return stamp, f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def gps_datetime(gps_ifd: Mapping[int, Any]) -> datetime | None:
    """The GPS fix time (always UTC), or None when absent or invalid."""
    date_text = _as_text(gps_ifd.get(_G.GPSDateStamp), MAX_DATE_CHARS)
    stamp = gps_ifd.get(_G.GPSTimeStamp)
    if not date_text or not isinstance(stamp, (tuple, list)) or len(stamp) != 3:
        return None
    try:
        hours, minutes, seconds = (float(part) for part in stamp)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(math.isfinite(v) and v >= 0 for v in (hours, minutes, seconds)):
        return None
    if hours >= 24 or minutes >= 60 or seconds >= 61:
        return None
    parsed = parse_exif_datetime(
        f"{date_text.strip()} {int(hours):02d}:{int(minutes):02d}:{min(int(seconds), 59):02d}"
    )
    return parsed[0].replace(tzinfo=UTC) if parsed else None


def date_from_file_name(key: str) -> datetime | None:
    """A date-time in a phone or camera file name, e.g. IMG_20240312_101502, or None."""
    name = key.replace("\\", "/").rsplit("/", 1)[-1]
    for match in _FILE_NAME_DATE_RE.finditer(name[:MAX_TEXT_CHARS]):
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        if not MIN_YEAR <= year <= MAX_YEAR:
            continue
        try:
            return datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - local time as named
        except ValueError:
            continue
    return None


def gps_position(gps_ifd: Mapping[int, Any]) -> GeoPoint | None:
    """Decimal degrees from the GPS IFD; None when absent, malformed or absurd."""
    latitude = _degrees(gps_ifd.get(_G.GPSLatitude), gps_ifd.get(_G.GPSLatitudeRef), "N", "S", 90.0)
    longitude = _degrees(gps_ifd.get(_G.GPSLongitude), gps_ifd.get(_G.GPSLongitudeRef), "E", "W", 180.0)
    if latitude is None or longitude is None:
        return None
    if latitude == 0.0 and longitude == 0.0:
        return None  # "null island": a receiver without a fix, not a place
    return GeoPoint(latitude=round(latitude, 7), longitude=round(longitude, 7))


def _degrees(value: object, ref: object, positive: str, negative: str, limit: float) -> float | None:
    if not isinstance(value, (tuple, list)) or not 1 <= len(value) <= 3:
        return None
    try:
        parts = [float(part) for part in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    parts += [0.0] * (3 - len(parts))
    if parts[1] >= 60 or parts[2] >= 60:
        return None
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    if degrees > limit:
        return None
    ref_text = (_as_text(ref, 4) or positive).strip().upper()[:1]
    if ref_text not in (positive, negative):
        return None
    return -degrees if ref_text == negative else degrees


def find_parcel_numbers(texts: Iterable[str]) -> tuple[str, ...]:
    """LA County APNs ("####-###-###") in the given texts, in order of first appearance, once each."""
    found: dict[str, None] = {}
    for text in texts:
        if text:
            for match in PARCEL_RE.finditer(text[:MAX_TEXT_CHARS]):
                found.setdefault(match.group(1))
    return tuple(found)


def user_comment(value: object) -> str | None:
    """EXIF UserComment: an 8-byte character-code prefix then the text."""
    if isinstance(value, bytes) and len(value) >= 8:
        prefix, body = value[:8], value[8:MAX_TEXT_CHARS]
        if prefix.startswith(b"UNICODE"):
            for encoding in ("utf-16-be", "utf-16-le"):
                text = _safe(lambda enc=encoding: body.decode(enc), None)
                if text and text.isprintable():
                    return clean_text(text, MAX_TEXT_CHARS)
            return None
        if prefix.startswith((b"ASCII", b"\x00")):
            return clean_text(body, MAX_TEXT_CHARS)
        return None
    return clean_text(value, MAX_TEXT_CHARS)


def _camera_name(value: object) -> str | None:
    # EXIF writes Make/Model as ASCII; anything else is a corrupt or hostile field.
    text = clean_text(value, MAX_CAMERA_CHARS)
    return text if text and text.isascii() else None


def clean_text(value: object, limit: int, *, utf16: bool = False) -> str | None:
    """A printable, stripped string of at most `limit` characters, or None."""
    if utf16 and isinstance(value, (bytes, tuple, list)):
        raw = bytes(value) if not isinstance(value, bytes) else value
        value = _safe(lambda: raw.decode("utf-16-le"), None)
    text = _as_text(value, limit)
    if not text:
        return None
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    return text or None


def _as_text(value: object, limit: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", " ").strip()
    if not value or len(value) > limit or "\ufffd" in value:
        return None
    return value


def _xmp_text(info: ImageInfo, exif_base: Mapping[int, Any]) -> str:
    for raw in (info.get("xmp"), info.get("XML:com.adobe.xmp"), exif_base.get(_T.XMLPacket)):
        if isinstance(raw, (bytes, bytearray)):
            return bytes(raw[:MAX_TEXT_CHARS]).decode("utf-8", errors="replace")
        if isinstance(raw, str):
            return raw[:MAX_TEXT_CHARS]
    return ""


def _xmp_field(xmp: str, name: str) -> str | None:
    if not xmp or name not in xmp:
        return None
    escaped = re.escape(name)
    match = re.search(rf'{escaped}\s*=\s*"([^"<>]{{1,{MAX_DATE_CHARS}}})"', xmp) or re.search(
        rf"<{escaped}>([^<>]{{1,{MAX_DATE_CHARS}}})</{escaped}>", xmp
    )
    return match.group(1) if match else None


def _text_entries(info: ImageInfo) -> dict[str, str]:
    """The text entries of Pillow's info (PNG text chunks; for a PDF, its document information)."""
    skip = {"XML:com.adobe.xmp", "icc_profile", "exif", "xmp"}
    return {
        str(k): v[:MAX_TEXT_CHARS]
        for k, v in info.items()
        if isinstance(k, str) and k not in skip and isinstance(v, str)
    }


def _safe(thunk: Any, default: Any) -> Any:
    # Pillow parses EXIF lazily; a hostile IFD can raise almost anything on access.
    try:
        return thunk()
    except Exception:
        return default
