"""PDF files as pages: each page rendered once by PDFium, its text layer read, limits named.

A scanned record most often arrives as a PDF. Every page is an item of its own
("path#page=N", N from 1, as a multi-page TIFF's pages are), rendered at RENDER_DPI: a
letter page is 1700 x 2200 pixels, enough for the hashes, the document view, OCR and the
thumbnail, from one render. Rendering is pypdfium2 (PDFium under a permissive licence, not
the AGPL PyMuPDF), one page at a time, so memory is bounded by one page's pixels.

PDFium never runs a document's JavaScript: it would need a form environment, which nothing
here creates. A PDF that carries JavaScript is still read (intake says it carries some:
carries_javascript), and like every PDF its pages go out as images, so no script reaches
the requester (records/packet/redact.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from dedupe.core.word_places import WordPlace, quarter_turned

# Pages are rendered at this resolution: a letter page becomes 1700 x 2200 pixels.
RENDER_DPI = 200
POINTS_PER_INCH = 72
# A page larger than this at RENDER_DPI (a 24 x 36 in plan is 34.6 MP) is rendered at the
# resolution that fits it into this many pixels, so one page never holds more than ~110 MB.
MAX_RENDER_PIXELS = 36_000_000
# ...down to this resolution. A page that would need less (larger than 14,400 square
# inches, e.g. 120 x 120 in: no paper a department scans) is refused as a giant page.
MIN_RENDER_DPI = 50

# A page one picture covers at least this share of is a scan; a text layer over it is a
# scanner's (or OCRmyPDF's) OCR of the picture, invisible text laid over it, so it may have
# missed or misread words as Tesseract may, and the page is not born digital.
SCAN_IMAGE_MIN_SHARE = 0.8

_FPDF_ERR_PASSWORD = 4  # PDFium's error code for a document that needs a password
# A JavaScript action anywhere in the file's bytes ("/JS" or "/JavaScript" as a PDF name),
# for scripts PDFium's document-level count does not see (in annotations and form fields).
_JAVASCRIPT_NAME = re.compile(rb"/J(?:ava)?S(?:cript)?(?![A-Za-z0-9])")


class PdfRefused(Exception):
    """A PDF, or one of its pages, that will not be read; the message is the clerk's reason."""


@dataclass
class RenderedPdfPage:
    """One page of a PDF: its pixels upright, its text layer, and how it was rendered."""

    number: int  # from 1
    image: Image.Image  # RGB, upright (the page's own /Rotate applied), white background
    text: str  # the embedded text layer, "" for a scanned page without one
    places: tuple[WordPlace, ...] = ()  # where the text layer's words are on the upright page
    # The page is a scanned picture (SCAN_IMAGE_MIN_SHARE) with invisible text over it: its
    # text layer is OCR's reading, not the words the page was made from.
    scanned: bool = False


class PdfFile:
    """An opened PDF: its page count, and its pages one at a time."""

    def __init__(self, data: bytes) -> None:
        try:
            self._document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == _FPDF_ERR_PASSWORD:
                raise PdfRefused(
                    "the PDF is protected by a password and cannot be opened: "
                    "ask the department for an unprotected copy"
                ) from exc
            raise PdfRefused(f"the PDF is damaged and cannot be opened ({_pdfium_reason(exc)})") from exc
        self.page_count = len(self._document)
        self.info = _document_info(self._document)

    def close(self) -> None:
        self._document.close()

    def __enter__(self) -> PdfFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def page(self, number: int) -> RenderedPdfPage:
        """Render page `number` (from 1). Raises PdfRefused for a giant or unrenderable page."""
        try:
            page = self._document[number - 1]
        except (pdfium.PdfiumError, IndexError) as exc:
            raise PdfRefused(f"page {number} of the PDF is damaged and cannot be read") from exc
        try:
            width_pt, height_pt = page.get_size()  # after the page's own rotation
            dpi = render_dpi(width_pt, height_pt)
            try:
                bitmap = page.render(scale=dpi / POINTS_PER_INCH, may_draw_forms=True)
                image = bitmap.to_pil().convert("RGB")
            except (pdfium.PdfiumError, ValueError, MemoryError) as exc:
                raise PdfRefused(
                    f"page {number} of the PDF could not be drawn ({_pdfium_reason(exc)})"
                ) from exc
            text, places = _text_layer(page)
            scanned = bool(text) and is_scan_with_ocr_layer(page)
            return RenderedPdfPage(number=number, image=image, text=text, places=places, scanned=scanned)
        finally:
            page.close()

    def pages(self, limit: int) -> Iterator[RenderedPdfPage | PdfRefused]:
        """The first `limit` pages in order, each rendered only when asked for; a page that
        cannot be read comes as its PdfRefused, and the pages after it still come."""
        for number in range(1, min(self.page_count, limit) + 1):
            try:
                yield self.page(number)
            except PdfRefused as refused:
                yield refused


# The document information dictionary's entries read, each cut to this many characters: a
# date is ~23, a title a line; a hostile file's can be megabytes.
MAX_INFO_CHARS = 1024


def _document_info(document: pdfium.PdfDocument) -> dict[str, str]:
    """The document information dictionary (CreationDate, Title, Producer ...) as
    {"pdf:<name>": value}, the keys Pillow's info would give; {} when it cannot be read."""
    try:
        entries = document.get_metadata_dict(skip_empty=True)
    except (pdfium.PdfiumError, UnicodeDecodeError, ValueError):
        return {}
    return {f"pdf:{name}": str(value)[:MAX_INFO_CHARS] for name, value in entries.items()}


def carries_javascript(source: str | bytes) -> bool:
    """Whether a PDF (a path, or its bytes) carries JavaScript: PDFium's count of
    document-level scripts, then the bytes in 1 MB steps, so a path is never held in memory.
    Asked once, at intake; rendering needs no answer (PDFium runs no script). A file PDFium
    cannot open is not judged here (the engine gives its reason when it reads it)."""
    try:
        document = pdfium.PdfDocument(source)
    except pdfium.PdfiumError:
        return False
    try:
        if pdfium_c.FPDFDoc_GetJavaScriptActionCount(document.raw) > 0:
            return True
    finally:
        document.close()
    overlap = b""
    for chunk in _chunks(source, 1 << 20):
        if _JAVASCRIPT_NAME.search(overlap + chunk):
            return True
        overlap = chunk[-16:]
    return False


def _chunks(source: str | bytes, size: int) -> Iterator[bytes]:
    if isinstance(source, bytes):
        for start in range(0, len(source), size):
            yield source[start : start + size]
        return
    with open(source, "rb") as fh:
        while chunk := fh.read(size):
            yield chunk


def render_dpi(width_pt: float, height_pt: float) -> float:
    """RENDER_DPI, or less for a page too large for MAX_RENDER_PIXELS; PdfRefused below MIN_RENDER_DPI."""
    if width_pt <= 0 or height_pt <= 0:
        raise PdfRefused("the page has no area (zero width or height)")
    square_inches = (width_pt / POINTS_PER_INCH) * (height_pt / POINTS_PER_INCH)
    dpi = min(float(RENDER_DPI), math.sqrt(MAX_RENDER_PIXELS / square_inches))
    while _pixels_at(width_pt, height_pt, dpi) > MAX_RENDER_PIXELS:  # the bitmap's sides round up
        dpi *= 0.999
    if dpi < MIN_RENDER_DPI:
        raise PdfRefused(
            f"the page is too large to read safely ({width_pt / POINTS_PER_INCH:,.0f} × "
            f"{height_pt / POINTS_PER_INCH:,.0f} inches; PacketDesk reads pages of up to "
            f"{MAX_RENDER_PIXELS / MIN_RENDER_DPI**2:,.0f} square inches)"
        )
    return dpi


def _pixels_at(width_pt: float, height_pt: float, dpi: float) -> int:
    scale = dpi / POINTS_PER_INCH
    return math.ceil(width_pt * scale) * math.ceil(height_pt * scale)


def is_scan_with_ocr_layer(page: pdfium.PdfPage) -> bool:
    """Whether the page is one scanned picture (SCAN_IMAGE_MIN_SHARE of it) and its text is
    drawn invisibly, as a scanner's or OCRmyPDF's reading of the picture is."""
    width, height = page.get_size()
    page_area = max(width * height, 1.0)
    covered = False
    visible = invisible = 0
    try:
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_TEXT]):
            if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                left, bottom, right, top = obj.get_bounds()
                covered |= (right - left) * (top - bottom) >= SCAN_IMAGE_MIN_SHARE * page_area
            elif pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
                invisible += 1
            else:
                visible += 1
    except pdfium.PdfiumError:
        return False
    return covered and invisible > visible


def _text_layer(page: pdfium.PdfPage) -> tuple[str, tuple[WordPlace, ...]]:
    """The page's text layer, and where its words are on the rendered (upright) page."""
    try:
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        return "", ()
    try:
        text: str = textpage.get_text_range()
        return text.replace("\r\n", "\n").strip(), _text_places(page, textpage, text)
    except pdfium.PdfiumError:
        return "", ()
    finally:
        textpage.close()


def _text_places(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, text: str) -> tuple[WordPlace, ...]:
    """Each word's box (the union of its characters' boxes) as shares of the page's sides.

    Characters are PDFium's, one per character of `text`; a page whose count differs (text
    PDFium generated, seen on damaged files) gets no places: they only sharpen a check."""
    if textpage.count_chars() != len(text):
        return ()
    left, bottom, right, top = page.get_cropbox()
    width, height = right - left, top - bottom
    if width <= 0 or height <= 0:
        return ()
    places: list[WordPlace] = []
    word: list[str] = []
    box = [math.inf, math.inf, -math.inf, -math.inf]
    for index, char in enumerate([*text, " "]):
        if not char.isspace():
            x0, y0, x1, y1 = textpage.get_charbox(index)
            word.append(char)
            box = [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
            continue
        if word:
            shares = (
                (box[0] - left) / width,
                (top - box[3]) / height,
                (box[2] - left) / width,
                (top - box[1]) / height,
            )
            places.append(WordPlace("".join(word), shares))
        word, box = [], [math.inf, math.inf, -math.inf, -math.inf]
    # Boxes are in the page's own frame; the render turned it by its /Rotate (clockwise).
    return tuple(quarter_turned(places, -page.get_rotation() // 90))


def _pdfium_reason(exc: Exception) -> str:
    message = str(exc).strip().rstrip(".")
    return (
        message.split("(PDFium: ", 1)[-1].rstrip(")") if "(PDFium: " in message else message or "PDFium error"
    )
