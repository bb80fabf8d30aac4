"""Accuracy of the dedupe engine against a naive pHash baseline on a labelled corpus.

The corpus is built in a temp dir from real photographs that packages ship (scikit-image's
samples, Debian's gnome-backgrounds) and generated pages, with known transformations of
each original (positives) and hard negatives that a perceptual hash confuses. Both the
engine (`run_dedupe` on `sources_from_folder`) and the baseline (`imagehash.phash` on
`Image.open`, distance <= 10, connected components over all pairs) are scored pairwise:
precision, recall, F1, false merges among hard negatives, recall per transformation kind.

Labelling decisions, stated once:
- Every transformation of one original is the same record (one cluster), including burst
  shots (a small shift and new noise: what a second press of the shutter gives); the
  engine should report those as `near_identical_shot`, but any grouping counts as found.
- motorcycle_left / motorcycle_right (Middlebury stereo pair) are POSITIVES of kind
  "stereo_pair": two cameras a few centimetres apart at one moment. That is DESIGN.md's
  "field photos ... taken by several workers on the same day, seconds apart": the
  redundancy a packet should show grouped as `near_identical_shot` with its evidence, for a
  clerk to confirm or deny. (Measured: at the 48-px verification grid they correlate 0.96,
  as closely as a burst shot; nothing in the pixels says "different record".)
- A 50/50 blend of two different photos matches neither of them (a negative).
- Crops of different regions of one big picture that overlap by under ~25 % are
  different pictures of one series (negatives).
- Low-information images (flat colour, gradients, near-blank pages) are negatives of each
  other; the product matches them only when bytes or pixels are identical.

`--corpus documents` scores the same way on `document_corpus.py`'s printed and scanned
pages (born-digital PDFs, their rescans in four formats, turned scans, reprints; pages on one
template with other entries, one line changed, near-blank pages as hard negatives; its
docstring states what counts as one record). It prints recall over the rescan kinds and over
the turned kinds beside the documents' targets. `--corpus documents-held-out` is its
variant with another seed and other styling, kept out of the tuning loop.
`--corpus documents-bitonal` is a tuning variant whose every scan is black and white at
150-170 dpi (the kind of scan the held-out corpus missed, stressed where tuning is allowed).
`all` runs the corpora one after the other, each scored on its own.

    .venv/bin/python benchmarks/accuracy.py [--keep DIR] [--jobs 2]
        [--corpus {photos,documents,documents-bitonal,documents-held-out,all}]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import imagehash
import numpy as np
import pillow_heif
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from document_corpus import (
    BITONAL_LOW_DPI_SCANS,
    MIXED_SCANS,
    RESCAN_KINDS,
    TURNED_KINDS,
    ScanProfile,
    build_document_corpus,
)
from labelled import Corpus, Label, kinds_recall, score

from dedupe.core.pipeline import run_dedupe, sources_from_folder

pillow_heif.register_heif_opener()

SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"
GNOME = Path("/usr/share/backgrounds/gnome")
PHOTOS = (
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
    "hubble_deep_field.jpg", "retina.jpg", "coins.png", "camera.png", "moon.png", "grass.png",
    "gravel.png", "brick.png", "horse.png", "ihc.png", "cell.png", "clock_motion.png", "color.png",
)  # fmt: skip
GNOME_PHOTOS = ("licorice-l.webp", "symbolic-l.webp", "truchet-l.webp", "pixels-d.webp", "grid-l.webp")
DOCUMENTS = ("page.png", "text.png")
PHOTO_KINDS = (
    "byte_copy", "reencode_q60", "resize_25", "crop", "brightness_contrast", "grayscale",
    "exif_rotated", "heic", "webp", "png", "timestamp", "burst",
)  # fmt: skip
DOCUMENT_KINDS = ("byte_copy", "reencode_q60", "resize_25", "crop", "png", "turned_scan", "rescan")


# ---------------------------------------------------------------- transformations


def exif_time(seconds: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Google", "Pixel 8"
    exif.get_ifd(0x8769)[0x9003] = f"2024:03:12 10:{seconds // 60:02d}:{seconds % 60:02d}"
    return exif


def crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Up to 8 % of each side's length removed, split at random between the two ends."""
    w, h = image.size
    fx, fy = rng.uniform(0.03, 0.08, 2)
    left, top = rng.uniform(0, 1, 2)
    x0, y0 = round(w * fx * left), round(h * fy * top)
    return image.crop((x0, y0, x0 + round(w * (1 - fx)), y0 + round(h * (1 - fy))))


def timestamp(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    out = image.copy()
    size = max(10, image.height // 18)
    text = f"2024-03-12 10:{int(rng.integers(0, 60)):02d}:{int(rng.integers(0, 60)):02d}"
    x = image.width - size * 11 if rng.uniform() < 0.5 else size // 2
    ImageDraw.Draw(out).text((x, image.height - size * 1.6), text, fill=(255, 140, 0), font_size=size)
    return out


def burst(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A second press of the shutter: the frame moved by 1-2 % and fresh sensor noise."""
    w, h = image.size
    dx, dy = (rng.uniform(0.01, 0.02, 2) * (w, h) * rng.choice((-1, 1), 2)).round().astype(int)
    moved = image.transform(
        image.size, Image.Transform.AFFINE, (1, 0, dx, 0, 1, dy), Image.Resampling.BILINEAR
    )
    pixels = np.asarray(moved, np.float32) + rng.normal(0, 4, (h, w, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def rescan(page: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Printed and scanned again: a slight turn, blur and noise."""
    angle = float(rng.uniform(0.3, 0.9) * rng.choice((-1, 1)))
    turned = page.rotate(angle, Image.Resampling.BILINEAR, fillcolor=(255, 255, 255))
    blurred = turned.filter(ImageFilter.GaussianBlur(0.8))
    pixels = np.asarray(blurred, np.float32) + rng.normal(0, 6, (page.height, page.width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def add_photo_variants(corpus: Corpus, image: Image.Image, stem: str) -> None:
    rng = corpus.rng
    original = corpus.save(image, f"{stem}.jpg", Label(stem, "original"), quality=95, exif=exif_time(0))
    for kind in PHOTO_KINDS:
        label = Label(stem, kind)
        name = f"{stem}_{kind}"
        if kind == "byte_copy":
            corpus.copy_bytes(original, f"{name}.jpg", label)
        elif kind == "reencode_q60":
            corpus.save(image, f"{name}.jpg", label, quality=60)
        elif kind == "resize_25":
            small = image.resize((image.width // 4, image.height // 4), Image.Resampling.LANCZOS)
            corpus.save(small, f"{name}.jpg", label, quality=85)
        elif kind == "crop":
            corpus.save(crop(image, rng), f"{name}.jpg", label, quality=90)
        elif kind == "brightness_contrast":
            up = rng.uniform() < 0.5
            changed = ImageEnhance.Brightness(image).enhance(1.15 if up else 0.85)
            changed = ImageEnhance.Contrast(changed).enhance(0.85 if up else 1.2)
            corpus.save(changed, f"{name}.jpg", label, quality=90)
        elif kind == "grayscale":
            corpus.save(image.convert("L"), f"{name}.jpg", label, quality=90)
        elif kind == "exif_rotated":
            orientation = int(rng.choice((6, 8, 3)))
            undo = {
                6: Image.Transpose.ROTATE_90,
                8: Image.Transpose.ROTATE_270,
                3: Image.Transpose.ROTATE_180,
            }
            exif = exif_time(0)
            exif[0x0112] = orientation
            stored = image.transpose(undo[orientation])
            corpus.save(stored, f"{name}{orientation}.jpg", label, quality=92, exif=exif)
        elif kind == "heic":
            corpus.save(image, f"{name}.heic", label, fmt="HEIF")
        elif kind == "webp":
            corpus.save(image, f"{name}.webp", label, fmt="WEBP", quality=80)
        elif kind == "png":
            corpus.save(image, f"{name}.png", label, fmt="PNG")
        elif kind == "timestamp":
            corpus.save(timestamp(image, rng), f"{name}.jpg", label, quality=90)
        elif kind == "burst":
            seconds = int(rng.integers(1, 6))
            corpus.save(burst(image, rng), f"{name}.jpg", label, quality=90, exif=exif_time(seconds))


def add_document_variants(corpus: Corpus, page: Image.Image, stem: str) -> None:
    rng = corpus.rng
    original = corpus.save(page, f"{stem}.png", Label(stem, "original"), fmt="PNG")
    for kind in DOCUMENT_KINDS:
        label = Label(stem, kind)
        name = f"{stem}_{kind}"
        if kind == "byte_copy":
            corpus.copy_bytes(original, f"{name}.png", label)
        elif kind == "reencode_q60":
            corpus.save(page, f"{name}.jpg", label, quality=60)
        elif kind == "resize_25":
            small = page.resize((page.width // 4, page.height // 4), Image.Resampling.LANCZOS)
            corpus.save(small, f"{name}.jpg", label, quality=85)
        elif kind == "crop":
            corpus.save(crop(page, rng), f"{name}.jpg", label, quality=90)
        elif kind == "png":
            corpus.save(page.convert("L"), f"{name}_gray.png", label, fmt="PNG")
        elif kind == "turned_scan":
            degrees = int(rng.choice((90, 180, 270)))
            corpus.save(
                rescan(page, rng).rotate(degrees, expand=True), f"{name}{degrees}.jpg", label, quality=85
            )
        elif kind == "rescan":
            corpus.save(rescan(page, rng), f"{name}.jpg", label, quality=85)


# ---------------------------------------------------------------- generated pages


_FIELDS = ("Name", "Address", "Parcel (APN)", "Date of inspection", "Inspector", "Violation code", "Findings")
_WORDS = [
    "smith",
    "garcia",
    "nguyen",
    "lee",
    "park",
    "oak",
    "maple",
    "1st",
    "2nd",
    "main",
    "broadway",
    "hill",
    "pass",
    "fail",
    "pending",
    "debris",
    "tent",
    "fence",
    "graffiti",
    "water",
    "leak",
    "permit",
    "expired",
    "cleared",
    "12",
    "34",
    "567",
    "8901",
    "los",
    "angeles",
]


def form(rng: np.random.Generator, size: tuple[int, int] = (850, 1100)) -> Image.Image:
    """One template (title, boxes, labels) filled with different handwriting-like text."""
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    draw.text((60, 40), "CITY OF LOS ANGELES - FIELD INSPECTION REPORT", fill="black", font_size=26)
    draw.text((60, 80), "Form LA-417 (rev. 2023)  Page 1 of 1", fill=(60, 60, 60), font_size=14)
    for row, label in enumerate(_FIELDS):
        top = 130 + row * 120
        draw.rectangle((50, top, 800, top + 100), outline="black", width=2)
        draw.text((60, top + 6), label, fill="black", font_size=16)
        # Handwriting-like: a few words at a slant of jittered positions and sizes.
        x = 70 + int(rng.integers(0, 40))
        for _ in range(int(rng.integers(2, 5))):
            word = " ".join(rng.choice(_WORDS, int(rng.integers(1, 3))))
            y = top + 40 + int(rng.integers(-6, 12))
            draw.text((x, y), word, fill=(20, 20, 90), font_size=int(rng.integers(22, 30)))
            x += 40 + 16 * len(word)
            if x > 700:
                break
    draw.text((60, 1000), "Signature: ____________________", fill="black", font_size=16)
    return page


def letter(rng: np.random.Generator, size: tuple[int, int] = (850, 1100)) -> Image.Image:
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    for line in range(32):
        words = " ".join(rng.choice(_WORDS, 7))
        draw.text((70, 80 + line * 30), words, fill="black", font_size=18)
    return page


def near_blank(rng: np.random.Generator, n: int, size: tuple[int, int] = (850, 1100)) -> Image.Image:
    page = Image.new("RGB", size, (252, 252, 250))
    draw = ImageDraw.Draw(page)
    if n % 3 == 0:
        draw.text((size[0] // 2, size[1] - 60 - 10 * n), f"- {n + 1} -", fill="black", font_size=16)
    elif n % 3 == 1:
        y = int(rng.integers(200, 900))
        draw.line((80, y, 770, y), fill=(120, 120, 120), width=1)
    pixels = np.asarray(page, np.float32) + rng.normal(0, 1.5, (size[1], size[0], 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def gradient(n: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32)
    if n < 4:
        angle = n * np.pi / 4
        ramp = xx * np.cos(angle) + yy * np.sin(angle)
    else:
        ramp = np.hypot(xx - size[0] * (0.3 + 0.2 * n % 1), yy - size[1] / 2)
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    colours = np.array([[20, 40, 120], [230, 200, 80], [200, 30, 60], [40, 160, 90]], np.float32)
    a, b = colours[n % 4], colours[(n + 1) % 4]
    return Image.fromarray((a + (b - a) * ramp[..., None]).astype(np.uint8))


# ---------------------------------------------------------------- corpus


def load(path: Path, longest: int = 1024) -> Image.Image:
    image = Image.open(path).convert("RGB")
    if max(image.size) > longest:
        image.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    return image


def build_corpus(root: Path) -> dict[str, Label]:
    corpus = Corpus(root)
    rng = corpus.rng
    for name in PHOTOS:
        add_photo_variants(corpus, load(SKIMAGE_DATA / name), Path(name).stem)
    for name in GNOME_PHOTOS:
        if (GNOME / name).exists():
            add_photo_variants(corpus, load(GNOME / name), "gnome_" + Path(name).stem)
    for name in DOCUMENTS:
        add_document_variants(corpus, load(SKIMAGE_DATA / name), Path(name).stem)
    for n in range(2):
        add_document_variants(corpus, letter(rng), f"letter{n}")
    # Hard negatives: forms on one template; three of them also get copies (positives), so
    # a form must find its own re-scan while staying apart from its siblings.
    for n in range(8):
        page = form(rng)
        if n < 3:
            add_document_variants(corpus, page, f"form{n}")
            corpus.labels[f"assessor/form{n}.png"] = Label(f"form{n}", "original", hard_negative=True)
        else:
            corpus.save(page, f"form{n}.png", Label(f"form{n}", "form_same_template", True), fmt="PNG")
    for n in range(8):
        corpus.save(near_blank(rng, n), f"blank{n}.jpg", Label(f"blank{n}", "near_blank", True), quality=85)
    colours = ((255, 255, 255), (0, 0, 255), (0, 0, 0), (128, 128, 128), (250, 240, 220), (30, 120, 40))
    for n, colour in enumerate(colours):
        flat = Image.new("RGB", (640, 480), colour)
        corpus.save(flat, f"flat{n}.png", Label(f"flat{n}", "flat_colour", True), fmt="PNG")
    for n in range(6):
        corpus.save(gradient(n), f"gradient{n}.png", Label(f"gradient{n}", "gradient", True), fmt="PNG")
    # Different pictures of one series: regions of one large picture overlapping < 25 %.
    for source in ("wood-l.webp", "adwaita-l.webp"):
        if not (GNOME / source).exists():
            continue
        big = load(GNOME / source, 2048)
        for n, (fx, fy) in enumerate(((0.0, 0.0), (0.4, 0.0), (0.0, 0.4), (0.4, 0.4))):
            x, y = round(big.width * fx), round(big.height * fy)
            region = big.crop((x, y, x + big.width * 6 // 10, y + big.height * 6 // 10))
            stem = f"series_{Path(source).stem}_{n}"
            corpus.save(region, f"{stem}.jpg", Label(stem, "series_region", True), quality=90)
    # The stereo partner of motorcycle_left (a positive: see the module docstring).
    stereo = load(SKIMAGE_DATA / "motorcycle_right.png")
    corpus.save(
        stereo, "motorcycle_left_stereo_pair.jpg", Label("motorcycle_left", "stereo_pair"), quality=90
    )
    photos = [
        load(SKIMAGE_DATA / n, 512).resize((512, 512)) for n in ("astronaut.png", "coffee.png", "chelsea.png")
    ]
    for n, (a, b) in enumerate(itertools.combinations(photos, 2)):
        stem = f"blend{n}"
        corpus.save(Image.blend(a, b, 0.5), f"{stem}.jpg", Label(stem, "blend_of_two", True), quality=90)
    return corpus.labels


# ---------------------------------------------------------------- scoring


def naive_groups(root: Path, keys: list[str], radius: int = 10) -> list[list[str]]:
    """imagehash.phash(Image.open(path)); connected components of all pairs within radius."""
    hashes = {}
    for key in keys:
        try:
            hashes[key] = imagehash.phash(Image.open(root / key))
        except Exception:  # the baseline simply skips what it cannot open
            continue
    parent = {k: k for k in hashes}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for a, b in itertools.combinations(sorted(hashes), 2):
        if hashes[a] - hashes[b] <= radius:
            parent[find(a)] = find(b)
    components: dict[str, list[str]] = defaultdict(list)
    for k in hashes:
        components[find(k)].append(k)
    return [c for c in components.values() if len(c) > 1]


def print_load_average() -> None:
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


def engine_groups(root: Path, jobs: int) -> list[list[str]]:
    """The engine's groups over every file under root, with what it could not read."""
    start = time.perf_counter()
    result = run_dedupe(sources_from_folder(root), jobs=jobs)
    print(f"engine: {len(result.fingerprints)} fingerprints, {len(result.unreadable)} unreadable, "
          f"{len(result.groups)} groups in {time.perf_counter() - start:.1f} s")  # fmt: skip
    for u in result.unreadable:
        print(f"  unreadable {u.key}: {u.reason}")
    relations: dict[str, int] = defaultdict(int)
    for g in result.groups:
        for m in g.members:
            relations[m.relation.value] += 1
    print(f"engine relations: {dict(sorted(relations.items()))}")
    return [list(g.keys) for g in result.groups]


def run_photos(root: Path, jobs: int) -> None:
    start = time.perf_counter()
    labels = build_corpus(root)
    kinds: dict[str, int] = defaultdict(int)
    for label in labels.values():
        kinds["hard negative" if label.hard_negative else "positive/original"] += 1
    print(f"corpus: {len(labels)} files ({dict(kinds)}) built in {time.perf_counter() - start:.1f} s")
    missing = [name for name in GNOME_PHOTOS if not (GNOME / name).exists()]
    if missing:
        print(
            f"note: {len(missing)} of {len(GNOME_PHOTOS)} gnome-backgrounds photos are not installed and "
            "were left out (apt-get install gnome-backgrounds); figures are not comparable to a full corpus"
        )
    print_load_average()

    engine = score("engine", engine_groups(root, jobs), labels)

    start = time.perf_counter()
    naive = score("naive pHash <= 10, connected components", naive_groups(root, sorted(labels)), labels)
    print(f"(baseline ran in {time.perf_counter() - start:.1f} s)")

    print("\n== targets (engine): precision >= 0.99, recall >= 0.97, 0 hard-negative merges, "
          "every kind >= 0.9")  # fmt: skip
    print(
        f"engine:   precision {engine['precision']:.4f}  recall {engine['recall']:.4f}  "
        f"F1 {engine['f1']:.4f}  hard-negative merges {engine['hard']}  worst kind {engine['worst_kind']:.3f}"
    )
    print(
        f"baseline: precision {naive['precision']:.4f}  recall {naive['recall']:.4f}  "
        f"F1 {naive['f1']:.4f}  hard-negative merges {naive['hard']}  worst kind {naive['worst_kind']:.3f}"
    )


# Documents' targets are stricter than photos': a false merge of two pages on one template
# puts another person's permit in a packet.
DOCUMENT_TARGETS = {"precision": 0.995, "recall": 0.97, "rescans": 0.97, "turned": 0.97}


def run_documents(root: Path, jobs: int, held_out: bool, profile: ScanProfile = MIXED_SCANS) -> None:
    start = time.perf_counter()
    labels = build_document_corpus(root, held_out=held_out, profile=profile)
    if held_out:
        variant = "held-out styling and seed, kept out of the tuning loop"
    else:
        variant = f"the tuning variant, {profile.name} scans"
    print(f"corpus: {len(labels)} document files ({variant}) built in {time.perf_counter() - start:.1f} s")
    for negative in (False, True):
        counts: dict[str, int] = defaultdict(int)
        for label in labels.values():
            if label.hard_negative == negative:
                counts[label.kind] += 1
        heading = "hard negatives" if negative else "originals and positives"
        print(
            f"  {heading} ({sum(counts.values())}): {', '.join(f'{k} {n}' for k, n in sorted(counts.items()))}"
        )
    print_load_average()

    groups = {"engine": engine_groups(root, jobs)}
    engine = score("engine", groups["engine"], labels)
    start = time.perf_counter()
    groups["baseline"] = naive_groups(root, sorted(labels))
    naive = score("naive pHash <= 10, connected components (skips PDFs)", groups["baseline"], labels)
    print(f"(baseline ran in {time.perf_counter() - start:.1f} s)")

    t = DOCUMENT_TARGETS
    print(f"\n== targets (engine): precision >= {t['precision']}, recall >= {t['recall']}, "
          f"0 hard-negative merges, rescans >= {t['rescans']}, turned pages >= {t['turned']}")  # fmt: skip
    print(f"   rescans: {', '.join(RESCAN_KINDS)}; turned pages: {', '.join(TURNED_KINDS)}")
    for who, figures in (("engine", engine), ("baseline", naive)):
        rescans = kinds_recall(groups[who], labels, RESCAN_KINDS)
        turned = kinds_recall(groups[who], labels, TURNED_KINDS)
        measured = {
            "precision": figures["precision"],
            "recall": figures["recall"],
            "rescans": rescans[0] / rescans[1],
            "turned": turned[0] / turned[1],
        }
        missed = [name for name, floor in t.items() if measured[name] < floor]
        if figures["hard"]:
            missed.append("hard-negative merges")
        print(
            f"{who + ':':<9} precision {measured['precision']:.4f}  recall {measured['recall']:.4f}  "
            f"hard-negative merges {figures['hard']}  rescans {measured['rescans']:.3f} ({rescans[0]}/{rescans[1]})  "
            f"turned {measured['turned']:.3f} ({turned[0]}/{turned[1]})  "
            f"{'meets every target' if not missed else 'misses: ' + ', '.join(missed)}"
        )


RUNS: dict[str, Callable[[Path, int], None]] = {
    "photos": run_photos,
    "documents": lambda root, jobs: run_documents(root, jobs, held_out=False),
    "documents-bitonal": lambda root, jobs: run_documents(root, jobs, False, BITONAL_LOW_DPI_SCANS),
    "documents-held-out": lambda root, jobs: run_documents(root, jobs, held_out=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="build the corpus in this directory (kept) instead of a temp dir")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--corpus",
        choices=[*RUNS, "all"],
        default="photos",
        help="photos (the default, as before), printed and scanned documents, their held-out variant, or "
        "all three one after the other (each in its own directory, scored on its own)",
    )
    args = parser.parse_args()
    names = list(RUNS) if args.corpus == "all" else [args.corpus]
    for name in names:
        with tempfile.TemporaryDirectory() as temp:
            if len(names) > 1:
                print(f"\n######## corpus {name}")
                root = Path(args.keep) / name if args.keep else Path(temp)
            else:
                root = Path(args.keep or temp)
            RUNS[name](root, args.jobs)


if __name__ == "__main__":
    main()
