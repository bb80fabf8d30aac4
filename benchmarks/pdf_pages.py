"""Reading PDF pages and scans: pages per second on one core, beside poppler's pdftoppm and
Tesseract's own command line on the same pages.

Makes a --pages-page PDF with reportlab (inspection forms, each with different entries and a
ruled box; every fifth page carries a photograph, as a report with a picture does), then
times, in this one process (one core):
- render: dedupe.core.pdf rendering every page at RENDER_DPI (PDFium), with its text layer;
- engine: the whole engine read, dedupe.core.fingerprint.iter_fingerprints (render, text
  layer, hashes, preview, document view);
- baseline: `pdftoppm -r RENDER_DPI -gray` writing every page as PGM, in its own process;
  the ratio is its time over ours.
Then OCR on --ocr-pages of those pages rendered and saved as grey PNG scans (no text layer):
- ocr: dedupe.core.ocr.read_page (orientation detection, then the words, eng+spa);
- baseline: the `tesseract PAGE - -l eng+spa` command line on the same PNGs (words only, no
  orientation detection), one process per page as a script would run it.
Prints the load average: the machine may be shared. Also the peak memory of the engine read
(one page at a time, whatever the page count).

    .venv/bin/python benchmarks/pdf_pages.py [--pages 200] [--ocr-pages 20]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import load_line, peak_rss_mb
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from dedupe.core.fingerprint import iter_fingerprints
from dedupe.core.pdf import RENDER_DPI, PdfFile
from dedupe.core.types import Fingerprint, SourceFile


def report_pdf(pages: int) -> bytes:
    import skimage

    photo = ImageReader(Path(skimage.__file__).parent / "data" / "astronaut.png")
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=letter, invariant=1)
    width, height = letter
    for n in range(pages):
        c.setFont("Helvetica-Bold", 18)
        c.drawString(72, height - 90, "CITY OF EXAMPLE - BUILDING INSPECTION")
        c.rect(60, height - 420, width - 120, 300)
        c.setFont("Helvetica", 12)
        for line in range(10):
            c.drawString(
                80, height - 150 - 24 * line, f"Case 24-{n:04d}  item {line}: checked, no violation found"
            )
        if n % 5 == 0:
            c.drawImage(photo, 150, 80, 300, 300)
        c.showPage()
    c.save()
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--ocr-pages", type=int, default=20)
    args = parser.parse_args()
    data = report_pdf(args.pages)
    print(f"{args.pages} letter pages, {len(data) / 1e6:.1f} MB; {load_line()}")

    began = time.perf_counter()
    with PdfFile(data) as document:
        for page in document.pages(args.pages):
            assert not isinstance(page, Exception), page
    render = time.perf_counter() - began

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        path.write_bytes(data)
        began = time.perf_counter()
        results = list(iter_fingerprints(SourceFile(key="report.pdf", department="PW", disk_path=str(path))))
        engine = time.perf_counter() - began
        assert sum(isinstance(r, Fingerprint) for r in results) == args.pages
        began = time.perf_counter()
        subprocess.run(
            ["pdftoppm", "-r", str(RENDER_DPI), "-gray", str(path), str(Path(folder) / "p")], check=True
        )
        poppler = time.perf_counter() - began

    print(f"{'':<36} {'pages/s':>8} {'pdftoppm/this':>14}")
    print(f"{'render + text layer (PDFium)':<36} {args.pages / render:>8.1f} {poppler / render:>13.2f}x")
    print(
        f"{'engine read (render, text, hashes)':<36} {args.pages / engine:>8.1f} {poppler / engine:>13.2f}x"
    )
    print(f"{'baseline: pdftoppm -r 200 -gray':<36} {args.pages / poppler:>8.1f} {1:>13.2f}x")
    print(f"peak memory {peak_rss_mb():.0f} MB; {load_line()}")
    ocr_throughput(data, args.ocr_pages)


def ocr_throughput(data: bytes, count: int) -> None:
    from dedupe.core import ocr

    with PdfFile(data) as document:
        scans = [document.page(n).image.convert("L") for n in range(1, count + 1)]
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for n, scan in enumerate(scans):
            paths.append(Path(folder) / f"scan{n:03d}.png")
            scan.save(paths[-1])
        ocr._readings.clear()  # every page read afresh
        began = time.perf_counter()
        ours = [ocr.read_page(scan) for scan in scans]
        engine = time.perf_counter() - began
        began = time.perf_counter()
        for path in paths:
            subprocess.run(
                ["tesseract", str(path), "-", "-l", ocr.OCR_LANGUAGES], check=True, capture_output=True
            )
        cli = time.perf_counter() - began
    words = sum(len(r.text.split()) for r in ours)
    print(f"\nOCR of {count} grey 200-dpi scans ({words} words read)")
    print(f"{'':<36} {'pages/s':>8} {'cli/this':>9}")
    print(f"{'read_page: orientation + words':<36} {count / engine:>8.2f} {cli / engine:>8.2f}x")
    print(f"{'baseline: tesseract CLI, words only':<36} {count / cli:>8.2f} {1:>8.2f}x")
    print(load_line())


if __name__ == "__main__":
    main()
