"""manifest.json and manifest.csv from a DedupeResult (DESIGN.md, "manifest.json").

Pure functions: the same result, request and time give the same bytes. Items and groups
are sorted by path. Keys beyond DESIGN.md's (relation, distances, verification score,
rotation, page, conflicts) carry each grouping decision's evidence.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from dedupe.core.types import DedupeResult, Group, MemberEvidence, file_of_key

CSV_COLUMNS = (
    "path",
    "page",
    "department",
    "sha256",
    "bates",
    "capture_date",
    "capture_date_source",
    "status",
    "group",
    "reason",
    "relation",
    "phash_distance",
    "dhash_distance",
    "verification_score",
    "rotation",
    "conflicts",
)


def result_manifest(result: DedupeResult, request: str, generated_at: datetime) -> dict[str, Any]:
    """The manifest.json document for one dedupe run (DESIGN.md's interchange format).

    `dedupe_folder` writes it; a web packet writes records.packet.manifests.packet_manifest,
    built from the prepared packet (fates, withholdings, redactions) rather than from a result.
    """
    group_of: dict[str, Group] = {}
    evidence: dict[str, MemberEvidence] = {}
    for g in result.groups:
        for key in g.keys:
            group_of[key] = g
        for m in g.members:
            evidence[m.key] = m
    items: list[tuple[str, dict[str, Any]]] = []
    for fp in result.fingerprints:
        group = group_of.get(fp.key)
        ev = evidence.get(fp.key)
        capture = fp.metadata.capture
        item: dict[str, Any] = {
            "path": file_of_key(fp.key),
            "department": fp.department,
            "sha256": fp.sha256,
            "bates": None,
            "capture_date": capture.value.isoformat() if capture.value else None,
            "capture_date_source": str(capture.source),
            "status": "duplicate" if ev else "delivered",
            "group": group.id if group else None,
            "reason": "",
            "page": fp.page,
        }
        if ev and group:
            item["reason"] = f"duplicate of {group.authoritative}: {ev.explanation}"
            item.update(
                relation=str(ev.relation),
                phash_distance=ev.phash_distance,
                dhash_distance=ev.dhash_distance,
                verification_score=ev.verification_score,
                rotation=ev.rotation,
            )
        elif group:
            item["reason"] = f"authoritative copy ({group.rule}): {group.reason}"
            item["relation"] = "authoritative"
        else:
            item["reason"] = "no duplicate found"
        if group and group.conflicts:
            item["conflicts"] = [c.description for c in group.conflicts]
        items.append((fp.key, item))
    for u in result.unreadable:
        items.append(
            (
                u.key,
                {
                    "path": file_of_key(u.key),
                    "department": u.department,
                    "sha256": u.sha256,
                    "bates": None,
                    "capture_date": None,
                    "capture_date_source": "unknown",
                    "status": "unreadable",
                    "group": None,
                    "reason": u.reason,
                    "page": None,
                },
            )
        )
    items.sort(key=lambda pair: pair[0])
    groups = [
        {
            "id": g.id,
            "authoritative": file_of_key(g.authoritative),
            "rule": g.rule,
            "reason": g.reason,
            "members": [file_of_key(k) for k in sorted(g.keys)],
            "conflicts": [{"field": c.field, "description": c.description} for c in g.conflicts],
        }
        for g in sorted(result.groups, key=lambda g: g.authoritative)
    ]
    return {
        "request": request,
        "generated_at": generated_at.isoformat(),
        "items": [item for _, item in items],
        "groups": groups,
        "settings": result.settings,
    }


def manifest_json(manifest: dict[str, Any]) -> str:
    """Stable JSON text (sorted keys inside objects, UTF-8, trailing newline)."""
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def manifest_csv(manifest: dict[str, Any]) -> str:
    """One CSV row per item, DESIGN.md's columns first, then the evidence columns."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for item in manifest["items"]:
        row = {k: ("" if item.get(k) is None else item.get(k)) for k in CSV_COLUMNS}
        row["conflicts"] = "; ".join(item.get("conflicts", []))
        writer.writerow(row)
    return buf.getvalue()
