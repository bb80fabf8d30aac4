"""Fingerprints: what collides, what stays apart, and the values the matcher relies on."""

from __future__ import annotations

import hashlib
import io

import imagehash
import numpy as np
import pytest
from PIL import Image

from dedupe.core.fingerprint import (
    LOW_INFORMATION_THRESHOLD,
    THUMBNAIL_SIZE,
    estimate_jpeg_quality,
    fingerprint_bytes,
    fingerprint_file,
)
from dedupe.core.types import FINGERPRINT_ALGORITHM_VERSION, Fingerprint
from tests.dedupe.images import (
    SKIMAGE_DATA,
    encoded,
    exif_rotated_jpeg,
    flat,
    jpeg_bytes,
    letter_page,
    linear_gradient,
    page_with_only_a_page_number,
    png_bytes,
    radial_gradient,
    skimage_photo,
    with_comment_segment,
    write_source,
)


def fingerprint_of(data: bytes, key: str = "police/photo.jpg") -> Fingerprint:
    (result,) = fingerprint_bytes(data, key, "police")
    assert isinstance(result, Fingerprint), result
    return result


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def test_fingerprint_records_the_file_and_its_origin(tmp_path):
    data = jpeg_bytes(skimage_photo("coffee.png"))
    source = write_source(tmp_path, "parks/IMG_1.jpg", data, department="parks")
    (result,) = fingerprint_file(source)
    assert isinstance(result, Fingerprint)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert (result.key, result.source_key, result.department, result.page) == (
        "parks/IMG_1.jpg",
        "parks/IMG_1.jpg",
        "parks",
        None,
    )
    assert (result.byte_size, result.width, result.height) == (len(data), 600, 400)
    assert result.algorithm_version == FINGERPRINT_ALGORITHM_VERSION
    assert fingerprint_bytes(data, "parks/IMG_1.jpg", "parks") == [result]


def test_exif_rotated_copy_has_the_same_phash_as_its_original():
    photo = skimage_photo("coffee.png")
    original = fingerprint_of(jpeg_bytes(photo))
    for orientation in (3, 6, 8):
        rotated = fingerprint_of(exif_rotated_jpeg(photo, orientation))
        assert (rotated.width, rotated.height) == (600, 400)
        assert distance(rotated.phash, original.phash) <= 2
        assert distance(rotated.dhash, original.dhash) <= 4


def test_width_and_height_are_full_resolution_after_orientation():
    stored_landscape = exif_rotated_jpeg(skimage_photo("coffee.png").resize((800, 1200)), 6)
    result = fingerprint_of(stored_landscape)
    assert (result.width, result.height) == (800, 1200)


def test_page_scanned_turned_matches_a_rotated_phash_of_the_upright_page():
    photo = skimage_photo("astronaut.png").resize((512, 384))
    upright = fingerprint_of(png_bytes(photo), "a.png")
    for index, turn in enumerate(
        (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270)
    ):
        turned = fingerprint_of(png_bytes(photo.transpose(turn)), "b.png")
        assert distance(turned.phash, upright.rotated_phashes[index]) <= 2
        assert distance(turned.phash, upright.phash) > 10


def test_copy_differing_only_in_metadata_has_the_same_pixel_sha256():
    data = jpeg_bytes(skimage_photo("chelsea.png"))
    original = fingerprint_of(data)
    annotated = fingerprint_of(with_comment_segment(data, b"received from Building & Safety"))
    assert annotated.sha256 != original.sha256
    assert annotated.pixel_sha256 == original.pixel_sha256


def test_lossless_reencoding_has_the_same_pixel_sha256():
    photo = skimage_photo("chelsea.png")
    as_png = fingerprint_of(png_bytes(photo), "a.png")
    as_tiff = fingerprint_of(encoded(photo, "TIFF", compression="tiff_lzw"), "a.tif")
    as_webp = fingerprint_of(encoded(photo, "WEBP", lossless=True), "a.webp")
    assert as_png.pixel_sha256 == as_tiff.pixel_sha256 == as_webp.pixel_sha256
    assert len({as_png.sha256, as_tiff.sha256, as_webp.sha256}) == 3


def test_one_changed_pixel_changes_the_pixel_sha256():
    photo = skimage_photo("chelsea.png")
    edited = photo.copy()
    edited.putpixel((10, 10), (0, 0, 0))
    assert (
        fingerprint_of(png_bytes(photo), "a.png").pixel_sha256
        != fingerprint_of(png_bytes(edited), "b.png").pixel_sha256
    )


@pytest.mark.parametrize("size", [(451, 300), (1700, 1000)], ids=["in one piece", "in strips"])
def test_pixel_sha256_covers_the_documented_bytes(size: tuple[int, int]) -> None:
    # The recipe is part of the fingerprint version (stored hashes are compared with new
    # ones): the header line, then the RGB rows as Pillow's tobytes() gives them.
    rng = np.random.default_rng(7)
    photo = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")
    expected = hashlib.sha256(f"pd-px1|{size[0]}x{size[1]}|1/1|".encode() + photo.tobytes()).hexdigest()
    assert fingerprint_of(png_bytes(photo), "a.png").pixel_sha256 == expected


def test_jpeg_recompressed_at_another_quality_has_another_pixel_sha256():
    photo = skimage_photo("chelsea.png")
    assert (
        fingerprint_of(jpeg_bytes(photo, quality=90)).pixel_sha256
        != fingerprint_of(jpeg_bytes(photo, quality=91)).pixel_sha256
    )


def test_resized_recompressed_copy_is_within_a_few_bits():
    photo = skimage_photo("astronaut.png")
    original = fingerprint_of(png_bytes(photo), "a.png")
    copy = fingerprint_of(jpeg_bytes(photo.resize((256, 256)), quality=60))
    assert distance(original.phash, copy.phash) <= 4
    assert distance(original.dhash, copy.dhash) <= 6


def test_different_photos_are_far_apart():
    names = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "camera.png"]
    hashes = [fingerprint_of(png_bytes(skimage_photo(name)), name).phash for name in names]
    assert min(distance(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :]) >= 20


@pytest.mark.parametrize("name", ["astronaut.png", "camera.png", "chelsea.png", "coins.png"])
def test_hashes_equal_imagehash_in_the_documented_bit_order(name):
    # Images no larger than the 256-px preview are hashed from their own pixels, as imagehash does.
    photo = skimage_photo(name).resize((256, 256))
    result = fingerprint_of(png_bytes(photo), "a.png")
    assert result.phash == int(str(imagehash.phash(photo)), 16)
    assert result.dhash == int(str(imagehash.dhash(photo)), 16)


@pytest.mark.parametrize(
    "image",
    [
        pytest.param(flat("white"), id="pure white"),
        pytest.param(flat((0, 0, 255)), id="pure blue"),
        pytest.param(flat((128, 128, 128)), id="mid gray"),
        pytest.param(linear_gradient(), id="linear gradient"),
        pytest.param(radial_gradient(), id="radial gradient"),
        pytest.param(page_with_only_a_page_number(), id="near-blank page"),
    ],
)
def test_flat_and_near_blank_images_are_low_information(image):
    for data in (png_bytes(image), jpeg_bytes(image, quality=75)):
        result = fingerprint_of(data, "blank.png")
        assert result.low_information is True
        assert result.quality < LOW_INFORMATION_THRESHOLD


def test_pure_white_and_pure_blue_are_gated_but_never_pixel_identical():
    # Their pHashes are noise around a zero spectrum (imagehash gives both the same hash).
    white, blue = (
        fingerprint_of(png_bytes(flat("white")), "w.png"),
        fingerprint_of(png_bytes(flat("blue")), "b.png"),
    )
    assert white.low_information and blue.low_information
    assert white.pixel_sha256 != blue.pixel_sha256


@pytest.mark.parametrize(
    "name", ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "page.png", "text.png", "moon.png"]
)
def test_real_photos_and_text_pages_are_not_low_information(name):
    data = (SKIMAGE_DATA / name).read_bytes()
    result = fingerprint_of(data, name)
    assert result.low_information is False
    assert 0.0 <= result.quality <= 1.0


def test_typed_letter_is_document_like_and_not_low_information():
    result = fingerprint_of(jpeg_bytes(letter_page()), "clerk/letter.jpg")
    assert result.document_like is True
    assert result.low_information is False


@pytest.mark.parametrize("name", ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"])
def test_photos_are_not_document_like(name):
    assert fingerprint_of((SKIMAGE_DATA / name).read_bytes(), name).document_like is False


def test_scanned_page_is_document_like():
    assert fingerprint_of((SKIMAGE_DATA / "page.png").read_bytes(), "page.png").document_like is True


def _view_size(result: Fingerprint) -> tuple[int, int]:
    with Image.open(io.BytesIO(result.document_view)) as view:
        assert view.mode == "L"
        return view.size


def test_a_page_keeps_a_sharper_grey_view_and_a_photo_none():
    page = fingerprint_of(png_bytes(letter_page()), "clerk/letter.png")
    assert _view_size(page) == (495, 640)  # 850 x 1100 brought to 640 px
    assert fingerprint_of((SKIMAGE_DATA / "coffee.png").read_bytes(), "coffee.png").document_view == b""


def test_a_greyscale_jpeg_scan_is_decoded_large_enough_for_its_view():
    # Colour JPEGs are decoded at the preview's scale; a grey one is nearly always a scan.
    grey = fingerprint_of(jpeg_bytes(letter_page().convert("L")), "scans/page.jpg")
    colour = fingerprint_of(jpeg_bytes(letter_page()), "scans/page-colour.jpg")
    assert _view_size(grey) == (495, 640)  # decoded whole, not at 1/4
    assert _view_size(colour) == (213, 275)  # too coarse for the sharper check, which skips it


def test_thumbnail_is_64px_grayscale_with_aspect_kept():
    result = fingerprint_of(jpeg_bytes(skimage_photo("coffee.png").resize((1200, 800))))
    assert result.thumb_size == (THUMBNAIL_SIZE, 43)
    assert len(result.thumbnail) == 64 * 43
    tall = fingerprint_of(png_bytes(skimage_photo("coffee.png").resize((30, 90))), "tall.png")
    assert tall.thumb_size == (21, 64)


def test_preview_jpeg_is_256px_and_deterministic():
    data = jpeg_bytes(skimage_photo("coffee.png").resize((2000, 1333)))
    first, second = fingerprint_of(data), fingerprint_of(data)
    preview = Image.open(io.BytesIO(first.preview_jpeg))
    assert preview.format == "JPEG"
    assert max(preview.size) == 256
    assert first.preview_jpeg == second.preview_jpeg
    assert first == second


@pytest.mark.parametrize("quality", [30, 50, 75, 90, 95])
def test_jpeg_quality_is_estimated_from_quantisation_tables(quality):
    assert fingerprint_of(jpeg_bytes(skimage_photo("coffee.png"), quality=quality)).jpeg_quality == quality


def test_jpeg_quality_is_none_for_other_formats():
    assert fingerprint_of(png_bytes(skimage_photo("coffee.png")), "a.png").jpeg_quality is None
    assert estimate_jpeg_quality(None) is None
    assert estimate_jpeg_quality({0: [1, 2, 3]}) is None


def test_recompressed_copy_reports_lower_jpeg_quality():
    photo = skimage_photo("coffee.png")
    original = fingerprint_of(jpeg_bytes(photo, quality=95))
    copy = fingerprint_of(jpeg_bytes(Image.open(io.BytesIO(jpeg_bytes(photo, quality=95))), quality=70))
    assert original.jpeg_quality > copy.jpeg_quality


def test_hashes_are_unsigned_64_bit_integers():
    result = fingerprint_of(png_bytes(skimage_photo("astronaut.png")), "a.png")
    for value in (result.phash, result.dhash, *result.rotated_phashes):
        assert 0 <= value < 2**64


def test_tiny_image_still_fingerprints():
    result = fingerprint_of(png_bytes(Image.new("RGB", (1, 1), "red")), "dot.png")
    assert (result.width, result.height, result.thumb_size) == (1, 1, (64, 64))
    assert result.low_information is True


def test_same_pixels_in_rgba_and_rgb_png_collide_when_fully_opaque():
    photo = skimage_photo("coffee.png")
    rgba = photo.copy()
    rgba.putalpha(255)
    assert (
        fingerprint_of(png_bytes(photo), "a.png").pixel_sha256
        == fingerprint_of(png_bytes(rgba), "b.png").pixel_sha256
    )


def test_page_number_alone_is_not_document_content():
    result = fingerprint_of(png_bytes(page_with_only_a_page_number()), "blank.png")
    assert result.low_information is True
    assert np.frombuffer(result.thumbnail, dtype=np.uint8).min() > 150
