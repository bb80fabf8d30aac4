"""A page's entries as printed, kept small, to settle readings that disagree about them.

OCR reads a low-resolution or black-and-white scan's small print with confidence and wrong
("1555)" for "(555)", "Division 20" for "Division 200"), and text alone then splits copies
of one page. What is printed is the evidence: where two pages' readings disagree about an entry,
the marks at that place on both pages are compared, and the same marks are the same entry,
however OCR read them. Marks that differ are not proof of another value: a black-and-white
scan breaks and fattens strokes as often as a changed digit moves them, so they leave the
readings as they were.

A mark is a word's box on the upright, straightened page the fingerprint is of (the places
of dedupe.core.word_places), widened by a share of its height, in grey at MARK_HEIGHT px
tall. A page keeps the marks of its entries (words with a digit) and of the words OCR only
guessed at (a misread entry may hold no digit): at most MAX_MARKS, stored as one JPEG strip
and a line of text for each mark.

Plain Python on numpy, Pillow, SciPy and scikit-image: no Django.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.morphology import skeletonize

from dedupe.core.word_places import WordPlace

# A mark's height in pixels, margins included: a 10-pt entry scanned at 150 dpi is some 20 px
# tall with its descenders, so 40 px keeps every pixel the scan has.
MARK_HEIGHT = 40
# The margin around a word's box, as a share of its height on each side: room for a box
# another reading drew a little smaller or larger, and for a character it left out.
MARK_MARGIN = 0.5
MAX_MARKS = 160  # a dense form's entries and guesses; the strip stays under ~100 KB
MARK_JPEG_QUALITY = 90

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as shares of the page's sides


@dataclass(frozen=True)
class EntryMark:
    """What is printed at one word's place: the word as read, the area kept (shares of the
    page's sides, margins included) and its pixels, grey, MARK_HEIGHT tall."""

    word: str
    area: Box
    pixels: np.ndarray


def marks_of(
    page: Image.Image, places: Iterable[WordPlace], kept: Iterable[str] = ()
) -> tuple[EntryMark, ...]:
    """The marks of `places` on `page` (grey, the page the places are on) whose words are
    entries, or are among `kept` (OCR's guesses)."""
    gray = page if page.mode == "L" else page.convert("L")
    width, height = gray.size
    wanted = set(kept)
    marks: list[EntryMark] = []
    for place in places:
        if not (any(c.isdigit() for c in place.word) or place.word in wanted):
            continue
        x0, y0, x1, y1 = place.box
        box_height = (y1 - y0) * height
        if box_height < 2 or box_height > height / 15:
            continue  # not a line of print
        margin = box_height * MARK_MARGIN
        left, top = max(0.0, x0 * width - margin), max(0.0, y0 * height - margin)
        right, bottom = min(float(width), x1 * width + margin), min(float(height), y1 * height + margin)
        if right - left < 2 or bottom - top < 2:
            continue
        scale = MARK_HEIGHT / (bottom - top)
        size = (max(1, round((right - left) * scale)), MARK_HEIGHT)
        crop = gray.resize(size, Image.Resampling.LANCZOS, box=(left, top, right, bottom))
        area = (left / width, top / height, right / width, bottom / height)
        marks.append(EntryMark(place.word, area, np.asarray(crop)))
        if len(marks) >= MAX_MARKS:
            break
    return tuple(marks)


_GAP = 4  # white pixels between marks in the strip, so JPEG's blocks blur no mark into the next


def encode(marks: Sequence[EntryMark]) -> bytes:
    """One header line of JSON, then the marks side by side as one grey JPEG."""
    if not marks:
        return b""
    strip = np.full((MARK_HEIGHT, sum(m.pixels.shape[1] + _GAP for m in marks)), 255, np.uint8)
    header, x = [], 0
    for mark in marks:
        w = mark.pixels.shape[1]
        strip[:, x : x + w] = mark.pixels
        header.append([mark.word, *(round(v, 5) for v in mark.area), x, w])
        x += w + _GAP
    out = io.BytesIO()
    Image.fromarray(strip).save(out, "JPEG", quality=MARK_JPEG_QUALITY)
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + out.getvalue()


def decode(stored: bytes) -> tuple[EntryMark, ...]:
    """The marks `encode` wrote; () for none or for bytes that do not parse (a damaged strip
    only costs the marks' check)."""
    if not stored:
        return ()
    head, _, jpeg = bytes(stored).partition(b"\n")
    try:
        header = json.loads(head)
        with Image.open(io.BytesIO(jpeg)) as im:
            strip = np.asarray(im.convert("L"))
        marks = []
        for word, x0, y0, x1, y1, x, w in header:
            marks.append(EntryMark(str(word), (x0, y0, x1, y1), strip[:, x : x + w]))
        return tuple(marks)
    except (ValueError, TypeError, OSError):
        return ()


# ---------------------------------------------------------------- comparing two pages' marks


@dataclass(frozen=True)
class PageMapping:
    """How a place on page a maps to page b: x_b = x_a * scale_x + shift_x, likewise y, in
    shares of the pages' sides (two scans of one sheet differ by a margin and a little
    scale; both are upright and straightened)."""

    scale_x: float = 1.0
    shift_x: float = 0.0
    scale_y: float = 1.0
    shift_y: float = 0.0

    def inverse(self) -> PageMapping:
        """The mapping from page b back to page a."""
        return PageMapping(
            1 / self.scale_x, -self.shift_x / self.scale_x, 1 / self.scale_y, -self.shift_y / self.scale_y
        )

    def area(self, box: Box) -> Box:
        x0, y0, x1, y1 = box
        return (
            x0 * self.scale_x + self.shift_x,
            y0 * self.scale_y + self.shift_y,
            x1 * self.scale_x + self.shift_x,
            y1 * self.scale_y + self.shift_y,
        )


def page_mapping(pairs: Sequence[tuple[Box, Box]]) -> PageMapping | None:
    """The mapping that best carries each box of `pairs` (a word read alike on both pages)
    onto its partner, by least squares on the boxes' centres, refitted without the pairs it
    does not carry within MAPPING_MAX_RESIDUAL (a word printed twice, one read once); None
    when fewer than MIN_MAPPING_WORDS fit, or fewer than half (not one sheet in one frame)."""
    if len(pairs) < MIN_MAPPING_WORDS:
        return None
    a = np.array([((p[0] + p[2]) / 2, (p[1] + p[3]) / 2) for p, _ in pairs])
    b = np.array([((q[0] + q[2]) / 2, (q[1] + q[3]) / 2) for _, q in pairs])
    inliers = np.ones(len(pairs), bool)
    for _ in range(2):
        fitted = []
        residual = np.zeros(len(pairs))
        for axis in (0, 1):
            design = np.stack([a[:, axis], np.ones(len(a))], axis=1)
            solution, *_ = np.linalg.lstsq(design[inliers], b[inliers, axis], rcond=None)
            fitted.append((float(solution[0]), float(solution[1])))
            residual = np.maximum(residual, np.abs(design @ solution - b[:, axis]))
        inliers = residual <= MAPPING_MAX_RESIDUAL
        if inliers.sum() < max(MIN_MAPPING_WORDS, len(pairs) / 2):
            return None
    (sx, tx), (sy, ty) = fitted
    if not (0.9 < sx < 1.1 and 0.9 < sy < 1.1):
        return None  # one sheet scanned twice is the same size within a few per cent
    return PageMapping(sx, tx, sy, ty)


MIN_MAPPING_WORDS = 8
# Half a line of 10-pt print on a letter page, as a share of the page's side: a word the
# mapping carries no closer than this to its partner is not the same print.
MAPPING_MAX_RESIDUAL = 0.006


def _overlap(a: Box, b: Box) -> float:
    """The share of the smaller box the two boxes have in common."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


def counterpart(mark: EntryMark, mapping: PageMapping, theirs: Sequence[EntryMark]) -> EntryMark | None:
    """The mark of the other page at `mark`'s place, the one overlapping it most; None when
    the other page kept no mark there (it read no entry and guessed at nothing there)."""
    area = mapping.area(mark.area)
    best, best_overlap = None, MIN_COUNTERPART_OVERLAP
    for other in theirs:
        overlap = _overlap(area, other.area)
        if overlap > best_overlap:
            best, best_overlap = other, overlap
    return best


MIN_COUNTERPART_OVERLAP = 0.5


@dataclass(frozen=True)
class MarkComparison:
    """Two pages' marks at one place compared: the largest share of either mark's strokes, in
    any glyph-wide window, that lies off the other mark's strokes. None of them (within
    MARKS_SAME_WITHIN) is the same print; anything else the marks cannot settle, and the
    readings stand (see MARKS_SAME_WITHIN for why marks never prove two values)."""

    difference: float

    @property
    def same(self) -> bool:
        return self.difference <= MARKS_SAME_WITHIN


# A tenth of a glyph's centre lines may lie off the other's (the spurs thinning leaves on a
# ragged black-and-white stroke). Measured by benchmarks/entry_marks.py (every DejaVu face,
# 9-12 pt, two independent 150-300 dpi scans, half of them black and white at a random
# threshold; fonts no corpus uses): no entry with one digit changed passes, and a quarter of
# the same entry's scans do. The converse does not hold: many of the same entry's scans have
# a stroke the other lacks (broken or run into the next by the threshold), as often as a
# changed digit does, so marks that differ prove nothing.
MARKS_SAME_WITHIN = 0.10


def compare_marks(mark: EntryMark, mapping: PageMapping, other: EntryMark) -> MarkComparison | None:
    """The marks of `mark` (page a) and `other` (page b) compared where their areas overlap;
    None when too little of the word lies in both."""
    area_b = mapping.area(mark.area)
    common = (
        max(area_b[0], other.area[0]),
        max(area_b[1], other.area[1]),
        min(area_b[2], other.area[2]),
        min(area_b[3], other.area[3]),
    )
    if common[2] <= common[0] or common[3] <= common[1]:
        return None
    # The common area in each mark's own pixels (page a's through the inverse mapping).
    a_pixels = _cut(mark, mapping.inverse().area(common))
    b_pixels = _cut(other, common)
    if a_pixels is None or b_pixels is None:
        return None
    height = MARK_HEIGHT
    width = max(4, round(b_pixels.shape[1] * height / b_pixels.shape[0]))
    ink_a = _ink(_resized(a_pixels, (width, height)))
    ink_b = _ink(_resized(b_pixels, (width, height)))
    if ink_a.sum() < 1 or ink_b.sum() < 1:
        return None
    ink_b = _registered(ink_a, ink_b)
    strokes_a, strokes_b = ink_a > 0.5, ink_b > 0.5
    lighter, heavier = sorted((int(strokes_a.sum()), int(strokes_b.sum())))
    thinner, thicker = sorted((_stroke_width(strokes_a), _stroke_width(strokes_b)))
    if lighter < MIN_INK_BALANCE * heavier or thinner < MIN_INK_BALANCE * thicker:
        # One page's print here has mostly faded (a black-and-white scan's threshold set too
        # light drops thin strokes) or run together: what is left cannot say which value it
        # is. Another digit has about as much ink as the one it replaced.
        return None
    return MarkComparison(max(_worst_window(strokes_a, strokes_b), _worst_window(strokes_b, strokes_a)))


def _stroke_width(strokes: np.ndarray) -> float:
    """The strokes' mean width in pixels: their area over the length of their centre lines."""
    length = int(skeletonize(strokes).sum())  # type: ignore[no-untyped-call]
    return float(strokes.sum()) / length if length else 0.0


def _cut(mark: EntryMark, box: Box) -> np.ndarray | None:
    x0, y0, x1, y1 = mark.area
    h, w = mark.pixels.shape
    left = round((box[0] - x0) / (x1 - x0) * w)
    right = round((box[2] - x0) / (x1 - x0) * w)
    top = round((box[1] - y0) / (y1 - y0) * h)
    bottom = round((box[3] - y0) / (y1 - y0) * h)
    left, top = max(0, left), max(0, top)
    right, bottom = min(w, right), min(h, bottom)
    if right - left < 4 or bottom - top < MARK_HEIGHT // 3:
        return None
    return mark.pixels[top:bottom, left:right]


def _resized(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR), np.float64)


def _ink(pixels: np.ndarray) -> np.ndarray:
    """Ink, 0 (paper) to 1 (the mark's darkest strokes): a grey scan and a black-and-white
    one of the same print come out alike, whatever the toner and paper."""
    soft = ndimage.gaussian_filter(pixels, 0.7)
    paper = float(np.percentile(soft, 90))
    dark = float(np.percentile(soft, 1))
    if paper - dark < 30:
        return np.zeros_like(soft)  # blank paper, or a smudge with no stroke in it
    return np.clip((paper - soft) / (paper - dark), 0.0, 1.0)


_SHIFT = 4  # mark pixels two readings' areas may be out of register by after the mapping


def _registered(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """b moved (padded with paper) by the whole-pixel shift within _SHIFT that best fits a."""
    best, best_score = b, -np.inf
    padded = np.pad(b, _SHIFT)
    h, w = b.shape
    for dy in range(-_SHIFT, _SHIFT + 1):
        for dx in range(-_SHIFT, _SHIFT + 1):
            moved = padded[_SHIFT - dy : _SHIFT - dy + h, _SHIFT - dx : _SHIFT - dx + w]
            score = float((a * moved).sum())
            if score > best_score:
                best, best_score = moved, score
    return best


def _worst_window(a: np.ndarray, b: np.ndarray) -> float:
    """The largest share of a's strokes, in any window about one glyph wide where both marks
    hold print, lying more than STROKE_SLACK off b's strokes, both thinned to their centre
    lines: a bolder or fainter scan of the same print (a black-and-white scanner's
    threshold) has the same centre lines, and a stroke one digit has and another lacks lies
    off them. (Measured off b's strokes themselves, a bold face's 8 lies inside its 6.) A
    window only one mark has print in is a stroke the scan lost (a thin slash, a faint
    digit): it says nothing of what was printed there."""
    centre: np.ndarray = skeletonize(a)  # type: ignore[no-untyped-call]
    other: np.ndarray = skeletonize(b)  # type: ignore[no-untyped-call]
    if not other.any():
        return 1.0
    off = centre & (ndimage.distance_transform_edt(~other) > STROKE_SLACK)
    window = min(max(3, round(MARK_HEIGHT * GLYPH_WIDTH)), a.shape[1])
    kernel = np.ones(window)

    def per_window(x: np.ndarray) -> np.ndarray:
        return np.convolve(x.sum(axis=0).astype(np.float64), kernel, mode="valid")

    missing, present, theirs = per_window(off), per_window(centre), per_window(other)
    both = (present >= MIN_WINDOW_STROKE * MARK_HEIGHT) & (theirs >= MIN_WINDOW_STROKE * MARK_HEIGHT)
    if not both.any():
        return 1.0  # no glyph both marks hold: nothing to say they are the same
    return float((missing[both] / present[both]).max())


MIN_INK_BALANCE = 0.6  # the lighter mark's share of the heavier's stroke pixels, at least
STROKE_SLACK = 1.5  # mark pixels a centre line may lie off the other page's strokes
GLYPH_WIDTH = 0.3  # a digit's width as a share of MARK_HEIGHT (its box is half the height)
MIN_WINDOW_STROKE = 0.5  # centre-line pixels, as a share of MARK_HEIGHT: more than a slash's
