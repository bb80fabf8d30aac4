"""How well an entry's printed marks tell one value from another (dedupe.core.entry_marks).

Entries (case numbers, dates, phone numbers) are drawn in every DejaVu face Debian ships
(none of them a font the document corpora use), at 9-12 pt, and "scanned" independently
twice: 150-300 dpi, the optics' blur, paper and sensor noise, a registration error of up to
a pixel, and half of the scans thresholded to black and white at a random level. Each entry
is compared with a second scan of itself, and with a scan of the same entry with one digit
changed to another. Printed, per font group and overall:

- different digits called the same print (the marks would merge two records: must be ~0),
- the same entry called the same print (how often a misread can be forgiven),

against the baseline of the same comparison made on the raw grey pixels (correlation of the
two marks after registration, thresholded to give the same rate of different digits called
the same), so the figure says what the centre-line comparison adds.

Run: PYTHONPATH=. .venv/bin/python benchmarks/entry_marks.py [--samples N]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dedupe.core.entry_marks import MARKS_SAME_WITHIN, PageMapping, compare_marks, marks_of
from dedupe.core.word_places import WordPlace

FONTS = sorted(
    p for p in Path("/usr/share/fonts/truetype/dejavu").glob("DejaVu*.ttf") if "Math" not in p.name
)
CANVAS_INCHES = (3.0, 3.0)  # a strip of a page: a word is under a fifteenth of its height
TEXT_AT_INCHES = (0.3, 0.2)


def entry(rng: np.random.Generator) -> str:
    digits = lambda n: "".join(str(d) for d in rng.integers(0, 10, n))  # noqa: E731
    kind = rng.integers(0, 5)
    if kind == 0:
        return f"{digits(2)}-{digits(3)}"
    if kind == 1:
        return f"CE{digits(2)}-{digits(3)}"
    if kind == 2:
        return f"{digits(2)}/{digits(2)}/20{digits(2)}"
    if kind == 3:
        return f"({digits(3)}) {digits(3)}-{digits(4)}"
    return f"{digits(4)}-{digits(3)}-{digits(3)}"


def one_digit_changed(text: str, rng: np.random.Generator) -> str:
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    i = int(rng.choice(positions))
    other = str(int(rng.choice([d for d in range(10) if str(d) != text[i]])))
    return text[:i] + other + text[i + 1 :]


def scanned(text: str, font: Path, points: float, rng: np.random.Generator) -> tuple[Image.Image, WordPlace]:
    """The entry printed and scanned once: the scan, and the word's place on it."""
    dpi = int(rng.integers(150, 301))
    sharpness = float(rng.uniform(0.6, 0.85))
    optics = dpi * sharpness
    size = (round(CANVAS_INCHES[0] * optics), round(CANVAS_INCHES[1] * optics))
    page = Image.new("L", size, 255)
    face = ImageFont.truetype(str(font), max(6, round(points / 72 * optics)))
    at = (
        TEXT_AT_INCHES[0] * optics + rng.uniform(-0.5, 0.5),
        TEXT_AT_INCHES[1] * optics + rng.uniform(-0.5, 0.5),
    )
    ImageDraw.Draw(page).text(at, text, font=face, fill=int(rng.integers(15, 60)))
    box = ImageDraw.Draw(page).textbbox(at, text, font=face)
    full = (round(CANVAS_INCHES[0] * dpi), round(CANVAS_INCHES[1] * dpi))
    page = page.resize(full, Image.Resampling.BILINEAR)
    noise = rng.integers(-4, 5, (full[1], full[0]))
    pixels = np.clip(np.asarray(page, np.int16) + noise, 0, 255).astype(np.uint8)
    scan = Image.fromarray(pixels)
    if rng.uniform() < 0.5:
        threshold = int(rng.integers(110, 181))
        scan = scan.point(lambda v: 255 if v > threshold else 0)
    place = WordPlace(text, (box[0] / size[0], box[1] / size[1], box[2] / size[0], box[3] / size[1]))
    return scan, place


def raw_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """The baseline: the best correlation of the two marks' grey pixels within a few pixels."""
    w = min(a.shape[1], b.shape[1])
    a, b = a[:, :w].astype(np.float64), b[:, :w].astype(np.float64)
    best = -1.0
    for dx in range(-3, 4):
        x = a[:, max(0, dx) : w + min(0, dx)]
        y = b[:, max(0, -dx) : w - max(0, dx)]
        x, y = x - x.mean(), y - y.mean()
        denominator = np.sqrt((x * x).sum() * (y * y).sum())
        if denominator > 0:
            best = max(best, float((x * y).sum() / denominator))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40, help="entries per font")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    start = time.perf_counter()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    same_raw: list[float] = []
    other_raw: list[float] = []
    for font in FONTS:
        group = "mono" if "Mono" in font.name else "serif" if "Serif" in font.name else "sans"
        for _ in range(args.samples):
            text = entry(rng)
            points = float(rng.uniform(9, 12))
            first, place = scanned(text, font, points, rng)
            again, again_place = scanned(text, font, points, rng)
            changed_text = one_digit_changed(text, rng)
            changed, changed_place = scanned(changed_text, font, points, rng)
            (a,) = marks_of(first, [place])
            (b,) = marks_of(again, [again_place])
            (c,) = marks_of(changed, [changed_place])
            for kind, other in (("same", b), ("other", c)):
                compared = compare_marks(a, PageMapping(), other)
                for key in (group, "all"):
                    counts[key][f"{kind} n"] += 1
                    if compared is not None and compared.same:
                        counts[key][f"{kind} same"] += 1
            same_raw.append(raw_correlation(a.pixels, b.pixels))
            other_raw.append(raw_correlation(a.pixels, c.pixels))
    elapsed = time.perf_counter() - start
    print(f"{len(FONTS)} DejaVu faces, {args.samples} entries each, in {elapsed:.1f} s")
    print(f"the same print: at most {MARKS_SAME_WITHIN:.0%} of a glyph's strokes off the other mark's")
    for key in ("sans", "serif", "mono", "all"):
        c = counts[key]
        if not c["same n"]:
            continue
        print(
            f"  {key:<6} one digit changed called the same print {c['other same'] / c['other n']:.3f} "
            f"({c['other same']}/{c['other n']}); the same entry called the same print "
            f"{c['same same'] / c['same n']:.3f} ({c['same same']}/{c['same n']})"
        )
    c = counts["all"]
    # The baseline at the same false-merge rate: the raw correlation above which as many
    # changed digits pass as the centre lines let through (at least one, so it is defined).
    allowed = max(1, c["other same"])
    cut = sorted(other_raw, reverse=True)[allowed - 1]
    baseline_same = sum(r > cut for r in same_raw) / len(same_raw)
    engine_same = c["same same"] / c["same n"]
    print(
        f"baseline (raw grey correlation > {cut:.3f}, letting through as many changed digits): the same "
        f"entry called the same print {baseline_same:.3f}; centre lines / baseline = "
        f"{engine_same / baseline_same if baseline_same else float('inf'):.2f}"
    )


if __name__ == "__main__":
    main()
