"""Each step of a run by its `Step`: the one table the task module and the tests' in-process
queue both run steps from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from dedupe.runs import fingerprinting, grouping, verification
from dedupe.runs.next_steps import NextStep, Step

StepFunction = Callable[..., list[NextStep]]

STEPS: Mapping[Step, StepFunction] = MappingProxyType(
    {
        Step.PLAN_RUN: fingerprinting.plan_run,
        Step.FINGERPRINT_CHUNK: fingerprinting.fingerprint_chunk,
        Step.PLAN_VERIFICATION: verification.plan_verification,
        Step.VERIFY_PAIR_CHUNK: verification.verify_pair_chunk,
        Step.GROUP_RUN: grouping.group_run,
    }
)


def run_step(step: NextStep) -> list[NextStep]:
    """Run one step here and now; the steps that follow it."""
    return STEPS[step.step](*step.args)
