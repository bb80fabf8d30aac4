"""A PDF goes out page by page, as a multi-page TIFF does: one Bates number, one image each.

Each delivered page is its rendering (grey PNG for black-and-white pages, no metadata, no
script), with its own SHA-256 in the manifest beside the gathered file's. The same page in
another department's PDF is a duplicate, and a box drawn on a page is burned into it.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from records.models import Exemption, GatheredItem
from records.packet.redact import Box
from records.services.dedupe_runs import start_run
from records.services.intake import gather_files
from records.services.redaction import add_redaction
from tests.dedupe.pdfs import document_pdf, rewritten
from tests.dedupe_runs.helpers import InProcessQueue
from tests.dedupe_runs.test_multipage_delivery import _build, _delivered, _entry
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_clerk

pytestmark = pytest.mark.django_db

PRIVACY = "Gov. Code § 7927.700"
PAGES = [
    ["Case 24-118", "Address: 1200 Harbor Blvd", "Inspector: M. Reyes"],
    ["Case 24-207", "Address: 88 Olive St", "Inspector: J. Tran"],
    ["Case 24-311", "Address: 5 Mission Ave", "Inspector: M. Reyes"],
]


@pytest.fixture
def gathered(monkeypatch, django_capture_on_commit_callbacks):
    queue = InProcessQueue().install(monkeypatch)
    clerk = make_clerk()
    planning = DepartmentFactory(code="PLN", name="Planning")
    police = DepartmentFactory(code="PD", name="Police")
    rr = RecordsRequestFactory(office_of_record=planning, status="gathering")
    inspections = rewritten(document_pdf(PAGES), script="app.alert('opened');")
    gather_files(
        actor=clerk,
        records_request=rr,
        department=planning,
        files=[("inspections.pdf", io.BytesIO(inspections))],
    )
    # Police kept page 2 alone, printed to its own PDF: the same page, so a duplicate.
    gather_files(
        actor=clerk,
        records_request=rr,
        department=police,
        files=[("case-207.pdf", io.BytesIO(document_pdf(PAGES[1:2])))],
    )
    with django_capture_on_commit_callbacks(execute=True):
        start_run(actor=clerk, records_request=rr)
    queue.drain()
    rr.refresh_from_db()
    return clerk, rr


def _page(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG" and im.mode == "L" and not im.info.get("exif")
        return np.asarray(im, dtype=int)


def test_each_page_of_a_pdf_goes_out_alone_as_its_rendering(gathered, django_capture_on_commit_callbacks):
    clerk, rr = gathered
    files = _build(clerk, rr, django_capture_on_commit_callbacks)
    original = GatheredItem.objects.get(original_path="inspections.pdf")
    for number in (1, 3):
        path = f"PLN/inspections.pdf#page={number}"
        name, data = _delivered(files, path)
        assert name.endswith(".png")
        assert _page(data).shape == (2200, 1700)  # the letter page as the engine read it, 200 dpi
        entry = _entry(files, path)
        assert entry["sha256"] == original.sha256  # the gathered file, as the index cites it
        assert entry["delivered_sha256"] not in (None, original.sha256)  # the page's own digest
        assert b"app.alert" not in data
    # Page 2 is the police's case-207.pdf page: delivered once, from one of the two.
    delivered = [
        p for p in ("PLN/inspections.pdf#page=2", "PD/case-207.pdf#page=1") if _entry(files, p)["bates"]
    ]
    assert len(delivered) == 1
    assert len([n for n in files if n.startswith("data/files/")]) == 3


def test_a_box_on_a_pdf_page_is_burned_into_its_rendering(gathered, django_capture_on_commit_callbacks):
    clerk, rr = gathered
    item = GatheredItem.objects.get(original_path="inspections.pdf")
    box = Box(150, 250, 600, 70)
    add_redaction(
        actor=clerk, item=item, box=box, exemption=Exemption.objects.get(code_section=PRIVACY), page=3
    )
    files = _build(clerk, rr, django_capture_on_commit_callbacks)
    _, third = _delivered(files, "PLN/inspections.pdf#page=3")
    burned = _page(third)
    assert (burned[box.y : box.y + box.height, box.x : box.x + box.width] == 0).all()
    _, first = _delivered(files, "PLN/inspections.pdf#page=1")
    assert _page(first)[box.y : box.y + box.height, box.x : box.x + box.width].max() == 255  # untouched
