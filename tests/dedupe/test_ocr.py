"""Scanned pages are read by Tesseract: turned upright by their text, their words kept; photos
and pages with a text layer of their own are never OCR'd. Real Tesseract, real rendered pages."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from dedupe.core import fingerprint as fingerprint_module
from dedupe.core import ocr
from dedupe.core.fingerprint import fingerprint_bytes
from dedupe.core.hocr import HOCR_CONFIG, ReadCharacter, ReadWord, parse_hocr
from dedupe.core.pdf import PdfFile
from dedupe.core.relations import evidence_against
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Fingerprint, Relation
from tests.dedupe.images import jpeg_bytes, png_bytes, skimage_photo
from tests.dedupe.pdfs import document_pdf

CASE_118 = ["Case 24-118", "Address: 1200 Harbor Blvd", "Inspector: M. Reyes", "Result: no violation found"]


def scanned(lines=CASE_118, turn_ccw: int = 0, seed: int = 1) -> Image.Image:
    """A printed form as a scanner sees it: rendered at 200 dpi, paper noise, maybe turned."""
    with PdfFile(document_pdf([lines])) as document:
        page = np.asarray(document.page(1).image.convert("L"), dtype=np.float64)
    noisy = np.clip(page + np.random.default_rng(seed).normal(0, 6, page.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(noisy, "L")
    return image.rotate(turn_ccw, expand=True) if turn_ccw else image


def read(data: bytes, key: str = "PW/scan.png") -> Fingerprint:
    (result,) = fingerprint_bytes(data, key)
    assert isinstance(result, Fingerprint), result
    return result


def test_an_upright_scan_is_read_and_left_as_it_is():
    page = read(png_bytes(scanned()))
    assert page.document_like and page.upright_turn == 0
    assert "Case 24-118" in page.text and "1200 Harbor Blvd" in page.text


@pytest.mark.parametrize(("turned_ccw", "turn"), [(180, 180), (90, 90), (270, 270)])
def test_a_page_scanned_turned_is_turned_upright_by_its_text(turned_ccw, turn):
    page = read(png_bytes(scanned(turn_ccw=turned_ccw)))
    assert page.upright_turn == turn
    assert "Case 24-118" in page.text
    upright = read(png_bytes(scanned(seed=2)))
    assert (page.phash ^ upright.phash).bit_count() <= 6  # hashed upright, as the upright scan is


def test_the_evidence_says_a_page_was_scanned_upside_down():
    upright = read(png_bytes(scanned()), "PLN/form.png")
    upside_down = read(png_bytes(scanned(turn_ccw=180, seed=3)), "PD/form-scan.png")
    evidence = evidence_against(upright, upside_down, MatchSettings())
    assert evidence is not None and evidence.relation is Relation.SAME_IMAGE
    assert "scanned upside down; text reads upright after a half turn" in evidence.explanation


def test_a_scan_saved_as_a_small_decoded_jpeg_is_read_at_full_size():
    page = read(jpeg_bytes(scanned().convert("RGB"), quality=85), "PW/scan.jpg")
    assert "Case 24-118" in page.text


def test_a_photograph_is_never_read(monkeypatch):
    monkeypatch.setattr(fingerprint_module, "read_page", lambda image: pytest.fail("a photo was OCR'd"))
    photo = read(jpeg_bytes(skimage_photo("astronaut.png")), "PD/photo.jpg")
    assert not photo.document_like and photo.text == "" and photo.upright_turn == 0


def test_a_pdf_page_with_a_text_layer_is_not_ocrd(monkeypatch):
    monkeypatch.setattr(fingerprint_module, "read_page", lambda image: pytest.fail("a text layer was OCR'd"))
    page = read(document_pdf([CASE_118]), "PW/born-digital.pdf")
    assert page.document_like and "Case 24-118" in page.text


def test_a_scanned_pdf_page_without_a_text_layer_is_read():
    import io

    from reportlab.lib.pagesizes import letter
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=letter)
    c.drawImage(ImageReader(scanned(turn_ccw=180)), 0, 0, *letter)
    c.showPage()
    c.save()
    page = read(buffer.getvalue(), "PW/scanned.pdf")
    assert page.upright_turn == 180 and "Case 24-118" in page.text


def boxed_form() -> Image.Image:
    """A form whose entries sit in a grid of ruled boxes, labels small above the entries, as
    a scanner sees it (paper noise): Tesseract's layout analysis skips such cells."""
    from io import BytesIO

    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    cells = [
        [("Report No.", "24-149"), ("Date Occurred", "04/30/2023"), ("Time", "22:10")],
        [("Location", "9713 Main St"), ("Incident Type", "Burglary"), ("Badge No.", "7262")],
        [("Reporting Party", "Sofia Hernandez"), ("Phone", "(304) 555-9232"), ("Unit", "B-12")],
    ]
    buffer = BytesIO()
    c = canvas.Canvas(buffer, pagesize=letter, invariant=1)
    c.setFont("Helvetica-Bold", 18)
    c.drawString(72, 720, "INCIDENT REPORT")
    c.setLineWidth(1.2)
    for row, line in enumerate(cells):
        top = 690 - row * 34
        for column, (label, value) in enumerate(line):
            left = 60 + column * 165
            c.rect(left, top - 34, 165, 34)
            c.setFont("Helvetica", 6.5)
            c.drawString(left + 3, top - 8, label)
            c.setFont("Courier", 10)
            c.drawString(left + 5, top - 25, value)
    c.save()
    with PdfFile(buffer.getvalue()) as document:
        page = np.asarray(document.page(1).image.convert("L"), dtype=np.float64)
    noisy = np.clip(page * 0.9 + 20 + np.random.default_rng(2).normal(0, 6, page.shape), 0, 255)
    return Image.fromarray(noisy.astype(np.uint8), "L")


def test_entries_in_ruled_boxes_are_read_once_the_rules_are_removed():
    form = boxed_form()
    cleaned = np.asarray(ocr.without_rules(form))
    assert cleaned.min() < 100  # the print stays
    text = ocr.read_page(form).text
    assert all(entry in text for entry in ("24-149", "04/30/2023", "22:10", "7262", "555-9232"))


def hocr_line(*words: tuple[str, int]) -> bytes:
    """A Tesseract hOCR document of one line of words, each (text, confidence)."""
    spans = "".join(
        f"<span class='ocrx_word' id='word_1_{n}' title='bbox {n * 50} 0 {n * 50 + 40} 10; x_wconf {conf}'>"
        f"{text}</span>"
        for n, (text, conf) in enumerate(words)
    )
    return (
        "<html xmlns='http://www.w3.org/1999/xhtml'><body><div class='ocr_page'>"
        f"<span class='ocr_line' id='line_1_1' title='bbox 0 0 200 10'>{spans}</span></div></body></html>"
    ).encode()


def test_a_word_read_with_little_confidence_is_a_guess_not_the_pages_text(monkeypatch):
    page = hocr_line(("Case", 95), ("24-118", 20), ("Harbor", 90))
    monkeypatch.setattr(ocr.pytesseract, "image_to_pdf_or_hocr", lambda *a, **k: page)
    words = ocr._read_words(Image.new("L", (100, 100), 255))
    assert words.text == "Case Harbor" and words.guesses == "24-118"


def test_a_reading_tesseract_garbled_is_no_words_not_a_failure(monkeypatch):
    monkeypatch.setattr(ocr.pytesseract, "image_to_pdf_or_hocr", lambda *a, **k: b"<html><body")
    assert ocr._read_words(Image.new("L", (100, 100), 255)).text == ""


def test_each_character_comes_with_what_else_tesseract_weighed_for_it():
    line = Image.new("L", (900, 120), 255)
    ImageDraw.Draw(line).text(
        (20, 30), "Case 23-676 Phone 555-6682", font=ImageFont.load_default(size=40), fill=0
    )
    page = ocr.pytesseract.image_to_pdf_or_hocr(
        line, lang=ocr.OCR_LANGUAGES, extension="hocr", config=HOCR_CONFIG
    )
    read = parse_hocr(page)
    assert [w.text for w in read] == ["Case", "23-676", "Phone", "555-6682"]
    case = read[1]
    assert "".join(c.text for c in case.characters) == "23-676"
    assert all(c.alternatives and c.alternatives[0][0] == c.text for c in case.characters)
    assert case.confidence > 80 and case.box[0] < case.box[2] and len({w.line for w in read}) == 1


def test_an_entry_tesseract_doubted_keeps_its_alternatives_as_a_pattern():
    doubted = ReadWord(
        "25-076",
        70.0,
        (0, 0, 60, 10),
        0,
        (
            ReadCharacter("2", (("2", 90.0),)),
            ReadCharacter("5", (("5", 55.0), ("3", 38.0), ("6", 4.0))),
            ReadCharacter("-", (("-", 90.0),)),
            ReadCharacter("0", (("0", 60.0), ("6", 31.0))),
            ReadCharacter("7", (("7", 90.0),)),
            ReadCharacter("6", (("6", 90.0), ("5", 2.0))),
        ),
    )
    assert ocr.alternatives_pattern(doubted) == "2[53]-[06]76"
    sure = ReadWord(
        "24-118", 95.0, (0, 0, 60, 10), 0, tuple(ReadCharacter(c, ((c, 95.0),)) for c in "24-118")
    )
    assert ocr.alternatives_pattern(sure) == ""  # nothing else weighed: no pattern
    word = ReadWord("Harbor", 60.0, (0, 0, 60, 10), 0, (ReadCharacter("H", (("H", 50.0), ("N", 40.0))),))
    assert ocr.alternatives_pattern(word) == ""  # only entries (words with a digit) are kept


def test_a_blank_page_has_no_rules_to_remove():
    blank = Image.new("L", (850, 1100), 255)
    assert np.array_equal(np.asarray(ocr.without_rules(blank)), np.asarray(blank))


def test_a_page_osd_cannot_tell_the_way_up_of_is_read_each_other_way_until_it_reads(monkeypatch):
    monkeypatch.setattr(ocr, "upright_turn", lambda image: (0, 0.62))  # OSD unsure, as seen on a permit
    ocr._readings.clear()
    reading = ocr.read_page(scanned(turn_ccw=180, seed=5))
    assert reading.turn == 180 and "Case 24-118" in reading.text
    assert reading.orientation_confidence == 0.62


def test_a_page_osd_turns_the_wrong_way_is_read_the_other_ways_until_it_reads(monkeypatch):
    monkeypatch.setattr(ocr, "upright_turn", lambda image: (90, 4.0))  # sure, and wrong
    ocr._readings.clear()
    reading = ocr.read_page(scanned(turn_ccw=180, seed=6))
    assert reading.turn == 180 and "Case 24-118" in reading.text


def test_small_print_is_enlarged_before_it_is_read_and_print_of_a_good_size_is_not():
    with PdfFile(document_pdf([CASE_118 * 3])) as document:
        at_200_dpi = document.page(1).image.convert("L")
    at_100_dpi = at_200_dpi.resize((at_200_dpi.width // 2, at_200_dpi.height // 2), Image.LANCZOS)
    small = ocr.text_height(at_100_dpi)
    assert small is not None and small < ocr.OCR_MIN_TEXT_HEIGHT
    enlarged = ocr.sized_for_reading(at_100_dpi)
    assert enlarged.height > at_100_dpi.height
    assert ocr.text_height(enlarged) >= ocr.OCR_MIN_TEXT_HEIGHT - 1
    assert ocr.sized_for_reading(at_200_dpi).size == at_200_dpi.size


def test_a_page_with_too_little_print_to_measure_is_read_at_its_own_size():
    blank = Image.new("L", (1275, 1650), 255)
    assert ocr.text_height(blank) is None
    assert ocr.sized_for_reading(blank).size == blank.size


def test_a_black_and_white_scan_at_150_dpi_has_its_entries_read():
    with PdfFile(document_pdf([CASE_118])) as document:
        page = document.page(1).image.convert("L")
    low = page.resize((page.width * 3 // 4, page.height * 3 // 4), Image.BILINEAR)
    bitonal = low.point(lambda v: 255 if v > 150 else 0).convert("1").convert("L")
    text = ocr.read_page(bitonal).text
    assert "24-118" in text and "1200" in text
