"""The packet at the city's scale: 5,000 items with thumbnails, timed, with peak memory and size.

Synthetic but shaped like a real response: 40 departments, ~30 % of items duplicates in
groups of 2-4 (exact and near), ~2 % withheld (some redacted), ~1 % unreadable, a 64 x 48
JPEG thumbnail per readable item. Measures index.pdf, then letter, manifests and the BagIt
ZIP (with 8 KB stand-in files). Baseline, in the same run: the naive layout, one LongTable
of escaped Paragraph cells without thumbnails. Each variant runs in a fresh process so its
peak RSS is its own. Target (issue 5): under 60 s and 500 MB.

    .venv/bin/python benchmarks/packet.py [--items 5000]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import peak_rss_mb
from PIL import Image, ImageDraw

from records.packet.data import (
    Citation,
    Fate,
    MatchExplanation,
    Packet,
    PacketGroup,
    PacketItem,
    PacketRequest,
    assign_bates,
    item_fate,
)

CITATION = Citation(
    exemption="Personal privacy",
    section="Gov. Code § 7927.700",
    responsible_name="Dana Ortiz",
    responsible_title="Deputy City Attorney",
)


def thumbnail(rng: random.Random) -> bytes:
    image = Image.new("RGB", (64, 48), tuple(rng.randrange(40, 220) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = rng.randrange(0, 56), rng.randrange(0, 40)
        draw.rectangle(
            (x, y, x + rng.randrange(4, 20), y + rng.randrange(4, 14)),
            fill=tuple(rng.randrange(256) for _ in range(3)),
        )
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def synthetic_packet(n: int, seed: int = 5) -> Packet:
    rng = random.Random(seed)
    departments = [(f"D{k:02d}", f"Department {k:02d} of the City") for k in range(40)]
    items: list[PacketItem] = []
    groups: list[PacketGroup] = []
    while len(items) < n:
        code, name = rng.choice(departments)
        k = len(items)
        base = dict(
            department_code=code,
            department_name=name,
            byte_size=rng.randrange(200_000, 4_000_000),
            capture_date=datetime(
                2024, rng.randrange(1, 13), rng.randrange(1, 28), rng.randrange(24), rng.randrange(60)
            ),
            capture_date_source=rng.choice(
                ["exif_datetime_original", "file_name", "gps_datetime", "unknown"]
            ),
            capture_utc_offset="-08:00",
            parcels=(f"{rng.randrange(2000, 8000)}-{rng.randrange(1000):03d}-{rng.randrange(1000):03d}",),
            camera=rng.choice(["", "Apple iPhone 13", "Canon EOS 90D", "Samsung SM-G991U"]),
            thumbnail_jpeg=thumbnail(rng),
            extension=".jpg",
        )
        path = f"{code}/{rng.choice(['field', 'permits', 'scans', 'cases'])}/IMG_{k:05d}.jpg"
        roll = rng.random()
        if roll < 0.01:
            items.append(
                PacketItem(
                    path=path,
                    sha256=f"{k:064x}",
                    status=Fate.UNREADABLE,
                    unreadable_reason="JPEG data ends early",
                    **{**base, "thumbnail_jpeg": None},
                )
            )
        elif roll < 0.03:
            redacted = rng.random() < 0.5
            items.append(
                PacketItem(
                    path=path,
                    sha256=f"{k:064x}",
                    status=Fate.WITHHELD,
                    withholding=CITATION,
                    redaction_count=2 if redacted else 0,
                    redaction_exemptions=(CITATION,) if redacted else (),
                    **base,
                )
            )
        elif roll < 0.17 and n - len(items) >= 4:
            size = rng.choice([2, 2, 3, 4])  # 14 % of starts -> ~30 % of items are duplicates
            gid = f"G-{len(groups) + 1:05d}"
            members = []
            for m in range(size):
                mcode, mname = rng.choice(departments)
                mpath = f"{mcode}/field/IMG_{k:05d}_{m}.jpg"
                members.append(mpath)
                relation = "" if m == 0 else rng.choice(["exact", "same_image", "near_identical_shot"])
                items.append(
                    PacketItem(
                        path=mpath,
                        sha256=f"{k + m:064x}",
                        status=Fate.DELIVERED if m == 0 else Fate.DUPLICATE,
                        group_id=gid,
                        is_authoritative=m == 0,
                        relation=relation,
                        authority_rule="most_pixels",
                        authority_reason="4032 x 3024 pixels against 1024 x 768.",
                        **{**base, "department_code": mcode, "department_name": mname},
                    )
                )
            conflicts = ("Capture dates differ by 3 days",) if rng.random() < 0.1 else ()
            groups.append(
                PacketGroup(
                    id=gid,
                    authoritative_path=members[0],
                    rule="most_pixels",
                    reason="4032 x 3024 pixels against 1024 x 768.",
                    member_paths=tuple(members),
                    conflicts=conflicts,
                )
            )
        else:
            items.append(PacketItem(path=path, sha256=f"{k:064x}", status=Fate.DELIVERED, **base))
    request = PacketRequest(
        city="City of Los Angeles",
        office="Office of the City Clerk",
        reference="CPRA-2025-9999",
        requester_name="Benchmark Requester",
        received=date(2025, 3, 3),
        due=date(2025, 3, 13),
        released=date(2025, 3, 13),
        clerk_name="Sam Whitfield",
        clerk_title="Senior Clerk Analyst",
        bates_prefix="LACC",
        description="All photos of the river bed, 2024.",
    )
    return Packet(
        request=request,
        items=assign_bates(items[:n], "LACC"),
        groups=tuple(groups),
        explanation=MatchExplanation.from_settings({"phash_radius": 11, "same_image_score": 0.9}),
        generated_at=datetime(2025, 3, 13, 12, 0),
    )


def naive_index(packet: Packet) -> bytes:
    """The baseline: one LongTable of Paragraph cells, no thumbnails, no custom rows."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate

    style = getSampleStyleSheet()["BodyText"]
    style.fontSize, style.leading = 7, 9
    rows = [
        [
            Paragraph(escape(str(v)), style)
            for v in ("Bates", "Path", "Department", "Captured", "Status", "SHA-256")
        ]
    ]
    for item in packet.ordered_items():
        rows.append(
            [
                Paragraph(escape(str(v)), style)
                for v in (
                    item.bates or "",
                    item.path,
                    item.department_name,
                    item.capture_date_text or "unknown",
                    item_fate(item),
                    item.sha256,
                )
            ]
        )
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=LETTER, invariant=1).build(
        [LongTable(rows, colWidths=[60, 130, 70, 70, 110, 100], repeatRows=1)]
    )
    return buf.getvalue()


def run_variant(variant: str, n: int) -> dict:
    started = time.perf_counter()
    packet = synthetic_packet(n)
    built = time.perf_counter()
    out: dict = {"variant": variant, "items": n, "prepare_s": round(built - started, 2)}
    if variant == "packet":
        from records.packet.bag import packet_documents, write_packet_zip

        docs = packet_documents(packet, load_files=True)
        rendered = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for item in packet.items:
                if item.bates:
                    source = Path(tmp) / f"{item.bates}.jpg"
                    source.write_bytes(item.sha256.encode() * 128)  # 8 KB stand-in
                    files.append((f"{item.bates}.jpg", source))
            zipped = time.perf_counter()
            write_packet_zip(Path(tmp) / "packet.zip", packet, files, docs)
            out["zip_s"] = round(time.perf_counter() - zipped, 2)
            out["zip_bytes"] = (Path(tmp) / "packet.zip").stat().st_size
        out["documents_s"] = round(rendered - built, 2)
        out["pdf_bytes"] = len(docs["index.pdf"])
        out["pdf_pages"] = docs["index.pdf"].count(b"/Type /Page\n") or docs["index.pdf"].count(
            b"/Type /Page "
        )
    elif variant == "index":
        from records.packet.index_pdf import render_index_pdf

        pdf = render_index_pdf(packet)
        out["render_s"] = round(time.perf_counter() - built, 2)
        out["pdf_bytes"] = len(pdf)
    elif variant == "naive":
        pdf = naive_index(replace(packet, items=tuple(replace(i, thumbnail_jpeg=None) for i in packet.items)))
        out["render_s"] = round(time.perf_counter() - built, 2)
        out["pdf_bytes"] = len(pdf)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.items)))
        return
    results = {}
    for variant in ("index", "naive", "packet"):
        proc = subprocess.run(
            [sys.executable, __file__, "--items", str(args.items), "--variant", variant],
            capture_output=True,
            text=True,
            check=True,
        )
        results[variant] = json.loads(proc.stdout)
        print(json.dumps(results[variant]))
    ours, naive = results["index"], results["naive"]
    print(
        f"\nindex.pdf, {args.items} items with thumbnails: {ours['render_s']} s, "
        f"peak {ours['peak_rss_mb']} MB, {ours['pdf_bytes'] / 1e6:.1f} MB PDF"
    )
    print(
        f"baseline (one LongTable of Paragraphs, no thumbnails): {naive['render_s']} s, "
        f"peak {naive['peak_rss_mb']} MB -> ours takes {ours['render_s'] / naive['render_s']:.2f}x its time"
    )
    p = results["packet"]
    total = p["prepare_s"] + p["documents_s"] + p["zip_s"]
    print(
        f"whole packet (all documents + BagIt ZIP): {total:.1f} s, peak {p['peak_rss_mb']} MB, "
        f"target < 60 s and < 500 MB: {'met' if total < 60 and p['peak_rss_mb'] < 500 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
