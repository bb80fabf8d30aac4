"""Fingerprint each page of a gathered file from one small decode.

Owns the recipe named by FINGERPRINT_ALGORITHM_VERSION: SHA-256 of the bytes and of the
normalised pixels, 64-bit pHash/dHash (and pHashes of the pixels turned 90/180/270), an
information-quality score, a document-likeness flag, a 64-px grayscale thumbnail for
verification, a 256-px JPEG preview, for document-like pages a sharper grey view, and a
JPEG quality estimate.

Hash bit order (pHash, dHash, rotated pHashes): the 8x8 boolean matrix read row by row,
top-left first, first bit most significant, i.e. `int(str(imagehash_result), 16)`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageOps

from dedupe.core.deskew import skew_angle, straightened
from dedupe.core.entry_marks import EntryMark, marks_of
from dedupe.core.entry_marks import encode as encode_marks
from dedupe.core.imaging import (
    DOCUMENT_VIEW_SIZE,
    PREVIEW_SIZE,
    DecodedPage,
    GatheredImage,
    draft_target,
    fit_box,
    fit_size,
    open_gathered_file,
    reason_for_error,
)
from dedupe.core.metadata import extract_metadata
from dedupe.core.ocr import OCR_MAX_SIZE, read_page, turned_upright, without_rules
from dedupe.core.types import Fingerprint, SourceFile, Unreadable
from dedupe.core.word_places import encode as encode_places
from dedupe.core.word_places import rotated

# Thumbnail used for pixel verification: small enough to compare thousands of pairs,
# large enough that two forms on one template differ in it.
THUMBNAIL_SIZE = 64

# pHash as imagehash computes it: 32x32 grayscale, keep the 8x8 lowest DCT frequencies.
_HASH_INPUT = 32
_HASH_SIDE = 8

# quality = share of the 64-px thumbnail's pixels whose |Laplacian| exceeds DETAIL_LEVEL
# (0..255 units), divided by QUALITY_FULL_COVERAGE and capped at 1. The Laplacian is ~0
# on flat colour and on smooth gradients (which first-order gradient energy, as in PDQ,
# scores high), and counting pixels rather than summing keeps one ruled line on a blank
# page from looking like content. Measured on skimage photos: coverage 0.12-0.96.
DETAIL_LEVEL = 4.0
QUALITY_FULL_COVERAGE = 0.5

# Below this quality an image is near-blank, flat or a smooth gradient: its perceptual
# hashes say nothing (pure white and pure blue collide), so it is only ever matched exactly.
# Measured: blank, flat, linear/radial gradients, a page number alone < 0.02; near-blank
# pages with a few marks 0.08-0.09 (accuracy corpus), one ruled line 0.16; photos from
# 0.185 (skimage's smooth colour chart, cropped or with its contrast lowered: it was 0.2
# here once, and those two copies of a real picture could then never be matched), a
# motion-blurred photo 0.25, a letter in 10-pt type 0.74, most photos 0.7-1. The threshold
# sits in the gap between the marked pages and the smoothest photo.
LOW_INFORMATION_THRESHOLD = 0.14

# A document is mostly light paper (at least this share of pixels brighter than
# _PAPER_LEVEL) with some dark marks (between these shares darker than _INK_LEVEL), in
# little colour (mean saturation below this).
DOCUMENT_MIN_PAPER = 0.6
DOCUMENT_INK_RANGE = (0.003, 0.35)
DOCUMENT_MAX_SATURATION = 0.12
_PAPER_LEVEL = 180
_INK_LEVEL = 160  # text thinner than a preview pixel blends to mid-gray

# A document-like page is straightened only when at least this many words were read on it.
MIN_WORDS_TO_STRAIGHTEN = 6

# The document view (imaging.DOCUMENT_VIEW_SIZE) as JPEG: 17-42 KB a page (a noisy scan is
# 140 KB as PNG); the sharper check's area scores are the same as on lossless views to 0.005.
DOCUMENT_VIEW_JPEG_QUALITY = 85

# The preview must be byte-identical for the same pixels: fixed quality, no EXIF, no
# optimisation passes that depend on library heuristics.
PREVIEW_JPEG_QUALITY = 80

# The IJG (libjpeg) base luminance and chrominance tables, natural order; almost every
# encoder scales these by quality, so the nearest scaled table estimates the quality.
_IJG_LUMA = np.array(
    [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
     14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
    dtype=np.float64,
)  # fmt: skip
_IJG_CHROMA = np.array(
    [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
     47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32,
    dtype=np.float64,
)  # fmt: skip


def _scaled_tables(base: np.ndarray) -> np.ndarray:
    qualities = np.arange(1, 101, dtype=np.float64)[:, None]
    scale = np.where(qualities < 50, 5000.0 / qualities, 200.0 - 2.0 * qualities)
    return np.clip(np.floor((base[None, :] * scale + 50.0) / 100.0), 1, 255)


_LUMA_BY_QUALITY = _scaled_tables(_IJG_LUMA)
_CHROMA_BY_QUALITY = _scaled_tables(_IJG_CHROMA)

# DCT-II basis rows for the 8 lowest frequencies of a 32-sample signal (scipy's unnormalised
# dct up to a constant factor, which cannot change which coefficients exceed the median).
_DCT_ROWS = np.cos(
    np.pi * np.arange(_HASH_SIDE)[:, None] * (2 * np.arange(_HASH_INPUT)[None, :] + 1) / (2 * _HASH_INPUT)
)
_BIT_WEIGHTS = [1 << (63 - i) for i in range(64)]


def fingerprint_file(source: SourceFile) -> list[Fingerprint | Unreadable]:
    """One Fingerprint (or Unreadable) per page of a gathered file; never raises."""
    return list(iter_fingerprints(source))


def fingerprint_bytes(
    data: bytes, key: str, department: str = "", *, uploaded_order: int = 0, mtime: float | None = None
) -> list[Fingerprint | Unreadable]:
    """As `fingerprint_file`, for a caller that already holds the bytes (an upload, a ZIP member)."""
    source = SourceFile(
        key=key, department=department, disk_path="", uploaded_order=uploaded_order, mtime=mtime
    )
    return list(iter_fingerprints(source, data))


def iter_fingerprints(source: SourceFile, data: bytes | None = None) -> Iterator[Fingerprint | Unreadable]:
    """Fingerprints page by page, so a long TIFF never holds more than one decoded page."""
    gathered = open_gathered_file(source, data)
    if isinstance(gathered, Unreadable):
        yield gathered
        return
    for page in gathered.pages():
        if isinstance(page, Unreadable):
            yield page
            continue
        try:
            yield fingerprint_page(gathered, page)
        except Exception as exc:  # one bad page must not take down the batch
            yield gathered.unreadable(reason_for_error(exc, gathered.format), key=page.key)


def fingerprint_page(gathered: GatheredImage, page: DecodedPage) -> Fingerprint:
    """All the hashes of one decoded page; a scanned document page is first read by OCR and
    turned upright by its text (dedupe.core.ocr), then straightened (dedupe.core.deskew), so
    its hashes are the upright, straight page's."""
    rgb = page.image
    preview, gray = _preview_and_gray(rgb)
    document_like = is_document_like(np.asarray(gray, dtype=np.uint8), preview, text_layer=bool(page.text))
    text, turn, guesses = page.text, 0, ""
    text_source = ("scan_layer" if page.scanned_text else "text_layer") if page.text else ""
    alternatives = ""
    places, skew = page.places, None
    marks: tuple[EntryMark, ...] = ()
    if document_like and not page.text:
        reading = read_page(ocr_image(gathered, page))
        text, turn, text_source = reading.text, reading.turn, ("ocr" if reading.text else "")
        guesses, places, skew = reading.guesses, reading.places, reading.skew
        alternatives, marks = reading.alternatives, reading.marks
        rgb = turned_upright(rgb, turn)
    if document_like and len(text.split()) >= MIN_WORDS_TO_STRAIGHTEN:
        # A page scanned a little crooked is straightened, so its marks sit where the
        # original's do when the two are compared area by area (dedupe.core.deskew). Only
        # a page with words: the rows of print are what the tilt is measured by, and a
        # black-and-white drawing or silhouette has none (measured: skimage's horse, a
        # silhouette, was turned 1-3 degrees and lost its crop and burst copies). A page
        # OCR read was straightened to be read, and its words' places are on that page.
        if skew is None:
            skew = skew_angle(rgb)
            places = tuple(rotated(places, skew, rgb.size))  # the words move with the page
        rgb = straightened(rgb, skew)
    elif skew:
        places = tuple(rotated(places, -skew, rgb.size))  # the page stays as it was scanned
    if rgb is not page.image:  # turned upright or straightened: the hashes are of this page
        preview, gray = _preview_and_gray(rgb)
    if document_like and page.text:
        # A text layer's entries, as printed on the rendered page (OCR's come from the page it
        # read), with its ruling lines removed as OCR's page had them.
        marks = marks_of(without_rules(rgb.convert("L")), places)
    hash_input = np.asarray(gray.resize((_HASH_INPUT, _HASH_INPUT), Image.Resampling.LANCZOS), np.float64)
    thumb = gray.resize(fit_size(gray.size, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    thumb_pixels = np.asarray(thumb, dtype=np.uint8)
    quality = information_quality(thumb_pixels)
    source = gathered.source
    return Fingerprint(
        key=page.key,
        source_key=source.key,
        department=source.department,
        sha256=gathered.sha256,
        pixel_sha256=pixel_sha256(page, gathered.format),
        byte_size=len(gathered.data),
        format=gathered.format,
        mislabelled=gathered.mislabelled,
        width=page.width,
        height=page.height,
        page=page.page,
        phash=phash_of(hash_input),
        dhash=dhash_of(gray),
        rotated_phashes=(
            phash_of(np.rot90(hash_input, 1)),
            phash_of(np.rot90(hash_input, 2)),
            phash_of(np.rot90(hash_input, 3)),
        ),
        quality=quality,
        low_information=bool(quality < LOW_INFORMATION_THRESHOLD),
        document_like=document_like,
        thumbnail=thumb_pixels.tobytes(),
        thumb_size=thumb.size,
        jpeg_quality=estimate_jpeg_quality(page.quantization),
        metadata=extract_metadata(
            page.exif, page.info, key=source.key, file_format=gathered.format, mtime=source.mtime
        ),
        uploaded_order=source.uploaded_order,
        preview_jpeg=preview_jpeg(preview),
        document_view=document_view_jpeg(rgb) if document_like else b"",
        text=text,
        text_source=text_source,
        ocr_guesses=guesses,
        ocr_alternatives=alternatives,
        word_places=encode_places(places) if document_like else "",
        entry_marks=encode_marks(marks) if document_like else b"",
        upright_turn=turn,
    )


def _preview_and_gray(rgb: Image.Image) -> tuple[Image.Image, Image.Image]:
    preview = fit_box(rgb, PREVIEW_SIZE) if max(rgb.size) > PREVIEW_SIZE else rgb
    return preview, preview.convert("L")


def ocr_image(gathered: GatheredImage, page: DecodedPage) -> Image.Image:
    """The page, upright by its EXIF tag, large enough to read: the decoded page itself,
    or for a JPEG decoded small (draft mode) a second decode of that page at OCR size.

    The one place a page is decoded twice, and only a scanned document's page is."""
    if page.decode_scale <= 1 or gathered.format != "JPEG":
        return page.image
    with Image.open(io.BytesIO(gathered.data), formats=["JPEG"]) as im:
        im.draft("L", draft_target(*im.size, longest=OCR_MAX_SIZE))
        upright = ImageOps.exif_transpose(im.convert("L"))
    return upright


def pixel_sha256(page: DecodedPage, file_format: str) -> str:
    """SHA-256 of the normalised decoded pixels: equal for copies that differ only in
    metadata, container or lossless re-encoding.

    Covers: the oriented, sRGB, white-flattened 8-bit RGB pixels at the decode scale, row by
    row, preceded by the decoded size and the decode scale. Non-JPEG files are decoded at
    full size, so any pixel change shows. JPEGs are decoded at 1/2-1/8 scale (draft mode),
    where DCT coefficients finer than the scale do not show; their quantisation tables are
    included too, so two JPEGs collide only with the same tables and the same coarse
    coefficients (in practice: the same compressed image with different metadata).
    """
    digest = hashlib.sha256()
    width, height = page.image.size
    digest.update(f"pd-px1|{width}x{height}|1/{page.decode_scale}|".encode())
    if file_format == "JPEG" and page.quantization:
        for table_id in sorted(page.quantization):
            digest.update(bytes(min(255, v) for v in page.quantization[table_id]))
    # Hash in strips so a large PNG does not need a second full-size copy of its pixels.
    strip = max(1, (1 << 22) // (3 * width))
    if strip >= height:
        digest.update(page.image.tobytes())  # a draft-decoded JPEG: one small copy
    else:
        for top in range(0, height, strip):
            digest.update(page.image.crop((0, top, width, min(height, top + strip))).tobytes())
    return digest.hexdigest()


def phash_of(pixels: np.ndarray) -> int:
    """64-bit pHash of a 32x32 grayscale array (imagehash.phash's recipe and bit order)."""
    low = _DCT_ROWS @ pixels @ _DCT_ROWS.T
    return _bits_to_int(low > np.median(low))


def dhash_of(gray: Image.Image) -> int:
    """64-bit dHash (imagehash.dhash): is each of 8x9 pixels brighter than its left neighbour."""
    pixels = np.asarray(gray.resize((_HASH_SIDE + 1, _HASH_SIDE), Image.Resampling.LANCZOS), np.int16)
    return _bits_to_int(pixels[:, 1:] > pixels[:, :-1])


def _bits_to_int(bits: np.ndarray) -> int:
    return int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big")


def information_quality(thumb: np.ndarray) -> float:
    """0..1: how much of a 64-px grayscale thumbnail holds detail (second-order structure).

    Flat colour and smooth gradients have no second derivative, so they score ~0 however
    steep the gradient; photos and text score high. Like PDQ's quality, it gates
    perceptual matching.
    """
    if thumb.shape[0] < 3 or thumb.shape[1] < 3:
        return 0.0
    p = thumb.astype(np.float32)
    laplacian = 4 * p[1:-1, 1:-1] - p[:-2, 1:-1] - p[2:, 1:-1] - p[1:-1, :-2] - p[1:-1, 2:]
    coverage = int(np.count_nonzero(np.abs(laplacian) > DETAIL_LEVEL)) / laplacian.size
    return round(min(1.0, coverage / QUALITY_FULL_COVERAGE), 4)


def is_document_like(gray: np.ndarray, preview: Image.Image, *, text_layer: bool = False) -> bool:
    """Mostly light paper with dark marks and little colour: a form, letter or scanned page.

    A page with a text layer of its own (a born-digital PDF page) needs no minimum of ink:
    three typed lines on a letter page are a document, though too little ink for a scan."""
    total = gray.size
    if total == 0:
        return False
    paper = int(np.count_nonzero(gray >= _PAPER_LEVEL)) / total
    ink = int(np.count_nonzero(gray < _INK_LEVEL)) / total
    least_ink = 0.0 if text_layer else DOCUMENT_INK_RANGE[0]
    if paper < DOCUMENT_MIN_PAPER or not least_ink <= ink <= DOCUMENT_INK_RANGE[1]:
        return False
    rgb = np.asarray(preview, dtype=np.int16)
    saturation = float((rgb.max(axis=2) - rgb.min(axis=2)).mean()) / 255.0
    return bool(saturation < DOCUMENT_MAX_SATURATION)


def estimate_jpeg_quality(quantization: dict[int, list[int]] | None) -> int | None:
    """The IJG quality (1-100) whose scaled tables are nearest the file's; None when not a JPEG."""
    if not quantization or 0 not in quantization or len(quantization[0]) != 64:
        return None
    error = np.abs(_LUMA_BY_QUALITY - np.asarray(quantization[0], dtype=np.float64)).sum(axis=1)
    if 1 in quantization and len(quantization[1]) == 64:
        error = error + np.abs(_CHROMA_BY_QUALITY - np.asarray(quantization[1], dtype=np.float64)).sum(axis=1)
    # Ties (several qualities round to the same tables near q=100 or q=1): the highest.
    best = np.flatnonzero(error == error.min())
    return int(best[-1]) + 1


def preview_jpeg(preview: Image.Image) -> bytes:
    """Deterministic JPEG bytes of the (already 256-px) preview."""
    buffer = io.BytesIO()
    preview.save(buffer, "JPEG", quality=PREVIEW_JPEG_QUALITY, optimize=False, progressive=False)
    return buffer.getvalue()


def document_view_jpeg(rgb: Image.Image) -> bytes:
    """The page in grey at up to DOCUMENT_VIEW_SIZE px (longest side), as a JPEG.

    From the same decode as everything else: a JPEG decoded at draft scale gives its own
    smaller size, and the sharper check is then skipped for it (dedupe.core.verify).
    """
    gray = rgb.convert("L")
    if max(gray.size) > DOCUMENT_VIEW_SIZE:
        gray = gray.resize(fit_size(gray.size, DOCUMENT_VIEW_SIZE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    gray.save(buffer, "JPEG", quality=DOCUMENT_VIEW_JPEG_QUALITY, optimize=False, progressive=False)
    return buffer.getvalue()
