"""Burn redaction boxes into a delivered copy: opaque pixels, metadata stripped. Pure Pillow
and PDFium, no Django.

The box coordinates are in the image's pixels after EXIF orientation (what a clerk sees),
so the copy is written upright with no orientation tag. A PDF page is its rendering
(dedupe.core.pdf, at the resolution the engine saw it), and goes out as that image: no
script, form action, attachment or text layer under a box goes with it. Nothing of the original's
metadata is carried over (no EXIF, no GPS, no XMP, no ICC-tagged comments), because a box
over a face is pointless if the GPS block says where the face was.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

from dedupe.core.pdf import PdfFile
from dedupe.core.sniff import SNIFF_BYTES, detect_format

REDACTION_FILL = (0, 0, 0)


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    def clipped(self, size: tuple[int, int]) -> Box | None:
        left, top = max(0, self.x), max(0, self.y)
        right, bottom = min(size[0], self.x + self.width), min(size[1], self.y + self.height)
        if right <= left or bottom <= top:
            return None
        return Box(left, top, right - left, bottom - top)


# Modes a PNG holds as they are; any other (palette, CMYK, float...) goes out as RGB(A).
_LOSSLESS_MODES = ("1", "L", "LA", "I;16", "RGB", "RGBA")
# Black, opaque, in each mode kept.
_FILL = {"1": 0, "L": 0, "LA": (0, 255), "I;16": 0, "RGB": (0, 0, 0), "RGBA": (0, 0, 0, 255)}


def burn_redactions(source: bytes | Path, boxes: Sequence[Box], page: int = 0) -> tuple[bytes, str]:
    """The copy's bytes and its extension (".jpg" or ".png"): one page, upright, boxes black.

    `page` is 1-based for a page of a multi-page file (that page alone is copied), 0 for a
    single-page file. JPEG originals stay JPEG (quality 95, no metadata); everything else
    becomes PNG, lossless and without EXIF, keeping a bilevel, grey or 16-bit page as it was
    (a PDF page: its rendering, grey when it has no colour).
    """
    image, fmt = upright_page(source, page)
    if fmt == "PDF":
        image = _grey_if_colourless(image)
    for box in boxes:
        clipped = box.clipped(image.size)
        if clipped is not None:
            right, bottom = clipped.x + clipped.width, clipped.y + clipped.height
            image.paste(_FILL.get(image.mode, REDACTION_FILL), (clipped.x, clipped.y, right, bottom))
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=95, subsampling=0)
        return out.getvalue(), ".jpg"
    image.save(out, "PNG")
    return out.getvalue(), ".png"


def upright_page(source: bytes | Path | BinaryIO, page: int = 0) -> tuple[Image.Image, str]:
    """A page as the clerk sees it, in full: upright, in the mode it is kept in, and the format
    it was read from ("PDF" for a rendered PDF page). `page` is 1-based, 0 for a single image.

    An image is decoded from the stream or path as Pillow reads it; a PDF is read whole
    (PDFium renders from memory)."""
    stream: Path | BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source
    if detect_format(_head(stream)) == "PDF":
        data = stream.read_bytes() if isinstance(stream, Path) else stream.read()
        with PdfFile(data) as document:
            return document.page(max(1, page)).image, "PDF"
    with Image.open(stream) as opened:
        if page:
            opened.seek(page - 1)
        fmt = opened.format or ""
        upright = ImageOps.exif_transpose(opened)
        if fmt == "JPEG":
            return upright.convert("RGB"), fmt
        if upright.mode in _LOSSLESS_MODES:
            return upright.copy(), fmt  # the copy outlives the file it was read from
        transparent = "A" in upright.mode or "transparency" in upright.info
        return upright.convert("RGBA" if transparent else "RGB"), fmt


def _head(source: Path | BinaryIO) -> bytes:
    """The first bytes, leaving a stream where it was."""
    if isinstance(source, Path):
        with open(source, "rb") as fh:
            return fh.read(SNIFF_BYTES)
    start = source.tell()
    head = source.read(SNIFF_BYTES)
    source.seek(start)
    return head


def _grey_if_colourless(image: Image.Image) -> Image.Image:
    """A rendered page with no colour in it, as grey: a third of the PNG, the same pixels."""
    pixels = np.asarray(image)
    if np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 1], pixels[..., 2]):
        return image.convert("L")
    return image


def map_box(box: Box, source_size: tuple[int, int], target_size: tuple[int, int], rotation: int = 0) -> Box:
    """A box on one copy placed on another copy of the same picture.

    `rotation` is how many degrees (counter-clockwise, 0/90/180/270) the target's pixels
    are turned relative to the source; sizes are after EXIF orientation. Copies resized or
    saved with an orientation tag map by scale alone.
    """
    sw, sh = source_size
    x, y, w, h = box.x, box.y, box.width, box.height
    rotation %= 360
    # Turn the box with the picture (counter-clockwise, as PIL's ROTATE_90 turns it).
    if rotation == 90:
        x, y, w, h, sw, sh = y, sw - x - w, h, w, sh, sw
    elif rotation == 180:
        x, y = sw - x - w, sh - y - h
    elif rotation == 270:
        x, y, w, h, sw, sh = sh - y - h, x, h, w, sh, sw
    tw, th = target_size
    fx, fy = tw / sw, th / sh
    return Box(round(x * fx), round(y * fy), max(1, round(w * fx)), max(1, round(h * fy)))
