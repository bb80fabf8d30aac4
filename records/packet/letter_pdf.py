"""letter.pdf: the determination letter a requester reads first, worded from editable templates.

The wording lives in `letter_templates/*.txt` (`string.Template`, `$name` placeholders) so a
manager can change it without touching code. A paragraph is a block of lines separated by a
blank line; a line inside a paragraph is a line break; a line starting with "# " is a
heading. Template text and values are both printed literally (escaped). The closing block
(the last template) is kept on one page with the paragraph before it, so the signature never
stands alone at the top of a page.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, KeepTogether, PageTemplate, Paragraph, Spacer

from records.errors import InvalidInput
from records.packet.data import Packet
from records.packet.index_pdf import INK, MUTED, PAGE, SANS, SANS_BOLD, PagedCanvas, printable, register_fonts
from records.packet.manifests import withheld_description
from records.wording import unreadable_rule_words

TEMPLATE_DIR = Path(__file__).with_name("letter_templates")
TEMPLATE_NAMES = (
    "determination",
    "remainder",
    "withholding_intro",
    "withholding_entry",
    "no_withholding",
    "unreadable",
    "closing",
)


class LetterTemplateError(InvalidInput):
    code = "letter_template"


def load_letter_templates(folder: Path = TEMPLATE_DIR) -> dict[str, str]:
    """The six wording templates, by name, from `folder`."""
    missing = [n for n in TEMPLATE_NAMES if not (folder / f"{n}.txt").is_file()]
    if missing:
        raise LetterTemplateError(f"Letter templates missing from {folder}: {', '.join(missing)}.")
    return {n: (folder / f"{n}.txt").read_text(encoding="utf-8") for n in TEMPLATE_NAMES}


def _fill(templates: Mapping[str, str], name: str, values: Mapping[str, object]) -> str:
    try:
        return Template(templates[name]).substitute({k: printable(v) for k, v in values.items()})
    except KeyError as exc:
        raise LetterTemplateError(
            f"Letter template {name}.txt uses ${exc.args[0]}, which is not a known placeholder.",
            details={"template": name, "placeholder": exc.args[0], "known": sorted(values)},
        )
    except ValueError as exc:  # a lone "$" or "${" with no name
        raise LetterTemplateError(f"Letter template {name}.txt has a misplaced '$': {exc}.")


def letter_values(packet: Packet) -> dict[str, object]:
    """Every placeholder the letter templates may use."""
    req, counts = packet.request, packet.counts
    bates = packet.bates_range()
    return {
        "city": req.city,
        "office": req.office,
        "reference": req.reference,
        "requester_name": req.requester_name,
        "requester_organisation": req.requester_organisation,
        "requester_email": req.requester_email,
        "description": req.description or "(no description recorded)",
        "received": req.received.isoformat(),
        "due": (req.extended_due or req.due).isoformat(),
        "determination_date": (req.released or packet.generated_at.date()).isoformat(),
        "remainder_date": req.remainder_expected.isoformat() if req.remainder_expected else "",
        "gathered_count": counts.gathered,
        "delivered_count": counts.delivered,
        "duplicate_count": counts.exact_duplicates + counts.near_duplicates,
        "withheld_count": counts.withheld,
        "redacted_count": counts.redacted,
        "unreadable_count": counts.unreadable,
        "unreadable_rule": unreadable_rule_words(packet.unreadable_files),
        "bates_range": f"{bates[0]} through {bates[1]}" if bates else "(no files delivered)",
        "bates_first": bates[0] if bates else "",
        "bates_last": bates[1] if bates else "",
        "media": packet.media,
        "clerk_name": req.clerk_name,
        "clerk_title": req.clerk_title,
    }


def letter_text(packet: Packet, templates: Mapping[str, str] | None = None) -> list[str]:
    """The letter as filled template blocks, in order (before layout)."""
    templates = templates if templates is not None else load_letter_templates()
    values = letter_values(packet)
    blocks = [_fill(templates, "determination", values)]
    if packet.request.remainder_expected:
        blocks.append(_fill(templates, "remainder", values))
    logged = [
        (n, item)
        for n, item in enumerate(packet.ordered_items(), start=1)
        if item.is_withheld_in_full or item.is_redacted
    ]
    if logged:
        blocks.append(_fill(templates, "withholding_intro", values))
        for n, item in logged:
            treatment = f"redacted ({item.redaction_count})" if item.is_redacted else "withheld in full"
            for citation in item.citations:
                entry = {
                    **values,
                    "item": item.bates or f"Item {n}",
                    "record_description": withheld_description(item),
                    "department": item.department_name,
                    "captured": item.capture_date_text or "date unknown",
                    "treatment": treatment,
                    "exemption": citation.exemption,
                    "section": citation.section,
                    "responsible_name": citation.responsible_name,
                    "responsible_title": citation.responsible_title,
                }
                blocks.append("\u2022 " + _fill(templates, "withholding_entry", entry))
    else:
        blocks.append(_fill(templates, "no_withholding", values))
    if packet.counts.unreadable:
        # Every gathered file is accounted for in the letter too, not only in the index.
        blocks.append(_fill(templates, "unreadable", values))
    blocks.append(_fill(templates, "closing", values))
    return blocks


def _paragraphs(blocks: list[str]) -> list[Flowable]:
    body = ParagraphStyle("letter", fontName=SANS, fontSize=10, leading=14, textColor=INK, spaceAfter=8)
    bullet = ParagraphStyle("entry", parent=body, fontSize=9, leading=12, leftIndent=12, spaceAfter=4)
    heading = ParagraphStyle(
        "heading", parent=body, fontName=SANS_BOLD, fontSize=12, leading=15, spaceBefore=6
    )
    story: list[Flowable] = []
    for block in blocks:
        for chunk in block.strip().split("\n\n"):
            lines = [line.rstrip() for line in chunk.strip("\n").split("\n")]
            if lines[0].startswith("# "):
                story.append(Paragraph(escape(lines.pop(0)[2:]), heading))
            if lines and any(lines):
                style = bullet if lines[0].startswith("\u2022") else body
                story.append(Paragraph("<br/>".join(escape(line) for line in lines), style))
    return story


def render_letter_pdf(packet: Packet, templates: Mapping[str, str] | None = None) -> bytes:
    """letter.pdf, worded from `templates` (default: the files in `letter_templates/`)."""
    register_fonts()
    req = packet.request
    blocks = letter_text(packet, templates)
    buf = io.BytesIO()
    margin = 0.9 * inch
    doc = BaseDocTemplate(
        buf,
        pagesize=PAGE,
        title=printable(f"Determination, request {req.reference}"),
        author=printable(f"{req.city}, {req.office}"),
        creator="PacketDesk",
        invariant=1,
    )
    frame = Frame(margin, 0.8 * inch, PAGE[0] - 2 * margin, PAGE[1] - 1.6 * inch, id="letter")
    doc.addPageTemplates([PageTemplate("letter", [frame])])
    small = ParagraphStyle("small", fontName=SANS, fontSize=9, leading=12, textColor=MUTED)
    head = ParagraphStyle("head", fontName=SANS_BOLD, fontSize=13, leading=16, textColor=INK)
    values = letter_values(packet)
    address = [req.requester_name, req.requester_organisation, req.requester_email]
    body, closing = _paragraphs(blocks[:-1]), _paragraphs(blocks[-1:])
    story: list[Flowable] = [
        Paragraph(escape(printable(req.city)), head),
        Paragraph(escape(printable(req.office)), small),
        Spacer(0, 18),
        Paragraph(escape(str(values["determination_date"])), small),
        Spacer(0, 8),
        Paragraph("<br/>".join(escape(printable(a)) for a in address if a), small),
        Spacer(0, 14),
        *body[:-1],
        KeepTogether([*body[-1:], *closing]),
    ]
    doc.build(
        story, canvasmaker=partial(PagedCanvas, footer=f"Request {req.reference} · determination letter")
    )
    return buf.getvalue()
