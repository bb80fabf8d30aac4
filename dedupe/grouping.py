"""Candidates, grouping without chaining, relations and their evidence.

Exact copies (same bytes and page) and pixel-identical copies are joined first; one
representative of each is searched by perceptual hash through the index; every candidate
pair is verified on pixels (dedupe.verify); groups then form around an authoritative copy so that
every member is within the thresholds of that copy, not merely of another member.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from dedupe.authority import AuthorityDecision, choose_authoritative
from dedupe.conflicts import find_conflicts
from dedupe.index import HammingIndex, self_pairs, to_uint64
from dedupe.settings import MatchSettings
from dedupe.types import Fingerprint, Group, MemberEvidence, Relation
from dedupe.verify import Verification, thumb, verify_pair

__all__ = ["ClerkDecisions", "Verification", "group_fingerprints", "relation_between", "verify_pair"]


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
        pil = Image.fromarray(thumb(fp))
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
