"""The candidate search: which copies might be one picture, before any pixel check.

Exact copies (same bytes and page) and pixel-identical copies are one atom; one
representative of each is searched by perceptual hash (pHash, dHash, crop windows, turned
pHashes) through the Hamming index, and the pairs found are scored by a cheap coarse gate
before the full alignment search of dedupe.core.verify.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dedupe.core.index import HammingIndex, self_pairs, to_uint64
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Fingerprint
from dedupe.core.verify import resize_matrix

__all__ = [
    "ROT_BITS",
    "CoarseGate",
    "HashPairs",
    "atoms",
    "identical_copies",
    "search_pairs",
    "window_hashes",
]

# The turns a pair's hashes suggest, as bits of one uint8 mask.
ROT_BITS = {0: 1, 90: 2, 180: 4, 270: 8}
# Thumbnails are resampled in batches of this many (bounded memory at 1M images).
_CHUNK = 8192
# 32-cell windows of a 34-cell grid, i.e. ~94 % of each side, at the four corners: a copy
# cropped by 3-10 % looks like one of these windows of its original, which the
# whole-picture hashes miss (pHash distance 15-25 for an 8 % crop). Measured on the
# accuracy corpus's crops (3-8 % per side, split at random between the ends), the best
# window's pHash distance: 34-cell grid <= 10 but one (line art, found by dHash); with a
# 36-cell grid (~89 %) 11 of 30 were above 10. Synthetic 8 % corner crops: <= 10. A
# centred crop is within one cell of every corner: a fifth, centre window found nothing
# more on either (and cost a fifth of the window search).
_WINDOW_GRID = 34
_WINDOW_OFFSETS = ((0, 0), (2, 0), (0, 2), (2, 2))
_DCT = np.array([[np.cos(np.pi * (2 * x + 1) * u / 64) for x in range(32)] for u in range(8)], np.float32)


# ---------------------------------------------------------------- atoms


def atoms(fps: Sequence[Fingerprint]) -> list[list[int]]:
    """Index lists of exact / pixel-identical copies (union by (sha256, page) and pixel_sha256)."""
    parent = list(range(len(fps)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str | int | None, ...], int] = {}
    for i, fp in enumerate(fps):
        for token in (("b", fp.sha256, fp.page), ("p", fp.pixel_sha256)):
            j = first.setdefault(token, i)
            if j != i:
                ri, rj = find(i), find(j)
                parent[max(ri, rj)] = min(ri, rj)
    members: dict[int, list[int]] = {}
    for i in range(len(fps)):
        members.setdefault(find(i), []).append(i)
    return sorted(members.values())


def identical_copies(key: str, copies: Sequence[Fingerprint]) -> list[Fingerprint]:
    """The copies a run treats as one with `key`'s: the same bytes or the same pixels
    (directly or through another copy), `key`'s own included."""
    ordered = sorted(copies, key=lambda f: f.key)
    for atom in atoms(ordered):
        if any(ordered[i].key == key for i in atom):
            return [ordered[i] for i in atom]
    return []


# ---------------------------------------------------------------- hash searches


def _grids(fps: Sequence[Fingerprint], side: int) -> np.ndarray:
    """Each thumbnail resampled to side x side (float32), batched by thumbnail size."""
    out = np.empty((len(fps), side, side), np.float32)
    by_size: dict[tuple[int, int], list[int]] = {}
    for n, fp in enumerate(fps):
        by_size.setdefault(fp.thumb_size, []).append(n)
    for (w, h), members in by_size.items():
        # One buffer for the batch: a numpy array per thumbnail costs more than the resampling.
        pixels = b"".join(fps[n].thumbnail for n in members)
        stack = np.frombuffer(pixels, np.uint8).reshape(len(members), h, w).astype(np.float32)
        rows, cols = resize_matrix(h, side).astype(np.float32), resize_matrix(w, side).astype(np.float32)
        out[members] = rows @ stack @ cols.T
    return out


def _dct_hashes(grids: np.ndarray) -> np.ndarray:
    """pHash (32 x 32 DCT, 8 x 8 low frequencies against their median) of a stack of grids."""
    low = (_DCT @ np.ascontiguousarray(grids) @ _DCT.T).reshape(len(grids), 64)
    bits = low > np.median(low, axis=1, keepdims=True)
    return np.packbits(bits, axis=1, bitorder="little").view("<u8").ravel()


def window_hashes(reps: Sequence[Fingerprint]) -> tuple[np.ndarray, np.ndarray]:
    """pHashes of each whole thumbnail and of its four 94 % windows (window-major)."""
    full = np.empty(len(reps), np.uint64)
    windows = np.empty((len(_WINDOW_OFFSETS), len(reps)), np.uint64)
    for lo in range(0, len(reps), _CHUNK):
        chunk = reps[lo : lo + _CHUNK]
        full[lo : lo + len(chunk)] = _dct_hashes(_grids(chunk, 32))
        wide = _grids(chunk, _WINDOW_GRID)
        for k, (x, y) in enumerate(_WINDOW_OFFSETS):
            windows[k, lo : lo + len(chunk)] = _dct_hashes(wide[:, y : y + 32, x : x + 32])
    return full, windows


@dataclass
class HashPairs:
    """Candidate pairs i < j of representatives, each once, and the turns their hashes suggest."""

    first: np.ndarray  # int64
    second: np.ndarray  # int64
    rotations: np.ndarray  # uint8 bit mask, ROT_BITS


class _PairCodes:
    """The pairs the searches found, each coded as lo * n + hi with its turns' bits."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.codes: list[np.ndarray] = []
        self.masks: list[np.ndarray] = []

    def add(self, q: np.ndarray, st: np.ndarray, mask: int) -> None:
        keep = q != st
        lo, hi = np.minimum(q[keep], st[keep]), np.maximum(q[keep], st[keep])
        self.codes.append(lo * self.n + hi)
        self.masks.append(np.full(len(lo), mask, np.uint8))

    def merged(self) -> HashPairs:
        """Each pair once, with the bits of every search that found it."""
        code = np.concatenate(self.codes) if self.codes else np.zeros(0, np.int64)
        if not len(code):  # no pair anywhere (one photo, or all unrelated): nothing to index below
            empty = np.zeros(0, np.int64)
            return HashPairs(empty, empty, np.zeros(0, np.uint8))
        mask = np.concatenate(self.masks)
        order = np.argsort(code, kind="stable")
        code, mask = code[order], mask[order]
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        merged = np.bitwise_or.reduceat(mask, starts)
        first, second = np.divmod(code[starts], self.n)
        return HashPairs(first, second, merged)


def search_pairs(reps: Sequence[Fingerprint], s: MatchSettings) -> HashPairs:
    """Every hash search (pHash, dHash, crop windows, turned pHashes) merged into one pair list."""
    n = len(reps)
    found = _PairCodes(n)
    if n:
        for radius, hashes in (
            (s.phash_radius, [f.phash for f in reps]),
            (s.dhash_radius, [f.dhash for f in reps]),
        ):
            if radius < 0:
                continue
            near = self_pairs(hashes, radius)
            found.add(near.query, near.stored, ROT_BITS[0])
        if s.search_crops:
            full, windows = window_hashes(reps)
            hit = HammingIndex(full, s.crop_window_radius).join(windows.ravel())
            found.add(hit.query % n, hit.stored, ROT_BITS[0])
            del full, windows
        if s.search_rotations:
            index = HammingIndex([f.phash for f in reps], s.rotation_radius)
            # Only the 90 and 180 degree turns are searched: j turned 270 degrees looks like
            # i exactly when i turned 90 looks like j, and this is a self-join, so the 90
            # search finds both senses (and verification tries both, as which way "turned
            # 90" runs is the fingerprinter's convention).
            for slot, mask in ((0, ROT_BITS[90] | ROT_BITS[270]), (1, ROT_BITS[180])):
                turned = index.join(to_uint64([f.rotated_phashes[slot] for f in reps]))
                found.add(turned.query, turned.stored, mask)
    return found.merged()


# ---------------------------------------------------------------- the coarse gate


class CoarseGate:
    """A cheap coarse pre-check before the full alignment search of dedupe.core.verify.

    Each thumbnail becomes an 8 x 8 grid (and the 8 x 8 grids of its four 94 % windows),
    each normalised to zero mean and unit length; a pair's coarse score is the best plain
    correlation over the turns its hashes suggest and over one picture's windows against
    the other's whole. A pair below settings.coarse_gate_score cannot verify (see
    MatchSettings) and is not searched further. Per-representative grids are computed in
    batches and kept only while a batch of pairs is scored.
    """

    def __init__(self, reps: Sequence[Fingerprint], threshold: float) -> None:
        self.reps = reps
        self.threshold = threshold
        self._cache: dict[int, np.ndarray] = {}

    def _vectors(self, ids: Sequence[int]) -> None:
        todo = [i for i in dict.fromkeys(ids) if i not in self._cache]
        if not todo:
            return
        fps = [self.reps[i] for i in todo]
        full = _grids(fps, 32)
        wide = _grids(fps, _WINDOW_GRID)
        views = [full] + [wide[:, y : y + 32, x : x + 32] for x, y in _WINDOW_OFFSETS]
        pooled = np.stack([v.reshape(len(fps), 8, 4, 8, 4).mean(axis=(2, 4)) for v in views], axis=1)
        pooled -= pooled.mean(axis=(2, 3), keepdims=True)
        norm = np.sqrt((pooled * pooled).sum(axis=(2, 3), keepdims=True))
        pooled /= np.maximum(norm, 1e-6)
        for i, v in zip(todo, pooled, strict=True):
            self._cache[i] = v

    def scores(self, first: np.ndarray, second: np.ndarray, rotations: np.ndarray) -> np.ndarray:
        """Coarse score of each pair (first[k], second[k]) over the turns rotations[k] allows."""
        out = np.full(len(first), -1.0, np.float32)
        for lo in range(0, len(first), _CHUNK):
            f, g, r = first[lo : lo + _CHUNK], second[lo : lo + _CHUNK], rotations[lo : lo + _CHUNK]
            self._vectors(np.concatenate([f, g]).tolist())
            a = np.stack([self._cache[i] for i in f.tolist()])  # (P, 6, 16, 16)
            b = np.stack([self._cache[i] for i in g.tolist()])
            best = out[lo : lo + len(f)]
            for degrees, bit in ROT_BITS.items():
                use = (r & bit) != 0
                if not use.any():
                    continue
                bt = np.rot90(b[use], k=degrees // 90, axes=(2, 3))
                at = a[use]
                plain = (at[:, 0] * bt[:, 0]).sum(axis=(1, 2))
                a_win = (at[:, 1:] * bt[:, :1]).sum(axis=(2, 3)).max(axis=1)
                b_win = (at[:, :1] * bt[:, 1:]).sum(axis=(2, 3)).max(axis=1)
                best[use] = np.maximum(best[use], np.maximum(plain, np.maximum(a_win, b_win)))
            self._cache.clear()
        return out

    def passes(self, i: int, j: int, rotations: Iterable[int]) -> bool:
        mask = np.uint8(sum(ROT_BITS[r] for r in set(rotations) | {0}))
        return bool(self.scores(np.array([i]), np.array([j]), np.array([mask]))[0] >= self.threshold)
