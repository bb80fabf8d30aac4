"""Tell a file's real type from its first bytes, never from its name.

Departments send `.jpg` files that are PNGs, PDFs or HTML error pages. Intake and the
engine both call `sniff_format` so the two never disagree about what a file is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# How many leading bytes `sniff_format` needs.
SNIFF_BYTES = 64

IMAGE_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "HEIF", "GIF", "BMP")
# What the engine reads pages from: the images, and PDF documents (dedupe.core.pdf).
READABLE_FORMATS = (*IMAGE_FORMATS, "PDF")

# Extensions each detected format is normally saved under.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "TIFF": (".tif", ".tiff"),
    "WEBP": (".webp",),
    "HEIF": (".heic", ".heif", ".hif", ".avif"),
    "GIF": (".gif",),
    "BMP": (".bmp", ".dib"),
    "PDF": (".pdf",),
    "ZIP": (".zip",),
    "HTML": (".html", ".htm"),
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


@dataclass(frozen=True)
class SniffedType:
    format: str  # one of IMAGE_FORMATS, or "PDF", "ZIP", "HTML", "EXECUTABLE", "EMPTY", "UNKNOWN"
    is_image: bool
    is_readable: bool  # an image, or a PDF: a file whose pages the engine reads
    mislabelled: bool  # the name's extension belongs to another known format
    description: str  # a short phrase for a clerk: "a PDF document", "an empty file"


_DESCRIPTIONS = {
    "PDF": "a PDF document",
    "ZIP": "a ZIP archive",
    "HTML": "an HTML page",
    "EXECUTABLE": "an executable program",
    "EMPTY": "an empty file",
    "UNKNOWN": "not a recognised image format",
}


def usual_extension(fmt: str, default: str = "") -> str:
    """The extension a file of this detected format is normally saved under, e.g. ".jpg"."""
    extensions = EXTENSIONS.get(fmt)
    return extensions[0] if extensions else default


def detect_format(head: bytes) -> str:
    """The format named by the magic bytes at the start of a file."""
    if not head:
        return "EMPTY"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIF"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:2] == b"BM" and len(head) >= 14:
        return "BMP"
    if head.startswith(b"%PDF"):
        return "PDF"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "ZIP"
    if head[:2] == b"MZ" or head[:4] == b"\x7fELF" or head[:4] in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf"):
        return "EXECUTABLE"
    if head[:2] == b"#!":
        return "EXECUTABLE"
    lowered = head.lstrip()[:32].lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml", b"<svg")):
        return "HTML"
    return "UNKNOWN"


def sniff_format(head: bytes, file_name: str) -> SniffedType:
    """What the file really is, and whether its name says otherwise."""
    fmt = detect_format(head[:SNIFF_BYTES])
    ext = os.path.splitext(file_name)[1].lower()
    claimed = next((name for name, exts in EXTENSIONS.items() if ext in exts), None)
    mislabelled = claimed is not None and claimed != fmt and fmt != "EMPTY"
    is_image = fmt in IMAGE_FORMATS
    description = f"a {fmt} image" if is_image else _DESCRIPTIONS.get(fmt, "not a recognised image format")
    return SniffedType(
        format=fmt,
        is_image=is_image,
        is_readable=fmt in READABLE_FORMATS,
        mislabelled=mislabelled,
        description=description,
    )
