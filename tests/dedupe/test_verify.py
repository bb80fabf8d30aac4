"""Pixel verification: where one picture sits inside another, found by one batch of FFTs."""

from __future__ import annotations

import numpy as np
import pytest

from dedupe.core.verify import _Alignment, _best_placement, _cropped, resize_matrix


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


def test_the_coarse_search_of_many_pairs_at_once_equals_one_pair_at_a_time() -> None:
    from dedupe.core.settings import MatchSettings
    from dedupe.core.verify import coarse_fits
    from tests.dedupe.builders import fingerprint_of, scene

    s = MatchSettings()
    original = fingerprint_of(scene(1), "a.jpg")
    pairs = [
        (original, fingerprint_of(scene(1).crop((0, 0, 295, 221)), "crop.jpg"), {0}),
        (original, fingerprint_of(scene(1).rotate(90, expand=True), "turned.jpg"), {90, 270}),
        (original, fingerprint_of(scene(2), "other.jpg"), {0, 180}),
        (original, fingerprint_of(scene(1).resize((160, 120)), "small.jpg"), {0}),
    ]
    together = coarse_fits(pairs, s)
    alone = [coarse_fits([pair], s)[0] for pair in pairs]
    assert [sorted(f) for f in together] == [[0], [0, 90, 270], [0, 180], [0]]
    for batch, single in zip(together, alone, strict=True):
        for turn, (score, scale) in batch.items():
            assert score == pytest.approx(single[turn][0], abs=1e-5)
            assert scale == single[turn][1]
    crop_score, crop_scale = together[0][0]
    assert crop_score > 0.9 and crop_scale != (1.0, 1.0)  # found as a crop, not overlaid
    assert max(score for score, _ in together[1].values()) > 0.9  # one of the turns fits
    assert together[2][0][0] < s.coarse_align_score  # another picture fits at no turn


def test_an_overlay_of_both_pictures_whole_is_a_resize_not_a_crop() -> None:
    # A bitonal scan turned a quarter, whose words could not be read, merged with another
    # form on its template: its best overlay covered both pages whole at a slightly other
    # scale, counted as a crop, and a crop skips the sharper view that tells the forms apart.
    grid = np.zeros((4, 4))
    whole = (0.0, 0.0, 1.0, 1.0)
    assert not _cropped(_Alignment(0.95, 270, grid, grid, whole, whole))
    assert not _cropped(_Alignment(0.95, 0, grid, grid, None, None))
    assert _cropped(_Alignment(0.95, 0, grid, grid, (0.0, 0.0, 0.9, 1.0), whole))
    assert _cropped(_Alignment(0.95, 0, grid, grid, whole, (0.05, 0.0, 1.0, 1.0)))
