"""Reading a scanned page with Tesseract: which way up it is, then its words.

A page scanned sideways or upside down is still the same record, and its words are what a
clerk searches for. Tesseract's orientation and script detection (OSD) says how far the
page is turned; the page is turned upright (the hashes are computed on the upright page),
then its text is read in English and Spanish. Tesseract is Debian's (tesseract-ocr with
the eng, spa and osd data, installed by `make`), called through pytesseract, one page at a
time, in the worker that fingerprints the page. Photographs are never read: only pages
the fingerprint finds document-like, and only when the page has no text layer of its own.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pytesseract
from PIL import Image
from scipy import ndimage

from dedupe.core.deskew import otsu_threshold, paper_tone, ruling_lines, skew_angle, straightened
from dedupe.core.entry_marks import EntryMark, marks_of
from dedupe.core.hocr import HOCR_CONFIG, ReadWord, parse_hocr
from dedupe.core.word_places import WordPlace

# One thread per Tesseract: the workers already read one page per process on every core,
# and Tesseract's own OpenMP threads on top of them only contend (load 4.7 on 2 cores, seen).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

# The languages a page's words are read in (Tesseract's data names).
OCR_LANGUAGES = "eng+spa"
# OSD and OCR read a page at most this large (longest side): a letter page at 200 dpi.
# OSD needs it too: at 1100 px a sideways page of noisy 12-pt print gets confidence < 1.
OCR_MAX_SIZE = 2200
# A page whose print is smaller than this (the height of its tall letters, in pixels, once
# fitted to OCR_MAX_SIZE) is enlarged until it is this tall, at most OCR_MAX_ENLARGEMENT
# times: Tesseract's error rate climbs steeply as capitals fall below ~20 px (Tesseract's
# ImproveQuality notes; Willus Dotkom's resolution tests put its best near 30 px). A 10-pt
# letter at 150 dpi has 16-px capitals, and a black-and-white scan at that size loses the
# strokes that tell 3 from 8 and ( from 1.
OCR_MIN_TEXT_HEIGHT = 20.0
OCR_MAX_ENLARGEMENT = 2.0
# Below this OSD confidence the page is left as it is: a turn on a guess would turn a
# form with little text, or a drawing, the wrong way. Tesseract reports ~2-15 for pages
# with a few lines of text and under 1 for pages with almost none.
OSD_MIN_CONFIDENCE = 1.5

# A page read as it is with at least this mean word confidence (0-100), and at least this
# many words, is taken as upright without orientation detection, which costs as much as the
# reading itself. Measured: upright 200-dpi scans of forms and letters read at 85-95; the
# same pages on their side or upside down at 30-60, with a handful of "words".
UPRIGHT_WORD_CONFIDENCE = 75.0
UPRIGHT_MIN_WORDS = 8

# Ruling lines (a form's boxes, underlines, table borders) are removed before reading: with
# them, Tesseract's layout analysis takes a boxed field for a picture and skips what is
# written in it (measured on a generated incident form rescanned at 200 dpi: every entry in
# its boxes missed, all of them read once the lines are gone). A line is a run of dark
# pixels at least this share of the page's longest side (60 px at 2200), straight across or
# down: far longer than any stroke of a letter, shorter than a box's side.
RULE_MIN_SHARE = 1 / 36

# Words Tesseract reads with less confidence than this (0-100) are left out of the page's
# text: they are its guesses, and a guess at a case number must not count as a different
# case number (dedupe.core.page_text). Measured on generated forms rescanned at 150-300 dpi:
# words read right score 70-96; a field misread ("12.09.2023" for 12/09/2023, a box's edge
# read into a phone number) 4-36.
MIN_WORD_CONFIDENCE = 50.0

# A character Tesseract also weighed as another with at least this confidence (0-100) is
# doubted: the other character is kept beside it (alternatives_pattern), and an entry that
# reads as the other page's once the doubt is allowed is not a different value. Set, not
# tuned: with it the tuning corpus's rescans went from 0.950 to 0.988 and its one-digit
# negatives stayed apart; the held-out corpus did not change (benchmarks/accuracy.py).
ALTERNATIVE_MIN_CONFIDENCE = 20.0

_TURN_WORDS = {
    90: "scanned sideways; text reads upright after a quarter turn clockwise",
    180: "scanned upside down; text reads upright after a half turn",
    270: "scanned sideways; text reads upright after a quarter turn counter-clockwise",
}


class OcrUnavailable(Exception):
    """Tesseract is not installed or failed to start; the message says which."""


@dataclass(frozen=True)
class PageReading:
    """What Tesseract read on one page."""

    turn: int  # degrees clockwise that make the page upright: 0, 90, 180 or 270
    text: str  # the words of the upright page, "" when none were read
    orientation_confidence: float | None  # OSD's, None when OSD found too little text
    guesses: str = ""  # words read below MIN_WORD_CONFIDENCE, space-separated
    # Where each confident word is, on the upright page straightened by `skew`.
    places: tuple[WordPlace, ...] = ()
    skew: float = 0.0  # degrees the upright page was straightened by before it was read
    # The entries (guesses too) Tesseract doubted a character of, as ocr.alternatives_pattern
    # writes them ("2[53]-[06]76"), space-separated.
    alternatives: str = ""
    # What is printed at each entry and guess, on the page as read (dedupe.core.entry_marks).
    marks: tuple[EntryMark, ...] = ()


def turn_words(turn: int) -> str:
    """The clerk's sentence for a page the engine turned upright by its text ("" for none)."""
    return _TURN_WORDS.get(turn % 360, "")


def upright_turn(image: Image.Image) -> tuple[int, float | None]:
    """How many degrees clockwise turn the page upright, by OSD, and OSD's confidence.

    0 with confidence None when OSD cannot tell (too few characters: a photo, a blank
    page), and 0 when it is not confident enough to turn the page (OSD_MIN_CONFIDENCE).
    """
    small = sized_for_reading(image.convert("L"))
    try:
        with _page_file(small) as path:
            osd = pytesseract.image_to_osd(path, output_type=pytesseract.Output.DICT, config="--psm 0")
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable("Tesseract is not installed (Debian: tesseract-ocr, tesseract-ocr-osd)") from exc
    except pytesseract.TesseractError:
        return 0, None  # "Too few characters", or an image OSD cannot use
    confidence = float(osd.get("orientation_conf", 0.0))
    turn = int(osd.get("rotate", 0)) % 360
    return (turn if confidence >= OSD_MIN_CONFIDENCE else 0), confidence


def turned_upright(image: Image.Image, turn: int) -> Image.Image:
    """`image` turned `turn` degrees clockwise (PIL turns counter-clockwise)."""
    return image.rotate(-turn, expand=True) if turn % 360 else image


@dataclass(frozen=True)
class _Words:
    text: str  # the confident words, line by line
    guesses: str  # the others, space-separated
    confidence: float  # mean word confidence, 0 for a page lying on its side
    places: tuple[WordPlace, ...] = ()  # the confident words' boxes
    alternatives: str = ""  # the entries' alternatives_patterns (guesses' too), space-separated
    marks: tuple[EntryMark, ...] = ()  # the entries' and guesses' marks


def _read_words(image: Image.Image) -> _Words:
    """The page's words line by line (those read with MIN_WORD_CONFIDENCE; the rest as
    guesses), and Tesseract's mean confidence in all it read (0-100): 0 when most longer
    words stand taller than wide, as on a page lying on its side (Tesseract reads vertical
    lines well, but the page must still be turned upright to be hashed)."""
    page = without_rules(sized_for_reading(image.convert("L")))
    try:
        with _page_file(page) as path:
            hocr = pytesseract.image_to_pdf_or_hocr(
                path, lang=OCR_LANGUAGES, extension="hocr", config=HOCR_CONFIG
            )
        read = parse_hocr(hocr)
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable("Tesseract is not installed (Debian: tesseract-ocr)") from exc
    except (pytesseract.TesseractError, ValueError):
        return _Words("", "", 0.0)
    lines: dict[int, list[str]] = {}
    guesses: list[str] = []
    places: list[WordPlace] = []
    every_place: list[WordPlace] = []  # guesses' too, for their marks
    alternatives: list[str] = []
    standing = lying = 0
    for word in read:
        left, top, right, bottom = word.box
        box = (left / page.width, top / page.height, right / page.width, bottom / page.height)
        every_place.append(WordPlace(word.text, box))
        if word.confidence >= MIN_WORD_CONFIDENCE:
            lines.setdefault(word.line, []).append(word.text)
            places.append(WordPlace(word.text, box))
        else:
            guesses.append(word.text)
        pattern = alternatives_pattern(word)
        if pattern:
            alternatives.append(pattern)
        if len(word.text) >= 3:
            standing += bottom - top > right - left
            lying += right - left >= bottom - top
    text = "\n".join(" ".join(words) for words in lines.values())
    confidence = sum(w.confidence for w in read) / len(read) if read and standing <= lying else 0.0
    marks = marks_of(page, every_place, kept=guesses) if confidence else ()
    return _Words(text, " ".join(guesses), confidence, tuple(places), " ".join(alternatives), marks)


def alternatives_pattern(word: ReadWord) -> str:
    """An entry's characters with what else Tesseract took each for, "" when it weighed
    nothing else (ALTERNATIVE_MIN_CONFIDENCE) or the word has no digit: "2[53]-[06]76" is
    "25-076" read, with a 3 weighed for its second digit and a 6 for its fourth."""
    if not any(c.isdigit() for c in word.text) or not word.characters:
        return ""
    pattern, doubted = [], False
    for character in word.characters:
        if any(c in "[] " for c in character.text):
            return ""  # a bracket or a space read would make the pattern ambiguous
        others = [
            alt for alt, conf in character.alternatives
            if conf >= ALTERNATIVE_MIN_CONFIDENCE and alt != character.text and alt.strip() and alt not in "[] "
        ]  # fmt: skip
        if others:
            doubted = True
            pattern.append("[" + "".join(dict.fromkeys([character.text, *others])) + "]")
        else:
            pattern.append(character.text)
    return "".join(pattern) if doubted else ""


def without_rules(gray: Image.Image) -> Image.Image:
    """The page with its ruling lines painted over in paper white (see RULE_MIN_SHARE).

    Dark is below the threshold that best splits the page's grey levels in two (Otsu's), so
    grey toner on a grey paper scan counts as ink as black print on white does."""
    pixels = np.asarray(gray)
    if min(pixels.shape) < 3:
        return gray
    rules = ruling_lines(pixels < otsu_threshold(pixels), RULE_MIN_SHARE)
    if not rules.any():
        return gray
    # A pixel either side too: a scanned line's soft edge would otherwise stay as a faint line.
    rules = ndimage.maximum_filter(rules, size=3)
    cleaned = pixels.copy()
    cleaned[rules] = paper_tone(pixels)
    return Image.fromarray(cleaned)


def read_page(image: Image.Image) -> PageReading:
    """Turn the page upright by its text, straighten it, then read it.

    A worker reads the same pixels once: a page also gathered as another file with the same
    pixels (a re-saved scan) gets the reading kept from the last READINGS_KEPT pages."""
    key = hashlib.sha256(f"{image.mode}{image.size}".encode() + image.tobytes()).hexdigest()
    if key in _readings:
        _readings.move_to_end(key)
        return _readings[key]
    gray = image.convert("L")
    # Most pages arrive upright: read them as they are, and ask OSD which way up only when
    # Tesseract is unsure of what it read (a page on its side or upside down reads as noise).
    read, skew = _read_straightened(gray)
    if _reads_upright(read):
        reading = PageReading(
            0, read.text, None, read.guesses, read.places, skew, read.alternatives, read.marks
        )
    else:
        turn, confidence = upright_turn(gray)
        if turn:
            read, skew = _read_straightened(turned_upright(gray, turn))
        if not _reads_upright(read) and (
            turn or (confidence is not None and confidence < OSD_MIN_CONFIDENCE)
        ):
            # OSD turned the page and it still reads as noise, or OSD could not tell: OSD was
            # wrong or unsure, so the other ways up are read. (A page OSD is sure is upright
            # but reads poorly is a poor scan: reading it turned would only cost time.)
            turn, read, skew = _read_turned_until_upright(gray, turn, read, skew)
        reading = PageReading(
            turn, read.text, confidence, read.guesses, read.places, skew, read.alternatives, read.marks
        )
    _readings[key] = reading
    if len(_readings) > READINGS_KEPT:
        _readings.popitem(last=False)
    return reading


def _read_turned_until_upright(
    gray: Image.Image, tried: int, read: _Words, skew: float
) -> tuple[int, _Words, float]:
    """The page read turned each way not yet read (as it is, and `tried`), half a turn
    first, until it reads as upright print does; else `tried`'s reading. Measured on the
    document corpus's permit printed upside down and rescanned: OSD's confidence 0.62, the
    page as it is read at 48 (73 "words"), half-turned at 94. At most three more readings,
    only for pages OSD turned or was unsure of; a near-blank page reads quickly."""
    for turn in (180, 90, 270):
        if turn == tried:
            continue
        turned, turned_skew = _read_straightened(turned_upright(gray, turn))
        if _reads_upright(turned):
            return turn, turned, turned_skew
    return tried, read, skew


def _reads_upright(read: _Words) -> bool:
    return read.confidence >= UPRIGHT_WORD_CONFIDENCE and len(read.text.split()) >= UPRIGHT_MIN_WORDS


def _read_straightened(gray: Image.Image) -> tuple[_Words, float]:
    """The page's words read once it is straightened, and the tilt it was straightened by.

    Tesseract reads a crooked line of print far worse than a straight one: measured on the
    accuracy corpus's rescans tilted 1-2 degrees, the share of the born-digital page's words
    read rose from 0.55-0.97 to 0.96-1.00 once straightened, and a confident misread of a
    time ("12:99" for 12:59) went away. A page lying on its side has no rows across to
    measure; it is straightened after OSD has turned it."""
    skew = skew_angle(gray)
    return _read_words(straightened(gray, skew)), skew


READINGS_KEPT = 256  # some 50 KB of text, against ~2 s of Tesseract for each page read again
_readings: OrderedDict[str, PageReading] = OrderedDict()


@contextmanager
def _page_file(gray: Image.Image) -> Iterator[str]:
    """The page as an uncompressed PGM file for Tesseract to read. Given the image itself,
    pytesseract writes it as a PNG, and compressing a noisy scan costs more than a third of
    a reading (profiled on the accuracy corpus's letters and permits: 17.6 s of PNG encoding
    in 60 s of fingerprinting, against 28 s of Tesseract)."""
    with tempfile.NamedTemporaryFile(prefix="pd_ocr_", suffix=".pgm", delete=False) as handle:
        path = handle.name
    try:
        gray.save(path, "PPM")
        yield path
    finally:
        os.unlink(path)


def sized_for_reading(gray: Image.Image) -> Image.Image:
    """The page at the size Tesseract reads it: fitted to OCR_MAX_SIZE, then enlarged when
    its print is small (OCR_MIN_TEXT_HEIGHT). Lanczos resampling gives a black-and-white
    scan's stair-stepped edges the grey levels a scanner's grey mode would have kept."""
    page = _fit(gray, OCR_MAX_SIZE)
    height = text_height(page)
    if height is None or height >= OCR_MIN_TEXT_HEIGHT:
        return page
    scale = min(OCR_MIN_TEXT_HEIGHT / height, OCR_MAX_ENLARGEMENT)
    size = (round(page.width * scale), round(page.height * scale))
    return page.resize(size, Image.Resampling.LANCZOS)


def text_height(gray: Image.Image) -> float | None:
    """How tall the page's tall letters (capitals, ascenders) stand, in pixels: the 90th
    percentile of the heights of its letter-sized blobs of ink (the 90th, not the median, so
    the many lower-case letters do not count as the print's size). None when the page has
    too few letter-sized blobs to tell (a blank page, a drawing)."""
    pixels = np.asarray(gray)
    if min(pixels.shape) < 3:
        return None
    labels, count = ndimage.label(pixels < otsu_threshold(pixels))
    if count < TEXT_HEIGHT_MIN_BLOBS:
        return None
    boxes = ndimage.find_objects(labels)
    tall = np.fromiter((b[0].stop - b[0].start for b in boxes), np.int32, len(boxes))
    wide = np.fromiter((b[1].stop - b[1].start for b in boxes), np.int32, len(boxes))
    # Specks of noise are smaller than any letter; rules and pictures larger than one.
    letter_sized = (np.maximum(tall, wide) >= 3) & (np.maximum(tall, wide) <= max(pixels.shape) / 25)
    if np.count_nonzero(letter_sized) < TEXT_HEIGHT_MIN_BLOBS:
        return None
    # Heights, not widths: letters that touch along a line (as a black-and-white scan's
    # often do) make wide blobs, never tall ones. On a page lying on its side this measures
    # the letters' widths, which are smaller: such a page is at worst enlarged more for OSD.
    return float(np.percentile(tall[letter_sized], 90))


TEXT_HEIGHT_MIN_BLOBS = 40  # a line or two of print


def _fit(image: Image.Image, longest: int) -> Image.Image:
    if max(image.size) <= longest:
        return image
    scale = longest / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)
