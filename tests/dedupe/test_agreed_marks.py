"""An area of two page views that differs in pixels is set aside only when every mark in it
is a word both readings hold there, or a ruling line both pages have there."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from dedupe.core.agreed_marks import explained_areas
from dedupe.core.pdf import PdfFile
from dedupe.core.verify import view_areas
from dedupe.core.word_places import WordPlace
from tests.dedupe.pdfs import document_pdf

LINES = ["Case No 24-118", "Inspector: Dana Ortiz", "Parcel 2231-014-009", "Result: pass with notes"]
VIEW = (495, 640)  # the sharper view of a letter page


def view_of(lines: list[str]) -> tuple[np.ndarray, tuple[WordPlace, ...]]:
    with PdfFile(document_pdf([lines])) as pdf:
        page = pdf.page(1)
    return np.asarray(page.image.convert("L").resize(VIEW, Image.Resampling.LANCZOS)), page.places


def rescanned(view: np.ndarray) -> np.ndarray:
    blurred = Image.fromarray(view).filter(ImageFilter.GaussianBlur(0.9))
    noise = np.random.default_rng(3).normal(0, 6, view.shape)
    return np.clip(np.asarray(blurred, np.float64) + noise, 0, 255).astype(np.uint8)


def marked_areas(view: np.ndarray) -> list[tuple[slice, slice]]:
    return [(rows, cols) for rows, cols in view_areas(view.shape) if (view[rows, cols] < 128).any()]


def test_areas_holding_only_agreed_words_and_shared_lines_are_explained():
    view, places = view_of(LINES)
    areas = marked_areas(view)
    assert all(explained_areas(view, rescanned(view), areas, places, places, 0.05))


def test_an_entry_one_reading_missed_leaves_its_area_to_the_pixels():
    original, _ = view_of(LINES)
    voided, places = view_of([*LINES, "VOID 2024-07-19"])
    read = tuple(p for p in places if p.word not in ("VOID", "2024-07-19"))  # OCR missed the line
    areas = marked_areas(voided)
    explained = explained_areas(original, voided, areas, read, read, 0.05)
    unexplained = [area for area, ok in zip(areas, explained, strict=True) if not ok]
    assert unexplained, "the line only one page has must be left to the pixels"
    void = next(p for p in places if p.word == "VOID")
    for rows, _cols in unexplained:
        assert rows.start <= void.box[3] * VIEW[1] and rows.stop >= void.box[1] * VIEW[1]


def test_a_word_at_another_place_is_not_agreed():
    view, places = view_of(LINES)
    moved = tuple(
        WordPlace(p.word, (p.box[0], p.box[1] + 0.1, p.box[2], p.box[3] + 0.1)) if p.word == "24-118" else p
        for p in places
    )
    areas = marked_areas(view)
    explained = explained_areas(view, view, areas, places, moved, 0.05)
    assert not all(explained)


def test_a_line_drawn_on_one_page_only_is_not_shared():
    view, places = view_of(LINES)
    struck = Image.fromarray(view.copy())
    ImageDraw.Draw(struck).line((40, 600, 450, 600), fill=0, width=2)  # under the box, on blank paper
    struck_view = np.asarray(struck)
    areas = [(rows, cols) for rows, cols in view_areas(view.shape) if rows.start <= 600 < rows.stop]
    explained = explained_areas(view, struck_view, areas, places, places, 0.05)
    assert not any(explained)
