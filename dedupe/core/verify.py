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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy.fft import irfft2, next_fast_len, rfft2
from scipy.ndimage import gaussian_filter

from dedupe.core.agreed_marks import explained_areas
from dedupe.core.entry_settlement import Settlement, settle_entries
from dedupe.core.imaging import PREVIEW_SIZE, fit_box
from dedupe.core.page_text import PageWords, TextComparison, compare_text, word_key
from dedupe.core.page_text import words as words_of
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Fingerprint
from dedupe.core.word_places import WordPlace, quarter_turned
from dedupe.core.word_places import decode as decode_places

GRID = 48  # longest side of the grid both thumbnails are resampled to for correlation
_COARSE_GRID = 16  # the same search on this grid first, to reject hopeless pairs cheaply
_TILES = 6  # tiles per side for the photo local check
_DOC_TILES = 8
_DOC_SHIFT = 2  # preview pixels a re-scan may be out of register by, after global alignment
_DOC_GLOBAL_SHIFT = 8  # preview pixels searched for the page's global registration
_FLAT_STD = 4.0  # grey levels: below this an area is blank paper
# The sharper document check (on Fingerprint.document_view): square areas of this many view
# pixels, each allowed this shift after the page is registered (a 0.9 degree re-scan turn
# moves a corner of a 640-px view ~5 px), on views at least this long.
_VIEW_TILE = 64
_VIEW_SHIFT = 8
_VIEW_MIN_SIDE = 480
_MIN_OVERLAP = 0.85  # share of the smaller picture that must overlap the other
# The 48-px search tries only scales within this of the 16-px search's best: one coarse
# pixel (1/16) and a half for rounding.
_NEAR_SCALE = 1.5 / _COARSE_GRID
_COARSE_BATCH = 128  # pairs searched in one batch of FFTs (bounded memory)
_SOFTEN = 1.0  # grid pixels of Gaussian blur for the second score and the tile check

Box = tuple[float, float, float, float]  # relative (x0, y0, x1, y1)


@dataclass(frozen=True)
class Verification:
    score: float  # normalised cross-correlation after the best alignment, 1.0 = identical
    rotation: int  # degrees the member's pixels were turned to align with the reference
    local_ok: bool  # the tile (or, for documents, ink) check passed
    cropped: bool  # the best alignment needed a crop or a shift
    detail: str = ""
    # Documents whose words were read and disagree: the clerk's sentence naming the words
    # ("different text: 'Case 24-118' against 'Case 24-207'"), "" otherwise.
    text_difference: str = ""
    # Documents: entries one reading has that the other neither confirms nor contradicts
    # (dedupe.core.page_text), left to the pixels; the evidence names them for the clerk.
    unconfirmed: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Alignment:
    score: float
    rotation: int
    a: np.ndarray  # the overlapping parts, same shape
    b: np.ndarray
    a_box: Box | None
    b_box: Box | None


def thumb(fp: Fingerprint) -> np.ndarray:
    w, h = fp.thumb_size
    return np.frombuffer(fp.thumbnail, dtype=np.uint8).reshape(h, w)


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation of two equally shaped pictures (flat ones: 1 if equal)."""
    return float(_ncc_rows(a[None], b[None])[0])


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


CoarseFit = tuple[float, tuple[float, float]]  # best score on the 16-px grid, b's scale there


def coarse_fits(
    pairs: Sequence[tuple[Fingerprint, Fingerprint, Iterable[int]]], settings: MatchSettings
) -> list[dict[int, CoarseFit]]:
    """The crop/shift search of _align on a 16-px grid, for many pairs at once, per turn.

    Aligned copies agree even better once their fine detail is averaged away, so a turn
    whose best coarse alignment stays below settings.coarse_align_score is not searched at
    48 px (and a pair with no such turn fails without the 48-px search). Each pair's turns
    are its given ones plus 0. Pairs whose thumbnails have the same shapes (after the turn)
    share one batch of FFTs: a pair's own handful of numpy calls cost more than the maths.
    """
    out: list[dict[int, CoarseFit]] = [{} for _ in pairs]
    batches: dict[tuple[tuple[int, int], tuple[int, int]], list[tuple[int, int]]] = {}
    for n, (ref, other, rotations) in enumerate(pairs):
        w, h = other.thumb_size
        for rot in sorted(set(rotations) | {0}):
            turned = (h, w) if rot % 180 == 0 else (w, h)
            batches.setdefault((ref.thumb_size[::-1], turned), []).append((n, rot))
    for (a_shape, b_shape), members in batches.items():
        for lo in range(0, len(members), _COARSE_BATCH):
            chunk = members[lo : lo + _COARSE_BATCH]
            a_imgs = np.stack([thumb(pairs[n][0]) for n, _ in chunk])
            b_imgs = np.stack([np.rot90(thumb(pairs[n][1]), k=rot // 90) for n, rot in chunk])
            fits = _coarse_batch(a_imgs, b_imgs, a_shape, b_shape, settings)
            for (n, rot), fit in zip(chunk, fits, strict=True):
                out[n][rot] = fit
    return out


def _coarse_batch(
    a_imgs: np.ndarray,
    b_imgs: np.ndarray,
    a_shape: tuple[int, int],
    b_shape: tuple[int, int],
    settings: MatchSettings,
) -> list[CoarseFit]:
    """The search of _align on the _COARSE_GRID-px grid (no near scale, no blur) for stacks
    of equally shaped pairs."""
    h, w = a_shape
    size_a = _grid_size(a_shape, _COARSE_GRID)
    a = _resize(a_imgs, size_a)
    plain = _ncc_rows(a, _resize(b_imgs, size_a))
    sizes = _search_sizes(size_a, w / h, b_shape[1] / b_shape[0], settings)
    if not sizes:
        return [(float(p), (1.0, 1.0)) for p in plain]
    found, which, _, _ = _best_placements(a, [_resize(b_imgs, size) for size in sizes])
    same_shape = abs(b_shape[1] / b_shape[0] * h / w - 1) < 0.03
    fits = []
    for p, f, k in zip(plain.tolist(), found.tolist(), which.tolist(), strict=True):
        if (p >= settings.same_image_score and same_shape) or f <= p + 1e-9:
            fits.append((p, (1.0, 1.0)))  # the plain overlay agrees, or nothing beats it
        else:
            fits.append((f, (sizes[k][0] / size_a[0], sizes[k][1] / size_a[1])))
    return fits


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
    out: np.ndarray = w / w.sum(axis=1, keepdims=True)
    out.flags.writeable = False
    return out


def _resize(imgs: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An image, or each image of a (..., h, w) stack, resampled to size = (width, height)
    as float64, by two small matrix products."""
    h, w = imgs.shape[-2:]
    resized: np.ndarray = resize_matrix(h, size[1]) @ imgs.astype(np.float64) @ resize_matrix(w, size[0]).T
    return resized


def _grid_size(shape: tuple[int, int], grid: int) -> tuple[int, int]:
    """(width, height) of a picture of this (height, width) on a grid-px grid, aspect kept."""
    h, w = shape
    scale = grid / max(h, w)
    return max(8, round(w * scale)), max(8, round(h * scale))


def _search_sizes(
    size_a: tuple[int, int], aspect_a: float, aspect_b: float, settings: MatchSettings
) -> list[tuple[int, int]]:
    """Grid sizes (width, height) of b for every crop scale; scales that round to the same
    size are the same search, so each size once."""
    return sorted(
        {
            (max(4, round(size_a[0] * kx)), max(4, round(size_a[1] * ky)))
            for kx, ky in _scales(aspect_a, aspect_b, settings)
        }
    )


def _ncc_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ncc of each pair of equally shaped (G, h, w) stacks."""
    a = a - a.mean(axis=(1, 2), keepdims=True)
    b = b - b.mean(axis=(1, 2), keepdims=True)
    denom = np.sqrt((a * a).sum(axis=(1, 2)) * (b * b).sum(axis=(1, 2)))
    flat_equal = np.abs(a - b).max(axis=(1, 2)) < 1e-3
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (a * b).sum(axis=(1, 2)) / denom
    scores: np.ndarray = np.where(denom < 1e-6, flat_equal.astype(np.float64), score)
    return scores


def _ncc_surfaces(a: np.ndarray, bs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Masked NCC over the overlap for every placement of each b on a, and the overlap sizes.

    a is a (G, ha, wa) stack and each b a (G, h, w) stack (one size per b, G pairs).
    Full correlation, circular: index (g, k, i, j) places bs[k][g]'s top-left corner at
    offset (i, j) in a[g]'s coordinates, negative offsets wrapping to the end of each axis
    (see _offset); the overlap sizes (k, i, j) are the same for every g. All bs are
    zero-padded into one frame and correlated in one batch of FFTs: the per-call overhead of
    small FFTs, not their arithmetic, is what verification costs.
    """
    ha, wa = a.shape[-2:]
    hm, wm = max(b.shape[-2] for b in bs), max(b.shape[-1] for b in bs)
    # Any frame of at least (ha + hm - 1) x (wa + wm - 1) holds every offset once; sizes
    # with small prime factors keep the FFTs fast (103 = 48 + 56 - 1 is prime).
    shape = (next_fast_len(ha + hm - 1, real=True), next_fast_len(wa + wm - 1, real=True))
    # NCC ignores each picture's brightness and contrast, so both are standardised first:
    # sums of values near +-1 keep single precision (twice as fast) accurate enough.
    a = _standardised(a)[:, None]
    stack = np.zeros((len(a), len(bs), hm, wm), np.float32)
    support = np.zeros((len(bs), hm, wm), np.float32)
    for k, b in enumerate(bs):
        stack[:, k, : b.shape[-2], : b.shape[-1]] = b
        support[k, : b.shape[-2], : b.shape[-1]] = 1.0
    count = support.sum(axis=(-2, -1), keepdims=True)
    stack = (stack - stack.sum(axis=(-2, -1), keepdims=True) / count) * support
    sd = np.sqrt((stack * stack).sum(axis=(-2, -1), keepdims=True) / count)
    stack /= np.where(sd > 1e-6, sd, np.float32(1.0))
    fa, fa2 = rfft2(np.stack([a, a * a]), shape)
    fma = rfft2(np.ones((ha, wa), np.float32), shape)
    fb, fb2 = np.conj(rfft2(np.stack([stack, stack * stack]), shape))
    fmb = np.conj(rfft2(support, shape))
    products = np.empty((5, *fb.shape), fb.dtype)
    for out, (x, y) in zip(products, ((fa, fb), (fa, fmb), (fma, fb), (fa2, fmb), (fma, fb2)), strict=True):
        np.multiply(x, y, out=out)
    sum_ab, sum_a, sum_b, sum_a2, sum_b2 = irfft2(products, shape)
    n = np.rint(irfft2(fma * fmb, shape))
    safe_n = np.maximum(n, 1)
    cov = sum_ab - sum_a * sum_b / safe_n
    var = np.maximum(sum_a2 - sum_a**2 / safe_n, 0) * np.maximum(sum_b2 - sum_b**2 / safe_n, 0)
    # A flat overlap (no contrast in one picture) has no correlation to speak of.
    score = np.where(var > 1e-3 * safe_n * safe_n, cov / np.sqrt(np.maximum(var, 1e-12)), 0.0)
    return score, n


def _offset(index: np.ndarray, frame: int, largest: int) -> np.ndarray:
    """The offset an index of a circular correlation stands for, along one axis.

    The frame holds offsets 0 .. frame - largest at their own index and the negative
    offsets -(largest - 1) .. -1 wrapped to the end (largest: the largest b's extent).
    """
    return np.where(index > frame - largest, index - frame, index)


def _standardised(x: np.ndarray) -> np.ndarray:
    """Each picture of a (..., h, w) stack as float32 with zero mean and unit variance (a
    flat picture stays zero)."""
    x = x.astype(np.float32)
    x = x - x.mean(axis=(-2, -1), keepdims=True)
    sd = x.std(axis=(-2, -1), keepdims=True)
    return x / np.where(sd > 1e-6, sd, np.float32(1.0))


def _best_placements(a: np.ndarray, bs: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """For each pair g: the best placement of any bs[k][g] on a[g], as arrays over g of
    (score, k, y0, x0), (y0, x0) being that b's top-left corner in a.

    Placements overlapping less than _MIN_OVERLAP of the smaller picture do not count.
    """
    scores, n = _ncc_surfaces(a, bs)
    smaller = np.minimum(a[0].size, np.array([b[0].size for b in bs], np.float64))
    scores[:, n < _MIN_OVERLAP * smaller[:, None, None]] = -1.0
    flat = scores.reshape(len(scores), -1)
    best = np.argmax(flat, axis=1)
    k, i, j = np.unravel_index(best, scores.shape[1:])
    hm, wm = max(b.shape[-2] for b in bs), max(b.shape[-1] for b in bs)
    y0, x0 = _offset(i, scores.shape[-2], hm), _offset(j, scores.shape[-1], wm)
    return flat[np.arange(len(flat)), best].astype(np.float64), k, y0, x0


def _best_placement(a: np.ndarray, bs: list[np.ndarray]) -> tuple[float, int, int, int]:
    """_best_placements of one pair: (score, index into bs, y0, x0)."""
    score, k, y0, x0 = _best_placements(a[None], [b[None] for b in bs])
    return float(score[0]), int(k[0]), int(y0[0]), int(x0[0])


def _align(
    ref: Fingerprint,
    other: Fingerprint,
    settings: MatchSettings,
    rotations: Iterable[int],
    near: Mapping[int, tuple[float, float]],
) -> _Alignment:
    """The best turn, scale and shift of other's thumbnail over ref's on the GRID-px grid.

    near: per turn, the scale the 16-px search found best (coarse_fits); only scales within
    _NEAR_SCALE of it are searched (the coarse grid cannot be off by more).
    """
    a_img = thumb(ref)
    h, w = a_img.shape
    size_a = _grid_size((h, w), GRID)
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
        kx, ky = near[rot]
        sizes = [
            (sx, sy)
            for sx, sy in _search_sizes(size_a, w / h, b_img.shape[1] / b_img.shape[0], settings)
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
        best = _Alignment(found, rot, a_part, b_part, a_box, b_box)
    assert best is not None
    # Score the alignment also at a slightly coarser scale: at 48 px, fine texture (grass,
    # brick) and thin lines alias differently after a shift or rescale, which a 1-px blur
    # forgives, while a different picture mixed in (a blend, another scene) stays different.
    a_soft, b_soft = gaussian_filter(best.a, _SOFTEN), gaussian_filter(best.b, _SOFTEN)
    score = max(best.score, ncc(a_soft, b_soft))
    return _Alignment(score, best.rotation, a_soft, b_soft, best.a_box, best.b_box)


_WHOLE: Box = (0.0, 0.0, 1.0, 1.0)


def _cropped(al: _Alignment) -> bool:
    """Whether the alignment overlays only part of either picture. A placement that covers
    both whole (the other page a little wider or taller, as a rescan at another dpi often
    is) is a resize, not a crop: such pages are compared whole, sharper view included."""
    return al.a_box is not None and (al.a_box != _WHOLE or al.b_box != _WHOLE)


def _tile_edges(length: int, tiles: int) -> np.ndarray:
    """Where `tiles` near-equal tiles of an axis start and end (empty tiles dropped)."""
    return np.unique(np.linspace(0, length, tiles + 1).astype(int))


def _tiles(shape: tuple[int, int], tiles: int) -> list[tuple[slice, slice]]:
    ys, xs = _tile_edges(shape[0], tiles), _tile_edges(shape[1], tiles)
    return [
        (slice(ys[i], ys[i + 1]), slice(xs[j], xs[j + 1]))
        for i in range(len(ys) - 1)
        for j in range(len(xs) - 1)
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
    ys, xs = _tile_edges(a.shape[0], tiles), _tile_edges(a.shape[1], tiles)

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
    differences: np.ndarray = np.maximum(mad, residual * 0.25)
    return differences


def page_image(fp: Fingerprint) -> np.ndarray:
    """The page at the 256-px preview's scale, in grey: the preview, else the document view
    brought to that scale (stored fingerprints carry no preview), else the thumbnail."""
    if fp.preview_jpeg:
        try:
            with Image.open(io.BytesIO(fp.preview_jpeg)) as im:
                return np.asarray(im.convert("L"))
        except OSError:
            pass  # a damaged preview only costs resolution
    view = _decoded_view(fp.document_view)
    if view is not None:
        return np.asarray(fit_box(view, PREVIEW_SIZE) if max(view.size) > PREVIEW_SIZE else view)
    return thumb(fp)


@lru_cache(maxsize=16)  # decoded once for both checks, and for each candidate of one page
def _decoded_view(data: bytes) -> Image.Image | None:
    """A fingerprint's document view (JPEG bytes) decoded to grey; None when it has none."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.convert("L")
    except OSError:
        return None  # a damaged view only costs the sharper check


def document_view(fp: Fingerprint) -> np.ndarray | None:
    """The sharper grey view of a document-like page, when it is sharp enough to check."""
    view = _decoded_view(fp.document_view)
    if view is None or max(view.size) < _VIEW_MIN_SIDE:
        return None
    return np.asarray(view)


@dataclass(frozen=True)
class SharpComparison:
    """The sharper views compared area by area (sharp_document_gaps)."""

    gaps: np.ndarray  # per area: 1 - the best correlation within a small shift
    areas: list[tuple[slice, slice]]  # each area's rows and columns, in page a's view
    b: np.ndarray  # page b's view brought to page a's: resized and registered
    shift: tuple[int, int]  # the (rows, columns) page b's view was moved by to register it


def sharp_document_gaps(a: np.ndarray, b: np.ndarray) -> SharpComparison:
    """Per page area of the sharper views: 1 - the best correlation of one page's marks with
    the other's within a small shift, the worse of the two directions.

    Square areas of _VIEW_TILE px, each searched over every shift within _VIEW_SHIFT after
    registering the whole page, in one batch of FFTs. An area blank in one page and marked in
    the other scores 1 (nothing in the blank page correlates with the marks).
    """
    b = np.asarray(Image.fromarray(b).resize((a.shape[1], a.shape[0]), Image.Resampling.BILINEAR))
    soft_a = gaussian_filter(a.astype(np.float64), 1.0)
    soft_b = gaussian_filter(b.astype(np.float64), 1.0)
    limit = 2 * _VIEW_SHIFT
    shift = _registration(soft_a, soft_b, limit)
    soft_b = _shifted(soft_b, shift, limit)
    areas = view_areas(a.shape)
    gaps: np.ndarray = np.maximum(_area_gaps(soft_a, soft_b, areas), _area_gaps(soft_b, soft_a, areas))
    return SharpComparison(gaps, areas, _shifted(b, shift, limit), shift)


def view_areas(shape: tuple[int, ...]) -> list[tuple[slice, slice]]:
    """The sharper check's areas: equal squares covering the whole view (overlapping a
    little where it does not divide), row by row."""
    t = _VIEW_TILE
    h, w = shape[:2]
    if h < t or w < t:
        return []
    tops = np.round(np.linspace(0, h - t, -(-h // t))).astype(int)
    lefts = np.round(np.linspace(0, w - t, -(-w // t))).astype(int)
    return [(slice(y, y + t), slice(x, x + t)) for y in tops for x in lefts]


def _area_gaps(a: np.ndarray, b: np.ndarray, areas: Sequence[tuple[slice, slice]]) -> np.ndarray:
    """For each of `areas` (view_areas') of `a` holding marks: 1 - its best correlation with
    `b` near the same place."""
    t, r = _VIEW_TILE, _VIEW_SHIFT
    if not areas:
        return np.zeros(0)
    padded = np.pad(b, r, mode="edge")
    tiles = np.stack([a[rows, cols] for rows, cols in areas])
    regions = np.stack(
        [padded[rows.start : rows.stop + 2 * r, cols.start : cols.stop + 2 * r] for rows, cols in areas]
    )
    centred = tiles - tiles.mean(axis=(1, 2), keepdims=True)
    norm = np.sqrt((centred * centred).sum(axis=(1, 2)))
    size = t + 2 * r
    # corr[dy, dx] = sum(centred * region window at (dy, dx)); no wrap-around for dy, dx <= 2r.
    corr = irfft2(rfft2(regions, s=(size, size)) * np.conj(rfft2(centred, s=(size, size))), s=(size, size))
    corr = corr[:, : 2 * r + 1, : 2 * r + 1]
    sums = _window_sums(regions, t, 2 * r + 1)
    squares = _window_sums(regions * regions, t, 2 * r + 1)
    spread = np.sqrt(np.maximum(squares - sums * sums / (t * t), 0.0))
    denominator = norm[:, None, None] * spread
    ncc = np.where(denominator > 1e-6, corr / np.maximum(denominator, 1e-6), 0.0)
    best = ncc.reshape(len(tiles), -1).max(axis=1)
    marked = norm / t >= _FLAT_STD  # blank paper here: the other direction judges this area
    return np.where(marked, 1.0 - best, 0.0)


def _window_sums(x: np.ndarray, window: int, positions: int) -> np.ndarray:
    """Sums of every window x window square at offsets 0..positions-1, per stacked image."""
    integral = np.zeros((x.shape[0], x.shape[1] + 1, x.shape[2] + 1))
    integral[:, 1:, 1:] = x.cumsum(axis=1).cumsum(axis=2)
    end = slice(window, window + positions)
    start = slice(0, positions)
    return (
        integral[:, end, end] - integral[:, start, end] - integral[:, end, start] + integral[:, start, start]
    )


def _crop_rel(img: np.ndarray, box: Box | None) -> np.ndarray:
    if box is None:
        return img
    h, w = img.shape
    x0, y0, x1, y1 = box
    top, left = round(y0 * h), round(x0 * w)
    return img[top : max(round(y1 * h), top + 1), left : max(round(x1 * w), left + 1)]


def _registration(a: np.ndarray, b: np.ndarray, limit: int) -> tuple[int, int]:
    """The whole-pixel (rows, columns) move of b, within `limit`, that best fits it to a."""
    hb, wb = b.shape
    if limit >= min(hb, wb, a.shape[0], a.shape[1]):
        return 0, 0  # too small a page to register
    scores = _ncc_surfaces(a[None], [b[None]])[0][0, 0]
    # Shifts -limit .. limit along each axis (negative ones wrap to the end of the frame).
    shifts = np.arange(-limit, limit + 1)
    window = scores[np.ix_(shifts % scores.shape[0], shifts % scores.shape[1])]
    di, dj = np.unravel_index(int(np.argmax(window)), window.shape)
    return int(di) - limit, int(dj) - limit


def _shifted(b: np.ndarray, shift: tuple[int, int], limit: int) -> np.ndarray:
    """b moved by `shift` (rows, columns; each within `limit`), its edges padded."""
    dy, dx = shift
    hb, wb = b.shape
    padded = np.pad(b, limit, mode="edge")
    return padded[limit - dy : limit - dy + hb, limit - dx : limit - dx + wb]


def _register(a: np.ndarray, b: np.ndarray, limit: int) -> np.ndarray:
    """b shifted (edge-padded) by the whole-pixel offset, within `limit`, that best fits a."""
    return _shifted(b, _registration(a, b, limit), limit)


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


def _sharp_differences(
    ref: Fingerprint,
    other: Fingerprint,
    view: np.ndarray,
    sharp: SharpComparison,
    rotation: int,
    settings: MatchSettings,
    held: Sequence[str] = (),
) -> tuple[int, int]:
    """How many of the sharper view's areas differ, and how many more differ in pixels only:
    every mark in them is a word both readings hold there or a line both pages have
    (dedupe.core.agreed_marks). An area under a `held` entry (one reading has it, the other
    neither confirms nor contradicts it) is always left to the pixels."""
    differs = sharp.gaps > settings.document_view_difference_limit
    if not differs.any() or not (ref.word_places and other.word_places):
        return int(differs.sum()), 0
    h, w = view.shape
    dy, dx = sharp.shift
    places_a = decode_places(ref.word_places)
    places_b = [
        WordPlace(p.word, (p.box[0] + dx / w, p.box[1] + dy / h, p.box[2] + dx / w, p.box[3] + dy / h))
        for p in quarter_turned(decode_places(other.word_places), rotation // 90)
    ]
    held_keys = {word_key(entry.split()[-1]) for entry in held}
    held_boxes = [
        p.box for p in (*places_a, *places_b) if any(word_key(t) in held_keys for t in words_of(p.word))
    ]
    areas = [
        area
        for area, d in zip(sharp.areas, differs, strict=True)
        if d and not any(_overlaps(area, box, (h, w)) for box in held_boxes)
    ]
    explained = sum(
        explained_areas(view, sharp.b, areas, places_a, places_b, settings.document_unread_ink_limit)
    )
    return int(differs.sum()) - explained, explained


def _overlaps(area: tuple[slice, slice], box: Box, shape: tuple[int, int]) -> bool:
    rows, cols = area
    h, w = shape
    x0, y0, x1, y1 = box
    return bool(x1 * w > cols.start and x0 * w < cols.stop and y1 * h > rows.start and y0 * h < rows.stop)


def _compared_words(ref: Fingerprint, other: Fingerprint, rotation: int) -> tuple[TextComparison, Settlement]:
    """The two pages' words compared, the entries their readings disagree about settled by
    their printed marks first (dedupe.core.entry_settlement). Marks are compared only when the
    pages lie the same way up (their places are in one frame)."""
    read_a, read_b = page_words(ref), page_words(other)
    settled = Settlement()
    if rotation == 0:
        settled = settle_entries(
            ref.word_places, ref.entry_marks, read_a, other.word_places, other.entry_marks, read_b
        )
    return compare_text(*settled.words(read_a, read_b)), settled


def page_words(fp: Fingerprint) -> PageWords:
    """A fingerprint's reading for dedupe.core.page_text: a text layer holds all the words."""
    return PageWords(
        fp.text, fp.ocr_guesses, complete=fp.text_source == "text_layer", alternatives=fp.ocr_alternatives
    )


def verify_pair(
    ref: Fingerprint,
    other: Fingerprint,
    settings: MatchSettings,
    rotations: Iterable[int] = (0,),
    coarse: Mapping[int, CoarseFit] | None = None,
) -> Verification:
    """Align `other`'s thumbnail to `ref`'s (rotation, scale, shift) and measure agreement.

    coarse: this pair's coarse_fits, when the caller searched many pairs at once.
    """
    if coarse is None:
        (coarse,) = coarse_fits([(ref, other, rotations)], settings)
    turns = [rot for rot, (score, _) in coarse.items() if score >= settings.coarse_align_score]
    if not turns:
        plain = _resize(thumb(other), thumb(ref).shape[::-1])
        score = round(ncc(thumb(ref).astype(np.float64), plain), 4)
        return Verification(score, 0, False, False, "no alignment agrees even on a 16-px grid")
    al = _align(ref, other, settings, turns, near={rot: coarse[rot][1] for rot in turns})
    cropped = _cropped(al)
    text_difference = ""
    unconfirmed: tuple[str, ...] = ()
    if (ref.document_like or other.document_like) and al.score >= settings.near_identical_score:
        # Forms on one template correlate highly overall; only the written marks tell them apart.
        pa = _crop_rel(page_image(ref), al.a_box)
        pb = _crop_rel(np.rot90(page_image(other), k=al.rotation // 90), al.b_box)
        gap, residual = document_differences(pa, np.ascontiguousarray(pb))
        differs = (gap > settings.document_ink_difference_limit) & (
            residual > settings.document_residual_floor
        )
        differing = preview_differing = int(differs.sum())
        detail = f"{differing} of {len(gap)} page areas differ in what is written"
        words, settled = _compared_words(ref, other, al.rotation)
        va, vb = document_view(ref), document_view(other)
        if va is not None and vb is not None and not cropped:
            # Both pages were kept sharp and align whole: small handwriting shows there that
            # the preview blurs. (A crop's overlap is known only to the 48-px grid's 2 %, too
            # coarse to register 64-px areas of a 640-px view; crops keep the preview check.)
            sharp = sharp_document_gaps(va, np.ascontiguousarray(np.rot90(vb, k=al.rotation // 90)))
            sharp_differing, explained = _sharp_differences(
                ref, other, va, sharp, al.rotation, settings, held=words.unconfirmed
            )
            differing = max(differing, sharp_differing)
            detail += f"; {sharp_differing} of {len(sharp.gaps)} in the sharper view"
            if explained:
                detail += f" ({explained} more hold only words both readings agree on)"
        local_ok = differing <= settings.document_tiles_allowed_to_differ
        if words.compared:
            # Both pages were read: their words decide what the ink check may have missed,
            # and when nearly every word agrees and every entry is confirmed they outweigh
            # the sharper view, which a rescan's blur moves more than a changed word does.
            text_differs = words.entries_differ or words.agreement < settings.document_text_min_agreement
            if text_differs:
                local_ok = False
                text_difference = words.reason()
                detail = f"{text_difference}; {detail}"
            else:
                if words.agreement >= settings.document_text_decides_agreement and not words.unconfirmed:
                    local_ok = preview_differing <= settings.document_tiles_allowed_to_differ
                detail = f"{words.agreement:.0%} of the words agree; {detail}"
                if settled.misread:
                    misread = ", ".join(f"'{b}' for '{a}'" for a, b in settled.misread[:3])
                    detail += f"; one reading has {misread}, the same printed marks"
                unconfirmed = words.unconfirmed
                if words.unconfirmed:
                    detail += f"; OCR could not confirm {', '.join(repr(w) for w in words.unconfirmed[:3])}"
    else:
        diffs = tile_differences(al.a, al.b)
        differing = int((diffs > settings.tile_difference_limit).sum())
        local_ok = differing <= settings.photo_tiles_allowed_to_differ
        detail = f"{differing} of {len(diffs)} areas differ"
    return Verification(
        round(al.score, 4), al.rotation, local_ok, cropped, detail, text_difference, unconfirmed
    )
