"""What is printed at a page's entries: kept small, and compared where two readings disagree."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dedupe.core import entry_marks
from dedupe.core.entry_marks import PageMapping, compare_marks, counterpart, marks_of, page_mapping
from dedupe.core.entry_settlement import settle_entries
from dedupe.core.page_text import PageWords, compare_text, word_key
from dedupe.core.pdf import PdfFile
from dedupe.core.word_places import WordPlace
from dedupe.core.word_places import encode as encode_places
from tests.dedupe.pdfs import document_pdf

FORM = ["Case No. CE23-524", "Phone (555) 010-2000", "Parcel 2880-665-350", "Inspector Maria Lopez"]


def printed(lines: list[str]) -> tuple[Image.Image, tuple[WordPlace, ...]]:
    """The born-digital page at 200 dpi, grey, and where its text layer's words are."""
    with PdfFile(document_pdf([lines])) as document:
        page = document.page(1)
        return page.image.convert("L"), page.places


def black_and_white_rescan(page: Image.Image, dpi: int = 150, threshold: int = 150) -> Image.Image:
    """The page printed and scanned in black and white at a low resolution, a little blurred."""
    scale = dpi / 200
    small = page.resize((round(page.width * scale * 0.7), round(page.height * scale * 0.7)), Image.BILINEAR)
    blurred = small.resize((round(page.width * scale), round(page.height * scale)), Image.BILINEAR)
    return blurred.point(lambda v: 255 if v > threshold else 0)


def mark_of(marks: tuple[entry_marks.EntryMark, ...], word: str) -> entry_marks.EntryMark:
    return next(m for m in marks if m.word == word)


def test_a_page_keeps_the_marks_of_its_entries_and_guesses_only():
    page, places = printed(FORM)
    marks = marks_of(page, places, kept=["Lopez"])
    assert [m.word for m in marks] == ["CE23-524", "(555)", "010-2000", "2880-665-350", "Lopez"]
    assert all(m.pixels.shape[0] == entry_marks.MARK_HEIGHT for m in marks)


def test_marks_survive_storage_and_damaged_marks_are_none():
    page, places = printed(FORM)
    marks = marks_of(page, places)
    stored = entry_marks.decode(entry_marks.encode(marks))
    assert [(m.word, m.pixels.shape) for m in stored] == [(m.word, m.pixels.shape) for m in marks]
    assert np.abs(stored[0].pixels.astype(int) - marks[0].pixels.astype(int)).mean() < 4  # JPEG's loss
    assert entry_marks.decode(b'[["x",0,0,1,1,0,9]]\nnot a jpeg') == ()
    assert entry_marks.decode(b"") == ()


def test_two_scans_of_a_sheet_are_mapped_onto_each_other_by_the_words_both_read_alike():
    boxes = [(0.1 + 0.07 * i, 0.1 + 0.05 * i, 0.15 + 0.07 * i, 0.12 + 0.05 * i) for i in range(10)]
    moved = [
        (x0 * 1.01 + 0.004, y0 * 0.99 - 0.003, x1 * 1.01 + 0.004, y1 * 0.99 - 0.003)
        for x0, y0, x1, y1 in boxes
    ]
    mapping = page_mapping(list(zip(boxes, moved, strict=True)))
    assert mapping is not None
    assert mapping.area(boxes[3]) == pytest.approx(moved[3], abs=1e-6)
    # Words at unrelated places are not one sheet.
    shuffled = list(zip(boxes, moved[::-1], strict=True))
    assert page_mapping(shuffled) is None


def test_the_same_entry_scanned_again_in_black_and_white_at_150_dpi_is_the_same_print():
    page, places = printed(FORM)
    original = marks_of(page, places)
    rescan = marks_of(black_and_white_rescan(page), places)  # the same places: shares of the page
    mapping = PageMapping()
    for word in ("CE23-524", "(555)", "010-2000", "2880-665-350"):
        compared = compare_marks(mark_of(original, word), mapping, mark_of(rescan, word))
        assert compared is not None and compared.same, (word, compared)


def test_an_entry_one_digit_apart_is_not_the_same_print():
    page, places = printed(FORM)
    sibling, sibling_places = printed(["Case No. CE20-524", *FORM[1:]])
    original = mark_of(marks_of(page, places), "CE23-524")
    other = counterpart(original, PageMapping(), marks_of(black_and_white_rescan(sibling), sibling_places))
    assert other is not None and other.word == "CE20-524"
    compared = compare_marks(original, PageMapping(), other)
    assert compared is not None and not compared.same


def test_an_entry_ocr_misread_on_one_page_is_settled_by_its_marks():
    page, places = printed(FORM)
    scan = black_and_white_rescan(page)
    # OCR read the phone's "(555)" on the scan as "1555)"; the marks at that place are the same.
    misread = tuple(WordPlace("1555)" if p.word == "(555)" else p.word, p.box) for p in places)
    layer = PageWords("\n".join(FORM), complete=True)
    ocr = PageWords("\n".join(FORM).replace("(555)", "1555)"))
    settled = settle_entries(
        encode_places(places),
        entry_marks.encode(marks_of(page, places)),
        layer,
        encode_places(misread),
        entry_marks.encode(marks_of(scan, misread)),
        ocr,
    )
    assert settled.misread == (("(555)", "1555)"),)
    assert word_key("555") in settled.settled_a and word_key("1555") in settled.settled_b
    assert compare_text(layer, ocr).entries_differ  # by their words alone, two records
    assert not compare_text(*settled.words(layer, ocr)).entries_differ


def test_a_reading_that_names_another_case_stays_a_different_record_when_its_marks_differ():
    page, places = printed(FORM)
    sibling, sibling_places = printed(["Case No. CE20-524", *FORM[1:]])
    layer = PageWords("\n".join(FORM), complete=True)
    scan = PageWords("\n".join(["Case No. CE20-524", *FORM[1:]]))
    settled = settle_entries(
        encode_places(places),
        entry_marks.encode(marks_of(page, places)),
        layer,
        encode_places(sibling_places),
        entry_marks.encode(marks_of(black_and_white_rescan(sibling), sibling_places)),
        scan,
    )
    assert not settled.misread
    assert compare_text(*settled.words(layer, scan)).entries_differ


def test_two_text_layers_need_no_settling():
    page, places = printed(FORM)
    marks = entry_marks.encode(marks_of(page, places))
    layer = PageWords("\n".join(FORM), complete=True)
    settled = settle_entries(encode_places(places), marks, layer, encode_places(places), marks, layer)
    assert not settled.settled_a and not settled.misread
