"""Whether two document pages say the same thing: their words compared, OCR's slips forgiven.

Two forms printed on one template share their printed words (the title, the field labels)
and differ in what was filled in: a case number, a name, a date. Those entries are what make
each one its own record, so the comparison looks hardest at them. An entry is a word with a
digit in it (case and parcel numbers, dates, times, amounts, addresses); two entries are the
same when their characters are, after the letters OCR reads for digits are read back as
digits (a rescan's "24-1l8" is "24-118") and separators are dropped ("12.09.2023" is
12/09/2023, "22 10" is not 22:10 but neither is it anything else). One digit is all that
tells case 24-118 from case 24-117, so entries are never matched loosely, with two
exceptions that are OCR's own: a character more or less (a box's edge read as "1", a colon
as "3", a dropped leading zero), and an entry the other page read only as a guess.

What a reading can and cannot say:
- An entry on each page that the other lacks, both read with confidence, is two records:
  "different text: 'Case 24-118' against 'Case 24-207'".
- An entry one page has and the other lacks altogether is two records when both readings
  are complete (a PDF's text layer holds every word). When either page was read by OCR, it
  may have missed the entry, or read a stain as one: the entry is unconfirmed, and the
  pixels decide.
- Everything else is compared as a whole, by the share of words the two pages have in
  common. OCR misreads a letter or two, so plain words match within one edit (two for long
  words).

Plain Python: no Django, no images.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# Pages with fewer words than this on either side are not compared by their text (a photo's
# stray OCR letters, a near-blank page): the pixels decide alone.
MIN_WORDS = 6

_WORD = re.compile(r"[0-9A-Za-zÀ-ÿ][0-9A-Za-zÀ-ÿ'/.\-#:]*[0-9A-Za-zÀ-ÿ]|[0-9A-Za-zÀ-ÿ]")
# An entry this short (after separators are dropped) is too short for the one-character
# allowance: "12" against "112" may well be two different things.
_MIN_SLIP_LENGTH = 4


@dataclass(frozen=True)
class PageWords:
    """One page's reading: its words, the words read only as guesses, and whether the words
    are all of them (a text layer) or what OCR could make out."""

    text: str
    guesses: str = ""
    complete: bool = False
    # Entries OCR doubted a character of, with what else it took each for, space-separated
    # (dedupe.core.ocr.alternatives_pattern: "2[53]-[06]76").
    alternatives: str = ""
    # Keys (word_key) of entries whose printed marks are the other page's, however the two
    # were read (dedupe.core.entry_settlement): they tell the pages apart no more.
    settled: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TextComparison:
    """How far two pages' words agree, and the entries that differ."""

    agreement: float  # the share of words in common (of the longer page), 0..1
    only_in_a: tuple[str, ...]  # entries of page a that tell it from page b, with context
    only_in_b: tuple[str, ...]
    compared: bool  # False when either page has too few words to say anything
    # Entries one page has that the other, read by OCR, neither confirms nor contradicts.
    unconfirmed: tuple[str, ...] = ()

    @property
    def entries_differ(self) -> bool:
        return bool(self.only_in_a or self.only_in_b)

    def reason(self) -> str:
        """The clerk's sentence: "different text: 'Case 24-118' against 'Case 24-207'"."""
        if self.entries_differ:
            a = ", ".join(f"'{w}'" for w in self.only_in_a[:3]) or "nothing"
            b = ", ".join(f"'{w}'" for w in self.only_in_b[:3]) or "nothing"
            return f"different text: {a} against {b}"
        return f"different text: {self.agreement:.0%} of the words in common"


def words(text: str) -> list[str]:
    """The page's words as printed, in reading order."""
    return _WORD.findall(text)


def compare_text(a: PageWords | str, b: PageWords | str) -> TextComparison:
    """Compare two pages' words (see the module docstring); a plain string is an OCR
    reading with no guesses."""
    pa = a if isinstance(a, PageWords) else PageWords(a)
    pb = b if isinstance(b, PageWords) else PageWords(b)
    wa, wb = words(pa.text), words(pb.text)
    if len(wa) < MIN_WORDS or len(wb) < MIN_WORDS:
        return TextComparison(1.0, (), (), compared=False)
    la, lb = [w.lower() for w in wa], [w.lower() for w in wb]
    common = _fuzzy_common(Counter(la), Counter(lb))
    agreement = common / max(len(la), len(lb))
    missing_a, missing_b = _unmatched_entries(wa, wb), _unmatched_entries(wb, wa)
    _drop_settled(missing_a, pa.settled)
    _drop_settled(missing_b, pb.settled)
    # OCR's slips, one page's entry against the other's: a character more or less, or only a
    # part of it read ("56" of 17:56). Neither is another value.
    for key in list(missing_a):
        slip = next((other for other in missing_b if _slip_of(missing_a[key], missing_b[other])), None)
        if slip is not None:
            del missing_a[key], missing_b[slip]
    # An entry OCR doubted, that reads as the other page's once its doubted characters are
    # taken as what else OCR weighed for them ("25-076", its 5 also weighed as a 3 and its 0
    # as a 6, against 23-676): the two readings contradict each other only by OCR's doubt, so
    # neither is confirmed, and the pixels decide. One sure digit still tells two cases apart.
    doubted_a, doubted_b = _doubted_entries(pa.alternatives), _doubted_entries(pb.alternatives)
    doubted = _doubted_matches(missing_a, doubted_a, missing_b, doubted_b)
    # An entry the other page read only as a guess within a character is not contradicted;
    # one it guessed as another value of the same shape (a date for a date) is, unless OCR's
    # doubt reaches from one to the other, as above.
    guesses_a, guesses_b = _guessed_entries(pa.guesses), _guessed_entries(pb.guesses)
    _drop_settled(guesses_a, pa.settled)
    _drop_settled(guesses_b, pb.settled)
    doubted += _doubted_matches(missing_a, doubted_a, guesses_b, doubted_b, " (read uncertainly)")
    doubted += _doubted_matches(missing_b, doubted_b, guesses_a, doubted_a, " (read uncertainly)")
    unconfirmed = [
        *doubted,
        *_confirmed_by_guesses(missing_a, guesses_b),
        *_confirmed_by_guesses(missing_b, guesses_a),
    ]
    guessed_a, guessed_b = (
        _contradicting_guesses(missing_b, guesses_a),
        _contradicting_guesses(missing_a, guesses_b),
    )
    if (missing_a or guessed_a) and (missing_b or guessed_b):
        only_a = (*missing_a.values(), *guessed_a)
        only_b = (*missing_b.values(), *guessed_b)
    elif pa.complete and pb.complete:
        only_a, only_b = tuple(missing_a.values()), tuple(missing_b.values())  # both hold every word
    else:
        # Entries one page has and the other lacks altogether: OCR may have missed them, or
        # read marks that are not print (a stain, a stamp) as an entry; the pixels decide.
        only_a = only_b = ()
        unconfirmed += [*missing_a.values(), *missing_b.values()]
    return TextComparison(
        agreement=agreement,
        only_in_a=only_a,
        only_in_b=only_b,
        compared=True,
        unconfirmed=tuple(dict.fromkeys(unconfirmed)),
    )


def _drop_settled(entries: dict[str, str], settled: frozenset[str]) -> None:
    """Leave out of `entries` (keyed by word_key) those whose marks settled them: they tell
    the pages apart no more, however the two were read."""
    for key in settled & entries.keys():
        del entries[key]


def word_key(word: str) -> str:
    """A word as it is compared: an entry by its characters (digit lookalikes read back,
    separators dropped), another word lower-cased."""
    return _entry_key(word) if _is_entry(word) else word.lower()


def same_word(a: str, b: str) -> bool:
    """Whether two keyed words (word_key's) are one word: entries only when their characters
    are the same, other words within OCR's slips."""
    if _is_entry(a) or _is_entry(b):
        return a == b
    return _close(a, b)


def _is_entry(word: str) -> bool:
    return any(c.isdigit() for c in word)


# Letters OCR reads where a digit was printed, read back inside entries.
_DIGIT_LOOKALIKES = str.maketrans(
    {"o": "0", "q": "0", "i": "1", "l": "1", "|": "1", "s": "5", "b": "8", "z": "2"}
)
# Characters that separate the parts of an entry (24-118, 12/09/2023, 17:56, 1,200.00): OCR
# misreads them often, and no value is told from another by them alone.
_SEPARATOR_CHARS = "-/.:#,'"
_SEPARATORS = str.maketrans("", "", _SEPARATOR_CHARS)
_SEPARATOR = re.compile(f"[{re.escape(_SEPARATOR_CHARS)}]")


def _entry_key(word: str) -> str:
    return word.lower().translate(_DIGIT_LOOKALIKES).translate(_SEPARATORS)


def _unmatched_entries(mine: list[str], theirs: list[str]) -> dict[str, str]:
    """My entries that no entry of theirs matches: {key: the entry as printed, with the word
    before it for context}."""
    their_entries = {_entry_key(w) for w in theirs if _is_entry(w)}
    missing: dict[str, str] = {}
    for index, word in enumerate(mine):
        key = _entry_key(word)
        if not _is_entry(word) or len(key) < 2 or key in their_entries or key in missing:
            continue
        missing[key] = f"{mine[index - 1]} {word}" if index and not _is_entry(mine[index - 1]) else word
    return missing


_PATTERN_PART = re.compile(r"\[([^\]]+)\]|([^\[\]])")


def _doubted_entries(alternatives: str) -> dict[str, list[re.Pattern[str]]]:
    """A page's doubted entries: {the entry's key as read: what it may read as, each a
    pattern over entry keys}. A position that may have been a separator (or was read as one)
    is optional, as separators are dropped from keys."""
    doubted: dict[str, list[re.Pattern[str]]] = {}
    for pattern in alternatives.split():
        read, parts = [], []
        for choices, single in _PATTERN_PART.findall(pattern):
            options = choices or single
            read.append(options[0])
            characters = sorted({_entry_key(c) for c in options if c.isalnum()})
            if not characters:
                continue
            optional = any(not c.isalnum() for c in options)
            parts.append(f"[{re.escape(''.join(characters))}]" + ("?" if optional else ""))
        if parts:
            # Keyed as the entry is among the page's words: its characters, none of the rest.
            key = _entry_key("".join(c for c in "".join(read) if c.isalnum()))
            doubted.setdefault(key, []).append(re.compile("".join(parts)))
    return doubted


def _doubted_matches(
    mine: dict[str, str],
    my_doubts: dict[str, list[re.Pattern[str]]],
    theirs: dict[str, str],
    their_doubts: dict[str, list[re.Pattern[str]]],
    their_mark: str = "",
) -> list[str]:
    """Remove (and return, as printed) my entries that one of theirs (the other page's
    unmatched entries, or its guesses) may be by OCR's doubt on either side, theirs with them,
    marked `their_mark`."""
    found: list[str] = []
    for key in list(mine):
        match = next(
            (o for o in theirs if _reads_as(key, o, my_doubts) or _reads_as(o, key, their_doubts)), None
        )
        if match is not None:
            found += [mine.pop(key), theirs.pop(match) + their_mark]
    return found


def _reads_as(key: str, other: str, doubted: dict[str, list[re.Pattern[str]]]) -> bool:
    """Whether the entry read as `key` may, by OCR's own doubt, be `other`."""
    return any(pattern.fullmatch(other) for pattern in doubted.get(key, ()))


def _guessed_entries(guesses: str) -> dict[str, str]:
    """A page's guessed entries: {key: the guess as read}."""
    return {_entry_key(w): w for w in words(guesses) if _is_entry(w)}


def _confirmed_by_guesses(missing: dict[str, str], guesses: dict[str, str]) -> list[str]:
    """Remove (and return, as printed) the missing entries that one of the other page's
    guesses reads within a character."""
    found = [key for key in missing if key in guesses or any(_within_one_edit(key, g) for g in guesses)]
    return [missing.pop(key) for key in found]


def _slip_of(a: str, b: str) -> bool:
    """Whether one printed entry is the other misread by OCR: one character inserted or
    dropped (entries long enough to allow it), or only the part of it on one side of a
    separator read ("56" of 17:56, "24" of 24-118; not "12" of 712)."""
    (short, _), (long, long_word) = sorted(
        ((_entry_key(w), w) for w in (a.split()[-1], b.split()[-1])), key=lambda kw: len(kw[0])
    )
    pieces = [_entry_key(p) for p in _SEPARATOR.split(long_word) if p]
    if (
        len(pieces) > 1
        and len(short) >= 2
        and short in (pieces[0], pieces[-1], "".join(pieces[:-1]), "".join(pieces[1:]))
    ):
        return True
    if len(short) < _MIN_SLIP_LENGTH or len(long) - len(short) != 1:
        return False
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _shape(key: str) -> str:
    return "".join("9" if c.isdigit() else "a" for c in key)


def _contradicting_guesses(missing: dict[str, str], guesses: dict[str, str]) -> tuple[str, ...]:
    """The other page's guesses that read another value of the same shape as one of my
    missing entries (eight digits against eight digits: a date against a date)."""
    shapes = {_shape(key) for key in missing if len(key) >= _MIN_SLIP_LENGTH}
    return tuple(f"{read} (read uncertainly)" for key, read in guesses.items() if _shape(key) in shapes)


def _within_one_edit(a: str, b: str) -> bool:
    return min(len(a), len(b)) >= _MIN_SLIP_LENGTH and _edit_distance(a, b, 1) <= 1


def _fuzzy_common(a: Counter[str], b: Counter[str]) -> int:
    """How many words the two pages share, a word matching one within OCR's slips."""
    common = 0
    rest_b = Counter(b)
    unmatched_a: list[str] = []
    for word, count in a.items():
        exact = min(count, rest_b[word])
        common += exact
        rest_b[word] -= exact
        unmatched_a += [word] * (count - exact)
    pool = [w for w, n in rest_b.items() for _ in range(n) if n > 0]
    for word in unmatched_a:
        for index, other in enumerate(pool):
            if abs(len(other) - len(word)) <= 2 and _close(word, other):
                common += 1
                del pool[index]
                break
    return common


def _close(a: str, b: str) -> bool:
    """Within OCR's slips: one edit, two for words of eight letters or more."""
    if a == b:
        return True
    limit = 2 if min(len(a), len(b)) >= 8 else 1
    if abs(len(a) - len(b)) > limit:
        return False
    return _edit_distance(a, b, limit) <= limit


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (limit + 1) once it must exceed `limit`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
