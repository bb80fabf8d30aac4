"""Which of two document pages' differing areas hold only marks both pages agree on.

The sharper area check (dedupe.core.verify) compares two pages' 640-px views area by area,
and a rescan's blur and paper grain can lower an area's correlation as far as one changed
line does: the pixels alone cannot tell them apart at that size. The words can. An area
whose every mark, on both pages, is either a word both readings hold at the same place
(dedupe.core.word_places) or a ruling line both pages have there, differs only in how it
was printed or scanned: the same words are at the same places. An area with ink no agreed
word or shared line covers (an entry one reading missed, a tick, a stamp, a signature) is
left to the pixels, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from dedupe.core.deskew import otsu_threshold, paper_tone, ruling_lines
from dedupe.core.word_places import WordPlace, agreed

# A form's ruling lines in a view: straight runs of ink at least this share of its longest
# side (as OCR removes them, dedupe.core.ocr.RULE_MIN_SHARE).
_RULE_MIN_SHARE = 1 / 36
# View pixels a word's box is widened by on every side: a box is tight around the glyphs,
# and a blurred scan's ink spreads a pixel or two beyond them.
_BOX_MARGIN = 2
# View pixels around each page's lines within which the other's must lie for a line to be
# shared, and its ragged edge with it.
_LINE_MARGIN = 2


def explained_areas(
    view_a: np.ndarray,
    view_b: np.ndarray,
    areas: Sequence[tuple[slice, slice]],
    places_a: Sequence[WordPlace],
    places_b: Sequence[WordPlace],
    unexplained_limit: float,
) -> list[bool]:
    """For each area (rows, columns of the views): whether at most `unexplained_limit` of
    its ink, on each page, lies outside the words both readings hold there and the lines
    both pages have there.

    view_b and places_b are in view_a's frame (turned, resized and registered to it)."""
    if not areas:
        return []  # every differing area is left to the pixels: no masks to make
    ink_a, ink_b = _ink(view_a), _ink(view_b)
    rules_a, rules_b = _lines(view_a), _lines(view_b)
    # Where both pages have a line: near a line of each, so that a blurred line's ragged
    # edge (ink, but not itself a long run) counts with its line.
    near = 2 * _LINE_MARGIN + 1
    shared_lines = ndimage.maximum_filter(rules_a, size=near) & ndimage.maximum_filter(rules_b, size=near)
    agreed_a, agreed_b = agreed(places_a, places_b)
    unexplained_a = ink_a & ~shared_lines & ~_boxes_mask(agreed_a, view_a.shape)
    unexplained_b = ink_b & ~shared_lines & ~_boxes_mask(agreed_b, view_b.shape)
    out = []
    for rows, cols in areas:
        shares = [
            unexplained[rows, cols].sum() / max(int(ink[rows, cols].sum()), 1)
            for ink, unexplained in ((ink_a, unexplained_a), (ink_b, unexplained_b))
        ]
        out.append(max(shares) <= unexplained_limit)
    return out


def _ink(view: np.ndarray) -> np.ndarray:
    pixels = np.asarray(view, dtype=np.uint8)
    return pixels < otsu_threshold(pixels)


def _lines(view: np.ndarray) -> np.ndarray:
    """The view's ruling lines, faint ones included: a thin grey line (a signature line, a
    light table border) that one scan prints darker than the ink threshold and another
    lighter is still one line on both. Marks halfway from the paper's tone to the ink
    threshold count here."""
    pixels = np.asarray(view, dtype=np.uint8)
    faint = (int(paper_tone(pixels)) + otsu_threshold(pixels)) / 2
    return ruling_lines(pixels < faint, _RULE_MIN_SHARE)


def _boxes_mask(places: Sequence[WordPlace], shape: tuple[int, ...]) -> np.ndarray:
    h, w = shape[:2]
    mask = np.zeros((h, w), dtype=bool)
    m = _BOX_MARGIN
    for place in places:
        x0, y0, x1, y1 = place.box
        mask[
            max(0, int(y0 * h) - m) : min(h, int(np.ceil(y1 * h)) + m),
            max(0, int(x0 * w) - m) : min(w, int(np.ceil(x1 * w)) + m),
        ] = True
    return mask
