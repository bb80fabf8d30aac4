"""Two document pages are one record when their words agree: forms on one template with other
entries stay apart, and the reason names the words; a rescan read by OCR joins its original."""

from __future__ import annotations

from dataclasses import replace

from dedupe.core.fingerprint import fingerprint_bytes
from dedupe.core.grouping import group_fingerprints
from dedupe.core.page_text import PageWords, compare_text
from dedupe.core.relations import evidence_against
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Relation
from dedupe.core.verify import verify_pair
from tests.dedupe.pdfs import document_pdf, rescanned_jpeg

FORM = ["Inspector: M. Reyes", "Result: no violation found", "Follow-up: none required", "Signed: on file"]
CASE_118 = ["Case 24-118", "Address: 1200 Harbor Blvd", *FORM]
CASE_207 = ["Case 24-207", "Address: 1200 Harbor Blvd", *FORM]


def rescan(data: bytes, seed: int = 4, turn_ccw: int = 0) -> bytes:
    return rescanned_jpeg(data, seed=seed, turn_ccw=turn_ccw)


def test_an_entry_on_one_page_and_not_the_other_tells_them_apart():
    comparison = compare_text("\n".join(CASE_118), "\n".join(CASE_207))
    assert comparison.compared and comparison.entries_differ
    assert comparison.reason() == "different text: 'Case 24-118' against 'Case 24-207'"


def test_ocr_slips_are_forgiven_but_not_in_a_number():
    read_back = "\n".join(CASE_118).replace("Inspector", "lnspector").replace("24-118", "24-1l8")
    assert not compare_text("\n".join(CASE_118), read_back).entries_differ
    assert (
        compare_text("\n".join(CASE_118), read_back).agreement >= MatchSettings().document_text_min_agreement
    )


def test_separators_ocr_misreads_do_not_make_another_date():
    read_back = "\n".join(CASE_118).replace("Case 24-118", "Case 24.118")
    assert not compare_text("\n".join(CASE_118), read_back).entries_differ


def test_a_character_more_or_only_part_of_an_entry_read_is_a_slip_not_another_value():
    page = "\n".join([*CASE_118, "Time 17:56", "Phone 555-9232"])
    read_back = page.replace("Time 17:56", "Time 56").replace("555-9232", "555-92321")  # a box edge as "1"
    assert not compare_text(page, read_back).entries_differ


def test_one_digit_more_in_a_short_number_is_still_another_number():
    page = "\n".join([*FORM, "Unit 12"])
    assert compare_text(page, page.replace("Unit 12", "Unit 712")).entries_differ
    assert compare_text(page, page.replace("Unit 12", "Unit 13")).entries_differ


def test_an_entry_ocr_missed_is_unconfirmed_and_left_to_the_pixels():
    layer = PageWords("\n".join(CASE_118), complete=True)
    scan = PageWords("\n".join(FORM) + "\nAddress: 1200 Harbor Blvd")  # OCR missed the case line
    comparison = compare_text(layer, scan)
    assert not comparison.entries_differ
    assert comparison.unconfirmed == ("Case 24-118",)


def test_between_two_text_layers_an_entry_one_lacks_is_a_difference():
    shorter = "\n".join(FORM) + "\nAddress: 1200 Harbor Blvd"
    comparison = compare_text(
        PageWords("\n".join(CASE_118), complete=True), PageWords(shorter, complete=True)
    )
    assert comparison.entries_differ and comparison.only_in_a == ("Case 24-118",)


def test_an_entry_ocr_guessed_within_a_character_is_not_contradicted():
    scan = PageWords("\n".join(CASE_118).replace("Case 24-118\n", ""), guesses="24-1181")
    comparison = compare_text(PageWords("\n".join(CASE_118), complete=True), scan)
    assert not comparison.entries_differ and comparison.unconfirmed == ("Case 24-118",)


def test_a_guess_of_another_value_of_the_same_shape_tells_the_pages_apart():
    scan = PageWords("\n".join(CASE_118).replace("Case 24-118\n", ""), guesses="Case 24-207")
    comparison = compare_text(PageWords("\n".join(CASE_118), complete=True), scan)
    assert comparison.entries_differ
    assert comparison.reason() == "different text: 'Case 24-118' against '24-207 (read uncertainly)'"


def test_an_entry_ocr_doubted_that_reads_as_the_others_is_unconfirmed_not_another_value():
    # A rescan read 23-676 as "25-076", weighing a 3 for its second digit and a 6 for its fourth.
    rescan = PageWords("\n".join(CASE_118).replace("24-118", "25-076"), alternatives="2[53]-[06]76")
    original = PageWords("\n".join(CASE_118).replace("24-118", "23-676"), complete=True)
    comparison = compare_text(original, rescan)
    assert not comparison.entries_differ
    assert set(comparison.unconfirmed) == {"Case 23-676", "Case 25-076"}  # the pixels decide


def test_a_doubt_that_does_not_reach_the_others_value_still_tells_the_pages_apart():
    rescan = PageWords("\n".join(CASE_118).replace("24-118", "24-117"), alternatives="24-11[71]")
    other_case = PageWords("\n".join(CASE_118).replace("24-118", "24-119"), complete=True)
    assert compare_text(other_case, rescan).entries_differ  # 7 or 1, never 9
    case_111 = PageWords("\n".join(CASE_118).replace("24-118", "24-111"), complete=True)
    assert not compare_text(case_111, rescan).entries_differ


def test_one_sure_digit_apart_is_another_case_whatever_else_was_doubted():
    # Both readings sure of their case numbers; a doubt elsewhere on the page changes nothing.
    first = PageWords("\n".join(CASE_118), alternatives="1[27]00")
    second = PageWords("\n".join(CASE_118).replace("24-118", "24-117"))
    comparison = compare_text(first, second)
    assert comparison.entries_differ
    assert comparison.reason() == "different text: 'Case 24-118' against 'Case 24-117'"


def test_a_character_ocr_weighed_as_a_separator_may_be_left_out():
    # "(304)" read as "3104": its second character also weighed as a bracket.
    rescan = PageWords("\n".join(CASE_118).replace("24-118", "3104"), alternatives="3[1(]04")
    original = PageWords("\n".join(CASE_118).replace("24-118", "(304)"), complete=True)
    assert not compare_text(original, rescan).entries_differ


def test_a_guess_ocr_doubted_into_the_others_entry_does_not_contradict_it():
    rescan = PageWords(
        "\n".join(CASE_118).replace("Case 24-118\n", ""), guesses="25-076", alternatives="2[53]-[06]76"
    )
    original = PageWords("\n".join(CASE_118).replace("24-118", "23-676"), complete=True)
    comparison = compare_text(original, rescan)
    assert not comparison.entries_differ
    assert comparison.unconfirmed == ("Case 23-676", "25-076 (read uncertainly)")


def test_pages_with_few_words_are_left_to_the_pixels():
    assert not compare_text("- 3 -", "- 4 -").compared


def test_two_forms_differing_only_in_the_case_number_stay_apart_and_say_why():
    first = fingerprint_bytes(document_pdf([CASE_118]), "PLN/118.pdf")[0]
    second = fingerprint_bytes(document_pdf([CASE_207]), "PLN/207.pdf")[0]
    check = verify_pair(first, second, MatchSettings())
    assert not check.local_ok
    assert check.detail.startswith("different text: 'Case 24-118' against 'Case 24-207'")
    assert group_fingerprints([first, second]) == [] or all(
        len(g.keys) == 1 for g in group_fingerprints([first, second])
    )
    merged = evidence_against(first, second, MatchSettings(), clerk_reason="same case file")
    assert merged is not None and merged.relation is Relation.CLERK_MERGED
    assert "the pages do not match: different text: 'Case 24-118' against 'Case 24-207'" in merged.explanation


def test_a_rescan_read_by_ocr_joins_its_born_digital_original_as_the_same_page():
    original = document_pdf([CASE_118])
    prints = fingerprint_bytes(original, "PLN/118.pdf", "PLN") + fingerprint_bytes(
        rescan(original), "CE/scan.jpg", "CE"
    )
    prints += fingerprint_bytes(document_pdf([CASE_207]), "PLN/207.pdf", "PLN")
    groups = group_fingerprints(prints)
    assert sorted(tuple(sorted(g.keys)) for g in groups) == [("CE/scan.jpg", "PLN/118.pdf#page=1")]
    (group,) = groups
    assert group.authoritative == "PLN/118.pdf#page=1"  # the born-digital page, not its scan
    assert group.reason.startswith("the born-digital PDF page, against scans or copies of it: JPEG")
    (member,) = group.members
    assert member.key == "CE/scan.jpg" and member.explanation.startswith("same page, scanned again")


def test_an_upside_down_rescan_joins_and_the_evidence_says_so():
    original = document_pdf([CASE_118])
    prints = fingerprint_bytes(original, "PLN/118.pdf", "PLN")
    prints += fingerprint_bytes(rescan(original, seed=5, turn_ccw=180), "CE/scan-upside-down.jpg", "CE")
    (group,) = group_fingerprints(prints)
    turned = next(m for m in group.members if m.key == "CE/scan-upside-down.jpg")
    assert turned.explanation.startswith(
        "same page, scanned upside down; text reads upright after a half turn"
    )


def test_a_rescan_whose_case_number_ocr_doubted_joins_and_the_evidence_names_the_number():
    original = document_pdf([CASE_118])
    (page,) = fingerprint_bytes(original, "PLN/118.pdf", "PLN")
    (scan,) = fingerprint_bytes(rescan(original), "CE/scan.jpg", "CE")
    # As Tesseract reads a worn scan: "24-118" taken for "24-113", the 3 also weighed as an 8.
    misread = replace(scan, text=scan.text.replace("24-118", "24-113"), ocr_alternatives="24-11[38]")
    evidence = evidence_against(page, misread, MatchSettings())
    assert evidence is not None and evidence.relation is Relation.SAME_IMAGE
    assert evidence.explanation.startswith(
        "same page, scanned again, converted to JPEG (OCR could not confirm 'Case 24-118' and "
        "'Case 24-113'; the page's marks agree there)"
    )
    # Without the doubt the two readings are two case numbers.
    sure = replace(misread, ocr_alternatives="")
    assert not verify_pair(page, sure, MatchSettings()).local_ok
