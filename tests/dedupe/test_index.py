"""Candidate search: every hash within the radius is found, without an all-pairs scan."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.core.index import HammingIndex, brute_force_pairs, choose_block_count, self_pairs


def _planted(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    # Plant near neighbours at every distance up to 14 so the radius edge is exercised.
    for i in range(0, n - 1, 7):
        flips = rng.choice(64, size=int(rng.integers(0, 15)), replace=False)
        mask = np.uint64(sum(1 << int(b) for b in flips))
        hashes[i + 1] = hashes[i] ^ mask
    return hashes


@given(seed=st.integers(0, 10_000), radius=st.integers(0, 13))
@settings(max_examples=25, deadline=None)
def test_index_finds_every_hash_within_radius(seed: int, radius: int) -> None:
    hashes = _planted(seed, 400)
    found = self_pairs(hashes, radius)
    pairs = list(zip(found.query.tolist(), found.stored.tolist(), strict=True))
    assert set(pairs) == brute_force_pairs(hashes, radius)
    assert len(pairs) == len(set(pairs)), "a pair near in several blocks is reported once"


@pytest.mark.parametrize("blocks", [3, 4, 5, 6, 8])
def test_every_block_layout_finds_the_same_pairs_once(blocks: int) -> None:
    # The layouts the block-count choice picks between, including uneven widths (22/21/21).
    hashes = _planted(11, 600)
    index = HammingIndex(hashes, radius=11, blocks=blocks)
    found = index.join(hashes)
    pairs = [(q, s) for q, s in zip(found.query.tolist(), found.stored.tolist(), strict=True) if q < s]
    assert sorted(pairs) == sorted(brute_force_pairs(hashes, 11))
    assert len(found.query) == 2 * len(pairs) + len(hashes)  # both senses, and each hash itself


def test_reported_distances_are_hamming_distances() -> None:
    hashes = _planted(3, 300)
    found = self_pairs(hashes, 11)
    for i, j, d in zip(found.query.tolist(), found.stored.tolist(), found.distance.tolist(), strict=True):
        assert (int(hashes[i]) ^ int(hashes[j])).bit_count() == d


def test_query_finds_a_turned_hash_among_stored_ones() -> None:
    stored = [0, 2**64 - 1, 0x0F0F_0F0F_0F0F_0F0F]
    index = HammingIndex(stored, radius=4)
    assert index.query(0x0F0F_0F0F_0F0F_0F0E) == [(2, 1)]


def test_block_count_grows_with_the_collection_so_buckets_stay_small() -> None:
    assert choose_block_count(1_000, 11) >= choose_block_count(10_000_000, 11)
    assert 64 // choose_block_count(10_000_000, 11) >= 16
