"""Hamming-distance candidate search over 64-bit hashes without comparing all pairs.

Multi-index hashing (Norouzi et al., 2012): split each hash into m blocks; if two hashes
differ in at most r bits, some block differs in at most r // m bits (pigeonhole). Each
block is a dense bucket table (counting sort) holding the stored hashes themselves, so a
probe reads one contiguous run; a join enumerates only the block values within r // m
bits of the query's block. The block count is chosen from the collection size so that
probing and scanning stay balanced: the work per query is about
m * probes * (probe cost + N / 2**b * scan cost), which grows far slower than N.

The join loop is compiled with numba: it does a few thousand tiny, data-dependent steps
per query, which numpy can only express as whole-array passes (one per probe value over
every query), about twenty times slower at a million hashes (benchmarks/grouping.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np
from numba import njit

HASH_BITS = 64
# Joins run over slices of this many queries so peak memory stays bounded.
_QUERY_SLICE = 1 << 20
# Relative costs (measured with the compiled join at 1M hashes): one probe of a bucket
# (a jump to a new place in memory) against scanning one stored hash in a bucket.
_PROBE_COST = 8.0
_SCAN_COST = 1.0


def to_uint64(hashes: Sequence[int] | np.ndarray) -> np.ndarray:
    """64-bit integers (Python ints up to 2**64 - 1) as a numpy uint64 array."""
    if isinstance(hashes, np.ndarray):
        return hashes.astype(np.uint64, copy=False)
    return np.fromiter((int(h) for h in hashes), dtype=np.uint64, count=len(hashes))


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bitwise Hamming distance between uint64 arrays, element by element."""
    return np.asarray(np.bitwise_count(np.bitwise_xor(a, b)), dtype=np.int16)


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
        cost = m * probes * (_PROBE_COST + _SCAN_COST * n / float(1 << width))
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
        self._shifts = np.array([shift for shift, _ in self.layout], dtype=np.int64)
        self._widths = np.array([width for _, width in self.layout], dtype=np.int64)
        # Per block: where each block value's bucket starts (all blocks' tables end to
        # end), and the stored hashes and their positions in bucket order.
        bucket_starts, table_offsets = [], []
        self._bucket_hashes = np.empty((self.blocks, n), dtype=np.uint64)
        self._bucket_positions = np.empty((self.blocks, n), dtype=np.int64)
        offset = 0
        for b, (shift, width) in enumerate(self.layout):
            values = _block_values(self.hashes, shift, width)
            order = np.argsort(values, kind="stable")
            starts = np.zeros((1 << width) + 1, dtype=np.int64)
            np.cumsum(np.bincount(values, minlength=1 << width), out=starts[1:])
            bucket_starts.append(starts)
            table_offsets.append(offset)
            offset += len(starts)
            self._bucket_hashes[b] = self.hashes[order]
            self._bucket_positions[b] = order
        self._bucket_starts = np.concatenate(bucket_starts)
        self._table_offsets = np.array(table_offsets, dtype=np.int64)
        self._per_block = radius // self.blocks
        flips = [_flip_masks(width, self._per_block) for _, width in self.layout]
        self._flips = np.concatenate(flips)
        self._flip_offsets = np.cumsum([0] + [len(f) for f in flips]).astype(np.int64)

    def join(self, queries: Sequence[int] | np.ndarray) -> Matches:
        """Every (query, stored) pair within the radius; each pair reported once."""
        q_all = to_uint64(queries)
        found_q, found_s, found_d = [], [], []
        for lo in range(0, len(q_all), _QUERY_SLICE):
            q = q_all[lo : lo + _QUERY_SLICE]
            # Queries visited in block-value order, so that for each probe offset the
            # buckets are read front to back rather than at random.
            visit_order = np.stack(
                [np.argsort(_block_values(q, shift, width), kind="stable") for shift, width in self.layout]
            )
            q_pos, s_pos, dist = _join_kernel(
                q,
                visit_order,
                self._shifts,
                self._widths,
                self._bucket_starts,
                self._table_offsets,
                self._bucket_hashes,
                self._bucket_positions,
                self._flips,
                self._flip_offsets,
                self.radius,
                self._per_block,
            )
            found_q.append(q_pos + lo)
            found_s.append(s_pos)
            found_d.append(dist)
        if not found_q:
            empty = np.zeros(0, dtype=np.int64)
            return Matches(empty, empty, np.zeros(0, dtype=np.int16))
        return Matches(np.concatenate(found_q), np.concatenate(found_s), np.concatenate(found_d))

    def query(self, hash_value: int) -> list[tuple[int, int]]:
        """(stored position, distance) of every stored hash within the radius of one hash."""
        found = self.join([hash_value])
        return sorted(zip(found.stored.tolist(), found.distance.tolist(), strict=True))


def _block_values(hashes: np.ndarray, shift: int, width: int) -> np.ndarray:
    mask = np.uint64((1 << width) - 1)
    return ((hashes >> np.uint64(shift)) & mask).astype(np.int64)


@njit(cache=True, inline="always")
def _popcount(x: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    # The SWAR bit count; LLVM turns this idiom into the CPU's popcnt instruction.
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(cache=True)
def _join_kernel(  # the index's arrays, passed flat to compiled code
    queries: np.ndarray,
    visit_order: np.ndarray,
    shifts: np.ndarray,
    widths: np.ndarray,
    bucket_starts: np.ndarray,
    table_offsets: np.ndarray,
    bucket_hashes: np.ndarray,
    bucket_positions: np.ndarray,
    flips: np.ndarray,
    flip_offsets: np.ndarray,
    radius: int,
    per_block: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    capacity = 1024
    out_q = np.empty(capacity, np.int64)
    out_s = np.empty(capacity, np.int64)
    out_d = np.empty(capacity, np.int16)
    found = 0
    for b in range(len(shifts)):
        shift = np.uint64(shifts[b])
        block_mask = np.uint64((1 << widths[b]) - 1)
        table = table_offsets[b]
        stored = bucket_hashes[b]
        order = visit_order[b]
        for f in range(flip_offsets[b], flip_offsets[b + 1]):
            flip = flips[f]
            for k in range(len(queries)):
                qi = order[k]
                qh = queries[qi]
                bucket = table + np.int64(((qh >> shift) & block_mask) ^ flip)
                lo = bucket_starts[bucket]
                hi = bucket_starts[bucket + 1]
                # Most buckets hold no hit: a branch-free count first lets the scan run
                # without a mispredicted branch per stored hash.
                hits = np.int64(0)
                for t in range(lo, hi):
                    hits += _popcount(qh ^ stored[t]) <= radius
                if hits == 0:
                    continue
                for t in range(lo, hi):
                    d = _popcount(qh ^ stored[t])
                    if d > radius:
                        continue
                    # A pair near in several blocks is reported by the first of them only.
                    seen = False
                    for e in range(b):
                        e_shift = np.uint64(shifts[e])
                        e_mask = np.uint64((1 << widths[e]) - 1)
                        if _popcount(((qh ^ stored[t]) >> e_shift) & e_mask) <= per_block:
                            seen = True
                            break
                    if seen:
                        continue
                    if found == capacity:
                        capacity *= 2
                        grown_q = np.empty(capacity, np.int64)
                        grown_s = np.empty(capacity, np.int64)
                        grown_d = np.empty(capacity, np.int16)
                        grown_q[:found] = out_q[:found]
                        grown_s[:found] = out_s[:found]
                        grown_d[:found] = out_d[:found]
                        out_q, out_s, out_d = grown_q, grown_s, grown_d
                    out_q[found] = qi
                    out_s[found] = bucket_positions[b, t]
                    out_d[found] = d
                    found += 1
    return out_q[:found], out_s[:found], out_d[:found]


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
