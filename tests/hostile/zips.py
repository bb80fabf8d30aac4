"""Hostile ZIP archives, built byte by byte where zipfile will not write them."""

from __future__ import annotations

import io
import zipfile


def with_raw_name(entries: dict[str, bytes], placeholder: str, raw_name: bytes) -> bytes:
    """A ZIP whose entry `placeholder` is renamed to `raw_name` bytes (e.g. not UTF-8).

    zipfile writes every non-ASCII name as UTF-8; Windows tools write the OEM code page
    (cp437, Shift-JIS) without saying so. Same-length names keep every offset valid.
    """
    assert len(placeholder.encode()) == len(raw_name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue().replace(placeholder.encode(), raw_name)


def with_encrypted_entry(name: str, data: bytes, others: dict[str, bytes]) -> bytes:
    """A ZIP whose `name` entry is flagged as encrypted (traditional PKWARE encryption)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)  # first, so its headers are the first of each kind
        for other, payload in others.items():
            archive.writestr(other, payload)
    raw = bytearray(buffer.getvalue())
    # zipfile cannot encrypt; set the "encrypted" flag bit in the local and central headers.
    raw[6] |= 0x1
    raw[raw.index(b"PK\x01\x02") + 8] |= 0x1
    return bytes(raw)


def many_entries(count: int, data: bytes, folder: str = "PD") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for n in range(count):
            archive.writestr(f"{folder}/tiny-{n:05d}.png", data)
    return buffer.getvalue()


def duplicate_names(name: str, first: bytes, second: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, first)
        archive.writestr(name, second)  # zipfile warns but writes both, as some tools do
    return buffer.getvalue()
