"""The steps of a dedupe run, and the value a step returns to name the work that follows it.

A step never sends work itself: it returns `NextStep` values and `dedupe.tasks` sends
them to the workers after the step's own writes are committed (tests run the same values
in process), so the step functions do not depend on the task module.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Step(StrEnum):
    """One kind of step; the value is the name of its Celery task in `dedupe.tasks`."""

    PLAN_RUN = "plan_run"
    FINGERPRINT_CHUNK = "fingerprint_chunk"
    PLAN_VERIFICATION = "plan_verification"
    VERIFY_PAIR_CHUNK = "verify_pair_chunk"
    GROUP_RUN = "group_run"


class NextStep(NamedTuple):
    """Run `step` with `args` (ids only: they go through the broker)."""

    step: Step
    args: tuple[int, ...]


def after(step: Step, *args: int) -> list[NextStep]:
    """The one step that follows, as a step function returns it."""
    return [NextStep(step, args)]
