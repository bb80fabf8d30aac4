"""Hamming-distance candidate search over 64-bit hashes without comparing all pairs.

Multi-index hashing (Norouzi et al., 2012): split each hash into m blocks; if two hashes
differ in at most r bits, some block differs in at most r // m bits (pigeonhole). Each
block is a dense bucket table (counting sort), so a probe is an array gather, and a join
enumerates only the block values within r // m bits of the query's block. The block count
is chosen from the collection size so buckets stay small: the work per query is about
m * probes * (1 + N / 2**b), which grows far slower than N.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

HASH_BITS = 64
# Joins are expanded in slices of this many queries so peak memory stays bounded.
_QUERY_SLICE = 1 << 18


def to_uint64(hashes: Sequence[int] | np.ndarray) -> np.ndarray:
    """64-bit integers (Python ints up to 2**64 - 1) as a numpy uint64 array."""
    if isinstance(hashes, np.ndarray):
        return hashes.astype(np.uint64, copy=False)
    return np.fromiter((int(h) for h in hashes), dtype=np.uint64, count=len(hashes))


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bitwise Hamming distance between uint64 arrays, element by element."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.int16)


def _block_layout(m: int) -> list[tuple[int, int]]:
    """(shift, width) of m near-equal blocks covering 64 bits."""
    base, extra = divmod(HASH_BITS, m)
    layout, shift = [], 0
    for i in range(m):
        width = base + (1 if i < extra else 0)
        layout.append((shift, width))
        shift += width
    return layout


def _flip_masks(width: int, radius: int) -> np.ndarray:
    """Every value of `width` bits with at most `radius` bits set (probe offsets)."""
    masks = [0]
    for r in range(1, radius + 1):
        masks.extend(sum(1 << b for b in bits) for bits in combinations(range(width), r))
    return np.array(masks, dtype=np.uint64)


def choose_block_count(n: int, radius: int) -> int:
    """The block count with the least expected work for n hashes at this radius."""
    best, best_cost = 4, float("inf")
    for m in (2, 3, 4, 5, 6, 8):
        per_block = radius // m
        width = HASH_BITS // m
        if width > 24:  # dense tables above 2**24 entries cost more memory than they save
            continue
        probes = sum(comb(width, i) for i in range(per_block + 1))
        cost = m * probes * (1.0 + n / float(1 << width))
        if cost < best_cost:
            best, best_cost = m, cost
    return best


@dataclass(frozen=True)
class Matches:
    """Pairs (query position, stored position) within the radius, and their distances."""

    query: np.ndarray  # int64 positions into the query array
    stored: np.ndarray  # int64 positions into the indexed array
    distance: np.ndarray  # int16 Hamming distances


class HammingIndex:
    """An immutable multi-index over a fixed array of 64-bit hashes, for one radius."""

    def __init__(self, hashes: Sequence[int] | np.ndarray, radius: int, blocks: int | None = None) -> None:
        self.hashes = to_uint64(hashes)
        self.radius = radius
        n = len(self.hashes)
        self.blocks = blocks or choose_block_count(n, radius)
        self.layout = _block_layout(self.blocks)
        self._tables: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for shift, width in self.layout:
            values = self._block(self.hashes, shift, width)
            order = np.argsort(values, kind="stable")
            counts = np.bincount(values, minlength=1 << width).astype(np.int64)
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            self._tables.append((order.astype(np.int64), starts, counts))
        per_block = radius // self.blocks
        self._masks = {w: _flip_masks(w, per_block) for w in {w for _, w in self.layout}}

    @staticmethod
    def _block(hashes: np.ndarray, shift: int, width: int) -> np.ndarray:
        mask = np.uint64((1 << width) - 1)
        return ((hashes >> np.uint64(shift)) & mask).astype(np.int64)

    def join(self, queries: Sequence[int] | np.ndarray) -> Matches:
        """Every (query, stored) pair within the radius; each pair reported once."""
        q_all = to_uint64(queries)
        found_q, found_s, found_d = [], [], []
        for lo in range(0, len(q_all), _QUERY_SLICE):
            q = q_all[lo : lo + _QUERY_SLICE]
            codes = []
            for (shift, width), (order, starts, counts) in zip(self.layout, self._tables, strict=True):
                q_block = self._block(q, shift, width)
                for flip in self._masks[width]:
                    probe = q_block ^ np.int64(flip)
                    n_hit = counts[probe]
                    total = int(n_hit.sum())
                    if total == 0:
                        continue
                    q_pos = np.repeat(np.arange(len(q), dtype=np.int64), n_hit)
                    first = np.repeat(starts[probe] - (np.cumsum(n_hit) - n_hit), n_hit)
                    s_pos = order[first + np.arange(total, dtype=np.int64)]
                    dist = hamming(q[q_pos], self.hashes[s_pos])
                    keep = dist <= self.radius
                    if keep.any():
                        codes.append(q_pos[keep] * len(self.hashes) + s_pos[keep])
            if codes:
                unique = np.unique(np.concatenate(codes))
                q_pos, s_pos = np.divmod(unique, len(self.hashes))
                found_q.append(q_pos + lo)
                found_s.append(s_pos)
                found_d.append(hamming(q_all[q_pos + lo], self.hashes[s_pos]))
        if not found_q:
            empty = np.zeros(0, dtype=np.int64)
            return Matches(empty, empty, np.zeros(0, dtype=np.int16))
        return Matches(np.concatenate(found_q), np.concatenate(found_s), np.concatenate(found_d))

    def query(self, hash_value: int) -> list[tuple[int, int]]:
        """(stored position, distance) of every stored hash within the radius of one hash."""
        found = self.join([hash_value])
        return sorted(zip(found.stored.tolist(), found.distance.tolist(), strict=True))


def self_pairs(hashes: Sequence[int] | np.ndarray, radius: int) -> Matches:
    """Unordered pairs i < j of one collection within the radius (no all-pairs scan)."""
    index = HammingIndex(hashes, radius)
    found = index.join(index.hashes)
    keep = found.query < found.stored
    return Matches(found.query[keep], found.stored[keep], found.distance[keep])


def brute_force_pairs(hashes: Sequence[int] | np.ndarray, radius: int) -> set[tuple[int, int]]:
    """All-pairs reference (quadratic): the baseline the index is tested and timed against."""
    h = to_uint64(hashes)
    out: set[tuple[int, int]] = set()
    for i in range(len(h) - 1):
        d = hamming(h[i + 1 :], h[i])
        for j in np.nonzero(d <= radius)[0].tolist():
            out.add((i, i + 1 + j))
    return out
