"""The packet's machine-readable lists: manifest.json/.csv, the withholding log, eDiscovery load files.

manifest.json is DESIGN.md's interchange format exactly, with extra keys only added, never
changed: items may carry department_name, relation, delivered_sha256, redactions and
withholding; each group carries "number", its "Group n" in index.pdf, on the review page and
on the requester's page (its "id" stays the engine's stable id). All outputs are sorted and
use the packet's fixed `generated_at`, so the same packet gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from records.packet.data import Fate, Packet, PacketItem, item_fate
from records.wording import authority_words

MANIFEST_CSV_COLUMNS = (
    "path",
    "department",
    "department_name",
    "sha256",
    "byte_size",
    "bates",
    "capture_date",
    "capture_date_source",
    "status",
    "group",
    "authoritative",
    "relation",
    "redactions",
    "withholding",
    "reason",
)
WITHHOLDING_LOG_COLUMNS = (
    "bates_or_item",
    "capture_date",
    "department",
    "description",
    "treatment",
    "legal_basis",
    "code_section",
    "responsible",
)
DAT_FIELDS = (
    "BEGDOC",
    "ENDDOC",
    "ORIGINALPATH",
    "CUSTODIAN",
    "CAPTUREDATE",
    "CAPTUREDATESOURCE",
    "SHA256",
    "STATUS",
    "GROUPID",
    "AUTHORITATIVE",
    "DUPLICATEOF",
    "REDACTIONS",
    "EXEMPTIONS",
    "NATIVEPATH",
)
# Concordance's conventions: þ (254) quotes a field, DC4 (20, shown as ¶) separates fields.
DAT_QUOTE, DAT_DELIMITER = "\u00fe", "\x14"
# A cell starting with one of these runs as a formula in a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def manifest_status(item: PacketItem) -> str:
    """DESIGN.md's four statuses: refused at intake is unreadable; a redacted file is delivered."""
    if item.status == Fate.REFUSED:
        return "unreadable"
    if item.is_redacted:
        return "delivered"
    return str(item.status)


def _authority_numbers(packet: Packet) -> dict[str, int]:
    """The authoritative copy's item number (its place in the index) for each group."""
    return {
        i.group_id: n
        for n, i in enumerate(packet.ordered_items(), start=1)
        if i.group_id and i.is_authoritative
    }


def _reason(item: PacketItem, by_group: dict[str, int]) -> str:
    fate = item_fate(item, by_group)
    if item.is_authoritative and item.status != Fate.DUPLICATE:
        return f"{fate}; authoritative copy: {authority_words(item.authority_rule, item.authority_reason)}"
    if item.status == Fate.DELIVERED and item.group_id is None:
        return f"{fate}; no duplicate found"
    return fate


def _by_path(items: Iterable[PacketItem]) -> list[PacketItem]:
    return sorted(items, key=lambda i: (i.path, i.sha256))


def packet_manifest(packet: Packet) -> dict[str, Any]:
    """The manifest.json document: every gathered file once, sorted by path; groups by id."""
    by_group = _authority_numbers(packet)
    items: list[dict[str, Any]] = []
    for item in _by_path(packet.items):
        entry: dict[str, Any] = {
            "path": item.path,
            "department": item.department_code,
            "department_name": item.department_name,
            "sha256": item.sha256,
            "bates": item.bates,
            "capture_date": item.capture_date_text,
            "capture_date_source": item.capture_date_source,
            "status": manifest_status(item),
            "group": item.group_id,
            "reason": _reason(item, by_group),
        }
        if item.relation:
            entry["relation"] = item.relation
        if item.delivered_sha256:  # a page delivered alone, or a redacted copy: not the gathered bytes
            entry["delivered_sha256"] = item.delivered_sha256
        if item.is_redacted:
            entry["redactions"] = {
                "count": item.redaction_count,
                "exemptions": [c.label for c in item.citations],
            }
        if item.is_withheld_in_full or item.is_redacted:
            entry["withholding"] = [
                {"exemption": c.exemption, "section": c.section, "responsible": c.responsible}
                for c in item.citations
            ]
        items.append(entry)
    numbers = packet.group_numbers()
    groups = [
        {
            "id": g.id,
            "number": numbers.get(g.id),
            "authoritative": g.authoritative_path,
            "rule": g.rule,
            "reason": g.reason,
            "members": sorted({*g.member_paths, g.authoritative_path}),
        }
        for g in sorted(packet.groups, key=lambda g: g.id)
    ]
    return {
        "request": packet.request.reference,
        "generated_at": packet.generated_at.isoformat(),
        "items": items,
        "groups": groups,
    }


def manifest_json(packet: Packet) -> bytes:
    return (json.dumps(packet_manifest(packet), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(columns: tuple[str, ...], rows: Iterable[Iterable[object]]) -> bytes:
    # UTF-8 with a byte-order mark so spreadsheet programs read accents and § correctly.
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buf.getvalue().encode("utf-8-sig")


def manifest_csv(packet: Packet) -> bytes:
    """One row per gathered file, sorted by path (the same facts as manifest.json, flattened)."""
    by_group = _authority_numbers(packet)
    rows = (
        (
            i.path,
            i.department_code,
            i.department_name,
            i.sha256,
            i.byte_size,
            i.bates,
            i.capture_date_text,
            i.capture_date_source,
            manifest_status(i),
            i.group_id,
            "yes" if i.is_authoritative else "",
            i.relation,
            i.redaction_count if i.is_redacted else "",
            "; ".join(c.label for c in i.citations) if (i.is_withheld_in_full or i.is_redacted) else "",
            _reason(i, by_group),
        )
        for i in _by_path(packet.items)
    )
    return _csv(MANIFEST_CSV_COLUMNS, rows)


def withheld_description(item: PacketItem) -> str:
    """A privilege-log description that does not repeat the file name (it may itself be exempt)."""
    if item.description:
        return item.description
    kind = (item.extension.lstrip(".").upper() or "image") + " image"
    return f"{kind} held by {item.department_name}"


def withholding_log_csv(packet: Packet) -> bytes:
    """One row per withheld or redacted item, in index order: the shape of a privilege log."""
    rows = []
    for n, item in enumerate(packet.ordered_items(), start=1):
        if not (item.is_withheld_in_full or item.is_redacted):
            continue
        rows.append(
            (
                item.bates or f"Item {n}",
                item.capture_date_text or "unknown",
                item.department_name,
                withheld_description(item),
                f"redacted ({item.redaction_count})" if item.is_redacted else "withheld in full",
                "; ".join(c.exemption for c in item.citations) or "no citation recorded",
                "; ".join(c.section for c in item.citations),
                "; ".join(c.responsible for c in item.citations),
            )
        )
    return _csv(WITHHOLDING_LOG_COLUMNS, rows)


def _produced(packet: Packet) -> list[PacketItem]:
    return sorted((i for i in packet.items if i.bates), key=lambda i: i.bates or "")


def _dat_value(value: object) -> str:
    # The quote and delimiter may not appear inside a value; line breaks would split a record.
    text = "" if value is None else str(value)
    return text.replace(DAT_QUOTE, "th").replace(DAT_DELIMITER, " ").replace("\r", " ").replace("\n", " ")


def load_file_dat(packet: Packet, folder: str = "files") -> bytes:
    """Concordance-style metadata (.dat) for each Bates-numbered file: one document per image."""
    lines = [DAT_DELIMITER.join(f"{DAT_QUOTE}{f}{DAT_QUOTE}" for f in DAT_FIELDS)]
    for i in _produced(packet):
        values = (
            i.bates,
            i.bates,
            i.path,
            i.department_name,
            i.capture_date_text,
            i.capture_date_source,
            i.sha256,
            manifest_status(i),
            i.group_id,
            "Y" if i.is_authoritative else "",
            i.duplicate_of_bates,
            i.redaction_count if i.is_redacted else "",
            "; ".join(c.label for c in i.citations) if i.is_redacted else "",
            f"{folder}\\{i.bates}{i.extension}",
        )
        lines.append(DAT_DELIMITER.join(f"{DAT_QUOTE}{_dat_value(v)}{DAT_QUOTE}" for v in values))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def load_file_opt(packet: Packet, folder: str = "files", volume: str = "VOL001") -> bytes:
    """Opticon image cross-reference (.opt): Bates, volume, image path, document break, pages."""
    lines = [f"{i.bates},{volume},{folder}\\{i.bates}{i.extension},Y,,,1" for i in _produced(packet)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8") if lines else b""
