"""Fingerprints between the engine and the database: `Fingerprint` values to rows and back.

One place for the mapping, so the dedupe runs, the library check and the upload door read
and write stored fingerprints the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from dedupe.core.types import (
    CaptureDate,
    CaptureDateSource,
    Fingerprint,
    GeoPoint,
    ImageMetadata,
    Unreadable,
    page_of_key,
)
from dedupe.models import ImageFingerprint, signed64, unsigned64


def rows_from_results(sha256: str, results: Iterable[Fingerprint | Unreadable]) -> list[ImageFingerprint]:
    """ImageFingerprint rows for the engine's results on one blob, by its SHA-256 (unreadable pages included)."""
    rows = []
    for result in results:
        if isinstance(result, Unreadable):
            page = page_of_key(result.key)
            rows.append(
                ImageFingerprint(
                    blob_id=sha256, page=page, unreadable_reason=result.reason, format=result.format or ""
                )
            )
            continue
        meta = result.metadata
        blocks = [(result.phash >> shift) & 0xFFFF for shift in (48, 32, 16, 0)]
        rows.append(
            ImageFingerprint(
                blob_id=sha256,
                page=result.page or 0,
                format=result.format,
                pixel_sha256=result.pixel_sha256,
                width=result.width,
                height=result.height,
                phash=signed64(result.phash),
                dhash=signed64(result.dhash),
                phash_rot90=signed64(result.rotated_phashes[0]),
                phash_rot180=signed64(result.rotated_phashes[1]),
                phash_rot270=signed64(result.rotated_phashes[2]),
                phash_block0=blocks[0],
                phash_block1=blocks[1],
                phash_block2=blocks[2],
                phash_block3=blocks[3],
                quality=result.quality,
                low_information=result.low_information,
                document_like=result.document_like,
                thumbnail=result.thumbnail,
                thumb_width=result.thumb_size[0],
                thumb_height=result.thumb_size[1],
                preview_jpeg=result.preview_jpeg,
                document_view=result.document_view,
                text=result.text,
                text_source=result.text_source,
                ocr_guesses=result.ocr_guesses,
                ocr_alternatives=result.ocr_alternatives,
                word_places=result.word_places,
                entry_marks=result.entry_marks,
                upright_turn=result.upright_turn,
                jpeg_quality=result.jpeg_quality,
                capture_date=meta.capture.value.isoformat() if meta.capture.value else "",
                capture_date_source=meta.capture.source,
                capture_utc_offset=meta.capture.utc_offset or "",
                camera_make=meta.camera_make or "",
                camera_model=meta.camera_model or "",
                gps_latitude=meta.gps.latitude if meta.gps else None,
                gps_longitude=meta.gps.longitude if meta.gps else None,
                parcels=list(meta.parcels),
                has_original_metadata=meta.has_original_metadata,
            )
        )
    return rows


def fingerprint_from_row(
    fp: ImageFingerprint,
    *,
    key: str,
    source_key: str,
    department: str,
    sha256: str,
    byte_size: int = 0,
    mislabelled: bool = False,
    capture: CaptureDate | None = None,
    parcels: tuple[str, ...] | None = None,
    uploaded_order: int = 0,
) -> Fingerprint:
    """The engine's view of a stored row; what depends on a file's name comes from the caller.

    Without `capture` and `parcels`, the ones embedded in the bytes (stored on the row) are used.
    """
    if capture is None:
        value = datetime.datetime.fromisoformat(fp.capture_date) if fp.capture_date else None
        capture = CaptureDate(value, CaptureDateSource(fp.capture_date_source), fp.capture_utc_offset or None)
    return Fingerprint(
        key=key,
        source_key=source_key,
        department=department,
        sha256=sha256,
        pixel_sha256=fp.pixel_sha256,
        byte_size=byte_size,
        format=fp.format,
        mislabelled=mislabelled,
        width=fp.width,
        height=fp.height,
        page=fp.page or None,
        phash=unsigned64(fp.phash),
        dhash=unsigned64(fp.dhash) if fp.dhash is not None else 0,
        rotated_phashes=(
            unsigned64(fp.phash_rot90 or 0),
            unsigned64(fp.phash_rot180 or 0),
            unsigned64(fp.phash_rot270 or 0),
        ),
        quality=fp.quality,
        low_information=fp.low_information,
        document_like=fp.document_like,
        thumbnail=bytes(fp.thumbnail),
        thumb_size=(fp.thumb_width, fp.thumb_height),
        jpeg_quality=fp.jpeg_quality,
        metadata=ImageMetadata(
            capture=capture,
            camera_make=fp.camera_make or None,
            camera_model=fp.camera_model or None,
            gps=GeoPoint(fp.gps_latitude, fp.gps_longitude) if fp.gps_latitude is not None else None,
            parcels=tuple(fp.parcels) if parcels is None else parcels,
            has_original_metadata=fp.has_original_metadata,
        ),
        uploaded_order=uploaded_order,
        # Only document-like pages have one (~40 KB); the preview stays in the database.
        document_view=bytes(fp.document_view) if fp.document_like else b"",
        text=fp.text,
        text_source=fp.text_source,
        ocr_guesses=fp.ocr_guesses,
        ocr_alternatives=fp.ocr_alternatives,
        word_places=fp.word_places,
        entry_marks=bytes(fp.entry_marks) if fp.document_like else b"",
        upright_turn=fp.upright_turn,
    )
