"""A PDF is read page by page: each page an item of its own, upright, with its text layer,
and every PDF the engine cannot or will not read gets a reason without stopping the rest."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from dedupe.core import imaging, pdf
from dedupe.core.fingerprint import fingerprint_bytes
from dedupe.core.types import CaptureDateSource, Fingerprint, Unreadable
from dedupe.core.verify import page_words
from records.packet.redact import Box, burn_redactions, upright_page
from tests.dedupe.pdfs import (
    blank_pages_pdf,
    document_pdf,
    form_page,
    rescanned_jpeg,
    rewritten,
    scanned_pdf_with_ocr_layer,
)

CASE_118 = ["Case 24-118", "Address: 1200 Harbor Blvd", "Inspector: M. Reyes"]
CASE_207 = ["Case 24-207", "Address: 88 Olive St", "Inspector: J. Tran"]


def test_every_page_of_a_pdf_is_an_item_of_its_own_with_its_words():
    results = fingerprint_bytes(document_pdf([CASE_118, CASE_207]), "PW/inspections.pdf", "PW")
    assert [r.key for r in results] == ["PW/inspections.pdf#page=1", "PW/inspections.pdf#page=2"]
    first, second = results
    assert isinstance(first, Fingerprint) and isinstance(second, Fingerprint)
    assert (first.page, second.page) == (1, 2)
    assert (first.width, first.height) == (1700, 2200)  # a letter page at 200 dpi
    assert "Case 24-118" in first.text and "Case 24-207" in second.text
    assert first.sha256 == second.sha256  # the file's digest; each page has its own pixels
    assert first.pixel_sha256 != second.pixel_sha256


def test_even_a_one_page_pdf_is_read_as_its_page():
    (only,) = fingerprint_bytes(document_pdf([CASE_118]), "PW/one.pdf")
    assert only.key == "PW/one.pdf#page=1" and only.page == 1


def test_a_page_the_pdf_turns_is_read_upright_as_it_displays():
    turned = rewritten(document_pdf([CASE_118, CASE_207]), rotate={1: 90})
    upright, sideways = fingerprint_bytes(turned, "PW/turned.pdf")
    assert (upright.width, upright.height) == (1700, 2200)
    assert (sideways.width, sideways.height) == (2200, 1700)


def test_the_same_page_in_two_pdfs_has_the_same_pixels():
    one = fingerprint_bytes(document_pdf([CASE_118, CASE_207]), "a.pdf")
    other = fingerprint_bytes(document_pdf([CASE_207]), "b.pdf")
    assert one[1].pixel_sha256 == other[0].pixel_sha256
    assert one[1].sha256 != other[0].sha256


def test_a_pdf_pages_capture_date_is_the_pdfs_creation_date():
    # reportlab's invariant PDFs are dated 2000-01-01; the scanner's date, same length, in place.
    data = document_pdf([CASE_118]).replace(b"D:20000101000000+00'00'", b"D:20240312101502-07'00'")
    (page,) = fingerprint_bytes(data, "PW/scan.pdf")
    capture = page.metadata.capture
    assert capture.source is CaptureDateSource.PDF_CREATION
    assert capture.value == datetime(2024, 3, 12, 10, 15, 2, tzinfo=timezone(timedelta(hours=-7)))


def test_a_pdf_title_naming_a_parcel_gives_its_pages_the_parcel():
    data = rewritten(document_pdf([CASE_118]), title="Site visit, parcel 5012-003-021")
    (page,) = fingerprint_bytes(data, "PW/visit.pdf")
    assert page.metadata.parcels == ("5012-003-021",)


def test_a_password_protected_pdf_is_unreadable_and_says_why():
    (result,) = fingerprint_bytes(rewritten(document_pdf([CASE_118]), password="s3cret"), "PD/locked.pdf")
    assert isinstance(result, Unreadable)
    assert result.reason.startswith("the PDF is protected by a password")


@pytest.mark.parametrize("kept", [0.3, 0.8])
def test_a_truncated_pdf_is_unreadable_and_says_why(kept):
    data = document_pdf([CASE_118, CASE_207])
    (result,) = fingerprint_bytes(data[: int(len(data) * kept)], "PD/cut.pdf")
    assert isinstance(result, Unreadable) and result.key == "PD/cut.pdf"
    assert result.reason == "the PDF is damaged and cannot be opened (Data format error)"


def test_a_pdf_with_javascript_is_read_and_the_script_is_noticed_never_run():
    data = rewritten(document_pdf([CASE_118]), script="app.alert('hello');")
    assert pdf.carries_javascript(data)
    (page,) = fingerprint_bytes(data, "PD/scripted.pdf")
    assert isinstance(page, Fingerprint) and "Case 24-118" in page.text
    assert not pdf.carries_javascript(document_pdf([CASE_118]))


def test_a_giant_page_is_refused_and_a_large_plan_is_read_at_a_lower_resolution():
    giant = document_pdf([CASE_118], pagesize=(14_400, 14_400))  # 200 x 200 inches
    (refused,) = fingerprint_bytes(giant, "PLN/giant.pdf")
    assert isinstance(refused, Unreadable) and refused.key == "PLN/giant.pdf#page=1"
    assert "too large to read safely" in refused.reason and "200 × 200 inches" in refused.reason
    plan = document_pdf([CASE_118], pagesize=(36 * 72, 48 * 72))  # a 36 x 48 in drawing
    (read,) = fingerprint_bytes(plan, "PLN/plan.pdf")
    assert isinstance(read, Fingerprint)
    assert read.width * read.height <= pdf.MAX_RENDER_PIXELS


def test_pages_past_the_limit_are_reported_as_one_unreadable_item(monkeypatch):
    monkeypatch.setattr(imaging, "MAX_PAGES_PER_FILE", 5)
    results = fingerprint_bytes(blank_pages_pdf(10_000), "PD/long.pdf")
    assert [r.key for r in results[:5]] == [f"PD/long.pdf#page={n}" for n in range(1, 6)]
    assert all(isinstance(r, Fingerprint) for r in results[:5])
    (rest,) = results[5:]
    assert isinstance(rest, Unreadable) and rest.key == "PD/long.pdf#page=6"
    assert rest.reason == "pages 6–10000 were not read: PacketDesk reads at most 5 pages of one file"


def test_a_delivered_pdf_page_is_its_rendering_with_the_boxes_burned_in():
    data = document_pdf([CASE_118, CASE_207])
    (_, engine_page) = fingerprint_bytes(data, "PW/inspections.pdf")
    copy, extension = burn_redactions(data, [Box(100, 100, 400, 60)], page=2)
    assert extension == ".png"
    image, fmt = upright_page(copy)
    assert fmt == "PNG" and image.mode == "L"  # black text on white: kept grey
    assert image.size == (engine_page.width, engine_page.height)  # boxes land where the clerk drew them
    assert np.asarray(image)[100:160, 100:500].max() == 0
    assert b"Case 24-207" not in copy and b"/JavaScript" not in copy


@pytest.mark.parametrize("page", [1, 2])
def test_a_pdf_page_opens_upright_for_the_clerk(page):
    image, fmt = upright_page(rewritten(document_pdf([CASE_118, CASE_207]), rotate={1: 270}), page)
    assert fmt == "PDF"
    assert image.size == ((1700, 2200) if page == 1 else (2200, 1700))


def test_a_scanners_ocr_layer_is_read_as_a_reading_not_as_the_pages_own_words():
    scan = rescanned_jpeg(document_pdf([CASE_118]))
    (page,) = fingerprint_bytes(scanned_pdf_with_ocr_layer(scan, CASE_118), "PW/scanner.pdf")
    assert isinstance(page, Fingerprint)
    assert page.text_source == "scan_layer" and "Case 24-118" in page.text
    assert page.text_was_read  # it may have missed words: compared as OCR is, never born digital
    assert not page_words(page).complete


def test_a_born_digital_page_with_a_picture_on_it_keeps_its_own_words():
    import io

    from PIL import Image
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=letter, invariant=1)
    c.drawImage(ImageReader(Image.new("RGB", (120, 60), (20, 60, 140))), 72, 690, 120, 60)  # a logo
    form_page(c, CASE_118)
    c.save()
    (page,) = fingerprint_bytes(buffer.getvalue(), "PW/letter.pdf")
    assert isinstance(page, Fingerprint) and page.text_source == "text_layer" and not page.text_was_read
