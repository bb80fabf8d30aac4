"""The seam between a run's machinery and the request workflow it serves.

A run belongs to a records request, but the edge does not import records: what the run
needs to know of the request (which files it covers, each item's images) and what the
request must hear of the run (grouping finished, the run failed) goes through the one
`RequestWorkflow` records registers when its app is ready (records/apps.py). Typed, so
a missing or misspelt method is an error at the seam, not a lookup by name at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

from dedupe.core.types import Group
from dedupe.models import DedupeRun, ItemImage


class RequestWorkflow(Protocol):
    def blobs_to_cover(self, request_id: int) -> list[str]:
        """The SHA-256 of every stored file a run of the request covers, each once, sorted."""
        ...

    def blob_files(self, shas: Sequence[str]) -> dict[str, str]:
        """The storage name of each stored blob, by SHA-256."""
        ...

    def item_images(self, request_id: int) -> list[ItemImage]:
        """One ItemImage per fingerprinted page of each covered item, brought up to date
        with the fingerprints and the item's own facts; `item` and `fingerprint` loaded."""
        ...

    def run_counts(
        self, request_id: int, images: Sequence[ItemImage], groups: Sequence[Group]
    ) -> dict[str, Any]:
        """The metrics a completed run stores: per department and in total."""
        ...

    def grouping_finished(self, run: DedupeRun, groups: int) -> None:
        """The run is completed (called in the transaction that completes it)."""
        ...

    def run_failed(self, run: DedupeRun) -> None:
        """The run failed with `run.error` (called in the transaction that fails it)."""
        ...


_workflow: RequestWorkflow | None = None


def register_workflow(workflow: RequestWorkflow) -> None:
    global _workflow
    _workflow = workflow


def request_workflow() -> RequestWorkflow:
    if _workflow is None:
        raise ImproperlyConfigured(
            "No request workflow is registered for dedupe runs (records registers one when its app is ready)."
        )
    return _workflow
