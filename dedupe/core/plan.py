"""The candidate plan: every pair of one set of fingerprints that grouping will compare.

The hash search and the coarse checks (dedupe.core.search, dedupe.core.verify's 16-px
search) must see every fingerprint at once; what they leave is a plan of pair checks that
can be verified on pixels anywhere (dedupe.runs spreads them over workers) and handed
back to group_fingerprints, which then gives the same groups as without a plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dedupe.core.authority import choose_authoritative
from dedupe.core.components import components
from dedupe.core.search import ROT_BITS, CoarseGate, atoms, search_pairs
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Fingerprint
from dedupe.core.verify import CoarseFit, Verification, coarse_fits, verify_pair

__all__ = [
    "CandidatePlan",
    "Candidates",
    "PairCheck",
    "fingerprints_digest",
    "plan_candidates",
    "verify_checks",
]


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


class Candidates:
    """Fingerprints in key order, their atoms and representatives, and the candidate pairs
    that passed the gate with their turns and (when they passed it) coarse fits: searched
    here, or read from a plan made for these fingerprints."""

    def __init__(
        self, fingerprints: Sequence[Fingerprint], s: MatchSettings, plan: CandidatePlan | None = None
    ) -> None:
        self.fps = fps = sorted(fingerprints, key=lambda f: f.key)
        self.atoms = atoms(fps)
        self.reps = reps = [fps[a[0]] for a in self.atoms]
        self.atom_of = {fps[i].key: n for n, a in enumerate(self.atoms) for i in a}
        self.gate = CoarseGate(reps, s.coarse_gate_score)
        self.rotations: dict[tuple[int, int], set[int]] = {}
        self.coarse: dict[tuple[int, int], dict[int, CoarseFit]] = {}
        if plan is None:
            self._search(s)
        else:
            self._read(plan)

    def _read(self, plan: CandidatePlan) -> None:
        rep_index = {r.key: n for n, r in enumerate(self.reps)}
        for c in plan.checks:
            if c.recheck:
                continue
            pair = (rep_index[c.ref], rep_index[c.other])
            self.rotations[pair] = set(c.rotations)
            fits = c.coarse_fits()
            if fits is not None:
                self.coarse[pair] = fits

    def _search(self, s: MatchSettings) -> None:
        reps = self.reps
        # Perceptual candidates among representatives that carry enough information.
        informative = [n for n, r in enumerate(reps) if not r.low_information]
        found = search_pairs([reps[n] for n in informative], s)
        inform = np.array(informative, np.int64)
        first, second = inform[found.first], inform[found.second]
        promising = self.gate.scores(first, second, found.rotations) >= s.coarse_gate_score
        for i, j, mask in zip(
            first[promising].tolist(),
            second[promising].tolist(),
            found.rotations[promising].tolist(),
            strict=True,
        ):
            self.rotations[(i, j)] = {deg for deg, bit in ROT_BITS.items() if mask & bit}
        # The 16-px search of every promising pair in batches; what fails it cannot verify.
        ordered = sorted(self.rotations)
        fits = coarse_fits([(reps[n], reps[m], self.rotations[(n, m)]) for n, m in ordered], s)
        for pair, fit in zip(ordered, fits, strict=True):
            if max(score for score, _ in fit.values()) >= s.coarse_align_score:
                self.coarse[pair] = fit

    def tried_rotations(self, component: set[int]) -> set[int]:
        """Every turn the hashes suggested for a candidate pair inside `component`."""
        return set().union(*(r for p, r in self.rotations.items() if p[0] in component and p[1] in component))

    def rechecks(self, s: MatchSettings, depts: frozenset[str]) -> tuple[PairCheck, ...]:
        """The verifications grouping (form_group) is likely to ask for beyond the candidate pairs.

        Each group re-checks its members against its authoritative copy, which is known
        only once the pairs are verified; the components of the candidate pairs, and the
        copy the authority rules pick in each, are almost always the same. A planned
        re-check that grouping does not ask for costs a wasted comparison; one it asks
        for but was not planned is computed then (the results are only a cache).
        """
        out = []
        for component in components(self.coarse):
            if len(component) > s.recheck_cluster_limit:
                continue
            copies = [self.fps[i] for n in sorted(component) for i in self.atoms[n]]
            home = self.atom_of[choose_authoritative(copies, depts, s.authority_order).key]
            tried = self.tried_rotations(component)
            for n in sorted(component - {home}):
                pair = (min(home, n), max(home, n))
                if pair in self.coarse and home < n:
                    continue  # the candidate pair itself, verified in this very direction
                if pair not in self.coarse and not self.gate.passes(home, n, tried):
                    continue  # form_group would not compare it either
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


def plan_candidates(
    fingerprints: Sequence[Fingerprint],
    settings: MatchSettings | None = None,
    *,
    departments_of_record: Iterable[str] = (),
) -> CandidatePlan:
    """The candidate pairs of group_fingerprints, with their coarse fits, before any pixel
    check; and the re-checks against each likely authoritative copy."""
    s = settings or MatchSettings()
    candidates = Candidates(fingerprints, s)
    checks = candidates.checks() + candidates.rechecks(s, frozenset(departments_of_record))
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
