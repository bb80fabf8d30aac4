"""`manage.py dedupe_folder DIR --out OUT`: dedupe a folder of department sub-folders.

Thin: it calls the engine, writes manifest.json and manifest.csv, and (unless
--manifest-only) the packet's index.pdf and the delivered files renamed with Bates
numbers under OUT/files/ (bytes unchanged). It never touches the database, so it runs
against any folder without a request being opened.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from dedupe.core.manifest import manifest_csv, manifest_json, result_manifest
from dedupe.core.pipeline import run_dedupe, sources_from_folder
from dedupe.core.types import DedupeResult, page_key


def dedupe_folder(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    jobs: int | None = None,
    office_of_record: Sequence[str] = (),
    request: str | None = None,
    generated_at: datetime | None = None,
    packet: bool = True,
    bates_prefix: str = "DOC",
) -> DedupeResult:
    """Dedupe `root`; write OUT/manifest.json, OUT/manifest.csv and (with `packet`) the packet."""
    from django.conf import settings

    from records.packet.data import item_fate
    from records.packet.from_engine import packet_from_result, write_delivered_files
    from records.packet.index_pdf import render_index_pdf

    sources = sources_from_folder(root)
    result = run_dedupe(sources, jobs=jobs, departments_of_record=office_of_record)
    when = generated_at or datetime.now(tz=UTC).replace(microsecond=0)
    reference = request or Path(root).name
    manifest = result_manifest(result, reference, when)
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    if packet:
        prepared = packet_from_result(
            result,
            reference=reference,
            generated_at=when.replace(tzinfo=None),
            bates_prefix=bates_prefix,
            city=settings.PACKETDESK_CITY_NAME,
            office=settings.PACKETDESK_OFFICE_NAME,
            unreadable_files=settings.PACKETDESK_UNREADABLE_FILES,
        )
        by_key = {item.path: item for item in prepared.items}
        for entry in manifest["items"]:
            item = by_key.get(page_key(entry["path"], entry.get("page")))
            entry["bates"] = item.bates if item else None
            if item is not None and item.is_unreadable:
                entry["reason"] = item_fate(item)  # the reason and what the requester gets for it
        numbers = prepared.group_numbers()
        for group in manifest["groups"]:
            group["number"] = numbers.get(group["id"])  # "Group n" in index.pdf
        files = target / "files"
        files.mkdir(exist_ok=True)
        # Files first: a page delivered alone has its own SHA-256, which the index lists.
        prepared = write_delivered_files(prepared, sources, files)
        (target / "index.pdf").write_bytes(render_index_pdf(prepared))
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
        parser.add_argument(
            "--bates-prefix", default="DOC", help="prefix of the delivered files' Bates numbers"
        )
        parser.add_argument(
            "--manifest-only", action="store_true", help="write the manifests only, not index.pdf and files/"
        )

    def handle(self, *args: object, **options: object) -> None:
        result = dedupe_folder(
            options["folder"],  # type: ignore[arg-type]
            options["out"],  # type: ignore[arg-type]
            jobs=options["jobs"],  # type: ignore[arg-type]
            office_of_record=options["office_of_record"],  # type: ignore[arg-type]
            request=options["request"],  # type: ignore[arg-type]
            packet=not options["manifest_only"],
            bates_prefix=options["bates_prefix"],  # type: ignore[arg-type]
        )
        self.stdout.write(summary(result))
        out = Path(str(options["out"]))
        written = "manifest.json, manifest.csv" + (
            "" if options["manifest_only"] else ", index.pdf and files/"
        )
        self.stdout.write(f"wrote {written} in {out}")
