"""What clerks decided on earlier runs, as the engine applies them on every run.

records.services.decisions stores a clerk's override, split or merge by item key; the
engine receives them all as one ClerkDecisions value and applies them while grouping
(dedupe.core.grouping) and when it picks a group's authoritative copy (authority_for).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from dedupe.core.authority import CLERK_OVERRIDE, AuthorityDecision, choose_authoritative
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Fingerprint

__all__ = ["ClerkDecisions", "authority_for"]


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
