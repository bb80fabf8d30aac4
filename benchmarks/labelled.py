"""A labelled corpus on disk and its pairwise score, shared by the accuracy benchmark's corpora.

`Corpus` writes files under root/<department>/<name> and records each key's `Label`;
`score` compares a grouping with those labels pair by pair. `accuracy.py` (photos and a
few generated pages) and `document_corpus.py` (printed and scanned document pages) both
build on them, so their figures are computed the same way.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
from PIL import Image

DEPARTMENTS = ("police", "parks", "building", "sanitation", "planning")


@dataclass(frozen=True)
class Label:
    cluster: str  # files with one cluster are one record
    kind: str  # "original", a transformation kind, or a hard-negative kind
    hard_negative: bool = False


class Corpus:
    """Writes files under a root and remembers the label of each key."""

    def __init__(self, root: Path, seed: int | Sequence[int] = 7) -> None:
        self.root = root
        self.labels: dict[str, Label] = {}
        self.rng = np.random.default_rng(seed)
        self._dept = itertools.cycle(DEPARTMENTS)

    def _department(self, label: Label) -> str:
        # Originals and hard negatives sit in one department; their copies are spread over the
        # others, so a match has to cross departments as it does on a real desk.
        return "assessor" if label.kind == "original" or label.hard_negative else next(self._dept)

    def save(self, image: Image.Image, name: str, label: Label, fmt: str = "JPEG", **options: Any) -> Path:
        department = self._department(label)
        path = self.root / department / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "HEIF":
            pillow_heif.from_pillow(image).save(str(path), quality=80)
        else:
            image.save(path, fmt, **options)
        self.labels[f"{department}/{name}"] = label
        return path

    def save_bytes(self, data: bytes, name: str, label: Label) -> Path:
        """A file made elsewhere (a PDF), placed in a department by the same rule as `save`."""
        department = self._department(label)
        path = self.root / department / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.labels[f"{department}/{name}"] = label
        return path

    def copy_bytes(self, source: Path, name: str, label: Label) -> None:
        department = next(self._dept)
        path = self.root / department / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source.read_bytes())
        self.labels[f"{department}/{name}"] = label


def pairs_of(groups: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for g in groups for p in itertools.combinations(sorted(g), 2)}


def file_key(key: str) -> str:
    """The labelled file an engine key names: a page "x.pdf#page=1" is its file "x.pdf"
    (every labelled PDF and TIFF holds one page)."""
    return key.split("#page=", 1)[0]


def score(name: str, groups: list[list[str]], labels: dict[str, Label]) -> dict[str, float]:
    groups = [[file_key(k) for k in group] for group in groups]
    predicted = pairs_of(groups)
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for key, label in labels.items():
        by_cluster[label.cluster].append(key)
    truth = pairs_of(by_cluster.values())
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    false_pairs = predicted - truth
    hard = [p for p in false_pairs if any(labels[k].hard_negative for k in p)]
    print(f"\n== {name}")
    print(f"pairs: predicted {len(predicted)}, true {len(truth)}, correct {tp}")
    print(f"precision {precision:.4f}   recall {recall:.4f}   F1 {f1:.4f}")
    print(f"false merges (pairs): {len(false_pairs)}; involving hard negatives: {len(hard)}")
    by_kind: dict[str, int] = defaultdict(int)
    for pair in hard:
        for kind in sorted({labels[k].kind for k in pair if labels[k].hard_negative}):
            by_kind[kind] += 1
    negative_kinds = sorted(
        {lab.kind for lab in labels.values() if lab.hard_negative and lab.kind != "original"}
    )
    print("  hard-negative kind     false-merge pairs")
    for kind in [*negative_kinds, "original"]:
        print(f"  {kind:<22} {by_kind.get(kind, 0)}")
    examples = sorted(tuple(sorted(p)) for p in false_pairs)[:8]
    for a, b in examples:
        print(f"    e.g. {a}  ~  {b}")
    # Recall per transformation: the pair (original, variant) of each kind.
    originals = {lab.cluster: key for key, lab in labels.items() if lab.kind == "original"}
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missed: dict[str, list[str]] = defaultdict(list)
    for key, label in labels.items():
        if label.kind == "original" or label.hard_negative or label.cluster not in originals:
            continue
        hit = frozenset((originals[label.cluster], key)) in predicted
        found[label.kind][0] += hit
        found[label.kind][1] += 1
        if not hit:
            missed[label.kind].append(key.split("/")[-1])
    print("  transformation         recall   (found/total)  missed")
    for kind in sorted(found):
        hit, total = found[kind]
        print(f"  {kind:<22} {hit / total:6.3f}   ({hit}/{total})  {' '.join(missed[kind][:6])}")
    worst = min(h / t for h, t in found.values())
    return {"precision": precision, "recall": recall, "f1": f1, "hard": len(hard), "worst_kind": worst}


def kinds_recall(groups: list[list[str]], labels: dict[str, Label], kinds: Iterable[str]) -> tuple[int, int]:
    """(found, total) of the pairs (original, variant) over the variants of these kinds together.

    The same pairs `score` counts per kind, pooled: a family of kinds (every rescan format,
    every turn) has a target of its own.
    """
    wanted = set(kinds)
    predicted = pairs_of([[file_key(k) for k in group] for group in groups])
    originals = {lab.cluster: key for key, lab in labels.items() if lab.kind == "original"}
    found = total = 0
    for key, label in labels.items():
        if label.kind in wanted and not label.hard_negative and label.cluster in originals:
            total += 1
            found += frozenset((originals[label.cluster], key)) in predicted
    return found, total
