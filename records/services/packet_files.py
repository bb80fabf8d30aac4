"""Reading a built packet's stored ZIP: its manifest, its delivered files, the requester's contents.

The ZIP is the packet: what the requester's page lists and what its links hand out are read
from the very archive the requester can download, never rebuilt. A delivered file is found
only by its exact name among the ZIP's `data/files/` members, so nothing from a URL reaches
the storage, and it is streamed out of the archive in chunks.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.storage import default_storage

from ..group_numbering import group_sort_key, number_groups
from ..models import Department, Packet
from ..wording import capture_label, requester_fate

# A delivered file's name: a Bates number (PREFIX-NNNNNN) and a plain extension.
DELIVERED_NAME = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}-\d{6}(\.[a-z0-9]{1,8})?$")
FILES_FOLDER = "/data/files/"


@contextmanager
def _open_zip(packet: Packet) -> Iterator[zipfile.ZipFile]:
    with default_storage.open(packet.zip_file, "rb") as fh, zipfile.ZipFile(fh) as zf:
        yield zf


def _delivered_members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The delivered files by their name under data/files/ (e.g. "PRA-000003.jpg")."""
    members = {}
    for info in zf.infolist():
        folder, _, name = info.filename.rpartition("/")
        if f"{folder}/".endswith(FILES_FOLDER) and folder.count("/") == 2 and DELIVERED_NAME.match(name):
            members[name] = info
    return members


def read_manifest(packet: Packet) -> dict[str, Any]:
    """manifest.json as packed in the packet's ZIP ({} when the ZIP cannot be read)."""
    try:
        with _open_zip(packet) as zf:
            name = next((n for n in zf.namelist() if n.endswith("/data/manifest.json")), None)
            return json.loads(zf.read(name)) if name else {}
    except (OSError, zipfile.BadZipFile, ValueError):
        return {}


def delivered_names(packet: Packet) -> dict[str, str]:
    """Bates number -> the delivered file's name, for the files in the packet's ZIP."""
    try:
        with _open_zip(packet) as zf:
            return {name.split(".", 1)[0]: name for name in _delivered_members(zf)}
    except (OSError, zipfile.BadZipFile):
        return {}


class DeliveredFile:
    """One delivered file streamed out of the stored ZIP; closing it closes the archive."""

    def __init__(self, stack: ExitStack, stream: IO[bytes], name: str, size: int) -> None:
        self._stack, self._stream = stack, stream
        self.file_name, self.size = name, size

    def read(self, n: int = -1) -> bytes:
        return self._stream.read(n)

    def close(self) -> None:
        self._stack.close()


def open_delivered_file(packet: Packet, name: str) -> DeliveredFile | None:
    """The packet's delivered file called exactly `name`, open for streaming; None if it has none."""
    if not DELIVERED_NAME.match(name) or not packet.zip_file:
        return None
    stack = ExitStack()
    try:
        fh = stack.enter_context(default_storage.open(packet.zip_file, "rb"))
        zf = stack.enter_context(zipfile.ZipFile(fh))
        info = _delivered_members(zf).get(name)
        if info is None:
            stack.close()
            return None
        return DeliveredFile(stack, stack.enter_context(zf.open(info)), name, info.file_size)
    except (OSError, zipfile.BadZipFile):
        stack.close()
        return None


@dataclass(frozen=True)
class ContentsRow:
    """One gathered file as the requester's page lists it, in the index's order and words."""

    number: int  # "Item n" in the index
    bates: str | None
    department: str  # the department's name
    captured: str
    group: int | None  # "Group n" in the index
    fate: str
    file_name: str | None  # the delivered file to link to


def _citations(entry: dict[str, Any]) -> tuple[str, ...]:
    return tuple(f"{w['exemption']} ({w['section']})" for w in entry.get("withholding", ()))


def requester_contents(packet: Packet, manifest: dict[str, Any]) -> list[ContentsRow]:
    """The manifest's items in index order, with department names and plain words only.

    The figures (hash bits, pixel agreement) stay in the manifest for staff; the requester
    reads what each copy is (records/wording.py requester_fate).
    """
    items = manifest.get("items", [])
    by_path = {i["path"]: i for i in items}
    groups = {g["id"]: g for g in manifest.get("groups", [])}
    numbers = number_groups(
        {
            gid: group_sort_key(
                by_path.get(g["authoritative"], {}).get("department", ""), g["authoritative"], gid
            )
            for gid, g in groups.items()
        }
    )

    def order(entry: dict[str, Any]) -> tuple[int, int | str, bool, str, str]:
        gid = entry.get("group")
        if gid in numbers:
            return (0, numbers[gid], entry["path"] != groups[gid]["authoritative"], entry["path"], "")
        return (1, entry.get("department", ""), False, entry["path"], entry.get("sha256", ""))

    ordered = sorted(items, key=order)
    item_number = {id(e): n for n, e in enumerate(ordered, start=1)}
    names = (
        {code: name for code, name in Department.objects.values_list("code", "name")}
        if any("department_name" not in e for e in items)
        else {}
    )
    files = delivered_names(packet)
    rows = []
    for entry in ordered:
        gid = entry.get("group")
        target = ""
        if entry["status"] == "duplicate" and gid in groups:
            lead = by_path.get(groups[gid]["authoritative"])
            if lead is not None:
                target = lead.get("bates") or f"item {item_number[id(lead)]}"
        redactions = entry.get("redactions") or {}
        bates = entry.get("bates")
        rows.append(
            ContentsRow(
                number=item_number[id(entry)],
                bates=bates,
                department=entry.get("department_name")
                or names.get(entry["department"], entry["department"]),
                captured=capture_label(entry.get("capture_date") or ""),
                group=numbers.get(gid),
                fate=requester_fate(
                    entry["status"],
                    relation=entry.get("relation", ""),
                    duplicate_of=target,
                    exemptions=_citations(entry),
                    redactions=int(redactions.get("count", 0)),
                    unreadable=entry.get("reason", ""),
                ),
                file_name=files.get(bates) if bates else None,
            )
        )
    return rows
