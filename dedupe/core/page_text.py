"""Whether two document pages say the same thing: their words compared, OCR's slips forgiven.

Two forms printed on one template share their printed words (the title, the field labels)
and differ in what was filled in: a case number, a name, a date. Those entries are what make
each one its own record, so the comparison looks hardest at them: an entry (a word with a
digit in it: case and parcel numbers, dates, addresses) on one page that has no counterpart
on the other is enough to tell them apart. Everything else is compared as a whole, by the
share of words the two pages have in common.

OCR misreads a letter or two, so plain words match when they are within one edit of each
other (two for long words). An entry must match exactly, after the letters OCR reads for
digits are read back as digits (a rescan's "24-1l8" is "24-118"): one digit is all that
tells case 24-118 from case 24-117. Plain Python: no Django, no images.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# Pages with fewer words than this on either side are not compared by their text (a photo's
# stray OCR letters, a near-blank page): the pixels decide alone.
MIN_WORDS = 6

_WORD = re.compile(r"[0-9A-Za-zÀ-ÿ][0-9A-Za-zÀ-ÿ'/.\-#]*[0-9A-Za-zÀ-ÿ]|[0-9A-Za-zÀ-ÿ]")


@dataclass(frozen=True)
class TextComparison:
    """How far two pages' words agree, and the entries that differ."""

    agreement: float  # the share of words in common (of the longer page), 0..1
    only_in_a: tuple[str, ...]  # entries of page a with no counterpart on page b, with context
    only_in_b: tuple[str, ...]
    compared: bool  # False when either page has too few words to say anything

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


def compare_text(a: str, b: str) -> TextComparison:
    """Compare two pages' words (see the module docstring)."""
    wa, wb = words(a), words(b)
    if len(wa) < MIN_WORDS or len(wb) < MIN_WORDS:
        return TextComparison(1.0, (), (), compared=False)
    la, lb = [w.lower() for w in wa], [w.lower() for w in wb]
    common = _fuzzy_common(Counter(la), Counter(lb))
    agreement = common / max(len(la), len(lb))
    return TextComparison(
        agreement=agreement,
        only_in_a=_unmatched_entries(wa, lb),
        only_in_b=_unmatched_entries(wb, la),
        compared=True,
    )


def _is_entry(word: str) -> bool:
    return any(c.isdigit() for c in word)


# Letters OCR reads where a digit was printed, read back inside entries.
_DIGIT_LOOKALIKES = str.maketrans(
    {"o": "0", "q": "0", "i": "1", "l": "1", "|": "1", "s": "5", "b": "8", "z": "2"}
)


def _entry_key(word: str) -> str:
    return word.translate(_DIGIT_LOOKALIKES).strip(".-/#")


def _unmatched_entries(mine: list[str], theirs: list[str]) -> tuple[str, ...]:
    """My entries (words with digits, as printed) that no entry of theirs (lower-cased)
    matches, each with the word before it for context."""
    their_entries = {_entry_key(w) for w in theirs if _is_entry(w)}
    missing = []
    for index, word in enumerate(mine):
        if not _is_entry(word) or len(word) < 2 or _entry_key(word.lower()) in their_entries:
            continue
        context = f"{mine[index - 1]} {word}" if index and not _is_entry(mine[index - 1]) else word
        missing.append(context)
    return tuple(dict.fromkeys(missing))


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
