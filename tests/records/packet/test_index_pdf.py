import io
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from records.packet.data import Fate, index_order
from records.packet.index_pdf import printable, render_index_pdf, wrap_line
from tests.records.packet.builders import demo_packet


def squash(text: str) -> str:
    """Without white space (rows wrap long paths) or right-to-left letters (extractors reorder them)."""
    return re.sub(r"[\s\u0590-\u08ff]+", "", text)


@pytest.fixture(scope="module")
def rendered():
    _, packet = demo_packet()
    pdf = render_index_pdf(packet)
    reader = PdfReader(io.BytesIO(pdf))
    pages = [p.extract_text() for p in reader.pages]
    return packet, pdf, reader, pages


def test_every_gathered_file_appears_with_its_bates_number_or_fate(rendered):
    packet, _, _, pages = rendered
    text = squash("\n".join(pages[3:]))  # the item pages, after cover, explanation and log
    for n, item in enumerate(index_order(packet.items), start=1):
        assert squash(printable(item.path)) in text, item.path
        assert f"Item{n}" in text
        if item.bates:
            assert item.bates in text
        expected = {
            Fate.DUPLICATE: "duplicateof",
            Fate.WITHHELD: "withheld:" if not item.is_redacted else "deliveredwith2redactions",
            Fate.UNREADABLE: "unreadable:",
            Fate.REFUSED: "unreadable(refusedatintake):",
        }.get(item.status, "delivered")
        assert expected in text


def test_duplicate_rows_name_the_bates_number_they_duplicate(rendered):
    _, _, _, pages = rendered
    text = squash("\n".join(pages))
    assert "duplicateofLACC-000001:exactcopy" in text
    assert "duplicateofitem1(notdelivered)" in text


def test_reportlab_markup_in_a_file_name_prints_as_text(rendered):
    _, _, _, pages = rendered
    assert "<b>x</b><font size=80>big</font>.jpg" in "\n".join(pages)


def test_direction_overrides_and_control_characters_print_as_code_points(rendered):
    _, _, _, pages = rendered
    text = "\n".join(pages)
    assert "[U+202E]gpj.exe[U+0007]bell.jpg" in text
    assert "\u202e" not in text and "\x07" not in text


def test_every_page_says_page_x_of_y_and_carries_the_request(rendered):
    _, _, reader, pages = rendered
    total = len(reader.pages)
    for n, page in enumerate(pages, start=1):
        assert f"Page {n} of {total}" in page
        assert "CPRA-2025-0142" in page


def test_cover_gives_dates_counts_clerk_and_exemptions(rendered):
    _, _, _, pages = rendered
    cover = squash(pages[0])
    for fact in (
        "2025-03-03",
        "2025-03-13",
        "2025-03-14",
        "Sam Whitfield",
        "Maria Esposito",
        "Files gathered 13",
        "Exact duplicates 2",
        "Near duplicates 2",
        "Withheld in full 1",
        "Unreadable 2",
        "Gov. Code § 7923.600",
        "Gov. Code § 7927.700",
        "LACC-000001 to LACC-000006",
    ):
        assert squash(fact) in cover, fact


def test_explanation_page_lists_the_rules_and_thresholds(rendered):
    _, _, _, pages = rendered
    assert "How duplicates were found" in pages[1]
    assert "smallest SHA-256" in pages[1] and "at most 11 of 64 bits" in pages[1]


def test_each_group_has_a_bookmark_and_shows_its_authority_and_conflicts(rendered):
    packet, _, reader, pages = rendered
    titles = []

    def walk(outline):
        for entry in outline:
            if isinstance(entry, list):
                walk(entry)
            else:
                titles.append(entry.title)

    walk(reader.outline)
    numbers = packet.group_numbers()
    for group in packet.groups:
        assert any(t.startswith(f"Group {numbers[group.id]}:") for t in titles), titles
    text = squash("\n".join(pages))
    assert (
        squash(
            "Public Works is the department of record for this request. (rule: held by the department of record)"
        )
        in text
    )
    assert "CONFLICT:Capturedatesdiffer" in text


def test_bookmarks_point_at_the_page_where_their_section_starts(rendered):
    _, _, reader, pages = rendered
    entries = [e for e in reader.outline if not isinstance(e, list)]
    entries += [e for sub in reader.outline if isinstance(sub, list) for e in sub]
    assert len(entries) >= 8
    assert reader.get_destination_page_number(entries[0]) == 0  # the cover
    for entry in entries[1:]:
        page = squash(pages[reader.get_destination_page_number(entry)])
        if entry.title.startswith("Group "):
            expected = "Group" + entry.title.split(":")[0].removeprefix("Group ")
        else:
            expected = entry.title.split(":")[0].split(" (")[0]
        assert squash(expected) in page, entry.title


def test_withheld_items_show_no_thumbnail():
    _, packet = demo_packet()
    shown = render_index_pdf(packet)
    # Same packet without thumbnails on the withheld and redacted items: the PDF must not change.
    from dataclasses import replace

    stripped = replace(
        packet,
        items=tuple(
            replace(i, thumbnail_jpeg=None)
            if i.path.startswith(("PD/field/victim", "PD/field/plates"))
            else i
            for i in packet.items
        ),
    )
    assert render_index_pdf(stripped).count(b"/Subtype /Image") == shown.count(b"/Subtype /Image")


def test_same_packet_gives_byte_identical_pdf(rendered):
    _, pdf, _, _ = rendered
    assert render_index_pdf(demo_packet()[1]) == pdf


def test_a_broken_thumbnail_becomes_a_placeholder_not_an_error():
    from dataclasses import replace

    _, packet = demo_packet()
    broken = replace(packet, items=tuple(replace(i, thumbnail_jpeg=b"not a jpeg") for i in packet.items))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_index_pdf(broken))).pages)
    assert "preview" in text


def test_an_absurdly_long_path_is_cut_not_overflowing():
    from dataclasses import replace

    _, packet = demo_packet()
    long_path = "PW/" + "a" * 3000 + ".jpg"
    items = (replace(packet.items[0], path=long_path), *packet.items[1:])
    pdf = render_index_pdf(replace(packet, items=items))
    assert PdfReader(io.BytesIO(pdf)).pages


def test_wrap_line_cuts_long_words_and_marks_truncation():
    from records.packet.index_pdf import SANS, register_fonts

    register_fonts()
    lines = wrap_line("x" * 400, SANS, 7, 100, 3)
    assert len(lines) == 3 and lines[-1].endswith("…")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler not installed")
def test_poppler_reads_the_same_bates_numbers(rendered, tmp_path):
    packet, pdf, _, _ = rendered
    (tmp_path / "index.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "index.pdf"), "-"], capture_output=True, text=True
    ).stdout
    for item in packet.items:
        if item.bates:
            assert item.bates in text


def test_every_hash_search_radius_is_explained_in_words():
    from dedupe.core.settings import MatchSettings
    from records.packet.data import MatchExplanation

    s = MatchSettings()
    lines = [what for what, _ in MatchExplanation.from_settings(s.as_dict()).thresholds]
    assert f"Cropped copies: a window of the picture within {s.crop_window_radius} of 64 bits" in lines
    assert f"Pages turned a quarter or half: the turned hash within {s.rotation_radius} of 64 bits" in lines


def test_both_document_checks_are_explained_in_words():
    from dedupe.core.settings import MatchSettings
    from records.packet.data import MatchExplanation

    s = MatchSettings()
    lines = [what for what, _ in MatchExplanation.from_settings(s.as_dict()).thresholds]
    assert any(str(s.document_ink_difference_limit) in line and "256 px" in line for line in lines)
    assert any(
        str(s.document_view_difference_limit) in line and "forms on one template" in line for line in lines
    )


RULE_NAMES = ("department_of_record", "most_pixels", "smallest_sha256", "clerk_override", "earliest_capture")


def test_groups_say_why_their_copy_was_chosen_in_the_words_staff_read_not_rule_names(tmp_path):
    builder, _ = demo_packet()
    builder.item("PW/override/a.jpg", "PW")
    builder.item("PW/override/b.jpg", "PW")
    builder.group(
        "G-0004",
        [("PW/override/a.jpg", ""), ("PW/override/b.jpg", "same_pixels")],
        rule="clerk_override",
        reason="chosen by clerk: the copy the inspector signed",
    )
    (tmp_path / "index.pdf").write_bytes(render_index_pdf(builder.build()))
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "index.pdf"), "-"], capture_output=True, text=True
    ).stdout
    flat = re.sub(r"\s+", " ", text)
    for name in RULE_NAMES:
        assert name not in flat, name
    assert "4032 x 3024 pixels against 1024 x 768. (rule: the most complete original, by pixel count)" in flat
    # A reason that already says its rule is not said twice.
    assert re.search(r"authoritative copy \S+: chosen by clerk: the copy the inspector signed", flat)
    assert "chosen by a clerk: chosen by" not in flat


def test_groups_are_numbered_one_two_three_in_index_order_on_headers_and_rows(rendered):
    packet, _, _, pages = rendered
    text = squash("\n".join(pages[3:]))
    numbers = packet.group_numbers()
    assert sorted(numbers.values()) == list(range(1, len(packet.groups) + 1))
    order = [i.group_id for i in index_order(packet.items) if i.group_id]
    assert [numbers[g] for g in dict.fromkeys(order)] == [1, 2, 3]  # numbered as the index lists them
    for group in packet.groups:
        assert group.id not in text  # the engine's id stays in the manifest
    for n, item in enumerate(index_order(packet.items), start=1):
        if item.group_id:
            assert f"Item{n}·Group{numbers[item.group_id]}" in text


def test_the_withholding_log_gives_each_withholdings_description():
    from dataclasses import replace

    builder, _ = demo_packet()
    builder.items = [
        replace(i, description="Photo of a witness at the scene, face visible")
        if i.path == "PD/field/victim_face.jpg"
        else i
        for i in builder.items
    ]
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(render_index_pdf(builder.build()))).pages]
    log = squash(pages[2])
    assert "Withholdingandredactionlog" in log
    assert squash("Photo of a witness at the scene, face visible") in log
    assert "victim" not in log  # a withheld file's name is not its description


def _pdftotext(pdf: bytes, tmp_path) -> str:
    (tmp_path / "index.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "index.pdf"), "-"], capture_output=True, text=True
    ).stdout
    return re.sub(r"\s+", " ", text)


def test_an_unreadable_file_is_not_delivered_under_the_default_rule_and_the_index_says_so(tmp_path):
    from records.packet.data import UnreadableFiles

    _, packet = demo_packet()
    assert packet.unreadable_files == UnreadableFiles.NOT_DELIVERED
    broken = next(i for i in packet.items if i.path == "SAN/cleanup/broken.jpg")
    assert broken.bates is None
    text = _pdftotext(render_index_pdf(packet), tmp_path)
    assert "Files that could not be opened Rule not_delivered: A file that could not be opened" in text
    assert "Could not be opened: JPEG data ends early" in text
    assert 'You receive: Not delivered (rule "not_delivered"): it could not be reviewed for exempt' in text
    assert 'not delivered (rule "not_delivered")' in text  # the cover's count


def test_an_unreadable_file_goes_out_as_received_under_the_original_bytes_rule(tmp_path):
    from records.packet.data import UnreadableFiles

    _, packet = demo_packet(unreadable_files=UnreadableFiles.ORIGINAL_BYTES)
    broken = next(i for i in packet.items if i.path == "SAN/cleanup/broken.jpg")
    refused = next(i for i in packet.items if i.path == "SAN/cleanup/notes.docx")
    assert broken.bates and refused.bates and packet.counts.delivered == 8
    text = _pdftotext(render_index_pdf(packet), tmp_path)
    assert "Rule original_bytes: A file that could not be opened is delivered as it was received" in text
    assert broken.bates in text and "unreadable: delivered as received" in text
    assert 'You receive: Delivered as received (rule "original_bytes"): bytes unchanged, not reviewed' in text
    assert '2 delivered as received (rule "original_bytes")' in text


def test_the_cover_says_when_the_index_was_prepared_not_that_it_is_unreleased():
    # The web app builds the index before the clerk releases it and it goes out as it is:
    # "not yet released" would be untrue in every copy a requester reads.
    import dataclasses

    _, packet = demo_packet()
    unreleased = dataclasses.replace(packet, request=dataclasses.replace(packet.request, released=None))
    cover = squash(PdfReader(io.BytesIO(render_index_pdf(unreleased))).pages[0].extract_text())
    assert "notyetreleased" not in cover
    assert f"Prepared{packet.generated_at:%Y-%m-%d}" in cover
