"""PDFs uploaded in Chromium: each page is read, the same page in two PDFs is grouped in review,
a clerk draws a redaction on a PDF page, and finds a page by a word search."""

from __future__ import annotations

import pytest

from dedupe.models import DuplicateGroup, ItemImage
from records.models import GatheredItem, RecordsRequest, Redaction
from tests.dedupe.pdfs import document_pdf, rescanned_jpeg
from tests.dedupe_runs.helpers import InProcessQueue, run_dedupe
from tests.e2e.test_multi_file_upload import log_in, watch
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_clerk

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = [
    ["Case 24-118", "Address: 1200 Harbor Blvd", "Inspector: M. Reyes"],
    ["Case 24-207", "Address: 88 Olive St", "Inspector: J. Tran"],
    ["Case 24-311", "Address: 5 Mission Ave", "Inspector: M. Reyes"],
]


def test_a_clerk_uploads_pdfs_and_reviews_their_pages(
    live_server, browser, screenshots, monkeypatch, django_capture_on_commit_callbacks
):
    clerk = make_clerk("clerk")
    DepartmentFactory(code="PLN", name="Planning")
    DepartmentFactory(code="PD", name="Police")
    DepartmentFactory(code="PW", name="Public Works")
    rr = RecordsRequestFactory(status="gathering")
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch(page)
    log_in(page, base, "clerk")
    page.goto(f"{base}/requests/{rr.reference}/")
    for department, name, pages in (
        ("Planning (PLN)", "inspections.pdf", PAGES),
        ("Police (PD)", "case-207.pdf", PAGES[1:2]),
    ):
        page.select_option("select[name=department]", label=department)
        page.set_input_files(
            "input[type=file][name=files]",
            [{"name": name, "mimeType": "application/pdf", "buffer": document_pdf(pages)}],
        )
        page.click("form[data-uploader] button[type=submit]")
        page.locator("[data-upload-summary]").get_by_text(
            "1 stored, 0 already in this request, 0 refused."
        ).wait_for(timeout=60_000)
        page.reload()
    # Public Works scanned its paper copy of page 1, fed into the scanner upside down.
    page.select_option("select[name=department]", label="Public Works (PW)")
    page.set_input_files(
        "input[type=file][name=files]",
        [
            {
                "name": "scan-0042.jpg",
                "mimeType": "image/jpeg",
                "buffer": rescanned_jpeg(document_pdf(PAGES), turn_ccw=180),
            }
        ],
    )
    page.click("form[data-uploader] button[type=submit]")
    page.locator("[data-upload-summary]").get_by_text(
        "1 stored, 0 already in this request, 0 refused."
    ).wait_for(timeout=60_000)
    assert GatheredItem.objects.filter(request=rr, status="stored").count() == 3

    run_dedupe(
        clerk,
        RecordsRequest.objects.get(pk=rr.pk),
        InProcessQueue().install(monkeypatch),
        django_capture_on_commit_callbacks,
    )
    assert ItemImage.objects.filter(item__request=rr).count() == 5  # three pages, one, and the scan
    group = DuplicateGroup.objects.get(memberships__image__key="PD/case-207.pdf#page=1")
    keys = set(group.memberships.values_list("image__key", flat=True))
    assert keys == {"PLN/inspections.pdf#page=2", "PD/case-207.pdf#page=1"}

    page.goto(f"{base}/requests/{rr.reference}/review/")
    card = page.locator(f"#group-{group.pk}")
    text = card.inner_text()
    assert "PLN/inspections.pdf#page=2" in text
    for image in card.locator("img").all():
        assert image.evaluate("i => i.complete && i.naturalWidth > 0"), image.get_attribute("src")
    # The upside-down scan joined page 1, and its card says how it was read.
    rescan = DuplicateGroup.objects.get(memberships__image__key="PW/scan-0042.jpg")
    assert set(rescan.memberships.values_list("image__key", flat=True)) == {
        "PLN/inspections.pdf#page=1",
        "PW/scan-0042.jpg",
    }
    scan_card = page.locator(f"#group-{rescan.pk} .member").filter(has_text="scan-0042.jpg")
    scan_text = scan_card.inner_text()
    assert "Same page, scanned or saved again" in scan_text
    assert "scanned upside down; text reads upright after a half turn" in scan_text
    page.screenshot(path=screenshots / "review-pdf-pages.png", full_page=True)

    # Pages 1 and 3 are in no group, each listed as its page; a box drawn on page 3 is kept for page 3.
    item = GatheredItem.objects.get(request=rr, file_name="inspections.pdf")
    singles = page.locator("#singles").inner_text()
    assert "(page 3)" in singles and "(page 1)" not in singles  # page 1 is grouped with its scan
    page.locator(f"#item-{item.pk}-page-3 [data-redact]").click()
    stage_image = page.locator("#redactor [data-role=image]")
    stage_image.wait_for()
    page.locator("#redactor [data-role=zoom]", has_text="100%").wait_for()
    page.wait_for_timeout(300)
    box = stage_image.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.25, steps=5)
    page.mouse.up()
    page.wait_for_selector("#redactor [data-role=status]:has-text('Saved')")
    page.screenshot(path=screenshots / "redact-pdf-page.png")
    redaction = Redaction.objects.get(item=item)
    assert redaction.page == 3
    assert 0.35 * 1700 < redaction.width < 0.45 * 1700  # in the rendered page's pixels (200 dpi)

    # A word search on the request page finds page 3 by its case number and street.
    page.keyboard.press("Escape")
    page.goto(f"{base}/requests/{rr.reference}/")
    page.fill("#page-search", "24-311 Mission")
    page.click("form.page-search button[type=submit]")
    hits = page.locator("#search .hits li")
    hits.first.wait_for()
    assert hits.count() == 1
    hit = hits.first.inner_text()
    assert "inspections.pdf" in hit and "(page 3)" in hit
    assert page.locator("#search .hits mark").all_inner_texts() == ["24-311", "Mission"]
    assert hits.first.locator("img").evaluate("i => i.complete && i.naturalWidth > 0")
    page.locator("#search").screenshot(path=screenshots / "search-pdf-words.png")
    assert problems == []
    context.close()
