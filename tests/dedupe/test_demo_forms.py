"""The demo office's inspection forms: one template, three different filled-in reports.

Found in the demo packet: the engine grouped all three as `same_image` (pHash 2-8 bits
apart, correlation 0.99) because only the handwritten fields differ. They are three
records and must stay apart; the re-scan of form 1 must still join its original.

At the 256-px preview, 18-px handwriting on an 850x1100 form becomes grey bars, and no
threshold of the preview check separates the forms from re-scans. Document-like pages
therefore keep a sharper view (640 px), checked area by area when both pages have one: the
forms' most different areas score 0.13-0.16 there, re-scans at most 0.063.
"""

import io
from dataclasses import replace

import numpy as np
from PIL import Image, ImageFilter

from dedupe.core.fingerprint import fingerprint_bytes
from dedupe.core.grouping import group_fingerprints
from dedupe.core.settings import MatchSettings
from dedupe.core.verify import verify_pair
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


def test_a_lossless_rescan_of_a_form_joins_it_through_the_sharper_check():
    # Printed and scanned again: a slight turn, blur and noise; stored as PNG, so both pages
    # keep sharp views and the check runs on them.
    form = _form(*FORMS[1], "5123-004-017")
    turned = form.rotate(0.7, Image.Resampling.BILINEAR, fillcolor=(255, 255, 255)).filter(
        ImageFilter.GaussianBlur(0.8)
    )
    noisy = np.asarray(turned, np.float32) + np.random.default_rng(2).normal(0, 6, (1100, 850, 3))
    rescan = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    fingerprints = fingerprint_bytes(_png(form), "PLN/forms/inspection-2.png", "PLN")
    fingerprints += fingerprint_bytes(_png(rescan), "CE/scans/scan0002.png", "CE")
    (group,) = group_fingerprints(fingerprints)
    assert sorted(group.keys) == ["CE/scans/scan0002.png", "PLN/forms/inspection-2.png"]
    check = verify_pair(*fingerprints, MatchSettings())
    assert check.local_ok
    assert check.detail.endswith("0 of 80 in the sharper view")


def test_the_sharper_check_is_what_keeps_the_forms_apart():
    first, second = (
        fingerprint_bytes(_png(_form(*form, "5123-004-017")), f"f{n}.png")[0]
        for n, form in enumerate(FORMS[:2])
    )
    # The pixels alone: as if OCR had read nothing on either page.
    check = verify_pair(replace(first, text=""), replace(second, text=""), MatchSettings())
    assert not check.local_ok
    assert check.detail.startswith("0 of 64 page areas differ in what is written")  # the preview check
    assert not check.detail.endswith("0 of 80 in the sharper view")


def test_the_words_read_on_the_forms_keep_them_apart_too_and_name_the_entries():
    first, second = (
        fingerprint_bytes(_png(_form(*form, "5123-004-017")), f"f{n}.png")[0]
        for n, form in enumerate(FORMS[:2])
    )
    assert first.text_source == second.text_source == "ocr"
    check = verify_pair(first, second, MatchSettings())
    assert not check.local_ok
    assert check.detail.startswith("different text: ")
    assert "03/14/2024" in check.detail and "03/21/2024" in check.detail
