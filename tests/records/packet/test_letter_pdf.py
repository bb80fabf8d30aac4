import io
import re
import subprocess
from dataclasses import replace

import pytest
from pypdf import PdfReader

from records.packet.letter_pdf import LetterTemplateError, load_letter_templates, render_letter_pdf


def letter(packet, templates=None) -> str:
    pdf = render_letter_pdf(packet, templates)
    return re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def test_letter_states_the_determination_bates_range_media_and_remainder_date(demo):
    _, packet = demo
    text = letter(packet)
    assert "7922.535(a)" in text
    assert "LACC-000001 through LACC-000006" in text
    assert "ZIP archive" in text
    assert "2025-03-27" in text  # the remainder will follow by then


def test_letter_names_each_withholding_its_exemption_and_who_is_responsible(demo):
    _, packet = demo
    text = letter(packet)
    assert "7922.540" in text
    assert (
        "Item 1" in text and "Gov. Code § 7923.600" in text and "Lee Park, Police Records Supervisor" in text
    )
    assert "LACC-000005" in text and "redacted (2)" in text and "Dana Ortiz, Deputy City Attorney" in text


def test_letter_without_withholdings_says_so(builder):
    builder.item("PW/a.jpg")
    text = letter(builder.build())
    assert "No record responsive to your request has been withheld or redacted." in text


def test_a_manager_can_change_the_wording(demo):
    _, packet = demo
    templates = load_letter_templates()
    templates["closing"] = "Questions? Call the <b>Clerk</b> about $reference.\n\n$clerk_name"
    text = letter(packet, templates)
    assert "Questions? Call the <b>Clerk</b> about CPRA-2025-0142." in text


def test_an_unknown_placeholder_is_reported_with_the_template_name(demo):
    _, packet = demo
    templates = load_letter_templates()
    templates["closing"] = "Regards, $clerk_nmae"
    with pytest.raises(LetterTemplateError, match=r"closing\.txt uses \$clerk_nmae"):
        render_letter_pdf(packet, templates)


def test_same_packet_gives_identical_letter(demo):
    from tests.records.packet.builders import demo_packet

    assert render_letter_pdf(demo[1]) == render_letter_pdf(demo_packet()[1])


def test_each_withholdings_description_is_in_the_letter(demo):
    builder, _ = demo
    builder.items = [
        replace(i, description="Photo of a witness at the scene, face visible")
        if i.path == "PD/field/victim_face.jpg"
        else i
        for i in builder.items
    ]
    text = letter(builder.build())
    assert "Item 1, Photo of a witness at the scene, face visible (Police, captured" in text
    assert "victim" not in text


def test_the_letter_names_no_engine_rule(demo):
    _, packet = demo
    text = letter(packet)
    for name in ("department_of_record", "most_pixels", "smallest_sha256", "clerk_override"):
        assert name not in text


def _pages(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    count = len(PdfReader(io.BytesIO(pdf)).pages)
    return [
        re.sub(
            r"\s+",
            " ",
            subprocess.run(
                ["pdftotext", "-f", str(n), "-l", str(n), str(path), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout,
        )
        for n in range(1, count + 1)
    ]


def test_the_signature_never_stands_alone_on_a_page(builder, tmp_path):
    """Request descriptions of growing length push the closing across the page break, line by line."""
    builder.item("PW/a.jpg")
    last_paragraph = "No record responsive to your request has been withheld or redacted."
    signature_pages = set()
    for lines in range(0, 40):
        description = "Photos of the encampment at 5th and San Pedro. " * (2 * lines)
        packet = replace(builder.build(), request=replace(builder.request, description=description))
        pages = _pages(render_letter_pdf(packet), tmp_path)
        (on,) = [n for n, page in enumerate(pages) if "Senior Clerk Analyst" in page]
        signature_pages.add((len(pages), on))
        assert "Sincerely," in pages[on], lines
        assert "If you have questions about this response" in pages[on], lines
        assert last_paragraph in pages[on], lines
    assert {(1, 0), (2, 1)} <= signature_pages  # the closing did cross the break


def test_the_letter_accounts_for_files_that_could_not_be_opened_and_what_the_requester_gets():
    # 15 gathered = delivered + copies + withheld + unreadable: the letter must not leave the
    # last ones out (it named the first three only).
    from records.packet.data import UnreadableFiles
    from tests.records.packet.builders import demo_packet

    for rule, said in (
        (UnreadableFiles.NOT_DELIVERED, "could not be reviewed for exempt content, so it is not released"),
        (UnreadableFiles.ORIGINAL_BYTES, "is delivered as it was received"),
    ):
        _, packet = demo_packet(unreadable_files=rule)
        text = letter(packet)
        assert f"{packet.counts.unreadable} of the files gathered could not be opened as images" in text
        assert said in text


def test_a_letter_with_no_unreadable_file_says_nothing_about_them(builder):
    builder.item("PW/a.jpg")
    assert "could not be opened" not in letter(builder.build())
