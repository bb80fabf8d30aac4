"""The settings a run uses in every step: resolved once when it starts, stored on the run.

A step builds its thresholds and departments of record from the run's `settings_used`,
never from the current defaults, so a default changed while a run is under way cannot
give one run two thresholds, and a clerk's later decision re-forms groups as the run
formed them. The thresholds are stored as `MatchSettings.as_dict()` (the packet's
explanation reads them so), the departments of record beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dedupe.core.settings import MatchSettings
from dedupe.models import DedupeRun

DEPARTMENTS_OF_RECORD = "departments_of_record"


@dataclass(frozen=True)
class RunSettings:
    match: MatchSettings = field(default_factory=MatchSettings)
    # By department code, for the authority rules (the request's office of record).
    departments_of_record: tuple[str, ...] = ()

    def as_stored(self) -> dict[str, Any]:
        return {**self.match.as_dict(), DEPARTMENTS_OF_RECORD: list(self.departments_of_record)}

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> RunSettings:
        return cls(
            match=MatchSettings.from_dict(stored),
            departments_of_record=tuple(stored.get(DEPARTMENTS_OF_RECORD, ())),
        )


def run_settings(run: DedupeRun) -> RunSettings:
    """The settings the run was started with (the defaults for a run that stored none)."""
    return RunSettings.from_stored(run.settings_used or {})
