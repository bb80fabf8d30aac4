"""Tiny generated images and Fingerprints for the engine's tests (no fingerprinter needed).

`fingerprint_of` mirrors what dedupe.core.fingerprint computes (64-px grayscale thumbnail,
pHash/dHash, rotated pHashes, information and document flags) closely enough for grouping
tests, so they run before and independently of the real fingerprinter.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

import imagehash
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from dedupe.core.types import CaptureDate, CaptureDateSource, Fingerprint, GeoPoint, ImageMetadata


def hash_int(h: imagehash.ImageHash) -> int:
    return int(str(h), 16)


def thumbnail_of(im: Image.Image) -> tuple[bytes, tuple[int, int]]:
    g = im.convert("L")
    scale = 64 / max(g.size)
    size = (max(1, round(g.width * scale)), max(1, round(g.height * scale)))
    t = g.resize(size, Image.Resampling.LANCZOS)
    return t.tobytes(), t.size


def metadata(
    when: datetime | None = None,
    parcels: tuple[str, ...] = (),
    gps: tuple[float, float] | None = None,
    original: bool = False,
    source: CaptureDateSource = CaptureDateSource.EXIF_ORIGINAL,
) -> ImageMetadata:
    """Metadata with a capture date from `source` (the camera's original date by default)."""
    source = source if when else CaptureDateSource.UNKNOWN
    return ImageMetadata(
        capture=CaptureDate(when, source),
        parcels=parcels,
        gps=GeoPoint(*gps) if gps else None,
        has_original_metadata=original,
    )


def fingerprint_of(
    im: Image.Image,
    key: str,
    department: str = "police",
    *,
    data: bytes | None = None,
    fmt: str = "JPEG",
    jpeg_quality: int | None = 90,
    meta: ImageMetadata | None = None,
    uploaded_order: int = 0,
    page: int | None = None,
) -> Fingerprint:
    """A Fingerprint of `im` as if stored at `key`; `data` stands for the file's bytes."""
    rgb = im.convert("RGB")
    data = data if data is not None else key.encode() + rgb.tobytes()[:64]
    thumb, size = thumbnail_of(rgb)
    arr = np.frombuffer(thumb, dtype=np.uint8).astype(float)
    quality = min(1.0, float(arr.std()) / 40.0)
    paper = np.percentile(arr, 90)
    document_like = bool(
        paper > 170 and (arr < paper * 0.72).mean() < 0.3 and (arr > paper * 0.85).mean() > 0.6
    )
    turned = tuple(hash_int(imagehash.phash(rgb.rotate(a, expand=True))) for a in (90, 180, 270))
    return Fingerprint(
        key=key,
        source_key=key,
        department=department,
        sha256=hashlib.sha256(data).hexdigest(),
        pixel_sha256=hashlib.sha256(rgb.tobytes() + repr(rgb.size).encode()).hexdigest(),
        byte_size=len(data),
        format=fmt,
        mislabelled=False,
        width=rgb.width,
        height=rgb.height,
        page=page,
        phash=hash_int(imagehash.phash(rgb)),
        dhash=hash_int(imagehash.dhash(rgb)),
        rotated_phashes=turned,  # type: ignore[arg-type]
        quality=quality,
        low_information=quality < 0.15,
        document_like=document_like,
        thumbnail=thumb,
        thumb_size=size,
        jpeg_quality=jpeg_quality if fmt == "JPEG" else None,
        metadata=meta or metadata(),
        uploaded_order=uploaded_order,
        preview_jpeg=preview_of(rgb),
    )


def preview_of(im: Image.Image) -> bytes:
    scale = 256 / max(im.size)
    small = im.resize(
        (max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.Resampling.LANCZOS
    )
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def scene(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A photo-like picture: smooth shapes and texture, different for every seed."""
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", size, tuple(int(v) for v in rng.integers(40, 200, 3)))
    d = ImageDraw.Draw(im)
    for _ in range(14):
        x0, y0 = rng.integers(0, size[0]), rng.integers(0, size[1])
        w, h = rng.integers(20, size[0] // 2), rng.integers(20, size[1] // 2)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = d.ellipse if rng.random() < 0.5 else d.rectangle
        shape((x0, y0, x0 + w, y0 + h), fill=colour)
    noise = rng.normal(0, 6, (size[1], size[0], 3))
    arr = np.clip(np.asarray(im, dtype=float) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(arr).filter(ImageFilter.GaussianBlur(1.2))


def reencode(im: Image.Image, quality: int = 60) -> tuple[Image.Image, bytes]:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    data = buf.getvalue()
    return Image.open(io.BytesIO(data)).convert("RGB"), data


def rescan(im: Image.Image, seed: int = 0, degrees: float = 0.8) -> Image.Image:
    """A page printed and scanned again: a slight turn, blur and sensor noise."""
    rng = np.random.default_rng(seed)
    turned = im.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=(250, 250, 248))
    blurred = np.asarray(turned.filter(ImageFilter.GaussianBlur(1.0)), dtype=float)
    return Image.fromarray(np.clip(blurred + rng.normal(0, 8, blurred.shape), 0, 255).astype(np.uint8))


def blend(a: Image.Image, b: Image.Image, t: float) -> Image.Image:
    """A picture t of the way from a to b (for chains whose ends are far apart)."""
    return Image.blend(a.convert("RGB"), b.convert("RGB").resize(a.size), t)


def form(lines: list[str], seed: int = 0, size: tuple[int, int] = (850, 1100)) -> Image.Image:
    """A printed form: one fixed template of boxes and labels, filled in with `lines`."""
    im = Image.new("RGB", size, (250, 250, 248))
    d = ImageDraw.Draw(im)
    d.rectangle((40, 40, size[0] - 40, 130), outline=(20, 20, 20), width=4)
    d.text((60, 70), "CITY OF EXAMPLE - PROPERTY INSPECTION REPORT", fill=(0, 0, 0), font_size=28)
    rng = np.random.default_rng(seed)
    for row in range(6):
        top = 170 + row * 150
        d.rectangle((40, top, size[0] - 40, top + 120), outline=(20, 20, 20), width=3)
        d.text((55, top + 8), f"FIELD {row + 1}", fill=(0, 0, 0), font_size=20)
        if row < len(lines):
            x = 70 + int(rng.integers(0, 20))
            d.text((x, top + 45), lines[row], fill=(15, 25, 90), font_size=52)
    return im
