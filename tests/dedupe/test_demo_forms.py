"""The demo office's inspection forms: one template, three different filled-in reports.

Found in the demo packet: the engine grouped all three as `same_image` (pHash 2-8 bits
apart, correlation 0.99) because only the handwritten fields differ. They are three
records and must stay apart; the re-scan of form 1 must still join its original.

Known limitation, measured: the document check compares page areas on the 256-px
preview, where 18-px handwriting on an 850x1100 form becomes grey bars. The most
different area of forms 1 and 2 scores (1 - correlation 0.14, residual 12.1) while
re-scans of the test forms reach (0.10, 12.6), so no threshold separates them; checks on
a sharper view (up to 1,024 px) made re-scans look even more different (0.8 degree turns
exceed the shift tolerance). Until a better document check lands, a clerk splits such a
group on the review page and the split is remembered on every re-run.
"""

import io

import pytest
from PIL import Image

from dedupe.fingerprint import fingerprint_bytes
from dedupe.grouping import group_fingerprints
from records.demo import _form

FORMS = [
    ("J. Ortiz", "Retaining wall cracked\nalong east property line.", "03/14/2024"),
    ("M. Chen", "No violation observed.\nSite clean.", "03/21/2024"),
    ("J. Ortiz", "Unpermitted shed at rear\nof lot; notice issued.", "04/02/2024"),
]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.xfail(strict=True, reason="small handwriting on page-size forms: see the module docstring")
def test_three_filled_in_forms_on_one_template_stay_apart_and_a_rescan_joins_its_original():
    pages = [_form(inspector, finding, date, "5123-004-017") for inspector, finding, date in FORMS]
    rescan = io.BytesIO()
    pages[0].convert("L").save(rescan, "JPEG", quality=75)
    fingerprints = []
    for n, page in enumerate(pages, start=1):
        fingerprints += fingerprint_bytes(_png(page), f"PLN/forms/inspection-{n}.png", "PLN")
    fingerprints += fingerprint_bytes(rescan.getvalue(), "CE/scans/scan0001.jpg", "CE")
    groups = group_fingerprints(fingerprints)
    grouped = sorted(tuple(sorted(g.keys)) for g in groups)
    assert grouped == [("CE/scans/scan0001.jpg", "PLN/forms/inspection-1.png")]
