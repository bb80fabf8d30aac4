"""Straightening a scanned page: how far its lines of print are tilted, and the page turned back.

A page fed into a scanner a little crooked comes out turned by a degree or two. It is the
same record, but its marks sit up to ~20 px (of a 640-px view) from where the original's
are, farther than the area checks that tell one filled-in form from another may shift
(dedupe.core.verify). Measuring the tilt and turning the page back before anything is hashed
puts a crooked rescan and its original on the same grid, as OSD's quarter turns do for a
page fed sideways.

The tilt is found by projection profiles, the classical method: rows of print are sharpest
(the row sums of ink most uneven) when they are projected along the angle the page is tilted
by. Plain numpy on the ink pixels' coordinates; no image is turned while searching.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

# Tilts searched, degrees either way: a scanner's feed or a hand on a flatbed turns a page
# by 0-2 degrees; more is a photo of a page, which the keypoint check is for.
MAX_SKEW_DEGREES = 3.0
# Below this the page is left as it is: resampling blurs more than such a tilt moves (0.15
# degrees shifts a 640-px view's corner by under 1 px).
MIN_SKEW_DEGREES = 0.15
# The page is measured at this size (longest side): one pixel there is a 0.1-degree tilt
# across its width; the profiles of many rows resolve the search's 0.05-degree last step
# (measured on rendered pages turned by 0.5-2 degrees: within 0.05, as at 1000 px, in half
# the time: 14 ms a page).
_MEASURE_SIZE = 700
_COARSE_STEP = 0.25
_FINE_STEP = 0.05
# Ink pixels used for the profiles at most (a sample, evenly spaced): enough for rows of
# 10-pt print; a dense page costs no more than a sparse one.
_MAX_POINTS = 50_000
# At least this many ink pixels, or the page has too little print to say how it is tilted.
_MIN_POINTS = 2_000
# The best tilt must sharpen the profile by this share over leaving the page as it is, or the
# page is taken as straight: a drawing or a page of scattered marks has no rows to align.
_MIN_GAIN = 0.02


def otsu_threshold(pixels: np.ndarray) -> int:
    """The grey level that best splits an 8-bit picture's pixels in two (Otsu's method):
    pixels below it are ink, at or above it paper."""
    counts = np.bincount(pixels.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(counts)
    total = weight[-1]
    mean = np.cumsum(counts * levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean[-1] * weight - mean * total) ** 2 / (weight * (total - weight))
    between = np.nan_to_num(between[:-1], nan=-1.0)
    if between.max() <= 0:
        return 0  # one grey level only (a blank page): nothing is ink
    return int(np.argmax(between)) + 1


def ruling_lines(ink: np.ndarray, min_share: float) -> np.ndarray:
    """The ink pixels that lie on a straight run across or down at least `min_share` of the
    page's longest side: a form's boxes, underlines, table borders (far longer than any
    stroke of a letter)."""
    run = max(3, round(max(ink.shape) * min_share)) | 1  # odd: the window has a centre
    rules = np.zeros(ink.shape, dtype=bool)
    for axis in (0, 1):
        # A morphological opening along one axis (erode, then dilate by the same run), by
        # running minimum and maximum filters: linear in the page's size whatever the run.
        kept = ndimage.minimum_filter1d(ink, run, axis=axis, mode="constant", cval=0)
        rules |= ndimage.maximum_filter1d(kept, run, axis=axis, mode="constant", cval=0).astype(bool)
    return rules


def paper_tone(pixels: np.ndarray) -> int:
    """The grey level of a page's paper: most of a page is paper, so the 90th percentile."""
    return int(np.percentile(pixels, 90))


def skew_angle(page: Image.Image) -> float:
    """Degrees the page's print is tilted counter-clockwise (negative: clockwise), 0.0 when
    it is straight, within MIN_SKEW_DEGREES, or has too little print to tell."""
    gray = page.convert("L")
    scale = min(1.0, _MEASURE_SIZE / max(gray.size))
    if scale < 1.0:
        gray = gray.resize(
            (max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.Resampling.BOX
        )
    pixels = np.asarray(gray)
    ys, xs = np.nonzero(pixels < otsu_threshold(pixels))
    if len(ys) < _MIN_POINTS:
        return 0.0
    step = max(1, len(ys) // _MAX_POINTS)
    ys, xs = ys[::step].astype(np.float64), xs[::step].astype(np.float64)

    def sharpness(angle: float) -> float:
        # A row tilted counter-clockwise by `angle` rises to the right: y + x tan(angle) is
        # constant along it.
        rows = np.rint(ys + xs * np.tan(np.radians(angle))).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float((counts.astype(np.float64) ** 2).sum())

    coarse = np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 1e-9, _COARSE_STEP)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - _COARSE_STEP, best + _COARSE_STEP + 1e-9, _FINE_STEP)
    best = float(max(fine, key=sharpness))
    if abs(best) < MIN_SKEW_DEGREES or sharpness(best) < sharpness(0.0) * (1 + _MIN_GAIN):
        return 0.0
    return round(best, 2)


def straightened(page: Image.Image, angle: float) -> Image.Image:
    """The page turned back by `angle` (skew_angle's), the same size, corners filled with
    the paper's own tone."""
    if not angle:
        return page
    paper = paper_tone(np.asarray(page.convert("L")))
    fill: int | tuple[int, ...] = paper if page.mode == "L" else (paper,) * len(page.getbands())
    return page.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill)
