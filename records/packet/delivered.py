"""The file that goes out for a produced item: its original bytes, or a copy made for it.

A single-page file with nothing to black out goes out byte for byte. Anything else gets a
copy written by `write_delivered_copy`:
- a page of a multi-page file goes out as that page alone. Bates numbers are per page, and
  a page that is a duplicate, or withheld, must not ride along inside its neighbours' file;
- a redacted page or file goes out with its boxes burned in (records/packet/redact.py).
Pure Pillow and paths, no Django: the packet build and `dedupe_folder` both use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .bag import file_sha256
from .data import PacketItem
from .redact import Box, burn_redactions


def needs_own_copy(page: int, boxes: Sequence[Box]) -> bool:
    return page > 0 or bool(boxes)


def write_delivered_copy(source: Path | str, page: int, boxes: Sequence[Box], stem: Path) -> Path | None:
    """Write the copy that goes out for one item next to `stem` (its extension added).

    None when the original goes out as it is. The copy is upright, carries no metadata, and
    is JPEG for a JPEG original (quality 95) and lossless PNG for everything else.
    """
    if not needs_own_copy(page, boxes):
        return None
    data, extension = burn_redactions(Path(source), boxes, page)
    target = stem.with_name(stem.name + extension)
    target.write_bytes(data)
    return target


def as_delivered(item: PacketItem, copy: Path) -> PacketItem:
    """The packet item as its own copy goes out: that copy's SHA-256 and extension."""
    return replace(item, delivered_sha256=file_sha256(copy), extension=copy.suffix)
