import io
import re

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
