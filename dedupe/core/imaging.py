"""Open any gathered image file once: read its bytes, sniff its real type, decode each page small.

This module owns the one read and the one decode per page. It hands `fingerprint.py` an
oriented, sRGB, alpha-flattened RGB image at the smallest decode scale that still serves
the hashes and the 256-px preview (JPEG draft mode), plus the header facts (full size,
EXIF, XMP/PNG text, JPEG quantisation tables). Anything it cannot read becomes an
`Unreadable` with a one-line reason a clerk understands; nothing raises out to the batch.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, UnidentifiedImageError

from dedupe.core.pdf import PdfFile, PdfRefused, RenderedPdfPage
from dedupe.core.sniff import sniff_format
from dedupe.core.types import SourceFile, Unreadable, page_key
from dedupe.core.word_places import WordPlace

# HEIC/HEIF photos from phones; libheif applies the container's rotation itself and the
# opener resets the EXIF orientation to 1, so we never rotate a HEIF twice.
pillow_heif.register_heif_opener()

# Refuse images above this many pixels before decoding a byte of pixel data. Larger than
# any camera a department uses (100-MP medium format) and below Pillow's own hard error
# (~179 MP), so the clerk always sees our reason rather than Pillow's.
MAX_IMAGE_PIXELS = 150_000_000

# Refuse files above this size rather than hold them in memory: the engine reads each
# file's bytes once (hash and decode share them), so this bounds memory per file.
MAX_FILE_BYTES = 1024 * 1024 * 1024

# Read at most this many pages of one multi-page file. Pages are decoded one at a time
# (memory stays flat); the cap bounds the time one file can take. The excess is reported
# as one unreadable item so nothing is silently dropped.
MAX_PAGES_PER_FILE = 1000

# The longest side of the review preview; JPEG draft mode decodes at the smallest DCT
# scale (1/8, 1/4, 1/2) whose result is still at least this long, so hashes (32 px),
# the 64-px thumbnail and the preview all come from that one small decode.
PREVIEW_SIZE = 256
# Document-like pages also keep a grey view this large (longest side) for the sharper
# check (dedupe.core.fingerprint, dedupe.core.verify): handwriting 18 px high on a letter-size scan
# is ~10 px here, where the 256-px preview blurs it into grey bars.
DOCUMENT_VIEW_SIZE = 640

# Pillow's format names for what `sniff_format` detects; opening with only the detected
# plugin means a file can never be decoded as something other than what it is.
_PIL_FORMATS: dict[str, list[str]] = {
    "JPEG": ["JPEG", "MPO"],
    "PNG": ["PNG"],
    "TIFF": ["TIFF"],
    "WEBP": ["WEBP"],
    "HEIF": ["HEIF", "AVIF"],
    "GIF": ["GIF"],
    "BMP": ["BMP", "DIB"],
}

# EXIF orientation -> the transpose that displays the image upright (as ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ORIENTATION_TAG = 0x0112

_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class ImageRefused(Exception):
    """A page the engine will not decode; the message is the clerk-facing reason."""


@dataclass
class DecodedPage:
    """One page, decoded small and normalised; what `fingerprint.py` hashes."""

    key: str  # SourceFile.key, or "key#page=N" for pages of a multi-page file
    page: int | None  # 1-based for multi-page files, else None
    image: Image.Image  # RGB, oriented upright, sRGB, alpha flattened on white, at decode scale
    width: int  # full resolution after orientation, from the header
    height: int
    decode_scale: int  # 1, 2, 4 or 8: full size divided by decoded size
    orientation: int  # the EXIF orientation that was applied (1 = none)
    exif: Image.Exif
    info: dict[str | tuple[int, int], Any]  # Pillow's info: XMP, PNG text chunks (read by metadata.py)
    quantization: dict[int, list[int]] | None = None  # JPEG tables, natural order
    text: str = ""  # a PDF page's embedded text layer ("" for images and scanned pages without one)
    places: tuple[WordPlace, ...] = ()  # where the text layer's words are (dedupe.core.word_places)
    scanned_text: bool = False  # the text layer is a scanner's OCR of the page (pdf.RenderedPdfPage)


@dataclass
class GatheredImage:
    """A gathered file whose bytes were read once and whose type is an image."""

    source: SourceFile
    data: bytes = field(repr=False)
    sha256: str
    format: str  # as detected from the bytes
    mislabelled: bool

    def unreadable(self, reason: str, key: str | None = None) -> Unreadable:
        return Unreadable(
            key=key or self.source.key,
            source_key=self.source.key,
            department=self.source.department,
            sha256=self.sha256,
            byte_size=len(self.data),
            reason=reason,
            format=self.format,
        )

    def pages(self) -> Iterator[DecodedPage | Unreadable]:
        """Decode the file's pages one at a time (a TIFF's or PDF's every page; other formats' first frame)."""
        if self.format == "PDF":
            yield from _iter_pdf_pages(self)
        else:
            yield from _iter_pages(self)


def open_gathered_file(source: SourceFile, data: bytes | None = None) -> GatheredImage | Unreadable:
    """Read a gathered file's bytes once and check that they are an image we can open."""
    if data is None:
        try:
            path = Path(source.disk_path)
            if path.stat().st_size > MAX_FILE_BYTES:
                return _unreadable_file(
                    source, b"", f"the file is larger than {MAX_FILE_BYTES // 2**20} MB and was not read"
                )
            data = path.read_bytes()
        except OSError as exc:
            return _unreadable_file(source, b"", f"the file could not be read from storage ({exc.strerror})")
    sha256 = hashlib.sha256(data).hexdigest()
    sniffed = sniff_format(data[:64], source.key)
    if sniffed.format == "EMPTY":
        return _unreadable_file(source, data, "the file is empty (0 bytes)", sha256)
    if not sniffed.is_readable:
        return _unreadable_file(source, data, f"the file is {sniffed.description}, not an image", sha256)
    return GatheredImage(
        source=source, data=data, sha256=sha256, format=sniffed.format, mislabelled=sniffed.mislabelled
    )


def _unreadable_file(source: SourceFile, data: bytes, reason: str, sha256: str | None = None) -> Unreadable:
    return Unreadable(
        key=source.key,
        source_key=source.key,
        department=source.department,
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        byte_size=len(data),
        reason=reason,
    )


def _iter_pages(gathered: GatheredImage) -> Iterator[DecodedPage | Unreadable]:
    try:
        im = _open(gathered)
    except Exception as exc:
        yield gathered.unreadable(reason_for_error(exc, gathered.format))
        return
    multi_page = gathered.format == "TIFF" and _has_frame(im, 1)
    if not multi_page:
        yield _decode_or_unreadable(gathered, im, gathered.source.key, None)
        return
    for index in range(MAX_PAGES_PER_FILE):
        page = index + 1
        key = page_key(gathered.source.key, page)
        if not _has_frame(im, index):  # also rewinds to page 1 after the multi-page probe
            return
        yield _decode_or_unreadable(gathered, im, key, page)
    if _has_frame(im, MAX_PAGES_PER_FILE):
        total = _count_frames(im)
        pages = f"pages {MAX_PAGES_PER_FILE + 1}–{total}" if total else f"pages after {MAX_PAGES_PER_FILE}"
        yield gathered.unreadable(
            f"{pages} were not read: PacketDesk reads at most {MAX_PAGES_PER_FILE} pages of one file",
            key=page_key(gathered.source.key, MAX_PAGES_PER_FILE + 1),
        )


def _iter_pdf_pages(gathered: GatheredImage) -> Iterator[DecodedPage | Unreadable]:
    """Every page of a PDF, rendered one at a time; each an item "key#page=N", even a lone page,
    so a PDF never goes out as received (its pages are rebuilt: records/packet/redact.py)."""
    try:
        document = PdfFile(gathered.data)
    except PdfRefused as refused:
        yield gathered.unreadable(str(refused))
        return
    with document:
        if document.page_count == 0:
            yield gathered.unreadable("the PDF has no pages")
            return
        for number, rendered in enumerate(document.pages(MAX_PAGES_PER_FILE), start=1):
            key = page_key(gathered.source.key, number)
            if isinstance(rendered, PdfRefused):
                yield gathered.unreadable(str(rendered), key=key)
                continue
            try:
                yield _pdf_decoded_page(rendered, key, document.info)
            except Exception as exc:
                yield gathered.unreadable(reason_for_error(exc, gathered.format), key=key)
        if document.page_count > MAX_PAGES_PER_FILE:
            yield gathered.unreadable(
                f"pages {MAX_PAGES_PER_FILE + 1}–{document.page_count} were not read: "
                f"PacketDesk reads at most {MAX_PAGES_PER_FILE} pages of one file",
                key=page_key(gathered.source.key, MAX_PAGES_PER_FILE + 1),
            )


def _pdf_decoded_page(rendered: RenderedPdfPage, key: str, info: Mapping[str, str]) -> DecodedPage:
    width, height = rendered.image.size
    # The document's CreationDate, Title ... for metadata.py, as Pillow-style info (built
    # key by key: a dict[str, str] is not a dict[str | tuple[int, int], Any] to mypy).
    page_info: dict[str | tuple[int, int], Any] = {name: value for name, value in info.items()}
    return DecodedPage(
        key=key,
        page=rendered.number,
        image=rendered.image,  # already upright (the page's /Rotate), RGB on white
        width=width,
        height=height,
        decode_scale=1,
        orientation=1,
        exif=Image.Exif(),
        info=page_info,
        text=rendered.text,
        places=rendered.places,
        scanned_text=rendered.scanned,
    )


def _open(gathered: GatheredImage) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow warns above its own limit; we apply ours (MAX_IMAGE_PIXELS) explicitly.
        warnings.simplefilter("ignore")
        return Image.open(io.BytesIO(gathered.data), formats=_PIL_FORMATS[gathered.format])


def _has_frame(im: Image.Image, index: int) -> bool:
    try:
        im.seek(index)
    except (EOFError, ValueError, OSError):
        return False
    return True


def _count_frames(im: Image.Image) -> int | None:
    try:
        return int(getattr(im, "n_frames", 0)) or None
    except Exception:
        return None


def _decode_or_unreadable(
    gathered: GatheredImage, im: Image.Image, key: str, page: int | None
) -> DecodedPage | Unreadable:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return decode_frame(im, key=key, page=page, file_format=gathered.format)
    except ImageRefused as exc:
        return gathered.unreadable(str(exc), key=key)
    except Exception as exc:
        return gathered.unreadable(reason_for_error(exc, gathered.format), key=key)


def decode_frame(im: Image.Image, *, key: str, page: int | None, file_format: str) -> DecodedPage:
    """Decode the current frame of an opened image small, upright, in sRGB, on white.

    Raises ImageRefused (oversized) or Pillow's errors (damaged data); callers turn both
    into an `Unreadable`.
    """
    width, height = im.size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageRefused(
            f"the image is too large to read safely ({width}×{height} pixels, "
            f"{width * height / 1e6:.0f} megapixels; the limit is {MAX_IMAGE_PIXELS / 1e6:.0f}): "
            "refused unread as a possible decompression bomb"
        )
    if width == 0 or height == 0:
        raise ImageRefused("the image has no pixels (zero width or height)")
    exif = im.getexif()
    orientation = _orientation(exif)
    info = dict(im.info)
    quantization = getattr(im, "quantization", None) if file_format == "JPEG" else None
    if file_format == "JPEG":
        # One DCT-scaled decode at 1/2, 1/4 or 1/8: the decode is the cost, not the hashing.
        # A greyscale JPEG is nearly always a scanned page: decoded large enough for the
        # document view (one channel costs a third of colour), so forms scanned to JPEG get
        # the sharper check too.
        longest = DOCUMENT_VIEW_SIZE if im.mode == "L" else PREVIEW_SIZE
        im.draft(im.mode if im.mode == "L" else "RGB", draft_target(width, height, longest))
    im.load()
    decode_scale = max(1, round(width / im.size[0]))
    rgb = to_srgb(im, info.get("icc_profile"))
    transpose = _ORIENTATION_TRANSPOSE.get(orientation)
    if transpose is not None:
        rgb = rgb.transpose(transpose)  # on the small image: cheap
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return DecodedPage(
        key=key,
        page=page,
        image=rgb,
        width=width,
        height=height,
        decode_scale=decode_scale,
        orientation=orientation if transpose is not None else 1,
        exif=exif,
        info=info,
        quantization=dict(quantization) if quantization else None,
    )


def draft_target(width: int, height: int, longest: int = PREVIEW_SIZE) -> tuple[int, int]:
    """The size to ask JPEG draft mode for: `longest` on the long side, aspect kept, never below 1."""
    if max(width, height) <= longest:
        return width, height
    scale = longest / max(width, height)
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def fit_size(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """`size` scaled so its longest side is `longest`, aspect kept, never below 1."""
    width, height = size
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def fit_box(im: Image.Image, longest: int) -> Image.Image:
    """`im` brought to `longest` px on its long side by an area average."""
    # From a 1/8 JPEG decode (~504 px) the area average is 2.5x cheaper than Lanczos, and
    # the hashes are computed from the preview with imagehash's Lanczos anyway.
    return im.resize(fit_size(im.size, longest), Image.Resampling.BOX)


def _orientation(exif: Image.Exif) -> int:
    try:
        value = int(exif.get(_ORIENTATION_TAG, 1))
    except (TypeError, ValueError):
        return 1
    return value if value in _ORIENTATION_TRANSPOSE else 1


def to_srgb(im: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """8-bit RGB in sRGB, transparency flattened onto white."""
    im = _flatten_alpha(_to_8bit(im))
    if im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    transform = _transform_to_srgb(icc_profile, im.mode) if icc_profile else None
    if transform is not None:
        try:
            converted = ImageCms.applyTransform(im, transform)
        except (ImageCms.PyCMSError, ValueError, OSError):
            converted = None  # a profile that does not fit the pixels: show them as stored
        if converted is not None:  # applyTransform gives None only when asked to work in place
            return converted
    return im if im.mode == "RGB" else im.convert("RGB")


def _to_8bit(im: Image.Image) -> Image.Image:
    # 16-bit and float greyscale: Pillow's convert("L") clips rather than scales.
    if im.mode.startswith("I;16"):
        return _scale_to_l(im, 65535.0)
    if im.mode in ("I", "F"):
        extrema = im.getextrema()
        top = float(extrema[1]) if isinstance(extrema[1], (int, float)) else 255.0
        return _scale_to_l(im, 65535.0 if top > 255 else 255.0)
    return im


def _scale_to_l(im: Image.Image, top: float) -> Image.Image:
    pixels = np.asarray(im, dtype=np.float64)
    return Image.fromarray(np.clip(pixels * (255.0 / top) + 0.5, 0, 255).astype(np.uint8), "L")


def _flatten_alpha(im: Image.Image) -> Image.Image:
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    )
    if im.mode in ("1", "P", "PA") and not has_alpha:
        return im.convert("RGB")
    if not has_alpha:
        return im
    rgba = im.convert("RGBA")
    white = Image.new("RGB", rgba.size, (255, 255, 255))
    white.paste(rgba, mask=rgba.getchannel("A"))
    return white


@functools.lru_cache(maxsize=32)
def _transform_to_srgb(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached colour transform to sRGB, or None when the profile is sRGB already or unusable."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        description = ImageCms.getProfileDescription(profile) or ""
        if mode == "RGB" and "srgb" in description.lower():
            # Identity: skipping it keeps pixels bit-equal to a copy saved without the profile.
            return None
        return ImageCms.buildTransform(
            profile, _SRGB_PROFILE, mode, "RGB", renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def reason_for_error(exc: BaseException, file_format: str | None) -> str:
    """One line a clerk understands for a decode failure."""
    kind = file_format or "image"
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, Image.DecompressionBombError):
        claimed = re.search(r"\((\d+) pixels\)", text)
        size = f"{int(claimed.group(1)) / 1e6:,.0f} megapixels" if claimed else "too many pixels"
        return (
            f"the image is too large to read safely: it claims {size}, more than the "
            f"{MAX_IMAGE_PIXELS / 1e6:.0f}-megapixel limit (refused unread as a possible decompression bomb)"
        )
    if isinstance(exc, EOFError) or "truncated" in lowered or "ends early" in lowered:
        return f"the {kind} data ends early (truncated file)"
    if isinstance(exc, UnidentifiedImageError):
        return f"the {kind} file is damaged: its header cannot be read"
    if isinstance(exc, MemoryError):
        return f"the {kind} image needs more memory than is allowed to decode"
    detail = text.splitlines()[0][:80] if text else type(exc).__name__
    return f"the {kind} data is damaged and cannot be decoded ({detail})"
