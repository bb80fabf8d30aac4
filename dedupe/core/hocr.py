"""Tesseract's hOCR reading of a page: its words, where they are, and what else each
character might have been.

Tesseract's LSTM weighs several characters at every position before it settles on one; with
`lstm_choice_mode=2` its hOCR keeps them, each with its confidence. A rescan's "6681" whose
last digit Tesseract also took for a "2" at 40 % is not evidence of another phone number
against a page that reads 6682 (dedupe.core.page_text), while a "6681" it never doubted is.
image_to_data gives words and boxes but not the alternatives; hOCR gives all three in one
reading. It costs about a tenth more: benchmarks/pdf_pages.py read 1.59 scans a second
against 1.78 through image_to_data, in one run (parsing the hOCR takes 8 ms a page).

Plain Python: no Django, no images.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

# Tesseract's configuration for the reading: every character's alternatives, in hOCR.
HOCR_CONFIG = "-c lstm_choice_mode=2 -c hocr_char_boxes=1"

_XHTML = "{http://www.w3.org/1999/xhtml}"
_LINE_CLASSES = frozenset({"ocr_line", "ocr_caption", "ocr_textfloat", "ocr_header"})
_BBOX = re.compile(r"bbox\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)")
_WCONF = re.compile(r"x_wconf\s+(-?[\d.]+)")
_CONFS = re.compile(r"x_confs?\s+(-?[\d.]+)")


@dataclass(frozen=True)
class ReadCharacter:
    """One character as read, and every character Tesseract weighed for its place with its
    confidence (0-100), the chosen one among them, best first."""

    text: str
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ReadWord:
    """One word as read: its text, Tesseract's confidence in it (0-100), its box in page
    pixels (left, top, right, bottom), the line it is on, and its characters."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]
    line: int
    characters: tuple[ReadCharacter, ...] = ()


def parse_hocr(document: bytes) -> list[ReadWord]:
    """The words of a Tesseract hOCR document in reading order.

    Raises ValueError when the document is not well-formed XML."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise ValueError(f"Tesseract's hOCR could not be read: {exc}") from exc
    read: list[ReadWord] = []
    for line_number, line in enumerate(
        span for span in root.iter(f"{_XHTML}span") if span.get("class") in _LINE_CLASSES
    ):
        for word in line.iter(f"{_XHTML}span"):
            if word.get("class") != "ocrx_word":
                continue
            text = _word_text(word)
            box = _BBOX.search(word.get("title", ""))
            confidence = _WCONF.search(word.get("title", ""))
            if not text.strip() or box is None:
                continue
            read.append(
                ReadWord(
                    text=text.strip(),
                    confidence=float(confidence.group(1)) if confidence else 0.0,
                    box=(int(box.group(1)), int(box.group(2)), int(box.group(3)), int(box.group(4))),
                    line=line_number,
                    characters=_characters(word),
                )
            )
    return read


def _word_text(word: ET.Element) -> str:
    """The chosen characters of a word read with its character boxes, else its text."""
    chosen = [c.text or "" for c in word if c.get("class") == "ocrx_cinfo" and not _is_choices(c)]
    return "".join(chosen) if chosen else "".join(word.itertext())


def _is_choices(span: ET.Element) -> bool:
    return (span.get("id") or "").startswith("lstm_choices")


def _characters(word: ET.Element) -> tuple[ReadCharacter, ...]:
    """The word's characters, each followed in the hOCR by the span of its choices."""
    characters: list[ReadCharacter] = []
    for span in word:
        if span.get("class") != "ocrx_cinfo":
            continue
        if _is_choices(span) and characters:
            choices = []
            for choice in span:
                confidence = _CONFS.search(choice.get("title", ""))
                if choice.text and confidence:
                    choices.append((choice.text, float(confidence.group(1))))
            choices.sort(key=lambda c: -c[1])
            characters[-1] = ReadCharacter(characters[-1].text, tuple(choices))
        elif not _is_choices(span):
            characters.append(ReadCharacter(span.text or ""))
    return tuple(characters)
