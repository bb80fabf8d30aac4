"""Entries two readings disagree about, settled by what is printed where they stand.

Two readings of one sheet disagree about an entry when OCR misread it on one of them ("1555)"
for "(555)"). Where both pages kept the marks of their entries (dedupe.core.entry_marks), the
pages are mapped onto each other by the words both read alike, and each entry whose reading
differs from the other page's at its place is looked at: when the marks are the same print,
neither reading tells the pages apart, and the evidence says what OCR misread. Marks that
differ settle nothing (a degraded scan's strokes differ as often as a changed digit's), so
the readings stand, as they do for every entry with no mark at the other page's place. Two
text layers hold every word exactly, so their entries need no settling.

Plain Python: no Django.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dedupe.core.entry_marks import Box, compare_marks, counterpart, decode, page_mapping
from dedupe.core.page_text import PageWords, word_key, words
from dedupe.core.word_places import WordPlace
from dedupe.core.word_places import decode as decode_places

# Words at least this long that each page read once, exactly alike, anchor the mapping of one
# page onto the other: long enough that two of them are rarely the same word by chance.
ANCHOR_MIN_LENGTH = 3


@dataclass(frozen=True)
class Settlement:
    """What the marks said about the entries the two readings disagree on."""

    # Entry keys (page_text.word_key) of each page whose marks are the other page's print.
    settled_a: frozenset[str] = frozenset()
    settled_b: frozenset[str] = frozenset()
    # (page a's entry, page b's entry) read differently at one place, with the same marks.
    misread: tuple[tuple[str, str], ...] = ()

    def words(self, a: PageWords, b: PageWords) -> tuple[PageWords, PageWords]:
        """The two readings with the settled entries marked as such."""
        return replace(a, settled=self.settled_a), replace(b, settled=self.settled_b)


def settle_entries(
    places_a: str, marks_a: bytes, read_a: PageWords, places_b: str, marks_b: bytes, read_b: PageWords
) -> Settlement:
    """Compare the marks of every entry of either page whose reading the other page's reading
    at the same place does not share (see the module docstring)."""
    if (read_a.complete and read_b.complete) or not marks_a or not marks_b:
        return Settlement()
    mapping = page_mapping(_anchors(decode_places(places_a), decode_places(places_b)))
    if mapping is None:
        return Settlement()  # not one sheet in one frame: the pixels decide as before
    ma, mb = decode(marks_a), decode(marks_b)
    keys_a, keys_b = _entry_keys(read_a), _entry_keys(read_b)
    settled_a: set[str] = set()
    settled_b: set[str] = set()
    misread: dict[str, tuple[str, str]] = {}
    for mine, theirs, forward, their_keys in ((ma, mb, mapping, keys_b), (mb, ma, mapping.inverse(), keys_a)):
        for mark in mine:
            keys = _keys(mark.word)
            if keys <= their_keys:
                continue  # the other page read this entry too: the text already agrees
            other = counterpart(mark, forward, theirs)
            if other is None or _keys(other.word) == keys:
                continue
            compared = compare_marks(mark, forward, other)
            if compared is None or not compared.same:
                continue
            a_word, b_word = (mark.word, other.word) if mine is ma else (other.word, mark.word)
            settled_a |= _keys(a_word)
            settled_b |= _keys(b_word)
            misread.setdefault(a_word, (a_word, b_word))
    return Settlement(frozenset(settled_a), frozenset(settled_b), tuple(misread.values()))


def _entry_keys(read: PageWords) -> set[str]:
    return _keys(f"{read.text} {read.guesses}")


def _keys(text: str) -> set[str]:
    """The entry keys of `text` as dedupe.core.page_text compares words ("1555)010-2000" is
    two entries, 1555 and 010-2000)."""
    return {word_key(w) for w in words(text) if any(c.isdigit() for c in w)}


def _anchors(a: Sequence[WordPlace], b: Sequence[WordPlace]) -> list[tuple[Box, Box]]:
    """(box on a, box on b) of the words each page read exactly once, alike."""
    count_a, count_b = Counter(p.word for p in a), Counter(p.word for p in b)
    only_b = {p.word: p.box for p in b if count_b[p.word] == 1}
    return [
        (p.box, only_b[p.word])
        for p in a
        if count_a[p.word] == 1 and len(p.word) >= ANCHOR_MIN_LENGTH and p.word in only_b
    ]
