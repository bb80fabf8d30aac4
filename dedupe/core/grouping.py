"""Grouping without chaining: groups formed around an authoritative copy.

The candidate pairs (dedupe.core.plan, from the hash search of dedupe.core.search) that
verify on pixels (dedupe.core.verify) and relate (dedupe.core.relations) link atoms; each
component of the links forms a group around the copy the authority rules (or a clerk)
choose, and only what verifies against that copy joins, not what is merely close to
another member. Clerks' decisions (dedupe.core.decisions) are applied on every grouping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dedupe.core.components import component
from dedupe.core.conflicts import find_conflicts
from dedupe.core.decisions import ClerkDecisions, authority_for
from dedupe.core.plan import (
    CandidatePlan,
    Candidates,
    PairCheck,
    fingerprints_digest,
    plan_candidates,
    verify_checks,
)
from dedupe.core.relations import evidence_against, relation_between
from dedupe.core.search import identical_copies
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Fingerprint, Group, MemberEvidence
from dedupe.core.verify import CoarseFit, Verification, verify_pair

__all__ = ["group_fingerprints", "group_id", "regroup"]
# Defined elsewhere in the core and re-exported for the Django edge, which imports them from
# here (dedupe.runs, dedupe.library, records.services.decisions); new code imports them from
# the modules that define them.
__all__ += [
    "CandidatePlan",
    "ClerkDecisions",
    "PairCheck",
    "Verification",
    "authority_for",
    "identical_copies",
    "plan_candidates",
    "relation_between",
    "verify_checks",
]


def group_id(authoritative: Fingerprint) -> str:
    """Stable id from the authoritative copy's SHA-256 and key."""
    digest = hashlib.sha256(f"{authoritative.sha256}\0{authoritative.key}".encode()).hexdigest()
    return "g-" + digest[:16]


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
        Candidates(fingerprints, s, plan),
        s,
        decisions or ClerkDecisions(),
        frozenset(departments_of_record),
        verified or {},
    )
    return _in_order(grouping.cluster(set(range(len(grouping.atoms)))))


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
        Candidates(copies, s), s, decisions or ClerkDecisions(), frozenset(departments_of_record)
    )
    groups: list[Group] = []
    remaining = set(range(len(grouping.atoms)))
    for linked in grouping.not_kept_apart():
        if len(linked) > 1:
            admitted, group = grouping.form_group(linked)
            remaining -= admitted
            groups += [group] if group is not None else []
    return _in_order(groups + grouping.cluster(remaining))


def _in_order(groups: Iterable[Group]) -> tuple[Group, ...]:
    return tuple(sorted(groups, key=lambda g: g.authoritative))


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


@dataclass(frozen=True)
class _Home:
    """The centre of a group being formed: its authoritative copy and that copy's atom."""

    auth: Fingerprint
    atom: int
    tried: set[int]  # every turn suggested for a candidate pair inside the component
    recheck: bool  # the component is small enough to compare pairs no edge links


class _Grouping:
    """One grouping of candidates: the pairs that verify (its edges), then groups formed
    around authoritative copies, with the clerks' decisions applied."""

    def __init__(
        self,
        candidates: Candidates,
        s: MatchSettings,
        d: ClerkDecisions,
        depts: frozenset[str],
        verified: Mapping[PairCheck, Verification] | None = None,
    ) -> None:
        self.candidates, self.s, self.d, self.depts = candidates, s, d, depts
        self.fps, self.atoms, self.reps = candidates.fps, candidates.atoms, candidates.reps
        self.memo = _Verifier(s)
        atom_of = candidates.atom_of
        for check, v in (verified or {}).items():
            self.memo.remember(
                self.reps[atom_of[check.ref]], self.reps[atom_of[check.other]], check.rotations, v
            )
        self.forced: set[tuple[int, int]] = set()
        for pair in d.forced_merges:
            a, b = sorted(pair)
            if a in atom_of and b in atom_of and atom_of[a] != atom_of[b]:
                self.forced.add((min(atom_of[a], atom_of[b]), max(atom_of[a], atom_of[b])))
        self.edges = self._edges()

    def atom_keys(self, n: int) -> list[str]:
        return [self.fps[i].key for i in self.atoms[n]]

    def distinct(self, n: int, m: int) -> bool:
        pairs = self.d.distinct_pairs
        return bool(pairs) and any(
            frozenset((x, y)) in pairs for x in self.atom_keys(n) for y in self.atom_keys(m)
        )

    def _edges(self) -> dict[int, set[int]]:
        """Links of the candidate pairs that verify, and of the pairs a clerk merged."""
        rotations, coarse, reps = self.candidates.rotations, self.candidates.coarse, self.reps
        edges: dict[int, set[int]] = {}
        for pair in sorted(set(coarse) | self.forced):
            n, m = pair
            if self.distinct(n, m):
                continue
            v = self.memo.verify(reps[n], reps[m], rotations.get(pair, {0}), coarse.get(pair))
            if pair in self.forced or relation_between(reps[n], reps[m], v, self.s) is not None:
                edges.setdefault(n, set()).add(m)
                edges.setdefault(m, set()).add(n)
        return edges

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

    def cluster(self, remaining: set[int]) -> list[Group]:
        """The groups of the atoms in `remaining`, formed component by component."""
        remaining, groups = set(remaining), []
        # Atoms are visited in key order; a component left over after its group was formed is
        # re-clustered at once, and pieces not containing `start` only hold later atoms.
        for start in sorted(remaining):
            while start in remaining:
                linked = component(start, self.edges, remaining)
                if len(linked) == 1 and len(self.atoms[start]) == 1:
                    remaining.discard(start)
                    break
                admitted, group = self.form_group(linked)
                remaining -= admitted
                groups += [group] if group is not None else []
        return groups

    def form_group(self, linked: set[int]) -> tuple[set[int], Group | None]:
        """Pick the linked atoms' authoritative copy and admit what verifies against it (or
        what a clerk merged with what is admitted): the atoms admitted, and their group
        (None when nothing joined the authoritative copy)."""
        copies = [self.fps[i] for n in sorted(linked) for i in self.atoms[n]]
        decision = authority_for(copies, self.depts, self.s, self.d)
        auth = next(c for c in copies if c.key == decision.key)
        home = _Home(
            auth,
            next(n for n in linked if auth.key in self.atom_keys(n)),
            self.candidates.tried_rotations(linked),
            len(linked) <= self.s.recheck_cluster_limit,
        )
        admitted, evidence = self._admit(linked, home)
        if not evidence:
            return admitted, None
        member_fps = [c for c in copies if c.key in evidence or c.key == auth.key]
        return admitted, Group(
            id=group_id(auth),
            authoritative=auth.key,
            rule=decision.rule,
            reason=decision.reason,
            members=tuple(evidence[k] for k in sorted(evidence)),
            conflicts=find_conflicts(member_fps, self.s),
        )

    def _admit(self, linked: set[int], home: _Home) -> tuple[set[int], dict[str, MemberEvidence]]:
        """The atoms that join the group, and each member's evidence by key."""
        admitted = {home.atom}
        evidence: dict[str, MemberEvidence] = {}
        for i in self.atoms[home.atom]:  # the same bytes or pixels as the authoritative copy
            same = evidence_against(home.auth, self.fps[i], self.s)
            if same is not None and self.fps[i].key != home.auth.key:
                evidence[self.fps[i].key] = same
        # Candidates in authority order so that, under a distinct-pair decision, the better copy stays.
        pending = sorted(linked - {home.atom}, key=lambda n: min(self.atom_keys(n)))
        while pending:
            left = []
            for n in pending:
                if any(self.distinct(m, n) for m in admitted):
                    continue  # a clerk split it from an admitted copy: not in this group
                found = self._measure(n, home, admitted)
                if found is None:
                    left.append(n)
                    continue
                admitted.add(n)
                evidence.update((e.key, e) for e in found)
            # A copy a clerk merged with one admitted after it was looked at: look again.
            if not self.forced or len(left) == len(pending):
                break
            pending = left
        return admitted, evidence

    def _measure(self, n: int, home: _Home, admitted: set[int]) -> list[MemberEvidence] | None:
        """The evidence of atom n's copies against the authoritative copy, or None when the
        atom does not join (yet): neither verified nor merged by a clerk."""
        pair = (min(home.atom, n), max(home.atom, n))
        is_forced = pair in self.forced or self._forced_link(n, admitted)
        if (
            n not in self.edges.get(home.atom, ())
            and not is_forced
            and (not home.recheck or not self.candidates.gate.passes(home.atom, n, home.tried))
        ):
            return None
        rotations = self.candidates.rotations.get(pair, home.tried | {0})
        v = self.memo.verify(home.auth, self.reps[n], rotations)
        reason = self._clerk_reason(n, admitted) if is_forced else None
        found = [
            evidence_against(home.auth, self.fps[i], self.s, verification=v, clerk_reason=reason)
            for i in self.atoms[n]
        ]
        if any(e is None for e in found):  # one verdict: the atom's copies share their pixels
            return None
        return [e for e in found if e is not None]

    def _forced_link(self, n: int, admitted: set[int]) -> bool:
        return any((min(n, m), max(n, m)) in self.forced for m in admitted)

    def _clerk_reason(self, n: int, admitted: set[int]) -> str:
        """The reason of the clerk's merge that links atom n to the group (the first by keys)."""
        mine = set(self.atom_keys(n))
        theirs = {k for m in admitted for k in self.atom_keys(m)}
        linking = sorted(tuple(sorted(p)) for p in self.d.forced_merges if p & mine and p & theirs)
        return self.d.merge_reasons.get(frozenset(linking[0]), "") if linking else ""
