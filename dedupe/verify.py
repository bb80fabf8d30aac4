"""Pixel verification of one candidate pair: align the thumbnails, then measure agreement.

Alignment tries the turns the hashes suggest, then scales (one picture a crop of the other,
up to ~14 % per side) and, at each scale, every shift at once by masked normalised
cross-correlation (FFT). The best alignment's overall correlation is the score; a local
check (photo tiles, or for documents the written marks area by area) then decides whether
the two agree everywhere that matters, so a blend of two photos, a stereo partner or a
sibling form on one template does not pass on a high overall score alone.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy.fft import irfft2, next_fast_len, rfft2
from scipy.ndimage import gaussian_filter

from dedupe.settings import MatchSettings
from dedupe.types import Fingerprint

GRID = 48  # longest side of the grid both thumbnails are resampled to for correlation
_COARSE_GRID = 16  # the same search on this grid first, to reject hopeless pairs cheaply
_TILES = 6  # tiles per side for the photo local check
_DOC_TILES = 8
_DOC_SHIFT = 2  # preview pixels a re-scan may be out of register by, after global alignment
_DOC_GLOBAL_SHIFT = 8  # preview pixels searched for the page's global registration
_FLAT_STD = 4.0  # grey levels: below this an area is blank paper
_MIN_OVERLAP = 0.85  # share of the smaller picture that must overlap the other
# The 48-px search tries only scales within this of the 16-px search's best: one coarse
# pixel (1/16) and a half for rounding.
_NEAR_SCALE = 1.5 / _COARSE_GRID
_SOFTEN = 1.0  # grid pixels of Gaussian blur for the second score and the tile check

Box = tuple[float, float, float, float]  # relative (x0, y0, x1, y1)


@dataclass(frozen=True)
class Verification:
    score: float  # normalised cross-correlation after the best alignment, 1.0 = identical
    rotation: int  # degrees the member's pixels were turned to align with the reference
    local_ok: bool  # the tile (or, for documents, ink) check passed
    cropped: bool  # the best alignment needed a crop or a shift
    detail: str = ""


@dataclass(frozen=True)
class _Alignment:
    score: float
    rotation: int
    a: np.ndarray  # the overlapping parts, same shape
    b: np.ndarray
    a_box: Box | None
    b_box: Box | None
    scale: tuple[float, float] = (1.0, 1.0)  # b's grid size over a's, at this placement


def thumb(fp: Fingerprint) -> np.ndarray:
    w, h = fp.thumb_size
    return np.frombuffer(fp.thumbnail, dtype=np.uint8).reshape(h, w)


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if denom < 1e-6:
        return 1.0 if float(np.abs(a - b).max()) < 1e-3 else 0.0
    return float((a * b).sum() / denom)


@lru_cache(maxsize=1024)  # thumbnails come in a handful of aspect ratios
def _scales(aspect_a: float, aspect_b: float, settings: MatchSettings) -> frozenset[tuple[float, float]]:
    """(kx, ky): b's content spans kx x ky of a's width and height (k < 1: b is a crop of a)."""
    low = settings.crop_min_share
    steps = np.round(np.arange(1.0, low - 1e-9, -settings.crop_step), 4)
    out: set[tuple[float, float]] = set()
    ratio = aspect_b / aspect_a  # = kx / ky
    for k in steps:
        for kx, ky in ((k, k / ratio), (k * ratio, k)):
            for fx, fy in ((kx, ky), (1 / kx, 1 / ky)):  # b inside a, or a inside b
                lo, hi = min(fx, fy), max(fx, fy)
                if (hi <= 1.0 + 1e-9 and lo >= low - 1e-9) or (lo >= 1.0 - 1e-9 and hi <= 1 / low + 1e-9):
                    out.add((round(fx, 3), round(fy, 3)))
    return frozenset(out)


def coarse_crop_scores(
    ref: Fingerprint, other: Fingerprint, settings: MatchSettings, rotations: Iterable[int]
) -> dict[int, float]:
    """The crop/shift search of _align on a 16-px grid, per turn: a cheap upper estimate.

    Aligned copies agree even better once their fine detail is averaged away, so a turn whose
    best coarse alignment stays below settings.coarse_align_score is not searched at 48 px
    (and a pair with no such turn fails without the 48-px search).
    """
    return {rot: al.score for rot, al in _coarse(ref, other, settings, rotations).items()}


def _coarse(
    ref: Fingerprint, other: Fingerprint, settings: MatchSettings, rotations: Iterable[int]
) -> dict[int, _Alignment]:
    return {
        rot: _align(ref, other, settings, (rot,), grid=_COARSE_GRID, soften=False)
        for rot in sorted(set(rotations) | {0})
    }


def coarse_crop_score(
    ref: Fingerprint, other: Fingerprint, settings: MatchSettings, rotations: Iterable[int]
) -> float:
    """The best of coarse_crop_scores over the turns."""
    return max(coarse_crop_scores(ref, other, settings, rotations).values())


@lru_cache(maxsize=512)
def resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Antialiased linear (triangle-filter) resampling of one axis as an (n_out, n_in) matrix.

    Cached: thumbnails and grids come in a handful of sizes. Read-only; do not modify.
    """
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale
    x = np.arange(n_in) + 0.5
    w = np.maximum(0.0, 1.0 - np.abs(x[None, :] - centres[:, None]) / support)
    out = w / w.sum(axis=1, keepdims=True)
    out.flags.writeable = False
    return out


def _resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """img (any dtype) resampled to size = (width, height) as float64, by two small matmuls."""
    h, w = img.shape
    return resize_matrix(h, size[1]) @ img.astype(np.float64) @ resize_matrix(w, size[0]).T


def _ncc_surfaces(a: np.ndarray, bs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Masked NCC over the overlap for every placement of each b on a, and the overlap sizes.

    Full correlation: index (k, i, j) places bs[k]'s top-left corner at (i - hm + 1,
    j - wm + 1) in a's coordinates, hm x wm being the largest b. All bs are zero-padded into
    one frame and correlated in one batch of FFTs: the per-call overhead of small FFTs, not
    their arithmetic, is what verification costs.
    """
    ha, wa = a.shape
    hm, wm = max(b.shape[0] for b in bs), max(b.shape[1] for b in bs)
    # Any frame of at least (ha + hm - 1) x (wa + wm - 1) holds every offset once; sizes
    # with small prime factors keep the FFTs fast (103 = 48 + 56 - 1 is prime).
    shape = (next_fast_len(ha + hm - 1, real=True), next_fast_len(wa + wm - 1, real=True))
    # NCC ignores each picture's brightness and contrast, so both are standardised first:
    # sums of values near +-1 keep single precision (twice as fast) accurate enough.
    a = _standardised(a)
    stack = np.zeros((len(bs), hm, wm), np.float32)
    support = np.zeros((len(bs), hm, wm), np.float32)
    for k, b in enumerate(bs):
        stack[k, : b.shape[0], : b.shape[1]] = _standardised(b)
        support[k, : b.shape[0], : b.shape[1]] = 1.0
    fa, fa2, fma = rfft2(np.stack([a, a * a, np.ones_like(a)]), shape)
    fb, fb2, fmb = np.conj(rfft2(np.stack([stack, stack * stack, support]), shape))
    # Circular correlations: entry d places b at offset d (negative offsets wrap); one roll
    # by the largest b's size maps index i to offset i - hm + 1 for every b (the frame is
    # large enough that no offset aliases another).
    products = np.stack([fma * fmb, fa * fb, fa * fmb, fma * fb, fa2 * fmb, fma * fb2])
    n, sum_ab, sum_a, sum_b, sum_a2, sum_b2 = np.roll(
        irfft2(products, shape), (hm - 1, wm - 1), axis=(-2, -1)
    )
    n = np.rint(n)
    safe_n = np.maximum(n, 1)
    cov = sum_ab - sum_a * sum_b / safe_n
    var = np.maximum(sum_a2 - sum_a**2 / safe_n, 0) * np.maximum(sum_b2 - sum_b**2 / safe_n, 0)
    # A flat overlap (no contrast in one picture) has no correlation to speak of.
    score = np.where(var > 1e-3 * safe_n * safe_n, cov / np.sqrt(np.maximum(var, 1e-12)), 0.0)
    return score, n


def _standardised(x: np.ndarray) -> np.ndarray:
    """x as float32 with zero mean and unit variance (a flat x stays zero)."""
    x = x.astype(np.float32) - np.float32(x.mean())
    sd = float(x.std())
    return x / np.float32(sd) if sd > 1e-6 else x


def _best_placement(a: np.ndarray, bs: list[np.ndarray]) -> tuple[float, int, int, int]:
    """The best placement of any b in bs on a: (score, index into bs, y0, x0).

    (y0, x0) is that b's top-left corner in a; placements overlapping less than
    _MIN_OVERLAP of the smaller picture do not count.
    """
    scores, n = _ncc_surfaces(a, bs)
    smaller = np.minimum(a.size, np.array([b.size for b in bs], np.float64))
    scores[n < _MIN_OVERLAP * smaller[:, None, None]] = -1.0
    k, i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
    hm, wm = max(b.shape[0] for b in bs), max(b.shape[1] for b in bs)  # as _ncc_surfaces
    return float(scores[k, i, j]), int(k), int(i) - hm + 1, int(j) - wm + 1


def _align(
    ref: Fingerprint,
    other: Fingerprint,
    settings: MatchSettings,
    rotations: Iterable[int],
    grid: int = GRID,
    soften: bool = True,
    near: Mapping[int, tuple[float, float]] | None = None,
) -> _Alignment:
    """The best turn, scale and shift of other's thumbnail over ref's on a grid-px grid.

    near: per turn, the scale a coarser search found best; only scales within
    _NEAR_SCALE of it are searched (the coarse grid cannot be off by more).
    """
    a_img = thumb(ref)
    h, w = a_img.shape
    scale = grid / max(h, w)
    size_a = (max(8, round(w * scale)), max(8, round(h * scale)))
    a = _resize(a_img, size_a)
    best: _Alignment | None = None
    for rot in sorted(set(rotations)):  # the caller says which turns (verify_pair adds 0)
        b_img = np.rot90(thumb(other), k=rot // 90)
        plain = _resize(b_img, size_a)
        score = ncc(a, plain)
        if best is None or score > best.score + 1e-9:
            best = _Alignment(score, rot, a, plain, None, None)
        if score >= settings.same_image_score and abs(b_img.shape[1] / b_img.shape[0] * h / w - 1) < 0.03:
            continue  # the plain overlay already agrees; no crop or shift to look for
        # Scales that round to the same grid size are the same search: one of each.
        sizes = sorted(
            {
                (max(4, round(size_a[0] * kx)), max(4, round(size_a[1] * ky)))
                for kx, ky in _scales(w / h, b_img.shape[1] / b_img.shape[0], settings)
            }
        )
        if near is not None and rot in near:
            kx, ky = near[rot]
            sizes = [
                (sx, sy)
                for sx, sy in sizes
                if abs(sx / size_a[0] - kx) <= _NEAR_SCALE and abs(sy / size_a[1] - ky) <= _NEAR_SCALE
            ]
        if not sizes:
            continue  # the shapes are too different for one to be a crop of the other
        bs = [_resize(b_img, size) for size in sizes]
        found, k, y0, x0 = _best_placement(a, bs)
        if found <= best.score + 1e-9:
            continue
        b = bs[k]
        ay0, ax0 = max(0, y0), max(0, x0)
        ay1, ax1 = min(a.shape[0], y0 + b.shape[0]), min(a.shape[1], x0 + b.shape[1])
        a_part = a[ay0:ay1, ax0:ax1]
        b_part = b[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0]
        a_box = (ax0 / a.shape[1], ay0 / a.shape[0], ax1 / a.shape[1], ay1 / a.shape[0])
        b_box = (
            (ax0 - x0) / b.shape[1],
            (ay0 - y0) / b.shape[0],
            (ax1 - x0) / b.shape[1],
            (ay1 - y0) / b.shape[0],
        )
        scale_b = (b.shape[1] / a.shape[1], b.shape[0] / a.shape[0])
        best = _Alignment(found, rot, a_part, b_part, a_box, b_box, scale_b)
    assert best is not None
    if not soften:
        return best
    # Score the alignment also at a slightly coarser scale: at 48 px, fine texture (grass,
    # brick) and thin lines alias differently after a shift or rescale, which a 1-px blur
    # forgives, while a different picture mixed in (a blend, another scene) stays different.
    a_soft, b_soft = gaussian_filter(best.a, _SOFTEN), gaussian_filter(best.b, _SOFTEN)
    score = max(best.score, ncc(a_soft, b_soft))
    return _Alignment(score, best.rotation, a_soft, b_soft, best.a_box, best.b_box, best.scale)


def _tiles(shape: tuple[int, int], tiles: int) -> list[tuple[slice, slice]]:
    ys = np.linspace(0, shape[0], tiles + 1).astype(int)
    xs = np.linspace(0, shape[1], tiles + 1).astype(int)
    return [
        (slice(ys[i], ys[i + 1]), slice(xs[j], xs[j + 1]))
        for i in range(tiles)
        for j in range(tiles)
        if ys[i + 1] > ys[i] and xs[j + 1] > xs[j]
    ]


def tile_differences(a: np.ndarray, b: np.ndarray, tiles: int = _TILES) -> np.ndarray:
    """Per tile: mean absolute difference (0..1) after matching b's brightness/contrast to a.

    The difference is measured against the tile's own contrast as well: a tile counts by
    the larger of its absolute difference and its share of unexplained structure (1 -
    correlation, weighted by how much structure the tile holds). A blend of two photos or a
    stereo partner leaves structure one picture has and the other lacks in many tiles.
    Tiles are as _tiles cuts them (row by row); every per-tile sum comes from one reduceat.
    """
    sa, sb = a.std() or 1.0, b.std() or 1.0
    b = (b - b.mean()) / sb * sa + a.mean()
    ys = np.unique(np.linspace(0, a.shape[0], tiles + 1).astype(int))
    xs = np.unique(np.linspace(0, a.shape[1], tiles + 1).astype(int))

    def tile_sums(x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(np.add.reduceat(x, ys[:-1], axis=0), xs[:-1], axis=1).ravel()

    n = np.outer(np.diff(ys), np.diff(xs)).ravel().astype(np.float64)
    sum_a, sum_b = tile_sums(a), tile_sums(b)
    mad = tile_sums(np.abs(a - b)) / n / 255.0
    # Unexplained structure: residual energy after the best linear fit of b to a within the
    # tile, relative to the picture's overall contrast (so a flat sky tile with noise is small).
    var_a = np.maximum(tile_sums(a * a) - sum_a * sum_a / n, 0.0)
    var_b = np.maximum(tile_sums(b * b) - sum_b * sum_b / n, 0.0)
    cov = tile_sums(a * b) - sum_a * sum_b / n
    explained = np.where(var_b > 1e-9, cov * cov / np.maximum(var_b, 1e-9), 0.0)
    residual = np.sqrt(np.maximum(var_a - explained, 0.0) / n) / sa
    return np.maximum(mad, residual * 0.25)


def page_image(fp: Fingerprint) -> np.ndarray:
    """The sharpest grayscale view available: the 256-px preview, else the thumbnail."""
    if fp.preview_jpeg:
        try:
            with Image.open(io.BytesIO(fp.preview_jpeg)) as im:
                return np.asarray(im.convert("L"))
        except OSError:
            pass  # a damaged preview only costs resolution
    return thumb(fp)


def _crop_rel(img: np.ndarray, box: Box | None) -> np.ndarray:
    if box is None:
        return img
    h, w = img.shape
    x0, y0, x1, y1 = box
    top, left = round(y0 * h), round(x0 * w)
    return img[top : max(round(y1 * h), top + 1), left : max(round(x1 * w), left + 1)]


def _register(a: np.ndarray, b: np.ndarray, limit: int) -> np.ndarray:
    """b shifted (edge-padded) by the whole-pixel offset, within `limit`, that best fits a."""
    scores = _ncc_surfaces(a - a.mean(), [b - b.mean()])[0][0]
    hb, wb = b.shape
    i0, j0 = hb - 1, wb - 1  # zero shift
    window = scores[i0 - limit : i0 + limit + 1, j0 - limit : j0 + limit + 1]
    if window.size == 0:
        return b
    di, dj = np.unravel_index(int(np.argmax(window)), window.shape)
    dy, dx = int(di) - limit, int(dj) - limit
    padded = np.pad(b, limit, mode="edge")
    return padded[limit - dy : limit - dy + hb, limit - dx : limit - dx + wb]


def document_differences(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per page area: 1 - best correlation of the two pages' marks within a small shift, and
    the residual (grey levels RMS) at that shift.

    Two forms printed on one template share every box and label; they differ only where
    someone wrote, so an area whose marks neither correlate nor cancel keeps them apart,
    while a re-scan (blur, noise, a slight turn) still agrees once shifted a pixel or two.
    """
    b = np.asarray(Image.fromarray(b).resize((a.shape[1], a.shape[0]), Image.Resampling.BILINEAR), np.float64)
    a = gaussian_filter(a.astype(np.float64), 1.0)
    b = gaussian_filter(b, 1.0)
    b = _register(a, b, _DOC_GLOBAL_SHIFT)
    r = _DOC_SHIFT
    padded = np.pad(b, r, mode="edge")
    area = _tiles(a.shape, _DOC_TILES)
    corr_gap = np.zeros(len(area))
    residual = np.zeros(len(area))
    for n, (ys, xs) in enumerate(area):
        ta = a[ys, xs]
        ta = ta - ta.mean()
        na = float(np.sqrt((ta * ta).sum()))
        best, best_res, flat = -1.0, 0.0, True
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                tb = padded[ys.start + r + dy : ys.stop + r + dy, xs.start + r + dx : xs.stop + r + dx]
                tb = tb - tb.mean()
                nb = float(np.sqrt((tb * tb).sum()))
                if max(na, nb) / np.sqrt(ta.size) < _FLAT_STD:
                    continue  # blank paper in both: nothing written to compare
                flat = False
                if na * nb > 0:
                    c = float((ta * tb).sum()) / (na * nb)
                    if c > best:
                        best, best_res = c, float(np.sqrt(((ta - tb) ** 2).mean()))
        corr_gap[n] = 0.0 if flat else 1.0 - best
        residual[n] = 0.0 if flat else best_res
    return corr_gap, residual


def verify_pair(
    ref: Fingerprint, other: Fingerprint, settings: MatchSettings, rotations: Iterable[int] = (0,)
) -> Verification:
    """Align `other`'s thumbnail to `ref`'s (rotation, scale, shift) and measure agreement."""
    coarse = _coarse(ref, other, settings, rotations)
    turns = [rot for rot, c in coarse.items() if c.score >= settings.coarse_align_score]
    if not turns:
        plain = _resize(thumb(other), thumb(ref).shape[::-1])
        score = round(ncc(thumb(ref).astype(np.float64), plain), 4)
        return Verification(score, 0, False, False, "no alignment agrees even on a 16-px grid")
    al = _align(ref, other, settings, turns, near={rot: coarse[rot].scale for rot in turns})
    cropped = al.a_box is not None
    if (ref.document_like or other.document_like) and al.score >= settings.near_identical_score:
        # Forms on one template correlate highly overall; only the written marks tell them apart.
        pa = _crop_rel(page_image(ref), al.a_box)
        pb = _crop_rel(np.rot90(page_image(other), k=al.rotation // 90), al.b_box)
        gap, residual = document_differences(pa, np.ascontiguousarray(pb))
        differs = (gap > settings.document_ink_difference_limit) & (
            residual > settings.document_residual_floor
        )
        differing = int(differs.sum())
        local_ok = differing <= settings.document_tiles_allowed_to_differ
        detail = f"{differing} of {len(gap)} page areas differ in what is written"
    else:
        diffs = tile_differences(al.a, al.b)
        differing = int((diffs > settings.tile_difference_limit).sum())
        local_ok = differing <= settings.photo_tiles_allowed_to_differ
        detail = f"{differing} of {len(diffs)} areas differ"
    return Verification(round(al.score, 4), al.rotation, local_ok, cropped, detail)
