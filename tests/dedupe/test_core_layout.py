"""The engine core's modules, one concern each, and the names the Django edge imports."""

from __future__ import annotations

import dedupe.core.decisions as decisions
import dedupe.core.grouping as grouping
import dedupe.core.plan as plan
import dedupe.core.relations as relations
import dedupe.core.search as search
import dedupe.core.verify as verify


def test_names_the_edge_imports_from_grouping_are_the_defining_modules_own() -> None:
    # dedupe.runs, dedupe.library and records.services.decisions import these from grouping.
    defined_in = {
        plan: ("CandidatePlan", "PairCheck", "plan_candidates", "verify_checks"),
        decisions: ("ClerkDecisions", "authority_for"),
        relations: ("relation_between",),
        search: ("identical_copies",),
        verify: ("Verification",),
    }
    for module, names in defined_in.items():
        for name in names:
            assert getattr(grouping, name) is getattr(module, name), name
            assert name in grouping.__all__


def test_grouping_holds_only_the_orchestration_of_grouping() -> None:
    own = {
        name
        for name, value in vars(grouping).items()
        if getattr(value, "__module__", None) == grouping.__name__ and not name.startswith("_")
    }
    assert own == {"group_fingerprints", "group_id", "regroup"}
