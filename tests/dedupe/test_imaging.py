"""Opening gathered files: real type, pages, orientation, colour, and clear refusals."""

from __future__ import annotations

import io
import time

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageCms

from dedupe.core import imaging
from dedupe.core.fingerprint import fingerprint_bytes, fingerprint_file
from dedupe.core.imaging import DecodedPage, open_gathered_file
from dedupe.core.types import Fingerprint, SourceFile, Unreadable
from tests.dedupe.images import (
    SKIMAGE_DATA,
    adobe_rgb_icc_profile,
    encoded,
    flat,
    jpeg_bytes,
    multipage_tiff,
    png_bytes,
    png_header_only,
    skimage_photo,
    write_source,
)


def only(results: list[Fingerprint | Unreadable]) -> Fingerprint | Unreadable:
    assert len(results) == 1
    return results[0]


def decoded_first_page(data: bytes, key: str) -> DecodedPage:
    gathered = open_gathered_file(SourceFile(key=key, department="d", disk_path=""), data)
    assert not isinstance(gathered, Unreadable)
    page = next(gathered.pages())
    assert isinstance(page, DecodedPage)
    return page


def preview_pixels(fingerprint: Fingerprint) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(fingerprint.preview_jpeg)).convert("RGB"), dtype=np.float64)


def test_png_named_jpg_is_flagged_mislabelled():
    result = only(fingerprint_bytes(png_bytes(skimage_photo("coffee.png")), "parks/IMG_0001.jpg"))
    assert isinstance(result, Fingerprint)
    assert result.format == "PNG"
    assert result.mislabelled is True


def test_correctly_named_jpeg_is_not_flagged():
    result = only(fingerprint_bytes(jpeg_bytes(skimage_photo("coffee.png")), "parks/IMG_0001.JPG"))
    assert isinstance(result, Fingerprint)
    assert (result.format, result.mislabelled) == ("JPEG", False)


def test_zero_byte_file_is_unreadable_with_a_reason(tmp_path):
    result = only(fingerprint_file(write_source(tmp_path, "police/empty.jpg", b"")))
    assert isinstance(result, Unreadable)
    assert result.reason == "the file is empty (0 bytes)"
    assert result.byte_size == 0


def test_a_damaged_pdf_is_unreadable_with_the_reason():
    result = only(fingerprint_bytes(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "clerk/scan.jpg"))
    assert isinstance(result, Unreadable)
    assert result.reason.startswith("the PDF is damaged and cannot be opened")


def test_missing_file_is_unreadable_not_an_exception(tmp_path):
    source = SourceFile(key="police/gone.jpg", department="police", disk_path=str(tmp_path / "gone.jpg"))
    result = only(fingerprint_file(source))
    assert isinstance(result, Unreadable)
    assert result.reason.startswith("the file could not be read from storage")


def test_truncated_jpeg_is_unreadable_with_a_reason():
    data = jpeg_bytes(skimage_photo("astronaut.png"))
    result = only(fingerprint_bytes(data[: len(data) // 2], "police/IMG_2.jpg"))
    assert isinstance(result, Unreadable)
    assert result.reason == "the JPEG data ends early (truncated file)"
    assert result.format == "JPEG"


def test_truncated_png_is_unreadable_with_a_reason():
    data = png_bytes(skimage_photo("astronaut.png"))
    result = only(fingerprint_bytes(data[: len(data) // 2], "police/scan.png"))
    assert isinstance(result, Unreadable)
    assert result.reason == "the PNG data ends early (truncated file)"


def test_corrupt_png_data_is_unreadable_with_a_reason():
    data = bytearray(png_bytes(skimage_photo("astronaut.png")))
    start = data.index(b"IDAT") + 1000
    data[start : start + 60] = b"\xff" * 60  # inside the pixel data: the CRC and the stream break
    result = only(fingerprint_bytes(bytes(data), "police/scan.png"))
    assert isinstance(result, Unreadable)
    assert result.reason.startswith("the PNG data is damaged")
    assert "\n" not in result.reason


def test_tiff_that_pillow_cannot_identify_is_unreadable_with_a_reason():
    # skimage's multipage_rgb.tif uses a layout Pillow cannot open.
    data = (SKIMAGE_DATA / "multipage_rgb.tif").read_bytes()
    result = only(fingerprint_bytes(data, "planning/multipage_rgb.tif"))
    assert isinstance(result, Unreadable)
    assert result.reason == "the TIFF file is damaged: its header cannot be read"


def test_decompression_bomb_is_refused_without_decoding():
    bomb = png_header_only(13_000, 12_000)  # 156 MP: above our limit, below Pillow's own error
    start = time.perf_counter()
    result = only(fingerprint_bytes(bomb, "police/huge.png"))
    assert time.perf_counter() - start < 1.0  # 468 MB of pixels were never allocated
    assert isinstance(result, Unreadable)
    assert result.reason.startswith("the image is too large to read safely (13000×12000 pixels")


def test_far_larger_bomb_caught_by_pillow_gets_the_same_kind_of_reason():
    result = only(fingerprint_bytes(png_header_only(40_000, 40_000), "police/huge.png"))
    assert isinstance(result, Unreadable)
    assert result.reason.startswith("the image is too large to read safely")


def test_pixel_limit_is_our_named_constant(monkeypatch):
    monkeypatch.setattr(imaging, "MAX_IMAGE_PIXELS", 100 * 100)
    result = only(fingerprint_bytes(png_bytes(flat("white", (101, 100))), "a.png"))
    assert isinstance(result, Unreadable)
    assert "too large" in result.reason


def test_every_tiff_page_is_its_own_item():
    pages = [skimage_photo("astronaut.png"), skimage_photo("coffee.png"), skimage_photo("chelsea.png")]
    results = fingerprint_bytes(multipage_tiff(pages), "clerk/packet.tif", "clerk")
    assert [r.key for r in results] == [
        "clerk/packet.tif#page=1",
        "clerk/packet.tif#page=2",
        "clerk/packet.tif#page=3",
    ]
    assert all(isinstance(r, Fingerprint) for r in results)
    assert [r.page for r in results] == [1, 2, 3]
    assert [(r.width, r.height) for r in results] == [(512, 512), (600, 400), (451, 300)]
    assert len({r.phash for r in results}) == 3
    assert {r.source_key for r in results} == {"clerk/packet.tif"}
    assert len({r.sha256 for r in results}) == 1


def test_skimage_multipage_tiff_gives_one_item_per_page():
    results = fingerprint_bytes((SKIMAGE_DATA / "multipage.tif").read_bytes(), "multipage.tif")
    assert [r.key for r in results] == ["multipage.tif#page=1", "multipage.tif#page=2"]


def test_single_page_tiff_keeps_its_plain_key():
    result = only(fingerprint_bytes(encoded(skimage_photo("coffee.png"), "TIFF"), "scan.tif"))
    assert isinstance(result, Fingerprint)
    assert (result.key, result.page) == ("scan.tif", None)


def test_pages_beyond_the_cap_are_reported_not_dropped(monkeypatch):
    monkeypatch.setattr(imaging, "MAX_PAGES_PER_FILE", 2)
    pages = [flat(color, (40, 30)) for color in ("red", "green", "blue", "white")]
    results = fingerprint_bytes(multipage_tiff(pages), "long.tif")
    assert [type(r) for r in results] == [Fingerprint, Fingerprint, Unreadable]
    assert results[2].key == "long.tif#page=3"
    assert results[2].reason == "pages 3–4 were not read: PacketDesk reads at most 2 pages of one file"


def test_tiff_pages_are_decoded_lazily_one_at_a_time():
    pages = [flat(color, (40, 30)) for color in ("red", "green", "blue")]
    gathered = open_gathered_file(SourceFile("p.tif", "d", ""), multipage_tiff(pages))
    iterator = gathered.pages()
    first = next(iterator)
    assert isinstance(first, DecodedPage)
    assert first.page == 1
    assert [p.page for p in iterator] == [2, 3]


def test_jpeg_is_draft_decoded_small_but_reports_full_size():
    photo = skimage_photo("astronaut.png").resize((2400, 1800))
    page = decoded_first_page(jpeg_bytes(photo), "big.jpg")
    assert (page.width, page.height) == (2400, 1800)
    assert page.decode_scale == 8  # 300x225: the smallest DCT scale still >= 256 px long
    assert page.image.size == (300, 225)


def test_heic_photo_is_read(tmp_path):
    path = tmp_path / "IMG_4001.HEIC"
    pillow_heif.from_pillow(skimage_photo("chelsea.png")).save(path, quality=90)
    reference = only(fingerprint_bytes(png_bytes(skimage_photo("chelsea.png")), "chelsea.png"))
    result = only(fingerprint_file(SourceFile("fire/IMG_4001.HEIC", "fire", str(path))))
    assert isinstance(result, Fingerprint)
    assert (result.format, result.width, result.height, result.mislabelled) == ("HEIF", 451, 300, False)
    assert bin(result.phash ^ reference.phash).count("1") <= 4


@pytest.mark.parametrize(("fmt", "expected"), [("WEBP", "WEBP"), ("GIF", "GIF"), ("BMP", "BMP")])
def test_other_formats_are_read(fmt, expected):
    photo = skimage_photo("coffee.png")
    reference = only(fingerprint_bytes(png_bytes(photo), "coffee.png"))
    result = only(fingerprint_bytes(encoded(photo, fmt), f"coffee.{fmt.lower()}"))
    assert isinstance(result, Fingerprint)
    assert (result.format, result.width, result.height) == (expected, 600, 400)
    assert bin(result.phash ^ reference.phash).count("1") <= 6


def test_transparent_png_is_flattened_onto_white():
    image = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (0, 0, 32, 48))  # left half opaque black, right half transparent
    page = decoded_first_page(png_bytes(image), "logo.png")
    pixels = np.asarray(page.image)
    assert page.image.mode == "RGB"
    assert pixels[:, :32].max() == 0
    assert pixels[:, 32:].min() == 255


def test_sixteen_bit_grayscale_is_scaled_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 256), (16, 1)).astype(np.uint16)
    page = decoded_first_page(png_bytes(Image.fromarray(ramp)), "scan16.png")
    row = np.asarray(page.image.convert("L"))[0]
    assert row[0] == 0
    assert row[-1] == 255
    assert 120 <= row[128] <= 135


def test_adobe_rgb_copy_hashes_like_the_srgb_original():
    icc = adobe_rgb_icc_profile()
    original = skimage_photo("astronaut.png")
    adobe_pixels = ImageCms.profileToProfile(
        original, ImageCms.createProfile("sRGB"), ImageCms.ImageCmsProfile(io.BytesIO(icc))
    )
    adobe_pixels = Image.fromarray(np.asarray(adobe_pixels))  # drop the profile Pillow attached
    srgb = only(fingerprint_bytes(png_bytes(original), "a.png"))
    tagged = only(fingerprint_bytes(png_bytes(adobe_pixels, icc_profile=icc), "b.png"))
    untagged = only(fingerprint_bytes(png_bytes(adobe_pixels), "c.png"))
    assert tagged.phash == srgb.phash
    honoured = np.abs(preview_pixels(tagged) - preview_pixels(srgb)).mean()
    ignored = np.abs(preview_pixels(untagged) - preview_pixels(srgb)).mean()
    assert honoured < 1.5  # converted back to sRGB: JPEG-preview noise only
    assert ignored > 3 * honoured  # proof the test image really is in another colour space


def test_cmyk_jpeg_is_read_as_rgb():
    photo = skimage_photo("coffee.png")
    reference = only(fingerprint_bytes(png_bytes(photo), "coffee.png"))
    result = only(fingerprint_bytes(jpeg_bytes(photo.convert("CMYK")), "coffee_cmyk.jpg"))
    assert isinstance(result, Fingerprint)
    assert bin(result.phash ^ reference.phash).count("1") <= 6
