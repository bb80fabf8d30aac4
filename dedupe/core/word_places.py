"""Where on a page each word was read, and which marks two readings agree on.

A rescan's blur, its paper grain and a small registration error move printed marks more
than the sharper area check forgives (dedupe.core.verify), so an area can differ in pixels
while holding exactly the same words. Where both readings hold the same word at the same
place, what is printed there is the same; only marks no agreed word covers (an entry one
reading missed, a tick, a stamp, a signature) can still make two pages two records.

A place is a word's box as shares of its page's width and height (0..1, from the top left),
on the upright, straightened page the fingerprint is of: Tesseract's word boxes for an OCR
reading, PDFium's character boxes for a text layer. Stored as text, one word a line:
"x0 y0 x1 y1 word", the box in thousandths.

Plain Python: no Django, no images.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dedupe.core.page_text import same_word, word_key, words

_SCALE = 1000
# Two readings put one word at the same place when its centres are this close, as a share of
# the page's width and height: a straightened rescan sits within a few pixels of the original
# (a 2 % margin is 22 px on a 1100-px page, some two lines of 10-pt print in height).
SAME_PLACE = 0.02


@dataclass(frozen=True)
class WordPlace:
    word: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as shares of the page's sides

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2


def encode(places: Iterable[WordPlace]) -> str:
    lines = []
    for place in places:
        if not place.word or any(c.isspace() for c in place.word):
            continue  # a word is one token; a box is nothing without one
        x0, y0, x1, y1 = (min(_SCALE, max(0, round(v * _SCALE))) for v in place.box)
        lines.append(f"{x0} {y0} {x1} {y1} {place.word}")
    return "\n".join(lines)


def decode(stored: str) -> list[WordPlace]:
    """The places `encode` wrote; a line that does not parse is skipped (it only costs a word)."""
    places = []
    for line in stored.splitlines():
        parts = line.split(" ", 4)
        if len(parts) != 5:
            continue
        try:
            x0, y0, x1, y1 = (int(v) / _SCALE for v in parts[:4])
        except ValueError:
            continue
        places.append(WordPlace(parts[4], (x0, y0, x1, y1)))
    return places


def rotated(places: Sequence[WordPlace], angle: float, size: tuple[int, int]) -> list[WordPlace]:
    """The places on a page of `size` (width, height) px turned `angle` degrees clockwise
    about its centre, the frame kept (as dedupe.core.deskew.straightened turns a page)."""
    if not angle:
        return list(places)
    w, h = size
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    out = []
    for place in places:
        cx, cy = place.centre
        dx, dy = (cx - 0.5) * w, (cy - 0.5) * h
        # Clockwise on the screen, where y grows downwards.
        nx, ny = 0.5 + (dx * cos - dy * sin) / w, 0.5 + (dx * sin + dy * cos) / h
        half_w, half_h = (place.box[2] - place.box[0]) / 2, (place.box[3] - place.box[1]) / 2
        out.append(WordPlace(place.word, (nx - half_w, ny - half_h, nx + half_w, ny + half_h)))
    return out


def quarter_turned(places: Sequence[WordPlace], turns: int) -> list[WordPlace]:
    """The places on the page turned `turns` quarter turns counter-clockwise (numpy's rot90)."""
    out = list(places)
    for _ in range(turns % 4):
        out = [WordPlace(p.word, (p.box[1], 1 - p.box[2], p.box[3], 1 - p.box[0])) for p in out]
    return out


def agreed(a: Sequence[WordPlace], b: Sequence[WordPlace]) -> tuple[list[WordPlace], list[WordPlace]]:
    """The places of a and of b whose word the other reading holds at the same place (see
    SAME_PLACE), by the page_text rules: entries by their characters, other words within OCR's
    slips."""
    keyed_b = [(word_key(token), p) for p in b for token in words(p.word)]
    agreed_a: list[WordPlace] = []
    agreed_b: dict[int, WordPlace] = {}
    for place in a:
        tokens = words(place.word)
        if not tokens:
            continue
        cx, cy = place.centre
        partners = []
        for token in tokens:
            key = word_key(token)
            match = next(
                (
                    q
                    for k, q in keyed_b
                    if abs(q.centre[0] - cx) <= SAME_PLACE + _half_width(place, q)
                    and abs(q.centre[1] - cy) <= SAME_PLACE
                    and same_word(key, k)
                ),
                None,
            )
            if match is None:
                break
            partners.append(match)
        else:
            agreed_a.append(place)
            for q in partners:
                agreed_b[id(q)] = q
    return agreed_a, list(agreed_b.values())


def _half_width(p: WordPlace, q: WordPlace) -> float:
    # One reading may split "24-118," into tokens the other reads as one word: their centres
    # then differ along the line by up to half the longer word.
    return max(p.box[2] - p.box[0], q.box[2] - q.box[0]) / 2
