"""Where a page's words are: read from a text layer and by OCR, kept through turning and
straightening, and matched between two readings of one page."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from dedupe.core.deskew import straightened
from dedupe.core.ocr import read_page
from dedupe.core.pdf import PdfFile
from dedupe.core.word_places import WordPlace, agreed, decode, encode, quarter_turned, rotated
from tests.dedupe.pdfs import document_pdf, rewritten

LINES = ["Case No 24-118", "Inspector: Dana Ortiz", "Parcel 2231-014-009", "Result: pass with notes"]


def ink_box(image: Image.Image, place: WordPlace) -> tuple[float, float, float, float]:
    """The box of the dark pixels inside a place widened by 0.5 % of the page."""
    pixels = np.asarray(image.convert("L")) < 128
    h, w = pixels.shape
    x0, y0, x1, y1 = place.box
    top, left = int((y0 - 0.005) * h), int((x0 - 0.005) * w)
    window = pixels[top : int((y1 + 0.005) * h), left : int((x1 + 0.005) * w)]
    ys, xs = np.nonzero(window)
    return (left + xs.min()) / w, (top + ys.min()) / h, (left + xs.max() + 1) / w, (top + ys.max() + 1) / h


def assert_on_its_ink(image: Image.Image, place: WordPlace, tolerance: float = 0.004) -> None:
    assert ink_box(image, place) == pytest.approx(place.box, abs=tolerance), place.word


def test_places_are_stored_one_word_a_line_and_read_back():
    places = [WordPlace("24-118", (0.1, 0.2, 0.25, 0.22)), WordPlace("Ortiz", (0.3, 0.5, 0.4, 0.52))]
    stored = encode(places)
    assert stored == "100 200 250 220 24-118\n300 500 400 520 Ortiz"
    assert decode(stored) == places
    assert decode(stored + "\nnot a place\n1 2 x 4 word") == places  # damage only costs a line


def test_a_text_layers_words_sit_where_the_page_shows_them():
    with PdfFile(document_pdf([LINES])) as pdf:
        page = pdf.page(1)
    words = [p.word for p in page.places]
    assert words[:3] == ["CITY", "OF", "EXAMPLE"] and "24-118" in words
    for place in page.places:
        assert_on_its_ink(page.image, place)


def test_a_page_the_pdf_turns_has_its_words_turned_with_it():
    with PdfFile(rewritten(document_pdf([LINES]), rotate={0: 90})) as pdf:
        page = pdf.page(1)
    for place in page.places:
        assert_on_its_ink(page.image, place)


def test_ocr_reads_each_word_with_its_place():
    with PdfFile(document_pdf([LINES])) as pdf:
        image = pdf.page(1).image
    reading = read_page(image)
    case = next(p for p in reading.places if p.word == "24-118")
    assert_on_its_ink(image, case, tolerance=0.003)


def test_places_move_with_the_page_when_it_is_turned_or_straightened():
    page = Image.new("L", (1000, 800), 255)
    ImageDraw.Draw(page).rectangle((800, 100, 829, 119), fill=0)
    mark = WordPlace("x", (0.8, 0.125, 0.83, 0.15))
    assert_on_its_ink(page, mark, tolerance=0.002)
    (turned,) = quarter_turned([mark], 1)
    assert_on_its_ink(Image.fromarray(np.rot90(np.asarray(page))), turned, tolerance=0.002)
    (straight,) = rotated([mark], 2.0, page.size)
    assert_on_its_ink(straightened(page, 2.0), straight, tolerance=0.006)


def test_two_readings_agree_on_a_word_only_at_the_same_place():
    original = [
        WordPlace("Case", (0.10, 0.10, 0.16, 0.12)),
        WordPlace("24-118", (0.17, 0.10, 0.25, 0.12)),
        WordPlace("Harbor", (0.10, 0.50, 0.20, 0.52)),
    ]
    rescan = [
        WordPlace("Casc", (0.105, 0.104, 0.165, 0.124)),  # OCR's slip, a few pixels off
        WordPlace("24-1l8", (0.172, 0.103, 0.252, 0.123)),  # a digit read as a letter
        WordPlace("Harbor", (0.10, 0.80, 0.20, 0.82)),  # the same word on another line
    ]
    mine, theirs = agreed(original, rescan)
    assert [p.word for p in mine] == ["Case", "24-118"]
    assert [p.word for p in theirs] == ["Casc", "24-1l8"]


def test_another_entry_at_the_same_place_is_not_agreed():
    mine, theirs = agreed(
        [WordPlace("24-118", (0.17, 0.10, 0.25, 0.12))], [WordPlace("24-119", (0.17, 0.10, 0.25, 0.12))]
    )
    assert mine == [] and theirs == []
