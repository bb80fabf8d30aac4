"""index.pdf: the annotated index of every gathered file, rendered from a prepared `Packet`.

A pure function (STYLE habit 13): `render_index_pdf(packet)` returns bytes and reads nothing
but its argument. Item rows are a custom flowable that draws text with `drawString`, so a
file name is always printed literally and 5,000 rows lay out in linear time; everything
that does go through a `Paragraph` is escaped first.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    LongTable,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from records.packet.data import (
    Fate,
    Packet,
    PacketGroup,
    PacketItem,
    capture_source_text,
    item_fate,
    relation_text,
    unreadable_outcome,
)
from records.packet.manifests import withheld_description
from records.wording import authority_words, unreadable_rule_words

SANS, SANS_BOLD, MONO = "PD-Sans", "PD-Sans-Bold", "PD-Mono"
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
PAGE = LETTER
MARGIN = 0.55 * inch
INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#5a5a5a")
STATUS_COLOURS = {
    "delivered": colors.HexColor("#1b5e20"),
    "duplicate": colors.HexColor("#455a64"),
    "withheld": colors.HexColor("#b71c1c"),
    "redacted": colors.HexColor("#8d4f00"),
    "unreadable": colors.HexColor("#8d4f00"),
}
# Format characters that reorder text (bidi overrides, isolates, marks) can make a file
# name display as something it is not; C0/C1 controls break lines. Both print as code points.
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_BREAK_AFTER = re.compile(r"(?<=[ /\\_\-.])")
MAX_FIELD_CHARS = 1200  # longer values are cut; manifest.json keeps them whole


@lru_cache(maxsize=1)
def register_fonts() -> tuple[str, str, str]:
    """DejaVu when installed (wide Unicode coverage), else reportlab's bundled Vera/Courier."""
    for folder in _FONT_DIRS:
        if (folder / "DejaVuSans.ttf").exists():
            pdfmetrics.registerFont(TTFont(SANS, str(folder / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont(SANS_BOLD, str(folder / "DejaVuSans-Bold.ttf")))
            pdfmetrics.registerFont(TTFont(MONO, str(folder / "DejaVuSansMono.ttf")))
            break
    else:
        pdfmetrics.registerFont(TTFont(SANS, "Vera.ttf"))
        pdfmetrics.registerFont(TTFont(SANS_BOLD, "VeraBd.ttf"))
        return SANS, SANS_BOLD, "Courier"
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD)
    return SANS, SANS_BOLD, MONO


def printable(value: object) -> str:
    """Text safe to lay out: controls and direction overrides shown as [U+XXXX], length capped."""
    text = "" if value is None else str(value)
    if len(text) > MAX_FIELD_CHARS:
        text = text[:MAX_FIELD_CHARS] + "…"
    return _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def para_text(value: object) -> str:
    """Escaped for a reportlab Paragraph: markup in a value prints as text."""
    return escape(printable(value))


def human_bytes(n: int) -> str:
    """Decimal units, as file managers show them, with the exact count beside."""
    if n < 1000:
        return f"{n:,} bytes"
    size, units = n / 1000, ["KB", "MB", "GB", "TB"]
    while size >= 1000 and len(units) > 1:
        size, units = size / 1000, units[1:]
    return f"{size:.1f} {units[0]} ({n:,} bytes)"


def wrap_line(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Greedy wrap at spaces, slashes and dashes; overlong words are cut; extra lines end in '…'."""
    lines: list[str] = []
    current = ""
    width_of = pdfmetrics.stringWidth
    for piece in _BREAK_AFTER.split(text):
        if not piece:
            continue
        if width_of(current + piece, font, size) <= width:
            current += piece
            continue
        if current:
            lines.append(current.rstrip())
            current = ""
        while width_of(piece, font, size) > width and len(lines) <= max_lines:
            cut = len(piece) - 1
            while cut > 1 and width_of(piece[:cut], font, size) > width:
                cut = max(1, int(cut * width / width_of(piece[:cut], font, size))) if cut > 8 else cut - 1
            lines.append(piece[:cut])
            piece = piece[cut:]
        current = piece
        if len(lines) > max_lines:
            break
    if current:
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and width_of(last + "…", font, size) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines or [""]


class PagedCanvas(Canvas):
    """Holds every page until the end so the footer can say "Page x of y" (two passes).

    reportlab resolves a bookmark to the page being written, so bookmarks made on a held
    page are replayed when that page is finally written.
    """

    def __init__(self, *args: object, footer: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._held_pages: list[dict] = []
        self._page_bookmarks: list[tuple[str, dict]] = []
        self._footer = footer

    def bookmarkPage(self, key: str, **kwargs: object) -> None:
        self._page_bookmarks.append((key, kwargs))

    def showPage(self) -> None:
        self._held_pages.append(dict(self.__dict__))
        self._page_bookmarks = []
        self._startPage()

    def save(self) -> None:
        total = len(self._held_pages)
        for number, state in enumerate(self._held_pages, start=1):
            self.__dict__.update(state)
            for key, kwargs in self._page_bookmarks:
                Canvas.bookmarkPage(self, key, **kwargs)
            self.setFont(SANS, 7.5)
            self.setFillColor(MUTED)
            self.drawString(MARGIN, 0.4 * inch, printable(self._footer))
            self.drawRightString(PAGE[0] - MARGIN, 0.4 * inch, f"Page {number} of {total}")
            Canvas.showPage(self)
        self._held_pages = []
        Canvas.save(self)


class Bookmark(Flowable):
    """An outline entry pointing at this place in the flow."""

    def __init__(self, key: str, title: str, level: int = 0) -> None:
        super().__init__()
        self.key, self.title, self.level = key, printable(title), level
        self.width = self.height = 0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv.bookmarkHorizontal(self.key, 0, 12)
        self.canv.addOutlineEntry(self.title, self.key, level=self.level, closed=self.level > 0)


Line = tuple[str, str, float, colors.Color]  # text, font, size, colour

THUMB = 46.0
COLUMNS = (THUMB + 6, 112.0, 232.0)  # x offsets follow: thumbnail, Bates+status, path+metadata, hash


class ItemRow(Flowable):
    """One item: thumbnail, Bates and status, path and metadata, SHA-256. Never split."""

    def __init__(
        self,
        item: PacketItem,
        number: int,
        fate: str,
        *,
        width: float,
        show_preview: bool,
        shaded: bool,
        in_group: bool,
        group_number: int | None = None,
    ) -> None:
        super().__init__()
        self.item, self.width, self.shaded, self.in_group = item, width, shaded, in_group
        self.group_number = group_number
        self.thumbnail = item.thumbnail_jpeg if show_preview else None
        self.preview_note = "" if show_preview else ("not shown" if item.thumbnail_jpeg else "no preview")
        x1 = COLUMNS[0]
        x2 = x1 + COLUMNS[1] + 6
        x3 = x2 + COLUMNS[2] + 6
        self.columns: list[tuple[float, float, list[Line]]] = [
            (x1, COLUMNS[1], self._status_lines(number, fate, COLUMNS[1])),
            (x2, COLUMNS[2], self._detail_lines(COLUMNS[2])),
            (x3, width - x3, self._hash_lines(width - x3)),
        ]
        text_height = max(sum(line[2] * 1.22 for line in col[2]) for col in self.columns)
        self.height = max(THUMB, text_height) + 6

    def _status_lines(self, number: int, fate: str, width: float) -> list[Line]:
        item = self.item
        lines: list[Line] = [
            (item.bates, SANS_BOLD, 8.5, INK) if item.bates else ("no Bates number", SANS, 7.5, MUTED)
        ]
        group = f" · Group {self.group_number}" if self.group_number else ""
        lines.append((f"Item {number}{group}", SANS, 6.5, MUTED))
        if item.is_authoritative:
            lines.append(("AUTHORITATIVE COPY", SANS_BOLD, 6.5, STATUS_COLOURS["delivered"]))
        kind = "redacted" if item.is_redacted else str(item.status).replace("refused", "unreadable")
        colour = STATUS_COLOURS.get(kind, INK)
        if item.is_unreadable:
            # The reason and what the requester gets, under its rule, are in the details column.
            what = "unreadable" if item.status == Fate.UNREADABLE else "unreadable (refused at intake)"
            fate = f"{what}: {'delivered as received' if item.delivered_as_received else 'not delivered'}"
        lines += [(t, SANS, 7, colour) for t in wrap_line(printable(fate), SANS, 7, width, 5)]
        return lines

    def _detail_lines(self, width: float) -> list[Line]:
        item = self.item
        lines: list[Line] = [
            (t, SANS_BOLD, 7.2, INK) for t in wrap_line(printable(item.path), SANS_BOLD, 7.2, width, 4)
        ]
        captured = "date unknown"
        if item.capture_date is not None:
            captured = item.capture_date.strftime("%Y-%m-%d %H:%M:%S") + (
                f" UTC{item.capture_utc_offset}" if item.capture_utc_offset else ""
            )
        facts = [
            f"Department: {item.department_code} — {item.department_name}",
            f"Captured {captured} · from {capture_source_text(item.capture_date_source)}",
        ]
        if item.parcels:
            facts.append("Parcels (APN): " + ", ".join(item.parcels))
        if item.camera:
            facts.append(f"Camera: {item.camera}")
        if item.group_id is not None and not item.is_authoritative and item.relation:
            facts.append(f"Relation: {relation_text(item)}")
        facts.append(f"Size: {human_bytes(item.byte_size)}")
        for fact in facts:
            lines += [(t, SANS, 6.6, INK) for t in wrap_line(printable(fact), SANS, 6.6, width, 2)]
        if item.is_unreadable:
            reason = item.unreadable_reason or "no reason recorded"
            for label, text in (("Could not be opened", reason), ("You receive", unreadable_outcome(item))):
                fact = f"{label}: {text}"
                lines += [
                    (t, SANS, 6.6, STATUS_COLOURS["unreadable"])
                    for t in wrap_line(printable(fact), SANS, 6.6, width, 4)
                ]
        return lines

    def _hash_lines(self, width: float) -> list[Line]:
        digest = printable(self.item.sha256)
        lines: list[Line] = [("SHA-256", SANS, 5.8, MUTED)]
        lines += [(t, MONO, 6.0, INK) for t in wrap_line(digest, MONO, 6.0, width, 3)]
        if self.item.delivered_sha256:
            # A redacted copy, or a page delivered alone, is a new file; its own digest lets
            # a recipient check it.
            label = (
                "SHA-256 of the redacted copy"
                if self.item.is_redacted
                else "SHA-256 of the page as delivered"
            )
            lines.append((label, SANS, 5.8, MUTED))
            lines += [
                (t, MONO, 6.0, INK)
                for t in wrap_line(printable(self.item.delivered_sha256), MONO, 6.0, width, 3)
            ]
        return lines

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        if self.shaded:
            c.setFillColor(colors.HexColor("#f3f4f6"))
            c.rect(0, 0, self.width, self.height, stroke=0, fill=1)
        if self.item.is_authoritative:
            c.setFillColor(STATUS_COLOURS["delivered"])
            c.rect(-4, 0, 2.2, self.height, stroke=0, fill=1)
        self._draw_thumbnail(c)
        for x, _width, lines in self.columns:
            y = self.height - 3
            for text, font, size, colour in lines:
                y -= size * 1.22
                c.setFont(font, size)
                c.setFillColor(colour)
                c.drawString(x, y + size * 0.22, text)

    def _draw_thumbnail(self, c: Canvas) -> None:
        top = self.height - 3
        if self.thumbnail:
            try:
                image = ImageReader(io.BytesIO(self.thumbnail))
                w, h = image.getSize()
                scale = min(THUMB / w, THUMB / h)
                c.drawImage(
                    image,
                    (THUMB - w * scale) / 2,
                    top - THUMB + (THUMB - h * scale) / 2,
                    w * scale,
                    h * scale,
                )
                return
            except Exception:  # a broken thumbnail must not take down the packet (habit 7)
                self.preview_note = "preview unreadable"
        c.setStrokeColor(colors.HexColor("#b0b4ba"))
        c.setFillColor(colors.white)
        c.rect(0, top - THUMB, THUMB, THUMB, stroke=1, fill=1)
        c.setFillColor(MUTED)
        c.setFont(SANS, 5.5)
        for i, word in enumerate(self.preview_note.split()):
            c.drawCentredString(THUMB / 2, top - THUMB / 2 + 3 - i * 7, word)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=SANS, fontSize=9, leading=12, textColor=INK)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "muted": ParagraphStyle("muted", parent=base, fontSize=7.5, leading=9.5, textColor=MUTED),
        "title": ParagraphStyle(
            "title", parent=base, fontName=SANS_BOLD, fontSize=17, leading=21, spaceAfter=4
        ),
        "h1": ParagraphStyle("h1", parent=base, fontName=SANS_BOLD, fontSize=13, leading=16, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontName=SANS_BOLD, fontSize=10, leading=13, spaceBefore=8),
        "group": ParagraphStyle("group", parent=base, fontSize=8, leading=10.5),
        "conflict": ParagraphStyle(
            "conflict", parent=base, fontSize=8, leading=10.5, textColor=STATUS_COLOURS["withheld"]
        ),
    }


def _grid(rows: list[list], widths: Sequence[float], header: bool = False, long: bool = False) -> Table:
    table = (LongTable if long else Table)(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d0d4da")),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e9ee")))
    table.setStyle(TableStyle(commands))
    return table


def _unreadable_note(packet: Packet) -> str:
    delivered = sum(1 for i in packet.items if i.is_unreadable and i.delivered_as_received)
    rule = str(packet.unreadable_files)
    if delivered:
        return f'not an image or damaged; the reason is given; {delivered:,} delivered as received (rule "{rule}")'
    return f'not an image or damaged; the reason is given; not delivered (rule "{rule}")'


def _cover(packet: Packet, st: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    req, counts = packet.request, packet.counts
    p = lambda text, style="base": Paragraph(text, st[style])  # noqa: E731
    requester = ", ".join(para_text(v) for v in (req.requester_name, req.requester_organisation) if v)
    if req.requester_kind:
        requester += f" ({para_text(req.requester_kind)})"
    due = req.due.isoformat() + (f"; extended to {req.extended_due.isoformat()}" if req.extended_due else "")
    bates = packet.bates_range()
    facts = [
        ("Request", para_text(req.reference)),
        ("Requester", requester + (f"<br/>{para_text(req.requester_email)}" if req.requester_email else "")),
        ("Records asked for", para_text(req.description or "—")),
        ("Received", para_text(req.received.isoformat())),
        ("Determination due", para_text(due)),
        # The index is built before the clerk releases it, so it says when it was prepared
        # (the inputs' last change, which keeps a rebuild byte-identical), not "not released".
        (
            ("Released", para_text(req.released.isoformat()))
            if req.released
            else ("Prepared", para_text(f"{packet.generated_at:%Y-%m-%d}, from the decisions made by then"))
        ),
        ("Clerk", para_text(f"{req.clerk_name}, {req.clerk_title}")),
        ("Bates range", para_text(f"{bates[0]} to {bates[1]}" if bates else "no files delivered")),
    ]
    tallies = [
        ("Files gathered", f"{counts.gathered:,}", "every one is listed in this index"),
        ("Files delivered", f"{counts.delivered:,}", "with a Bates number, bytes unchanged unless redacted"),
        ("Exact duplicates", f"{counts.exact_duplicates:,}", "same bytes as the delivered copy"),
        (
            "Near duplicates",
            f"{counts.near_duplicates:,}",
            "same picture or page re-saved, re-scanned, resized, or a burst shot",
        ),
        ("Withheld in full", f"{counts.withheld:,}", "with the legal basis for each"),
        ("Delivered with redactions", f"{counts.redacted:,}", f"{counts.redactions:,} redactions in all"),
        ("Unreadable", f"{counts.unreadable:,}", _unreadable_note(packet)),
        ("Space saved", human_bytes(counts.bytes_saved), "by not sending duplicates twice"),
    ]
    story: list[Flowable] = [
        Bookmark("sec-cover", "Cover: request and counts"),
        p(para_text(f"{req.city} — {req.office}"), "muted"),
        p("California Public Records Act response: index of records", "title"),
        _grid([[p(f"<b>{k}</b>"), p(v)] for k, v in facts], (1.45 * inch, width - 1.45 * inch)),
        Spacer(0, 10),
        p("What was gathered and what you receive", "h2"),
        _grid(
            [[p(f"<b>{k}</b>"), p(escape(v)), p(escape(note), "muted")] for k, v, note in tallies],
            (1.7 * inch, 1.9 * inch, width - 3.6 * inch),
        ),
        p("Exemptions cited", "h2"),
    ]
    if counts.exemptions:
        story.append(
            _grid(
                [[p(para_text(c.section)), p(para_text(c.exemption))] for c in counts.exemptions],
                (1.7 * inch, width - 1.7 * inch),
            )
        )
    else:
        story.append(p("None: no record was withheld or redacted."))
    story += [
        p("How to read this index", "h2"),
        p(
            "Every file gathered from the city's departments appears once in this index with what "
            "happened to it: <b>delivered</b> (with its Bates number), <b>duplicate of</b> a delivered "
            "file, <b>withheld</b> (with the legal basis) or <b>unreadable</b> (with the reason and what "
            "you receive for it). Groups are numbered in the order this index lists them. "
            "Copies of the same picture are listed together; the copy that was delivered is marked "
            "<b>authoritative</b>, with the rule that chose it. Each file's SHA-256 fingerprint lets "
            "you check that the delivered file is exactly the one listed. manifest.json and "
            "manifest.csv carry the same facts in machine-readable form.",
            "small",
        ),
    ]
    return story


def _explanation(packet: Packet, st: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    p = lambda text, style="base": Paragraph(text, st[style])  # noqa: E731
    ex = packet.explanation
    story: list[Flowable] = [
        PageBreak(),
        Bookmark("sec-how", "How duplicates were found"),
        p("How duplicates were found and which copy was delivered", "h1"),
        p(
            "Files with identical bytes (the same SHA-256 fingerprint) are exact copies. For the rest, "
            "each picture was given a perceptual fingerprint, a short code that stays nearly the same when "
            "a photo is resized or re-saved. Pictures with close fingerprints were then compared on their "
            "pixels, area by area; only pairs that passed that comparison were grouped, so two different "
            "forms printed on one template are kept apart. Every member of a group was compared with the "
            "group's delivered copy itself, never only with another member."
        ),
        Spacer(0, 6),
        p("Choosing the copy to deliver", "h2"),
        p(
            "The rules below are applied in order; the first rule that leaves a single copy decides. "
            "Each group in this index names the rule that decided and why. A clerk may override the "
            "choice; overrides are recorded with their reason."
        ),
    ]
    story += [p(f"{n}. {para_text(rule)}", "small") for n, rule in enumerate(ex.rules, start=1)]
    if ex.thresholds:
        story += [p("Thresholds in force", "h2")]
        story.append(
            _grid(
                [[p(para_text(k), "small"), p(para_text(v), "small")] for k, v in ex.thresholds],
                (width - 1.2 * inch, 1.2 * inch),
            )
        )
    story += [
        p("Conflicts", "h2"),
        p(
            "When copies of one picture carry different capture dates, parcel numbers or places in "
            "different departments, the group is marked <b>CONFLICT</b> in red and the differing values "
            "are listed. The delivered copy's values are not thereby confirmed.",
            "small",
        ),
        p("Files that could not be opened", "h2"),
        p(
            f"Rule <b>{para_text(str(packet.unreadable_files))}</b>: "
            f"{para_text(unreadable_rule_words(str(packet.unreadable_files)))} Each such file is listed "
            "with the reason it could not be opened and what you receive for it.",
            "small",
        ),
    ]
    return story


def _withholding_log(
    packet: Packet, order: list[PacketItem], st: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    logged = [(n, i) for n, i in enumerate(order, start=1) if i.is_withheld_in_full or i.is_redacted]
    if not logged:
        return []
    p = lambda text: Paragraph(text, st["small"])  # noqa: E731
    rows = [
        [
            p(f"<b>{h}</b>")
            for h in (
                "Bates / item",
                "Captured",
                "Department",
                "Description",
                "Treatment",
                "Legal basis",
                "Responsible",
            )
        ]
    ]
    for n, item in logged:
        treatment = f"redacted ({item.redaction_count})" if item.is_redacted else "withheld in full"
        rows.append(
            [
                p(para_text(item.bates or f"Item {n}")),
                p(para_text(item.capture_date_text or "unknown")),
                p(para_text(item.department_name)),
                p(para_text(withheld_description(item))),
                p(para_text(treatment)),
                p(para_text("; ".join(c.label for c in item.citations) or "no citation recorded")),
                p(para_text("; ".join(c.responsible for c in item.citations))),
            ]
        )
    widths = (0.9 * inch, 0.85 * inch, 0.85 * inch, 1.45 * inch, 0.75 * inch, 1.45 * inch)
    return [
        PageBreak(),
        Bookmark("sec-log", "Withholding and redaction log"),
        Paragraph("Withholding and redaction log", st["h1"]),
        _grid(rows, (*widths, width - sum(widths)), header=True, long=True),
    ]


def _items(
    packet: Packet, order: list[PacketItem], st: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    number = {id(item): n for n, item in enumerate(order, start=1)}
    authority = {i.group_id: i for i in order if i.group_id and i.is_authoritative}
    auth_number = {gid: number[id(i)] for gid, i in authority.items()}
    groups = {g.id: g for g in packet.groups}
    group_number = packet.group_numbers()

    def previewable(item: PacketItem) -> bool:
        # A thumbnail of a withheld or redacted original would disclose what was withheld.
        shown = authority.get(item.group_id) if item.status == Fate.DUPLICATE else item
        return shown is not None and shown.status == Fate.DELIVERED and not shown.is_redacted

    story: list[Flowable] = [PageBreak(), Paragraph("Items", st["h1"])]
    row = lambda item, shaded, in_group: ItemRow(  # noqa: E731
        item,
        number[id(item)],
        item_fate(item, auth_number),
        width=width,
        show_preview=previewable(item),
        shaded=shaded,
        in_group=in_group,
        group_number=group_number.get(item.group_id) if item.group_id else None,
    )
    grouped = [i for i in order if i.group_id is not None]
    sizes = Counter(i.group_id for i in grouped)
    if grouped:
        story += [Bookmark("sec-groups", "Duplicate groups", 0), Paragraph("Duplicate groups", st["h2"])]
    current: str | None = None
    for k, item in enumerate(grouped):
        if item.group_id != current:
            current = item.group_id
            story += _group_header(groups.get(current), item, group_number[current], sizes[current], k, st)
        story.append(row(item, item.is_authoritative, True))
    singles = [i for i in order if i.group_id is None]
    if singles:
        story += [
            CondPageBreak(1.5 * inch),
            Bookmark("sec-singles", "Items without duplicates", 0),
            Paragraph("Items without duplicates", st["h2"]),
        ]
    per_department = Counter(i.department_code for i in singles)
    department: str | None = None
    for k, item in enumerate(singles):
        if item.department_code != department:
            department = item.department_code
            count = per_department[department]
            story += [
                CondPageBreak(1.2 * inch),
                Bookmark(f"dept-{k}", f"{department} — {item.department_name} ({count})", 1),
                Paragraph(para_text(f"{item.department_code} — {item.department_name}"), st["h2"]),
            ]
        story.append(row(item, k % 2 == 1, False))
    return story


def _group_header(
    group: PacketGroup | None,
    lead: PacketItem,
    number: int,
    size: int,
    k: int,
    st: dict[str, ParagraphStyle],
) -> list[Flowable]:
    """The group's line: its copies, the delivered copy and why it was chosen, any conflict.

    The rule in the sentence staff read on the review page (records/wording.py), then the
    group's stored one-line reason.
    """
    rule = group.rule if group else lead.authority_rule
    reason = group.reason if group else lead.authority_reason
    delivered = lead.bates or "not delivered"
    title = f"Group {number}: {delivered} ({size} copies)"
    text = (
        f"<b>Group {number}</b> · {size} copies · authoritative copy "
        f"<b>{para_text(delivered)}</b>: {para_text(authority_words(rule, reason))}"
    )
    story: list[Flowable] = [CondPageBreak(1.4 * inch), Bookmark(f"grp-{k}", title, 1), Spacer(0, 4)]
    story.append(Paragraph(text, st["group"]))
    for conflict in group.conflicts if group else ():
        story.append(Paragraph(f"<b>CONFLICT:</b> {para_text(conflict)}", st["conflict"]))
    story.append(Spacer(0, 2))
    return story


def _decorate(request_line: str, office_line: str) -> Callable[[Canvas, BaseDocTemplate], None]:
    def on_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(SANS, 7.5)
        canvas.setFillColor(MUTED)
        top = PAGE[1] - 0.42 * inch
        canvas.drawString(MARGIN, top, office_line)
        canvas.drawRightString(PAGE[0] - MARGIN, top, request_line)
        canvas.setStrokeColor(colors.HexColor("#c4c8ce"))
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, top - 4, PAGE[0] - MARGIN, top - 4)
        canvas.restoreState()

    return on_page


def render_index_pdf(packet: Packet) -> bytes:
    """index.pdf for a packet whose items already carry their Bates numbers (see `assign_bates`)."""
    register_fonts()
    req = packet.request
    st = _styles()
    buf = io.BytesIO()
    width = PAGE[0] - 2 * MARGIN
    doc = BaseDocTemplate(
        buf,
        pagesize=PAGE,
        title=printable(f"Index of records, request {req.reference}"),
        author=printable(f"{req.city}, {req.office}"),
        subject=printable(req.description),
        creator="PacketDesk",
        invariant=1,  # fixed dates and document id: the same packet gives the same bytes
        pageCompression=1,
    )
    frame = Frame(
        MARGIN,
        0.62 * inch,
        width,
        PAGE[1] - 1.25 * inch,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    office_line = printable(f"{req.city} — {req.office}")
    request_line = printable(f"Request {req.reference} · Index of records")
    doc.addPageTemplates([PageTemplate("body", [frame], onPage=_decorate(request_line, office_line))])
    order = packet.ordered_items()
    story = _cover(packet, st, width)
    story += _explanation(packet, st, width)
    story += _withholding_log(packet, order, st, width)
    story += _items(packet, order, st, width)
    footer = f"Request {req.reference} · generated {packet.generated_at.isoformat(timespec='seconds')}"
    doc.build(story, canvasmaker=partial(PagedCanvas, footer=footer))
    return buf.getvalue()
