"""manifest.json follows DESIGN.md exactly, with evidence keys added, and is deterministic."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from dedupe.core.grouping import group_fingerprints
from dedupe.core.manifest import manifest_csv, manifest_json, result_manifest
from dedupe.core.types import CaptureDateSource, DedupeResult, Unreadable
from tests.dedupe.builders import fingerprint_of, metadata, reencode, scene

WHEN = datetime(2024, 6, 1, 12, tzinfo=UTC)


def _result() -> DedupeResult:
    picture = scene(7)
    fps = (
        fingerprint_of(picture, "police/a.jpg", "police", meta=metadata(datetime(2024, 3, 1, 9))),
        # The copy's date is the one its editor wrote (EXIF DateTime), so it is still the same photo.
        fingerprint_of(
            reencode(picture)[0],
            "parks/a.jpg",
            "parks",
            meta=metadata(datetime(2024, 3, 9, 9), source=CaptureDateSource.EXIF_DATETIME),
        ),
        fingerprint_of(scene(8), "parks/b.jpg", "parks"),
    )
    bad = Unreadable("parks/x.txt", "parks/x.txt", "parks", "ab" * 32, 12, "not an image (plain text)")
    return DedupeResult(tuple(sorted(fps, key=lambda f: f.key)), (bad,), group_fingerprints(fps))


def test_manifest_has_every_item_and_the_design_fields() -> None:
    manifest = result_manifest(_result(), "R-2024-17", WHEN)
    assert manifest["request"] == "R-2024-17" and manifest["generated_at"] == "2024-06-01T12:00:00+00:00"
    assert [i["path"] for i in manifest["items"]] == [
        "parks/a.jpg",
        "parks/b.jpg",
        "parks/x.txt",
        "police/a.jpg",
    ]
    required = {"path", "department", "sha256", "bates", "capture_date", "capture_date_source", "status"}
    assert all(required | {"group", "reason"} <= set(i) for i in manifest["items"])
    status = {i["path"]: i["status"] for i in manifest["items"]}
    assert status == {
        "parks/a.jpg": "duplicate",
        "parks/b.jpg": "delivered",
        "parks/x.txt": "unreadable",
        "police/a.jpg": "delivered",
    }


def test_groups_list_all_members_including_the_authoritative_copy() -> None:
    manifest = result_manifest(_result(), "R", WHEN)
    (group,) = manifest["groups"]
    assert group["members"] == ["parks/a.jpg", "police/a.jpg"]
    assert group["authoritative"] in group["members"] and group["rule"] and group["reason"]
    duplicate = next(i for i in manifest["items"] if i["path"] == "parks/a.jpg")
    assert duplicate["group"] == group["id"] and duplicate["relation"] == "same_image"
    assert duplicate["verification_score"] > 0.9
    assert any("capture dates differ by 8 days" in c for c in duplicate["conflicts"])


def test_manifest_bytes_are_deterministic_and_csv_has_one_row_per_item() -> None:
    first = manifest_json(result_manifest(_result(), "R", WHEN))
    assert first == manifest_json(result_manifest(_result(), "R", WHEN))
    rows = list(csv.DictReader(io.StringIO(manifest_csv(result_manifest(_result(), "R", WHEN)))))
    assert [r["path"] for r in rows] == ["parks/a.jpg", "parks/b.jpg", "parks/x.txt", "police/a.jpg"]
    assert rows[2]["reason"] == "not an image (plain text)"
