"""Verification of candidate pairs on pixels, grouping without chaining, and relations.

Exact copies (same bytes and page) and pixel-identical copies are joined first; one
representative of each is searched by perceptual hash through the index; every candidate
pair is verified on the thumbnails; groups then form around an authoritative copy so that
every member is within the thresholds of that copy, not merely of another member.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from dedupe.authority import AuthorityDecision, choose_authoritative
from dedupe.conflicts import find_conflicts
from dedupe.index import HammingIndex, self_pairs, to_uint64
from dedupe.settings import MatchSettings
from dedupe.types import Fingerprint, Group, MemberEvidence, Relation

GRID = 48  # longest side of the grid both thumbnails are resampled to for correlation
_TILES = 6  # tiles per side for the local check
_DOC_TILES = 8
_DOC_SHIFT = 3  # pixels of the 256-px page view a re-scan may be out of register by
_FLAT_STD = 4.0  # grey levels: below this an area is blank paper

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class ClerkDecisions:
    """What clerks decided on earlier runs; every decision survives a re-run.

    distinct_pairs: key pairs a clerk said are different images; they are never put in
        one group again (not even through a third copy).
    forced_merges: key pairs a clerk said are the same image; they join one group even
        when the pixels do not verify.
    forced_authority: {anchor key: chosen key}; when the anchor (usually the previous
        authoritative copy) and the chosen key end up in one group, the chosen key is its
        authoritative copy (rule "clerk_override").
    """

    distinct_pairs: frozenset[frozenset[str]] = frozenset()
    forced_merges: frozenset[frozenset[str]] = frozenset()
    forced_authority: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def pairs(pairs: Iterable[Iterable[str]]) -> frozenset[frozenset[str]]:
        return frozenset(frozenset(p) for p in pairs)


@dataclass(frozen=True)
class Verification:
    score: float  # normalised cross-correlation after the best alignment, 1.0 = identical
    rotation: int  # degrees the member's pixels were turned to align with the reference
    local_ok: bool  # the tile (or, for documents, ink) check passed
    cropped: bool  # the best alignment needed a crop window
    detail: str = ""


# ---------------------------------------------------------------- pixel verification


def _thumb(fp: Fingerprint) -> np.ndarray:
    w, h = fp.thumb_size
    return np.frombuffer(fp.thumbnail, dtype=np.uint8).reshape(h, w)


def _grid_size(ref: np.ndarray) -> tuple[int, int]:
    h, w = ref.shape
    scale = GRID / max(h, w)
    return max(8, round(w * scale)), max(8, round(h * scale))


def _resample(img: np.ndarray, size: tuple[int, int], box: tuple[float, float, float, float] | None = None):
    pil = Image.fromarray(img)
    return np.asarray(pil.resize(size, Image.Resampling.BILINEAR, box=box), dtype=np.float32)


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if denom < 1e-6:
        return 1.0 if float(np.abs(a - b).max()) < 1e-3 else 0.0
    return float((a * b).sum() / denom)


def _windows(settings: MatchSettings, shape: tuple[int, int], aspect: float):
    """Crop boxes over an image of `shape` whose aspect is near `aspect` (w / h)."""
    h, w = shape
    scales = (1.0, *settings.crop_scales)
    for sx in scales:
        for sy in scales:
            if sx == sy == 1.0:
                continue
            if abs((w * sx) / (h * sy) / aspect - 1.0) > 0.035:
                continue
            for fx in (0.0, 0.5, 1.0) if sx < 1 else (0.0,):
                for fy in (0.0, 0.5, 1.0) if sy < 1 else (0.0,):
                    x0, y0 = fx * w * (1 - sx), fy * h * (1 - sy)
                    yield (x0, y0, x0 + w * sx, y0 + h * sy)


def _tile_scores(a: np.ndarray, b: np.ndarray, tiles: int) -> np.ndarray:
    """Mean absolute difference per tile after matching b's brightness/contrast to a."""
    sa, sb = a.std() or 1.0, b.std() or 1.0
    b = (b - b.mean()) / sb * sa + a.mean()
    diff = np.abs(a - b) / 255.0
    ys = np.linspace(0, a.shape[0], tiles + 1).astype(int)
    xs = np.linspace(0, a.shape[1], tiles + 1).astype(int)
    return np.array(
        [diff[ys[i] : ys[i + 1], xs[j] : xs[j + 1]].mean() for i in range(tiles) for j in range(tiles)]
    )


def _page_image(fp: Fingerprint) -> np.ndarray:
    """The sharpest grayscale view available: the 256-px preview, else the thumbnail."""
    if fp.preview_jpeg:
        try:
            with Image.open(io.BytesIO(fp.preview_jpeg)) as im:
                return np.asarray(im.convert("L"))
        except OSError:
            pass  # a damaged preview only costs resolution
    return _thumb(fp)


def _crop_rel(img: np.ndarray, box: Box | None) -> np.ndarray:
    if box is None:
        return img
    h, w = img.shape
    x0, y0, x1, y1 = box
    return img[round(y0 * h) : max(round(y1 * h), round(y0 * h) + 1), round(x0 * w) : max(round(x1 * w), 1)]


def _document_tile_differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per page area: 1 - best correlation of the two pages' ink within a few pixels' shift.

    Two forms printed on one template share every box and label; they differ only where
    someone wrote, so one area whose marks do not correlate keeps them apart, while a
    re-scan (blur, noise, a slight turn) still correlates once shifted by a pixel or two.
    """
    b = np.asarray(Image.fromarray(b).resize((a.shape[1], a.shape[0]), Image.Resampling.BILINEAR), np.float32)
    a = gaussian_filter(a.astype(np.float32), 1.0)
    b = gaussian_filter(b, 1.0)
    r = _DOC_SHIFT
    padded = np.pad(b, r, mode="edge")
    ys = np.linspace(0, a.shape[0], _DOC_TILES + 1).astype(int)
    xs = np.linspace(0, a.shape[1], _DOC_TILES + 1).astype(int)
    out = np.zeros(_DOC_TILES * _DOC_TILES)
    for i in range(_DOC_TILES):
        for j in range(_DOC_TILES):
            ta = a[ys[i] : ys[i + 1], xs[j] : xs[j + 1]]
            if ta.size == 0:
                continue
            ta = ta - ta.mean()
            na = float(np.sqrt((ta * ta).sum()))
            best, flat = -1.0, True
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    tb = padded[ys[i] + r + dy : ys[i + 1] + r + dy, xs[j] + r + dx : xs[j + 1] + r + dx]
                    tb = tb - tb.mean()
                    nb = float(np.sqrt((tb * tb).sum()))
                    if max(na, nb) / np.sqrt(ta.size) < _FLAT_STD:
                        continue  # blank paper in both: nothing written to compare
                    flat = False
                    if na * nb > 0:
                        best = max(best, float((ta * tb).sum()) / (na * nb))
            out[i * _DOC_TILES + j] = 0.0 if flat else 1.0 - best
    return out


def verify_pair(
    ref: Fingerprint, other: Fingerprint, settings: MatchSettings, rotations: Iterable[int] = (0,)
) -> Verification:
    """Align `other`'s thumbnail to `ref`'s (rotation, then small crops) and measure agreement."""
    a_img = _thumb(ref)
    size = _grid_size(a_img)
    a = _resample(a_img, size)
    aspect_a = a_img.shape[1] / a_img.shape[0]
    best: tuple[float, int, Box | None, Box | None, np.ndarray, np.ndarray] | None = None
    for rot in sorted(set(rotations) | {0}):
        b_img = np.ascontiguousarray(np.rot90(_thumb(other), k=rot // 90))
        aspect_b = b_img.shape[1] / b_img.shape[0]
        b = _resample(b_img, size)
        trials: list[tuple[Box | None, Box | None, np.ndarray, np.ndarray]] = [(None, None, a, b)]
        if _ncc(a, b) < settings.same_image_score or abs(aspect_a / aspect_b - 1) > 0.03:
            for box in _windows(settings, a_img.shape, aspect_b):
                trials.append((_rel(box, a_img), None, _resample(a_img, size, box), b))
            for box in _windows(settings, b_img.shape, aspect_a):
                trials.append((None, _rel(box, b_img), a, _resample(b_img, size, box)))
        for a_box, b_box, x, y in trials:
            score = _ncc(x, y)
            if best is None or score > best[0] + 1e-9:
                best = (score, rot, a_box, b_box, x, y)
    assert best is not None
    score, rot, a_box, b_box, x, y = best
    cropped = a_box is not None or b_box is not None
    if (ref.document_like or other.document_like) and score >= settings.near_identical_score:
        # Forms on one template correlate highly overall; only the written marks tell them apart.
        pa = _crop_rel(_page_image(ref), a_box)
        pb = _crop_rel(np.rot90(_page_image(other), k=rot // 90), b_box)
        diffs = _document_tile_differences(pa, np.ascontiguousarray(pb))
        differing = int((diffs > settings.document_ink_difference_limit).sum())
        local_ok = differing <= settings.document_tiles_allowed_to_differ
        detail = f"{differing} of {_DOC_TILES**2} page areas differ in what is written"
    else:
        differing = int((_tile_scores(x, y, _TILES) > settings.tile_difference_limit).sum())
        local_ok = differing <= settings.photo_tiles_allowed_to_differ
        detail = f"{differing} of {_TILES**2} areas differ"
    return Verification(round(score, 4), rot, local_ok, cropped, detail)


def _rel(box: Box, img: np.ndarray) -> Box:
    h, w = img.shape
    return (box[0] / w, box[1] / h, box[2] / w, box[3] / h)


# ---------------------------------------------------------------- relations and evidence


def _seconds_apart(a: Fingerprint, b: Fingerprint) -> float | None:
    ca, cb = a.metadata.capture, b.metadata.capture
    if not (ca.is_known and cb.is_known) or ca.weak or cb.weak:
        return None
    return abs((ca.value - cb.value).total_seconds())  # type: ignore[operator]


def relation_between(
    ref: Fingerprint, other: Fingerprint, v: Verification, s: MatchSettings
) -> Relation | None:
    """How `other` relates to `ref` given its verification, or None when it does not match."""
    if not v.local_ok or v.score < s.near_identical_score:
        return None
    apart = _seconds_apart(ref, other)
    another_moment = apart is not None and 1.0 <= apart <= s.burst_max_seconds
    if v.score >= s.same_image_score and not another_moment:
        return Relation.SAME_IMAGE
    return Relation.NEAR_IDENTICAL_SHOT


def _hash_distances(ref: Fingerprint, other: Fingerprint, rotation: int) -> tuple[int, int | None]:
    if rotation == 0:
        return (ref.phash ^ other.phash).bit_count(), (ref.dhash ^ other.dhash).bit_count()
    turned = min((ref.phash ^ r).bit_count() for r in other.rotated_phashes)
    return turned, None


def _explain(ref: Fingerprint, other: Fingerprint, relation: Relation, v: Verification, pd: int) -> str:
    if relation is Relation.NEAR_IDENTICAL_SHOT:
        apart = _seconds_apart(ref, other)
        when = f"taken {apart:.0f} s apart" if apart else "a slightly different moment or framing"
        head = f"near-identical shot, {when}"
    else:
        changes = []
        if v.rotation:
            changes.append(f"turned {v.rotation}°")
        if (other.width, other.height) != (ref.width, ref.height):
            changes.append(f"resized to {other.width}×{other.height}")
        if v.cropped:
            changes.append("cropped a little")
        if other.format != ref.format:
            changes.append(f"converted to {other.format}")
        elif other.jpeg_quality and ref.jpeg_quality and other.jpeg_quality < ref.jpeg_quality:
            changes.append("re-encoded at lower quality")
        head = "same picture " + (", ".join(changes) if changes else "re-encoded or re-scanned")
    return f"{head}; {pd} of 64 hash bits differ; pixels agree {v.score:.2f}"


def group_id(authoritative: Fingerprint) -> str:
    """Stable id from the authoritative copy's SHA-256 and key."""
    digest = hashlib.sha256(f"{authoritative.sha256}\0{authoritative.key}".encode()).hexdigest()
    return "g-" + digest[:16]


# ---------------------------------------------------------------- candidates


def _atoms(fps: Sequence[Fingerprint]) -> list[list[int]]:
    """Index lists of exact / pixel-identical copies (union by (sha256, page) and pixel_sha256)."""
    parent = list(range(len(fps)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple, int] = {}
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


def _candidates(reps: Sequence[Fingerprint], s: MatchSettings) -> dict[tuple[int, int], set[int]]:
    """Candidate pairs (i < j) of representatives and the rotations their hashes suggest."""
    pairs: dict[tuple[int, int], set[int]] = {}

    def add(qs: np.ndarray, ss: np.ndarray, rotations: set[int]) -> None:
        for i, j in zip(qs.tolist(), ss.tolist(), strict=True):
            if i != j:
                pairs.setdefault((min(i, j), max(i, j)), set()).update(rotations)

    if not reps:
        return pairs
    for radius, hashes in (
        (s.phash_radius, [f.phash for f in reps]),
        (s.dhash_radius, [f.dhash for f in reps]),
    ):
        found = self_pairs(hashes, radius)
        add(found.query, found.stored, {0})
    if s.search_crops:
        pairs_found = _crop_candidates(reps, s)
        add(pairs_found[:, 0], pairs_found[:, 1], {0})
    if s.search_rotations:
        index = HammingIndex([f.phash for f in reps], s.phash_radius)
        for slot, degrees in enumerate((90, 180, 270)):
            found = index.join(to_uint64([f.rotated_phashes[slot] for f in reps]))
            # Which way "turned 90" runs is the fingerprinter's convention; try both senses.
            add(found.query, found.stored, {90, 270} if degrees != 180 else {180})
    return pairs


_DCT = np.array([[np.cos(np.pi * (2 * x + 1) * u / 64) for x in range(32)] for u in range(8)], np.float32)


def _dct_hashes(grids: np.ndarray) -> np.ndarray:
    """pHash (32 x 32 DCT, 8 x 8 low frequencies against their median) of a stack of grids."""
    low = (_DCT @ np.ascontiguousarray(grids) @ _DCT.T).reshape(len(grids), 64)
    bits = low > np.median(low, axis=1, keepdims=True)
    return np.packbits(bits, axis=1, bitorder="little").view("<u8").ravel()


# 32-cell windows of a 36-cell grid, i.e. ~90 % of each side, at the corners and centre: a
# copy cropped by 5-15 % looks like one of these windows of its original, which the
# whole-picture hashes miss (pHash distance 15-25 for an 8 % crop).
_WINDOW_OFFSETS = ((0, 0), (4, 0), (0, 4), (4, 4), (2, 2))


def _crop_candidates(reps: Sequence[Fingerprint], s: MatchSettings) -> np.ndarray:
    """Pairs (i, j) where a 90 % window of i hashes near all of j (j may be a crop of i)."""
    full = np.empty((len(reps), 32, 32), np.float32)
    wide = np.empty((len(reps), 36, 36), np.float32)
    for n, fp in enumerate(reps):
        pil = Image.fromarray(_thumb(fp))
        full[n] = np.asarray(pil.resize((32, 32), Image.Resampling.BILINEAR), np.float32)
        wide[n] = np.asarray(pil.resize((36, 36), Image.Resampling.BILINEAR), np.float32)
    index = HammingIndex(_dct_hashes(full), s.crop_window_radius)
    queries = np.concatenate([_dct_hashes(wide[:, y : y + 32, x : x + 32]) for x, y in _WINDOW_OFFSETS])
    hit = index.join(queries)
    return np.stack([hit.query % len(reps), hit.stored], axis=1)


# ---------------------------------------------------------------- grouping


def group_fingerprints(
    fingerprints: Sequence[Fingerprint],
    settings: MatchSettings | None = None,
    *,
    departments_of_record: Iterable[str] = (),
    decisions: ClerkDecisions | None = None,
) -> tuple[Group, ...]:
    """Group copies of one image around an authoritative copy, never by chaining.

    Deterministic: the same fingerprints give the same groups in any input order. Items in
    no group (unique images, unreadable files) are simply absent from the result.
    """
    s = settings or MatchSettings()
    d = decisions or ClerkDecisions()
    depts = frozenset(departments_of_record)
    fps = sorted(fingerprints, key=lambda f: f.key)
    atoms = _atoms(fps)
    reps = [fps[a[0]] for a in atoms]
    atom_of = {fps[i].key: n for n, a in enumerate(atoms) for i in a}

    def atom_keys(n: int) -> list[str]:
        return [fps[i].key for i in atoms[n]]

    def distinct(n: int, m: int) -> bool:
        return any(frozenset((x, y)) in d.distinct_pairs for x in atom_keys(n) for y in atom_keys(m))

    # Perceptual candidates among representatives that carry enough information.
    informative = [n for n, r in enumerate(reps) if not r.low_information]
    raw = _candidates([reps[n] for n in informative], s)
    rotations: dict[tuple[int, int], set[int]] = {}
    for (i, j), rots in raw.items():
        rotations[(informative[i], informative[j])] = rots
    forced: set[tuple[int, int]] = set()
    for pair in d.forced_merges:
        a, b = sorted(pair)
        if a in atom_of and b in atom_of and atom_of[a] != atom_of[b]:
            forced.add((min(atom_of[a], atom_of[b]), max(atom_of[a], atom_of[b])))

    verified: dict[tuple[int, int], Verification] = {}
    edges: dict[int, set[int]] = {}
    for pair in sorted(set(rotations) | forced):
        n, m = pair
        if d.distinct_pairs and distinct(n, m):
            continue
        v = verify_pair(reps[n], reps[m], s, rotations.get(pair, {0}))
        verified[pair] = v
        if pair in forced or relation_between(reps[n], reps[m], v, s) is not None:
            edges.setdefault(n, set()).add(m)
            edges.setdefault(m, set()).add(n)

    groups: list[Group] = []
    remaining = set(range(len(atoms)))
    # Atoms are visited in key order; a component left over after its group was formed is
    # re-clustered at once, and pieces not containing `start` only hold later atoms.
    for start in range(len(atoms)):
        while start in remaining:
            component = _component(start, edges, remaining)
            if len(component) == 1 and len(atoms[start]) == 1:
                remaining.discard(start)
                break
            admitted = _form_group(
                component, atoms, fps, reps, edges, forced, verified, rotations, s, d, depts, groups
            )
            remaining -= admitted
    return tuple(sorted(groups, key=lambda g: g.authoritative))


def _component(start: int, edges: dict[int, set[int]], within: set[int]) -> set[int]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt in within and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _form_group(
    component: set[int],
    atoms: list[list[int]],
    fps: list[Fingerprint],
    reps: list[Fingerprint],
    edges: dict[int, set[int]],
    forced: set[tuple[int, int]],
    verified: dict[tuple[int, int], Verification],
    rotations: dict[tuple[int, int], set[int]],
    s: MatchSettings,
    d: ClerkDecisions,
    depts: frozenset[str],
    groups: list[Group],
) -> set[int]:
    """Pick the component's authoritative copy, admit what verifies against it, emit a group."""
    copies = [fps[i] for n in sorted(component) for i in atoms[n]]
    decision = choose_authoritative(copies, depts, s.authority_order)
    keys = {c.key for c in copies}
    for anchor, chosen in sorted(d.forced_authority.items()):
        if anchor in keys and chosen in keys:
            decision = AuthorityDecision(chosen, "clerk_override", f"chosen by a clerk over {decision.key}")
            break
    auth = next(c for c in copies if c.key == decision.key)
    home = next(n for n in component if auth.key in {fps[i].key for i in atoms[n]})
    admitted = {home}
    evidence: dict[str, MemberEvidence] = {}
    recheck = len(component) <= s.recheck_cluster_limit
    tried_rotations = set().union(
        *(r for p, r in rotations.items() if p[0] in component and p[1] in component)
    )
    # Candidates in authority order so that, under a distinct-pair decision, the better copy stays.
    for n in sorted(component - {home}, key=lambda n: min(fps[i].key for i in atoms[n])):
        pair = (min(home, n), max(home, n))
        if d.distinct_pairs and any(
            frozenset((x.key, fps[i].key)) in d.distinct_pairs
            for x in _atom_fps(admitted, atoms, fps)
            for i in atoms[n]
        ):
            continue
        is_forced = pair in forced or _forced_link(n, admitted, forced)
        if n not in edges.get(home, ()) and not is_forced and not recheck:
            continue
        v = verify_pair(auth, reps[n], s, rotations.get(pair, tried_rotations | {0}))
        relation = relation_between(auth, reps[n], v, s)
        if relation is None and not is_forced:
            continue
        admitted.add(n)
        for i in atoms[n]:
            evidence[fps[i].key] = _evidence(auth, fps[i], v, relation, s)
    for i in atoms[home]:
        if fps[i].key != auth.key:
            relation = Relation.EXACT if fps[i].sha256 == auth.sha256 else Relation.SAME_PIXELS
            evidence[fps[i].key] = _identical_evidence(auth, fps[i], relation)
    if evidence:
        members = tuple(evidence[k] for k in sorted(evidence))
        member_fps = [c for c in copies if c.key in evidence or c.key == auth.key]
        groups.append(
            Group(
                id=group_id(auth),
                authoritative=auth.key,
                rule=decision.rule,
                reason=decision.reason,
                members=members,
                conflicts=find_conflicts(member_fps, s),
            )
        )
    return admitted


def _atom_fps(atom_ids: set[int], atoms: list[list[int]], fps: list[Fingerprint]) -> list[Fingerprint]:
    return [fps[i] for n in atom_ids for i in atoms[n]]


def _forced_link(n: int, admitted: set[int], forced: set[tuple[int, int]]) -> bool:
    return any((min(n, m), max(n, m)) in forced for m in admitted)


def _identical_evidence(auth: Fingerprint, fp: Fingerprint, relation: Relation) -> MemberEvidence:
    what = "same bytes (an exact copy)" if relation is Relation.EXACT else "same pixels, different file"
    return MemberEvidence(
        fp.key, relation, 0, 0, 1.0, 0, f"{what}; 0 of 64 hash bits differ; pixels agree 1.00"
    )


def _evidence(
    auth: Fingerprint, fp: Fingerprint, v: Verification, relation: Relation | None, s: MatchSettings
) -> MemberEvidence:
    if fp.sha256 == auth.sha256 and fp.page == auth.page:
        return _identical_evidence(auth, fp, Relation.EXACT)
    if fp.pixel_sha256 == auth.pixel_sha256:
        return _identical_evidence(auth, fp, Relation.SAME_PIXELS)
    pd, dd = _hash_distances(auth, fp, v.rotation)
    if relation is None:  # joined only because a clerk merged it
        return MemberEvidence(
            fp.key, Relation.SAME_IMAGE, pd, dd, v.score, v.rotation,
            f"merged by a clerk; {pd} of 64 hash bits differ; pixels agree {v.score:.2f}",
        )  # fmt: skip
    return MemberEvidence(fp.key, relation, pd, dd, v.score, v.rotation, _explain(auth, fp, relation, v, pd))
