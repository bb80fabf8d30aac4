"""A folder of hostile files through the whole engine and packet: every file accounted for.

Each file gets its own reason; one bad file never stops the batch; names print as text in
the index. Bound stated: the engine holds one file's bytes and one decoded page at a time
(JPEGs at draft scale), so a 1,000-page TIFF is read page by page and peak memory here stays
under the 600 MB asserted below however many files the folder holds.
"""

import io
import json
import subprocess
import sys
from pathlib import Path

import pillow_heif
from PIL import Image
from pypdf import PdfReader

from tests.dedupe.images import (
    exif_with,
    jpeg_bytes,
    multipage_tiff,
    png_bytes,
    png_header_only,
    skimage_photo,
)
from tests.dedupe.pdfs import blank_pages_pdf, document_pdf, rewritten

MEMORY_BOUND_MB = 600
ROOT = Path(__file__).resolve().parents[2]


def hostile_folder(root):
    photo = skimage_photo("astronaut.png")
    good = jpeg_bytes(photo)
    heic = io.BytesIO()
    pillow_heif.from_pillow(photo.resize((128, 128))).save(heic, quality=60)
    tiff = multipage_tiff([Image.new("L", (16, 16), n % 256) for n in range(1000)])
    nasty_exif = exif_with(
        base={
            0x010E: "<script>alert('x')</script>" * 500,
            0x0132: "0000:00:00 00:00:00",
            0x010F: "\x00\xff" * 300,
        },
        exif_ifd={0x9003: "2024:13:45 99:99:99", 0x9011: "+99:99"},
        gps_ifd={1: "N", 2: (999.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)},
    )
    exif_photo = io.BytesIO()
    photo.resize((200, 200)).save(exif_photo, "JPEG", exif=nasty_exif.tobytes())
    inspection = document_pdf([["Case 24-118", "Address: 1200 Harbor Blvd"]])
    files = {
        "PD/good.jpg": good,
        "PD/empty.jpg": b"",
        "PD/truncated.jpg": good[: len(good) // 3],
        "PD/corrupt.png": png_bytes(photo)[:200] + b"\x00" * 500,
        "PD/truncated.tif": tiff[:5000],
        "PD/broken.heic": heic.getvalue()[:300],
        "PD/really-a-pdf.jpg": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
        "PD/really-html.jpg": b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        "PD/really-exe.jpg": b"MZ\x90\x00\x03" + b"\x00" * 200,
        "PD/bomb.png": png_header_only(100_000, 100_000),
        "PD/thousand-pages.tif": tiff,
        "PD/nasty-exif.jpg": exif_photo.getvalue(),
        "PD/<font size=80>markup</font>.jpg": jpeg_bytes(skimage_photo("coffee.png")),
        "PD/rtl\u202eevil.jpg": jpeg_bytes(skimage_photo("chelsea.png")),
        "PD/ctl\x07\x1b.jpg": jpeg_bytes(skimage_photo("rocket.jpg")),
        "PD/locked.pdf": rewritten(inspection, password="s3cret"),
        "PD/scripted.pdf": rewritten(inspection, script="app.launchURL('http://evil.example/');"),
        "PD/cut.pdf": inspection[: len(inspection) // 2],
        "PD/giant-page.pdf": document_pdf([["Case 24-999"]], pagesize=(14_400, 14_400)),
        "PD/ten-thousand-pages.pdf": blank_pages_pdf(10_000),
    }
    for key, data in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def dedupe_folder_in_its_own_process(folder: Path, out: Path) -> float:
    """Run `manage.py dedupe_folder` in a fresh process; its peak RSS in MB.

    Its own peak, not the test run's: a process's peak only ever grows, so measuring in the
    pytest process would charge this test with whatever ran before it. Read as VmHWM, the
    high-water mark of the process's own memory map: getrusage's ru_maxrss would carry the
    pytest process's peak over the fork and exec.
    """
    code = (
        "import re, runpy, sys\n"
        "folder, out = sys.argv[1:]\n"
        "sys.argv = ['manage.py', 'dedupe_folder', folder, '--out', out, '--jobs', '1']\n"
        "runpy.run_path('manage.py', run_name='__main__')\n"
        "status = open('/proc/self/status').read()\n"
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def test_every_hostile_file_gets_a_reason_and_the_good_ones_are_delivered(tmp_path):
    files = hostile_folder(tmp_path / "in")
    peak_mb = dedupe_folder_in_its_own_process(tmp_path / "in", tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    by_path: dict[str, list[dict]] = {}
    for item in manifest["items"]:
        by_path.setdefault(item["path"], []).append(item)
    assert set(by_path) == set(files)  # every gathered file is in the manifest
    for bad in [
        "PD/empty.jpg",
        "PD/truncated.jpg",
        "PD/corrupt.png",
        "PD/truncated.tif",
        "PD/broken.heic",
        "PD/really-a-pdf.jpg",
        "PD/really-html.jpg",
        "PD/really-exe.jpg",
        "PD/bomb.png",
    ]:
        entries = by_path[bad]
        assert all(e["status"] == "unreadable" and e["reason"] for e in entries), entries
    assert "PDF" in by_path["PD/really-a-pdf.jpg"][0]["reason"]
    assert "decompression bomb" in by_path["PD/bomb.png"][0]["reason"]
    assert len(by_path["PD/thousand-pages.tif"]) == 1000
    reasons = {path: " / ".join(e["reason"] or "" for e in by_path[path]) for path in by_path}
    assert "protected by a password" in reasons["PD/locked.pdf"]
    assert "damaged and cannot be opened" in reasons["PD/cut.pdf"]
    assert "too large to read safely" in reasons["PD/giant-page.pdf"]
    pages = by_path["PD/ten-thousand-pages.pdf"]  # 1,000 pages read, the rest one item with the reason
    assert len(pages) == 1001
    (rest,) = [e for e in pages if e["status"] == "unreadable"]
    assert rest["reason"] == "pages 1001–10000 were not read: PacketDesk reads at most 1000 pages of one file"
    (scripted,) = by_path["PD/scripted.pdf"]  # read (the script is never run), its page delivered as an image
    assert scripted["status"] in ("delivered", "duplicate"), scripted
    for good in ["PD/good.jpg", "PD/nasty-exif.jpg", "PD/<font size=80>markup</font>.jpg"]:
        assert by_path[good][0]["status"] in ("delivered", "duplicate"), by_path[good]
    nasty = by_path["PD/nasty-exif.jpg"][0]
    assert nasty["capture_date"] is None or not nasty["capture_date"].startswith("0000")
    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "out" / "index.pdf").pages)
    assert "<font size=80>markup</font>.jpg" in text
    assert peak_mb < MEMORY_BOUND_MB
