"""Builders for the PDFs the tests need: real documents made with reportlab, changed with pypdf."""

from __future__ import annotations

import io
from collections.abc import Sequence

from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas


def form_page(c: canvas.Canvas, lines: Sequence[str]) -> None:
    """An inspection form: a heading, a ruled box, and the entries given, one per line."""
    width, height = c._pagesize
    c.setFont("Helvetica-Bold", 18)
    c.drawString(72, height - 90, "CITY OF EXAMPLE - BUILDING INSPECTION")
    c.rect(60, height - 420, width - 120, 300)
    c.setFont("Helvetica", 13)
    for n, line in enumerate(lines):
        c.drawString(80, height - 150 - 24 * n, line)


def document_pdf(pages: Sequence[Sequence[str]], pagesize: tuple[float, float] = letter) -> bytes:
    """A PDF with one form page per entry list, text drawn as text (a born-digital PDF)."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=pagesize, invariant=1)
    for lines in pages:
        form_page(c, lines)
        c.showPage()
    c.save()
    return buffer.getvalue()


def blank_pages_pdf(count: int, size: float = 72.0) -> bytes:
    """`count` empty pages of `size` points square (a long, cheap PDF)."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=(size, size), invariant=1)
    for _ in range(count):
        c.showPage()
    c.save()
    return buffer.getvalue()


def rewritten(
    data: bytes,
    *,
    rotate: dict[int, int] | None = None,
    password: str = "",
    script: str = "",
    title: str = "",
) -> bytes:
    """The PDF with pages turned (/Rotate, 0-based page: degrees clockwise), a user password
    (RC4: pypdf's AES needs the cryptography package), JavaScript run on opening and kept
    in the document's names tree, or a document title, as pypdf writes them."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    if title:
        writer.add_metadata({"/Title": title})
    for index, degrees in (rotate or {}).items():
        writer.pages[index].rotate(degrees)
    if script:
        writer.add_open_action(JavaScript(script))
        action = writer._add_object(
            DictionaryObject(
                {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(script)}
            )
        )
        names = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("hello"), action])})
        writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): names})
    if password:
        writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def rescanned_jpeg(data: bytes, *, seed: int = 4, turn_ccw: int = 0, page: int = 1) -> bytes:
    """A page of the PDF printed and scanned again: a slight skew, blur, paper noise, JPEG;
    turned `turn_ccw` degrees counter-clockwise with no orientation tag (fed in upside down)."""
    import numpy as np
    from PIL import Image, ImageFilter

    from dedupe.core.pdf import PdfFile

    with PdfFile(data) as document:
        image = document.page(page).image.convert("L")
    image = image.rotate(0.6, Image.Resampling.BILINEAR, fillcolor=255).filter(ImageFilter.GaussianBlur(0.7))
    noise = np.random.default_rng(seed).normal(0, 5, (image.height, image.width))
    scan = Image.fromarray(np.clip(np.asarray(image, np.float32) + noise, 0, 255).astype(np.uint8))
    if turn_ccw:
        scan = scan.rotate(turn_ccw, expand=True)
    out = io.BytesIO()
    scan.save(out, "JPEG", quality=85)
    return out.getvalue()


def scanned_pdf_with_ocr_layer(scan: bytes, layer: Sequence[str]) -> bytes:
    """A scanner's PDF: the scanned picture over the whole page, and its OCR reading (`layer`,
    one line each) laid over it in invisible text, as scanners and OCRmyPDF write them."""
    from reportlab.lib.utils import ImageReader

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=letter, invariant=1)
    c.drawImage(ImageReader(io.BytesIO(scan)), 0, 0, *letter)
    text = c.beginText(72, 700)
    text.setTextRenderMode(3)  # invisible
    text.setFont("Helvetica", 12)
    for line in layer:
        text.textLine(line)
    c.drawText(text)
    c.showPage()
    c.save()
    return buffer.getvalue()
