"""Builders for the tiny images the dedupe tests need, made with Pillow in memory."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import skimage
from PIL import Image, ImageDraw

from dedupe.core.types import SourceFile

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"


def skimage_photo(name: str) -> Image.Image:
    """One of scikit-image's bundled sample photos, as RGB."""
    return Image.open(SKIMAGE_DATA / name).convert("RGB")


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 92, **options: object) -> bytes:
    return encoded(image, "JPEG", quality=quality, **options)


def png_bytes(image: Image.Image, **options: object) -> bytes:
    return encoded(image, "PNG", **options)


def exif_with(
    base: dict[int, object] | None = None,
    exif_ifd: dict[int, object] | None = None,
    gps_ifd: dict[int, object] | None = None,
) -> Image.Exif:
    """An Exif block with the given IFD0, Exif-IFD and GPS-IFD tags."""
    exif = Image.Exif()
    for tag, value in (base or {}).items():
        exif[tag] = value
    if exif_ifd:
        sub = exif.get_ifd(0x8769)
        sub.update(exif_ifd)
    if gps_ifd:
        sub = exif.get_ifd(0x8825)
        sub.update(gps_ifd)
    return exif


def exif_rotated_jpeg(image: Image.Image, orientation: int = 6, quality: int = 92) -> bytes:
    """A JPEG whose stored pixels are turned so that EXIF `orientation` displays `image` upright."""
    undo = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270, 3: Image.Transpose.ROTATE_180}
    stored = image.transpose(undo[orientation])
    return jpeg_bytes(stored, quality=quality, exif=exif_with({0x0112: orientation}))


def with_comment_segment(jpeg: bytes, comment: bytes) -> bytes:
    """The same JPEG with a COM segment inserted after SOI: different bytes, same compressed image."""
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return jpeg[:2] + segment + jpeg[2:]


def multipage_tiff(pages: list[Image.Image]) -> bytes:
    return encoded(pages[0], "TIFF", save_all=True, append_images=pages[1:])


def letter_page(lines: int = 40, size: tuple[int, int] = (850, 1100)) -> Image.Image:
    """A white page of dark typed lines, like a scanned letter."""
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    for line in range(lines):
        draw.text(
            (60, 60 + line * 25),
            f"Notice of violation, item {line}: parcel inspection",
            fill="black",
            font_size=16,
        )
    return page


def flat(color: str | tuple[int, int, int], size: tuple[int, int] = (400, 300)) -> Image.Image:
    return Image.new("RGB", size, color)


def linear_gradient(size: tuple[int, int] = (400, 300)) -> Image.Image:
    ramp = np.tile(np.linspace(0, 255, size[0]), (size[1], 1)).astype(np.uint8)
    return Image.fromarray(ramp, "L").convert("RGB")


def radial_gradient(size: tuple[int, int] = (400, 300)) -> Image.Image:
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]]
    distance = np.hypot(yy - size[1] / 2, xx - size[0] / 2)
    return Image.fromarray((255 * distance / distance.max()).astype(np.uint8), "L").convert("RGB")


def page_with_only_a_page_number(size: tuple[int, int] = (850, 1100)) -> Image.Image:
    page = Image.new("RGB", size, "white")
    ImageDraw.Draw(page).text((size[0] // 2, size[1] - 60), "- 3 -", fill="black", font_size=16)
    return page


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming `width`x`height` pixels with almost no data: a decompression bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def write_source(
    directory: Path, key: str, data: bytes, department: str = "police", mtime: float | None = None
) -> SourceFile:
    """Write bytes under `directory/key` and describe them as a gathered file."""
    path = directory / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return SourceFile(key=key, department=department, disk_path=str(path), mtime=mtime)


def adobe_rgb_icc_profile() -> bytes:
    """An ICC v2 matrix/TRC display profile with the Adobe RGB (1998) primaries and gamma 2.2.

    Built byte by byte because LittleCMS can only create sRGB, Lab and XYZ profiles itself.
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    description = b"Adobe RGB (1998) test profile\0"
    tags = [
        (
            b"desc",
            b"desc\0\0\0\0" + struct.pack(">I", len(description)) + description + b"\0" * 12 + b"\0" * 67,
        ),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.60974, 0.31111, 0.01947)),  # D50-adapted Adobe RGB primaries
        (b"gXYZ", xyz(0.20528, 0.62567, 0.06087)),
        (b"bXYZ", xyz(0.14919, 0.06322, 0.74457)),
        (b"rTRC", b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"),  # gamma 563/256
        (b"cprt", b"text\0\0\0\0" + b"public domain\0"),
    ]
    tags.insert(6, (b"gTRC", tags[5][1]))
    tags.insert(7, (b"bTRC", tags[5][1]))
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        padded = data + b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += padded
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body
