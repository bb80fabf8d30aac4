"""Candidates, grouping without chaining, relations and their evidence.

Exact copies (same bytes and page) and pixel-identical copies are joined first; one
representative of each is searched by perceptual hash through the index; every candidate
pair is verified on pixels (dedupe.core.verify); groups then form around an authoritative copy so that
every member is within the thresholds of that copy, not merely of another member.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from dedupe.core.authority import CLERK_OVERRIDE, AuthorityDecision, choose_authoritative
from dedupe.core.conflicts import duration_words, find_conflicts, from_camera_clock
from dedupe.core.index import HammingIndex, self_pairs, to_uint64
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Fingerprint, Group, MemberEvidence, Relation
from dedupe.core.verify import CoarseFit, Verification, coarse_fits, resize_matrix, verify_pair

__all__ = [
    "CandidatePlan",
    "ClerkDecisions",
    "PairCheck",
    "Verification",
    "authority_for",
    "evidence_against",
    "group_fingerprints",
    "identical_copies",
    "plan_candidates",
    "regroup",
    "relation_between",
    "verify_checks",
    "verify_pair",
]


@dataclass(frozen=True)
class ClerkDecisions:
    """What clerks decided on earlier runs; every decision survives a re-run.

    distinct_pairs: key pairs a clerk said are different images; they are never put in
        one group again (not even through a third copy).
    forced_merges: key pairs a clerk said are the same record; they join one group even
        when the pixels do not verify (Relation.CLERK_MERGED then says so).
    forced_authority: {anchor key: chosen key}, in the order the clerks decided; when the
        anchor (usually the previous authoritative copy) and the chosen key end up in one
        group, the chosen key is its authoritative copy (rule CLERK_OVERRIDE); when several
        apply to one group, the last decided does.
    merge_reasons: {forced pair: the clerk's reason}, quoted in a merged member's evidence.
    """

    distinct_pairs: frozenset[frozenset[str]] = frozenset()
    forced_merges: frozenset[frozenset[str]] = frozenset()
    forced_authority: Mapping[str, str] = field(default_factory=dict)
    merge_reasons: Mapping[frozenset[str], str] = field(default_factory=dict)

    @staticmethod
    def pairs(pairs: Iterable[Iterable[str]]) -> frozenset[frozenset[str]]:
        return frozenset(frozenset(p) for p in pairs)


# ---------------------------------------------------------------- relations and evidence


def _seconds_apart(a: Fingerprint, b: Fingerprint) -> float | None:
    ca, cb = a.metadata.capture, b.metadata.capture
    if not (ca.is_known and cb.is_known) or ca.weak or cb.weak:
        return None
    a, b = ca.value, cb.value
    assert a is not None and b is not None
    if (a.tzinfo is None) != (b.tzinfo is None):
        # One date is pinned to UTC (an offset tag, GPS time), the other is local wall-clock
        # time in an unknown zone: hours apart or equal, nobody can tell, so say unknown.
        return None
    return abs((a - b).total_seconds())


def _camera_seconds_apart(a: Fingerprint, b: Fingerprint) -> float | None:
    """Seconds between the two capture dates when both are the camera's own clock's."""
    if not (from_camera_clock(a) and from_camera_clock(b)):
        return None
    return _seconds_apart(a, b)


def _other_moment_by_camera(a: Fingerprint, b: Fingerprint, s: MatchSettings) -> float | None:
    """The seconds between the camera dates when they say two moments (see MatchSettings)."""
    apart = _camera_seconds_apart(a, b)
    return apart if apart is not None and apart > s.same_photo_max_seconds_apart else None


def relation_between(
    ref: Fingerprint, other: Fingerprint, v: Verification, s: MatchSettings
) -> Relation | None:
    """How `other` relates to `ref` given its verification, or None when it does not match."""
    if not v.local_ok or v.score < s.near_identical_score:
        return None
    apart = _seconds_apart(ref, other)
    another_moment = apart is not None and 1.0 <= apart <= s.burst_max_seconds
    another_moment = another_moment or _other_moment_by_camera(ref, other, s) is not None
    if v.score >= s.same_image_score and not another_moment:
        return Relation.SAME_IMAGE
    return Relation.NEAR_IDENTICAL_SHOT


def _hash_distances(ref: Fingerprint, other: Fingerprint, rotation: int) -> tuple[int, int | None]:
    if rotation == 0:
        return (ref.phash ^ other.phash).bit_count(), (ref.dhash ^ other.dhash).bit_count()
    turned = min((ref.phash ^ r).bit_count() for r in other.rotated_phashes)
    return turned, None


def _explain(
    ref: Fingerprint, other: Fingerprint, relation: Relation, v: Verification, pd: int, s: MatchSettings
) -> str:
    if relation is Relation.NEAR_IDENTICAL_SHOT:
        camera = _other_moment_by_camera(ref, other, s)
        apart = _seconds_apart(ref, other)
        if camera is not None:
            head = f"another shot: camera dates {duration_words(camera)} apart"
        elif apart:
            head = f"near-identical shot, taken {duration_words(apart)} apart"
        else:
            head = "near-identical shot, a slightly different moment or framing"
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


def _identical_evidence(fp: Fingerprint, relation: Relation) -> MemberEvidence:
    what = "same bytes (an exact copy)" if relation is Relation.EXACT else "same pixels, different file"
    return MemberEvidence(
        fp.key, relation, 0, 0, 1.0, 0, f"{what}; 0 of 64 hash bits differ; pixels agree 1.00"
    )


def evidence_against(
    authoritative: Fingerprint,
    member: Fingerprint,
    settings: MatchSettings,
    *,
    verification: Verification | None = None,
    clerk_reason: str | None = None,
    turns: Iterable[int] = (),
) -> MemberEvidence | None:
    """Why `member` belongs with `authoritative`, measured against it: the one measure a run
    and a clerk's decision both write, so their evidence is the same.

    The same bytes (and page) are an exact copy and the same pixels a same-pixels copy,
    whatever else differs; otherwise the pixels are verified (`verification` when the
    caller has it, else here: upright and at `turns`) and relation_between names the
    relation. None when the member does not verify and no clerk put it in the group;
    `clerk_reason` (the clerk's words, maybe "") says one did, and a member that does not
    verify then stays as Relation.CLERK_MERGED, its evidence saying so.
    """
    if member.sha256 == authoritative.sha256 and member.page == authoritative.page:
        return _identical_evidence(member, Relation.EXACT)
    if member.pixel_sha256 == authoritative.pixel_sha256:
        return _identical_evidence(member, Relation.SAME_PIXELS)
    v = verification
    if v is None:
        v = verify_pair(authoritative, member, settings, frozenset(turns) | {0})
    relation = relation_between(authoritative, member, v, settings)
    pd, dd = _hash_distances(authoritative, member, v.rotation)
    if relation is not None:
        explanation = _explain(authoritative, member, relation, v, pd, settings)
        return MemberEvidence(member.key, relation, pd, dd, v.score, v.rotation, explanation)
    if clerk_reason is None:
        return None
    said = f"joined by a clerk: {clerk_reason}" if clerk_reason else "joined by a clerk"
    return MemberEvidence(
        member.key, Relation.CLERK_MERGED, pd, dd, v.score, v.rotation,
        f"{said}; the pictures do not match: {pd} of 64 hash bits differ; pixels agree {v.score:.2f}",
    )  # fmt: skip


def authority_for(
    copies: Collection[Fingerprint],
    departments_of_record: Collection[str],
    settings: MatchSettings,
    decisions: ClerkDecisions,
) -> AuthorityDecision:
    """The copies' authoritative copy: the written rules' choice, unless a clerk chose another."""
    decision = choose_authoritative(copies, departments_of_record, settings.authority_order)
    keys = {c.key for c in copies}
    chosen = decision
    for anchor, key in decisions.forced_authority.items():  # in decision order: the last applies
        if anchor in keys and key in keys:
            chosen = AuthorityDecision(key, CLERK_OVERRIDE, f"chosen by a clerk over {decision.key}")
    return chosen


def identical_copies(key: str, copies: Sequence[Fingerprint]) -> list[Fingerprint]:
    """The copies a run treats as one with `key`'s: the same bytes or the same pixels
    (directly or through another copy), `key`'s own included."""
    ordered = sorted(copies, key=lambda f: f.key)
    for atom in _atoms(ordered):
        if any(ordered[i].key == key for i in atom):
            return [ordered[i] for i in atom]
    return []


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


_ROT_BITS = {0: 1, 90: 2, 180: 4, 270: 8}
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


def _window_hashes(reps: Sequence[Fingerprint]) -> tuple[np.ndarray, np.ndarray]:
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
class _Candidates:
    """Candidate pairs i < j of representatives, each once, and the turns their hashes suggest."""

    first: np.ndarray  # int64
    second: np.ndarray  # int64
    rotations: np.ndarray  # uint8 bit mask, _ROT_BITS


def _candidates(reps: Sequence[Fingerprint], s: MatchSettings) -> _Candidates:
    """Every hash search (pHash, dHash, crop windows, turned pHashes) merged into one pair list."""
    n = len(reps)
    codes: list[np.ndarray] = []
    masks: list[np.ndarray] = []

    def add(q: np.ndarray, st: np.ndarray, mask: int) -> None:
        keep = q != st
        lo, hi = np.minimum(q[keep], st[keep]), np.maximum(q[keep], st[keep])
        codes.append(lo * n + hi)
        masks.append(np.full(len(lo), mask, np.uint8))

    if n:
        for radius, hashes in (
            (s.phash_radius, [f.phash for f in reps]),
            (s.dhash_radius, [f.dhash for f in reps]),
        ):
            if radius < 0:
                continue
            found = self_pairs(hashes, radius)
            add(found.query, found.stored, _ROT_BITS[0])
        if s.search_crops:
            full, windows = _window_hashes(reps)
            hit = HammingIndex(full, s.crop_window_radius).join(windows.ravel())
            add(hit.query % n, hit.stored, _ROT_BITS[0])
            del full, windows
        if s.search_rotations:
            index = HammingIndex([f.phash for f in reps], s.rotation_radius)
            # Only the 90 and 180 degree turns are searched: j turned 270 degrees looks like
            # i exactly when i turned 90 looks like j, and this is a self-join, so the 90
            # search finds both senses (and verification tries both, as which way "turned
            # 90" runs is the fingerprinter's convention).
            for slot, mask in ((0, _ROT_BITS[90] | _ROT_BITS[270]), (1, _ROT_BITS[180])):
                found = index.join(to_uint64([f.rotated_phashes[slot] for f in reps]))
                add(found.query, found.stored, mask)
    code = np.concatenate(codes) if codes else np.zeros(0, np.int64)
    if not len(code):  # no pair anywhere (one photo, or all unrelated): nothing to index below
        empty = np.zeros(0, np.int64)
        return _Candidates(empty, empty, np.zeros(0, np.uint8))
    mask = np.concatenate(masks)
    order = np.argsort(code, kind="stable")
    code, mask = code[order], mask[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    merged = np.bitwise_or.reduceat(mask, starts)
    first, second = np.divmod(code[starts], n)
    return _Candidates(first, second, merged)


class _Gate:
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
            for degrees, bit in _ROT_BITS.items():
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
        mask = np.uint8(sum(_ROT_BITS[r] for r in set(rotations) | {0}))
        return bool(self.scores(np.array([i]), np.array([j]), np.array([mask]))[0] >= self.threshold)


# ---------------------------------------------------------------- grouping


@dataclass(frozen=True)
class PairCheck:
    """A candidate pair of representatives, as the hash search and the gate left it.

    ref, other: keys of the two representatives (ref sorts first). rotations: the turns
    their hashes suggest. coarse: (turn, score, kx, ky) of the 16-px search per turn, or
    None when the pair failed it (it is then never verified on pixels).
    """

    ref: str
    other: str
    rotations: tuple[int, ...]
    coarse: tuple[tuple[int, float, float, float], ...] | None
    # Not a candidate pair but the likely re-check of a member against its group's
    # authoritative copy (ref), which grouping would otherwise do alone, one pair at a time.
    recheck: bool = False

    @property
    def needs_comparing(self) -> bool:
        """A re-check, or a candidate that passed the coarse search; the rest cannot verify."""
        return self.recheck or self.coarse is not None

    def coarse_fits(self) -> dict[int, CoarseFit] | None:
        if self.coarse is None:
            return None
        return {turn: (score, (kx, ky)) for turn, score, kx, ky in self.coarse}


@dataclass(frozen=True)
class CandidatePlan:
    """Every candidate pair of one set of fingerprints: the part of grouping that must see
    all of them at once. Its pairs to verify can then be checked anywhere (dedupe.runs
    spreads them over workers) and handed back to group_fingerprints."""

    digest: str  # of the fingerprints it was made for; a plan for other ones is ignored
    checks: tuple[PairCheck, ...]

    @property
    def to_verify(self) -> list[PairCheck]:
        return [c for c in self.checks if c.needs_comparing]


def fingerprints_digest(fingerprints: Iterable[Fingerprint]) -> str:
    """Which fingerprints a plan was made for: keys and pixels, in key order."""
    h = hashlib.sha256()
    for fp in sorted(fingerprints, key=lambda f: f.key):
        h.update(f"{fp.key}\0{fp.pixel_sha256}\0{fp.low_information}\n".encode())
    return h.hexdigest()


def plan_candidates(
    fingerprints: Sequence[Fingerprint],
    settings: MatchSettings | None = None,
    *,
    departments_of_record: Iterable[str] = (),
) -> CandidatePlan:
    """The candidate pairs of group_fingerprints, with their coarse fits, before any pixel
    check; and the re-checks against each likely authoritative copy."""
    s = settings or MatchSettings()
    prepared = _Prepared(fingerprints, s)
    checks = prepared.checks() + prepared.rechecks(s, frozenset(departments_of_record))
    return CandidatePlan(fingerprints_digest(fingerprints), checks)


def verify_checks(
    checks: Sequence[PairCheck], by_key: Mapping[str, Fingerprint], settings: MatchSettings | None = None
) -> list[Verification]:
    """Verify each planned pair on pixels (a worker's share of a plan)."""
    s = settings or MatchSettings()
    return [
        verify_pair(by_key[c.ref], by_key[c.other], s, frozenset(c.rotations) | {0}, c.coarse_fits())
        for c in checks
    ]


def _candidate_components(coarse: Iterable[tuple[int, int]]) -> list[set[int]]:
    edges: dict[int, set[int]] = {}
    for n, m in coarse:
        edges.setdefault(n, set()).add(m)
        edges.setdefault(m, set()).add(n)
    left, out = set(edges), []
    for start in sorted(edges):
        if start in left:
            component = _component(start, edges, left)
            left -= component
            out.append(component)
    return out


class _Prepared:
    """Fingerprints in key order, their atoms and representatives, and the candidate pairs
    that passed the gate with their turns and (when they passed it) coarse fits."""

    def __init__(
        self, fingerprints: Sequence[Fingerprint], s: MatchSettings, plan: CandidatePlan | None = None
    ) -> None:
        self.fps = fps = sorted(fingerprints, key=lambda f: f.key)
        self.atoms = _atoms(fps)
        self.reps = reps = [fps[a[0]] for a in self.atoms]
        self.atom_of = {fps[i].key: n for n, a in enumerate(self.atoms) for i in a}
        self.gate = _Gate(reps, s.coarse_gate_score)
        self.rotations: dict[tuple[int, int], set[int]] = {}
        self.coarse: dict[tuple[int, int], dict[int, CoarseFit]] = {}
        if plan is not None:
            rep_index = {r.key: n for n, r in enumerate(reps)}
            for c in plan.checks:
                if c.recheck:
                    continue
                pair = (rep_index[c.ref], rep_index[c.other])
                self.rotations[pair] = set(c.rotations)
                fits = c.coarse_fits()
                if fits is not None:
                    self.coarse[pair] = fits
            return
        # Perceptual candidates among representatives that carry enough information.
        informative = [n for n, r in enumerate(reps) if not r.low_information]
        found = _candidates([reps[n] for n in informative], s)
        inform = np.array(informative, np.int64)
        first, second = inform[found.first], inform[found.second]
        promising = self.gate.scores(first, second, found.rotations) >= s.coarse_gate_score
        for i, j, mask in zip(
            first[promising].tolist(),
            second[promising].tolist(),
            found.rotations[promising].tolist(),
            strict=True,
        ):
            self.rotations[(i, j)] = {deg for deg, bit in _ROT_BITS.items() if mask & bit}
        # The 16-px search of every promising pair in batches; what fails it cannot verify.
        ordered = sorted(self.rotations)
        fits = coarse_fits([(reps[n], reps[m], self.rotations[(n, m)]) for n, m in ordered], s)
        for pair, fit in zip(ordered, fits, strict=True):
            if max(score for score, _ in fit.values()) >= s.coarse_align_score:
                self.coarse[pair] = fit

    def rechecks(self, s: MatchSettings, depts: frozenset[str]) -> tuple[PairCheck, ...]:
        """The verifications _form_group is likely to ask for beyond the candidate pairs.

        Each group re-checks its members against its authoritative copy, which is known
        only once the pairs are verified; the components of the candidate pairs, and the
        copy the authority rules pick in each, are almost always the same. A planned
        re-check that grouping does not ask for costs a wasted comparison; one it asks
        for but was not planned is computed then (the results are only a cache).
        """
        out = []
        for component in _candidate_components(self.coarse):
            if len(component) > s.recheck_cluster_limit:
                continue
            copies = [self.fps[i] for n in sorted(component) for i in self.atoms[n]]
            home = self.atom_of[choose_authoritative(copies, depts, s.authority_order).key]
            tried = set().union(
                *(r for p, r in self.rotations.items() if p[0] in component and p[1] in component)
            )
            for n in sorted(component - {home}):
                pair = (min(home, n), max(home, n))
                if pair in self.coarse and home < n:
                    continue  # the candidate pair itself, verified in this very direction
                if pair not in self.coarse and not self.gate.passes(home, n, tried):
                    continue  # _form_group would not compare it either
                rots = self.rotations.get(pair, tried | {0})
                out.append(PairCheck(self.reps[home].key, self.reps[n].key, tuple(sorted(rots)), None, True))
        return tuple(out)

    def checks(self) -> tuple[PairCheck, ...]:
        out = []
        for pair in sorted(self.rotations):
            fit = self.coarse.get(pair)
            coarse = (
                None if fit is None else tuple((t, sc, kx, ky) for t, (sc, (kx, ky)) in sorted(fit.items()))
            )
            out.append(
                PairCheck(
                    self.reps[pair[0]].key,
                    self.reps[pair[1]].key,
                    tuple(sorted(self.rotations[pair])),
                    coarse,
                )
            )
        return tuple(out)


def group_fingerprints(
    fingerprints: Sequence[Fingerprint],
    settings: MatchSettings | None = None,
    *,
    departments_of_record: Iterable[str] = (),
    decisions: ClerkDecisions | None = None,
    plan: CandidatePlan | None = None,
    verified: Mapping[PairCheck, Verification] | None = None,
) -> tuple[Group, ...]:
    """Group copies of one image around an authoritative copy, never by chaining.

    Deterministic: the same fingerprints give the same groups in any input order. Items in
    no group (unique images, unreadable files) are simply absent from the result.

    plan, verified: plan_candidates of these fingerprints and the verify_checks of its
    pairs to verify, by check, when they were computed elsewhere; the result is the same
    as without them. A plan made for other fingerprints is ignored.
    """
    s = settings or MatchSettings()
    if plan is not None and plan.digest != fingerprints_digest(fingerprints):
        plan, verified = None, None
    grouping = _Grouping(
        _Prepared(fingerprints, s, plan), s, decisions or ClerkDecisions(), frozenset(departments_of_record)
    )
    for check, v in (verified or {}).items():
        grouping.remember(check, v)
    grouping.find_edges()
    grouping.cluster(set(range(len(grouping.atoms))))
    return grouping.result()


def regroup(
    copies: Sequence[Fingerprint],
    settings: MatchSettings | None = None,
    *,
    departments_of_record: Iterable[str] = (),
    decisions: ClerkDecisions | None = None,
) -> tuple[Group, ...]:
    """The groups some copies form after a clerk's decision on them, formed as a run forms them.

    `copies` are the copies the decision concerns (a group's after an override or a split,
    two groups' after a merge) and `decisions` every clerk decision so far, the new one
    included. They are taken as one cluster, less what a clerk split apart (which forms a
    cluster of its own): the rules and the clerks' choices pick its authoritative copy
    (authority_for), every other copy is measured against it (evidence_against), and one
    that neither verifies nor was merged by a clerk leaves; the copies left are grouped as
    a run groups them (a lone copy is in no group). Only these copies are looked at: a run
    also sees the request's other images, which may join a group a decision re-formed.
    """
    s = settings or MatchSettings()
    grouping = _Grouping(
        _Prepared(copies, s), s, decisions or ClerkDecisions(), frozenset(departments_of_record)
    )
    grouping.find_edges()
    remaining = set(range(len(grouping.atoms)))
    for linked in grouping.not_kept_apart():
        if len(linked) > 1:
            remaining -= grouping.form_group(linked)
    grouping.cluster(remaining)
    return grouping.result()


class _Verifier:
    """verify_pair, each (reference pixels, other pixels, turns) verified once per run.

    Verification reads only pixels (thumbnail, preview, document_like), so copies with the
    same pixel_sha256 share a result: the pair verified while finding edges is not verified
    again against the authoritative copy of its group.
    """

    def __init__(self, s: MatchSettings) -> None:
        self.s = s
        self._done: dict[tuple[str, str, frozenset[int]], Verification] = {}

    def verify(
        self,
        ref: Fingerprint,
        other: Fingerprint,
        rotations: Iterable[int],
        coarse: Mapping[int, CoarseFit] | None = None,
    ) -> Verification:
        rots = frozenset(rotations) | {0}
        key = (ref.pixel_sha256, other.pixel_sha256, rots)
        if key not in self._done:
            self._done[key] = verify_pair(ref, other, self.s, rots, coarse)
        return self._done[key]

    def remember(
        self, ref: Fingerprint, other: Fingerprint, rotations: Iterable[int], v: Verification
    ) -> None:
        """A verification computed elsewhere (verify_checks), so it is not computed again."""
        self._done[(ref.pixel_sha256, other.pixel_sha256, frozenset(rotations) | {0})] = v


def _component(start: int, edges: dict[int, set[int]], within: set[int]) -> set[int]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt in within and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


class _Grouping:
    """One grouping of prepared fingerprints: the pairs that verify, then groups formed
    around authoritative copies, with the clerks' decisions applied."""

    def __init__(self, prepared: _Prepared, s: MatchSettings, d: ClerkDecisions, depts: frozenset[str]):
        self.prepared, self.s, self.d, self.depts = prepared, s, d, depts
        self.fps, self.atoms, self.reps = prepared.fps, prepared.atoms, prepared.reps
        self.memo = _Verifier(s)
        self.edges: dict[int, set[int]] = {}
        self.groups: list[Group] = []
        atom_of = prepared.atom_of
        self.forced: set[tuple[int, int]] = set()
        for pair in d.forced_merges:
            a, b = sorted(pair)
            if a in atom_of and b in atom_of and atom_of[a] != atom_of[b]:
                self.forced.add((min(atom_of[a], atom_of[b]), max(atom_of[a], atom_of[b])))

    def remember(self, check: PairCheck, v: Verification) -> None:
        atom_of = self.prepared.atom_of
        self.memo.remember(self.reps[atom_of[check.ref]], self.reps[atom_of[check.other]], check.rotations, v)

    def atom_keys(self, n: int) -> list[str]:
        return [self.fps[i].key for i in self.atoms[n]]

    def distinct(self, n: int, m: int) -> bool:
        pairs = self.d.distinct_pairs
        return bool(pairs) and any(
            frozenset((x, y)) in pairs for x in self.atom_keys(n) for y in self.atom_keys(m)
        )

    def not_kept_apart(self) -> list[set[int]]:
        """The atoms in clusters no clerk's split divides: linked wherever no split says apart."""
        left, out = set(range(len(self.atoms))), []
        while left:
            start = min(left)
            cluster, stack = {start}, [start]
            while stack:
                n = stack.pop()
                for m in sorted(left - cluster):
                    if not self.distinct(n, m):
                        cluster.add(m)
                        stack.append(m)
            left -= cluster
            out.append(cluster)
        return out

    def find_edges(self) -> None:
        """Link the candidate pairs that verify, and the pairs a clerk merged."""
        rotations, coarse, reps = self.prepared.rotations, self.prepared.coarse, self.reps
        for pair in sorted(set(coarse) | self.forced):
            n, m = pair
            if self.distinct(n, m):
                continue
            v = self.memo.verify(reps[n], reps[m], rotations.get(pair, {0}), coarse.get(pair))
            if pair in self.forced or relation_between(reps[n], reps[m], v, self.s) is not None:
                self.edges.setdefault(n, set()).add(m)
                self.edges.setdefault(m, set()).add(n)

    def cluster(self, remaining: set[int]) -> None:
        """Form the groups of the atoms in `remaining`, component by component."""
        # Atoms are visited in key order; a component left over after its group was formed is
        # re-clustered at once, and pieces not containing `start` only hold later atoms.
        for start in sorted(remaining):
            while start in remaining:
                component = _component(start, self.edges, remaining)
                if len(component) == 1 and len(self.atoms[start]) == 1:
                    remaining.discard(start)
                    break
                remaining -= self.form_group(component)

    def result(self) -> tuple[Group, ...]:
        return tuple(sorted(self.groups, key=lambda g: g.authoritative))

    def _forced_link(self, n: int, admitted: set[int]) -> bool:
        return any((min(n, m), max(n, m)) in self.forced for m in admitted)

    def _clerk_reason(self, n: int, admitted: set[int]) -> str:
        """The reason of the clerk's merge that links atom n to the group (the first by keys)."""
        mine = set(self.atom_keys(n))
        theirs = {k for m in admitted for k in self.atom_keys(m)}
        linking = sorted(tuple(sorted(p)) for p in self.d.forced_merges if p & mine and p & theirs)
        return self.d.merge_reasons.get(frozenset(linking[0]), "") if linking else ""

    def form_group(self, component: set[int]) -> set[int]:
        """Pick the component's authoritative copy, admit what verifies against it (or what a
        clerk merged with what is admitted), emit a group; returns the atoms admitted."""
        fps, atoms, reps, s = self.fps, self.atoms, self.reps, self.s
        rotations, gate = self.prepared.rotations, self.prepared.gate
        copies = [fps[i] for n in sorted(component) for i in atoms[n]]
        decision = authority_for(copies, self.depts, s, self.d)
        auth = next(c for c in copies if c.key == decision.key)
        home = next(n for n in component if auth.key in self.atom_keys(n))
        admitted = {home}
        evidence: dict[str, MemberEvidence] = {}
        for i in atoms[home]:  # the same bytes or pixels as the authoritative copy
            same = evidence_against(auth, fps[i], s)
            if same is not None and fps[i].key != auth.key:
                evidence[fps[i].key] = same
        recheck = len(component) <= s.recheck_cluster_limit
        tried_rotations = set().union(
            *(r for p, r in rotations.items() if p[0] in component and p[1] in component)
        )
        # Candidates in authority order so that, under a distinct-pair decision, the better copy stays.
        pending = sorted(component - {home}, key=lambda n: min(self.atom_keys(n)))
        while pending:
            left = []
            for n in pending:
                if any(self.distinct(m, n) for m in admitted):
                    continue
                pair = (min(home, n), max(home, n))
                is_forced = pair in self.forced or self._forced_link(n, admitted)
                if (
                    n not in self.edges.get(home, ())
                    and not is_forced
                    and (not recheck or not gate.passes(home, n, tried_rotations))
                ):
                    left.append(n)
                    continue
                v = self.memo.verify(auth, reps[n], rotations.get(pair, tried_rotations | {0}))
                reason = self._clerk_reason(n, admitted) if is_forced else None
                found = [
                    evidence_against(auth, fps[i], s, verification=v, clerk_reason=reason) for i in atoms[n]
                ]
                if any(e is None for e in found):  # one verdict: the atom's copies share their pixels
                    left.append(n)
                    continue
                admitted.add(n)
                evidence.update((e.key, e) for e in found if e is not None)
            # A copy a clerk merged with one admitted after it was looked at: look again.
            if not self.forced or len(left) == len(pending):
                break
            pending = left
        if evidence:
            members = tuple(evidence[k] for k in sorted(evidence))
            member_fps = [c for c in copies if c.key in evidence or c.key == auth.key]
            self.groups.append(
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
