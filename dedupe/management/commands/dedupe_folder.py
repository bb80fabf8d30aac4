"""`manage.py dedupe_folder DIR --out OUT`: dedupe a folder of department sub-folders.

Thin: it calls the engine and writes manifest.json and manifest.csv; it never touches
the database, so it runs against any folder without a request being opened.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from dedupe.manifest import build_manifest, manifest_csv, manifest_json
from dedupe.pipeline import run_dedupe, sources_from_folder
from dedupe.types import DedupeResult


def dedupe_folder(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    jobs: int | None = None,
    office_of_record: Sequence[str] = (),
    request: str | None = None,
    generated_at: datetime | None = None,
) -> DedupeResult:
    """Dedupe `root` and write OUT/manifest.json and OUT/manifest.csv; return the result."""
    sources = sources_from_folder(root)
    result = run_dedupe(sources, jobs=jobs, departments_of_record=office_of_record)
    manifest = build_manifest(result, request or Path(root).name, generated_at or datetime.now(tz=UTC))
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    (target / "manifest.json").write_text(manifest_json(manifest), encoding="utf-8")
    (target / "manifest.csv").write_text(manifest_csv(manifest), encoding="utf-8")
    return result


def summary(result: DedupeResult) -> str:
    duplicates = sum(len(g.members) for g in result.groups)
    conflicts = sum(1 for g in result.groups if g.conflicts)
    return (
        f"{len(result.fingerprints) + len(result.unreadable)} items: "
        f"{len(result.fingerprints) - duplicates} delivered, {duplicates} duplicates in "
        f"{len(result.groups)} groups ({conflicts} with conflicts), {len(result.unreadable)} unreadable"
    )


class Command(BaseCommand):
    help = "Find duplicate images in a folder whose sub-folders name departments; write a manifest."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", help="gathered root; first-level sub-folders are departments")
        parser.add_argument("--out", required=True, help="folder to write manifest.json and manifest.csv")
        parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per CPU)")
        parser.add_argument(
            "--office-of-record", nargs="*", default=[], metavar="DEPT", help="department(s) of record"
        )
        parser.add_argument("--request", default=None, help="request reference for the manifest")

    def handle(self, *args: object, **options: object) -> None:
        result = dedupe_folder(
            options["folder"],  # type: ignore[arg-type]
            options["out"],  # type: ignore[arg-type]
            jobs=options["jobs"],  # type: ignore[arg-type]
            office_of_record=options["office_of_record"],  # type: ignore[arg-type]
            request=options["request"],  # type: ignore[arg-type]
        )
        self.stdout.write(summary(result))
        self.stdout.write(f"wrote {Path(str(options['out'])) / 'manifest.json'} and manifest.csv")
