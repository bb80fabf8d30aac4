"""Pixel verification: where one picture sits inside another, found by one batch of FFTs."""

from __future__ import annotations

import numpy as np
import pytest

from dedupe.verify import _best_placement, resize_matrix


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (h, w))


@pytest.mark.parametrize(("y0", "x0"), [(0, 0), (3, 5), (6, 0), (0, 7)])
def test_a_crop_is_placed_where_it_was_cut_from_among_several_sizes(y0: int, x0: int) -> None:
    # The frame of the batched FFT is rounded up to a fast size (48 + 44 - 1 = 91 becomes
    # 96); offsets must still be read against the largest candidate, not the frame.
    a = _texture(48, 48)
    crop = a[y0 : y0 + 42, x0 : x0 + 41]
    candidates = [_texture(44, 44, seed=1), crop, _texture(40, 40, seed=2)]
    score, which, found_y, found_x = _best_placement(a, candidates)
    assert (which, found_y, found_x) == (1, y0, x0)
    assert score == pytest.approx(1.0, abs=1e-4)


def test_brightness_and_contrast_do_not_change_the_score() -> None:
    a = _texture(32, 32)
    score, _, y, x = _best_placement(a, [a[2:30, 1:29] * 0.5 + 40])
    assert (y, x) == (2, 1)
    assert score == pytest.approx(1.0, abs=1e-4)


def test_unrelated_pictures_agree_at_no_placement_that_covers_most_of_them() -> None:
    score, _, _, _ = _best_placement(_texture(32, 32), [_texture(32, 32, seed=3)])
    assert score < 0.5


def test_resampling_keeps_the_mean_and_is_shared() -> None:
    matrix = resize_matrix(64, 48)
    assert np.allclose(matrix.sum(axis=1), 1.0)
    assert resize_matrix(64, 48) is matrix
    assert not matrix.flags.writeable
