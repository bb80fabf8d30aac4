"""A prepared `Packet` straight from the engine's result, for `dedupe_folder` (no database).

The same renderers then write index.pdf, letter.pdf and the delivered files, so a packet
can be produced from a folder of department sub-folders without the web app.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from dedupe.core.sniff import usual_extension
from dedupe.core.types import DedupeResult, Fingerprint, SourceFile, file_of_key, page_of_key

from .data import (
    Fate,
    MatchExplanation,
    Packet,
    PacketGroup,
    PacketItem,
    PacketRequest,
    UnreadableFiles,
    assign_bates,
    grouped_fields,
    unreadable_fields,
)
from .delivered import as_delivered, write_delivered_copy


def _item(fp: Fingerprint, **fate) -> PacketItem:
    capture = fp.metadata.capture
    return PacketItem(
        path=fp.key,
        department_code=fp.department,
        department_name=fp.department,
        sha256=fp.sha256,
        byte_size=fp.byte_size,
        capture_date=capture.value.replace(tzinfo=None) if capture.value else None,
        capture_date_source=capture.source,
        capture_utc_offset=capture.utc_offset,
        parcels=fp.metadata.parcels,
        camera=" ".join(filter(None, [fp.metadata.camera_make, fp.metadata.camera_model])),
        thumbnail_jpeg=fp.preview_jpeg or None,
        extension=usual_extension(fp.format, os.path.splitext(fp.source_key)[1].lower()),
        **fate,
    )


def _plain_suffix(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def packet_from_result(
    result: DedupeResult,
    *,
    reference: str,
    generated_at: datetime,
    bates_prefix: str,
    city: str,
    office: str,
    every_copy: bool = False,
    unreadable_files: UnreadableFiles | str = UnreadableFiles.NOT_DELIVERED,
) -> Packet:
    """The packet of a folder run; unreadable files follow `unreadable_files`, as in the web app."""
    rule = UnreadableFiles(unreadable_files)
    group_of: dict[str, tuple] = {}
    for group in result.groups:
        group_of[group.authoritative] = (group, None)
        for member in group.members:
            group_of[member.key] = (group, member)
    items = []
    for fp in result.fingerprints:
        if fp.key not in group_of:
            items.append(_item(fp, status=Fate.DELIVERED))
            continue
        group, member = group_of[fp.key]
        fate, fields = grouped_fields(
            group_id=group.id,
            is_authoritative=member is None,
            rule=group.rule,
            reason=group.reason,
            relation=None if member is None else member.relation,
            explanation=None if member is None else member.explanation,
        )
        items.append(_item(fp, status=fate, **fields))
    for unreadable in result.unreadable:
        items.append(
            PacketItem(
                path=unreadable.key,
                department_code=unreadable.department,
                department_name=unreadable.department,
                sha256=unreadable.sha256,
                byte_size=unreadable.byte_size,
                status=Fate.UNREADABLE,
                unreadable_reason=unreadable.reason,
                extension=usual_extension(unreadable.format or "", _plain_suffix(unreadable.source_key)),
                **unreadable_fields(rule, page=page_of_key(unreadable.key), original_kept=True),
            )
        )
    day = generated_at.date()
    request = PacketRequest(
        city=city,
        office=office,
        reference=reference,
        requester_name="(folder run: no requester)",
        received=day,
        due=day + timedelta(days=10),
        clerk_name="dedupe_folder",
        clerk_title="command-line run",
        bates_prefix=bates_prefix,
    )
    groups = tuple(
        PacketGroup(
            id=g.id,
            authoritative_path=g.authoritative,
            rule=g.rule,
            reason=g.reason,
            member_paths=tuple(sorted(g.keys)),
            conflicts=tuple(c.description for c in g.conflicts),
        )
        for g in result.groups
    )
    return Packet(
        request=request,
        items=assign_bates(items, bates_prefix, every_copy=every_copy),
        groups=groups,
        explanation=MatchExplanation.from_settings(result.settings),
        generated_at=generated_at,
        unreadable_files=rule,
    )


def write_delivered_files(packet: Packet, sources: Sequence[SourceFile], folder: Path) -> Packet:
    """Write every produced item's file into `folder` under its Bates name; the packet as delivered.

    A single-page file goes out byte for byte; a page of a multi-page file as that page
    alone (records/packet/delivered.py), with its own SHA-256 and extension in the packet.
    """
    disk = {s.key: s.disk_path for s in sources}
    items = []
    for item in packet.items:
        if item.bates:
            source = disk[file_of_key(item.path)]
            copy = write_delivered_copy(source, page_of_key(item.path), (), folder / item.bates)
            if copy is None:
                shutil.copyfile(source, folder / f"{item.bates}{item.extension}")
            else:
                item = as_delivered(item, copy)
        items.append(item)
    return replace(packet, items=tuple(items))
