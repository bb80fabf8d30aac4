"""A page scanned a little crooked is straightened before it is hashed, so it lines up with
its original; a straight page, a drawing or a blank page is left as it is."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dedupe.core.deskew import MIN_SKEW_DEGREES, skew_angle, straightened
from dedupe.core.pdf import PdfFile
from tests.dedupe.pdfs import document_pdf

LETTER = [f"Line {n}: the council reviewed the permit for 1200 Harbor Blvd on 03/12/2024." for n in range(20)]


def page() -> Image.Image:
    with PdfFile(document_pdf([LETTER])) as document:
        return document.page(1).image.convert("L")


def test_a_straight_page_is_left_as_it_is():
    assert skew_angle(page()) == 0.0


@pytest.mark.parametrize("tilt", [-2.0, -0.8, 0.6, 1.7])
def test_a_crooked_page_is_measured_and_straightened(tilt):
    crooked = page().rotate(tilt, resample=Image.Resampling.BICUBIC, fillcolor=255)
    measured = skew_angle(crooked)
    assert abs(measured - tilt) <= 0.1
    assert abs(skew_angle(straightened(crooked, measured))) < MIN_SKEW_DEGREES


def test_a_page_without_rows_of_print_is_not_turned():
    assert skew_angle(Image.new("L", (850, 1100), 255)) == 0.0
    dots = np.full((1100, 850), 255, np.uint8)
    dots[
        np.random.default_rng(3).integers(0, 1100, 4000), np.random.default_rng(4).integers(0, 850, 4000)
    ] = 0
    assert skew_angle(Image.fromarray(dots)) == 0.0


def test_straightening_keeps_the_size_and_fills_corners_with_paper():
    crooked = page().rotate(2.0, fillcolor=255)
    out = straightened(crooked, 2.0)
    assert out.size == crooked.size
    assert np.asarray(out)[0, 0] > 200


def test_a_silhouette_with_no_words_is_never_turned(monkeypatch):
    from dedupe.core import fingerprint as fingerprint_module
    from dedupe.core.fingerprint import fingerprint_bytes
    from tests.dedupe.images import png_bytes, skimage_photo

    def refuse(page: Image.Image) -> float:
        raise AssertionError("a page without words has no rows of print to measure")

    monkeypatch.setattr(fingerprint_module, "skew_angle", refuse)
    (horse,) = fingerprint_bytes(png_bytes(skimage_photo("horse.png")), "PK/horse.png")
    assert horse.document_like and not horse.text  # paper and ink, but a drawing
