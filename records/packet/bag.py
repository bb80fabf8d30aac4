"""The packet ZIP: a BagIt bag (RFC 8493) streamed to disk, byte-identical for the same inputs.

Layout inside the ZIP, under one folder named after the request:
`bagit.txt`, `bag-info.txt`, `data/files/<BATES><ext>` (delivered files, bytes unchanged),
`data/index.pdf`, `data/letter.pdf`, `data/manifest.json`, ... (and `data/<PREFIX>.dat`,
`data/<PREFIX>.opt` when load files are asked for), `manifest-sha256.txt`,
`tagmanifest-sha256.txt`. Each file is read once, in chunks, hashed as it is copied.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from records.errors import InvalidInput
from records.packet.data import Packet
from records.packet.index_pdf import render_index_pdf
from records.packet.letter_pdf import render_letter_pdf
from records.packet.manifests import (
    load_file_dat,
    load_file_opt,
    manifest_csv,
    manifest_json,
    withholding_log_csv,
)

CHUNK = 1024 * 1024
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a ZIP can hold: no clock in the bytes
# Already-compressed formats are stored; deflating them again costs time and saves nothing.
STORED_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".zip", ".jp2"})


def packet_documents(
    packet: Packet, letter_templates: Mapping[str, str] | None = None, *, load_files: bool = False
) -> dict[str, bytes]:
    """Every generated document of the packet, by its name under `data/`.

    The eDiscovery load files (`<PREFIX>.dat`, `<PREFIX>.opt`) only when asked for: once,
    beside `files/`, which their image paths (`files\\<BATES><ext>`) point into.
    """
    documents = {
        "index.pdf": render_index_pdf(packet),
        "letter.pdf": render_letter_pdf(packet, letter_templates),
        "manifest.json": manifest_json(packet),
        "manifest.csv": manifest_csv(packet),
        "withholding_log.csv": withholding_log_csv(packet),
    }
    if load_files:
        prefix = packet.request.bates_prefix
        documents[f"{prefix}.dat"] = load_file_dat(packet)
        documents[f"{prefix}.opt"] = load_file_opt(packet)
    return documents


def bag_name(reference: str) -> str:
    """The bag's folder: the request reference with anything unsafe in a file name replaced."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", reference).strip("._") or "packet"


def _safe_member(name: str) -> str:
    path = PurePosixPath(name)
    if (
        not name
        or path.is_absolute()
        or ".." in path.parts
        or "\\" in name
        or any(ord(ch) < 32 for ch in name)
    ):
        raise InvalidInput(f"{name!r} cannot be a file name inside the packet.", code="packet_member_name")
    return str(path)


def _manifest_path(path: str) -> str:
    # RFC 8493 section 2.1.3: CR, LF and % in a manifest path are percent-encoded.
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _zip_info(arcname: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
    info.create_system = 3  # Unix, whatever machine builds it
    info.external_attr = 0o100644 << 16
    info.file_size = size  # lets zipfile decide on ZIP64 before the data is written
    stored = PurePosixPath(arcname).suffix.lower() in STORED_SUFFIXES
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    return info


def _tag_value(value: object) -> str:
    return re.sub(r"[\r\n]+", " ", str(value)).strip()


def _bag_info(packet: Packet, payload_bytes: int, payload_files: int) -> bytes:
    req = packet.request
    fields = [
        ("Source-Organization", f"{req.city}, {req.office}"),
        ("Contact-Name", f"{req.clerk_name}, {req.clerk_title}"),
        ("External-Identifier", req.reference),
        ("External-Description", f"California Public Records Act response to request {req.reference}"),
        ("Bagging-Date", packet.generated_at.date().isoformat()),
        ("Bag-Software-Agent", "PacketDesk"),
        ("Payload-Oxum", f"{payload_bytes}.{payload_files}"),
    ]
    return "".join(f"{k}: {_tag_value(v)}\n" for k, v in fields).encode("utf-8")


def _copy_into(zf: zipfile.ZipFile, arcname: str, source: Path, size: int) -> str:
    digest = hashlib.sha256()
    copied = 0
    with open(source, "rb") as src, zf.open(_zip_info(arcname, size), "w", force_zip64=size > 2**31) as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            copied += len(chunk)
    if copied != size:
        raise InvalidInput(f"{source} changed while the packet was written.", code="packet_source_changed")
    return digest.hexdigest()


def _write_bytes(zf: zipfile.ZipFile, arcname: str, data: bytes) -> str:
    zf.writestr(_zip_info(arcname, len(data)), data)
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_packet_zip(
    out_path: Path | str,
    packet: Packet,
    delivered_files: Sequence[tuple[str, Path | str]],
    extra_files: Mapping[str, bytes],
) -> str:
    """Write the packet ZIP to `out_path` and return the ZIP's SHA-256.

    `delivered_files` are (name under data/files/, e.g. "LACC-000001.jpg", file on disk);
    `extra_files` are the generated documents by name under data/ (see `packet_documents`).
    The ZIP is written beside `out_path` and moved into place only when complete.
    """
    root = bag_name(packet.request.reference)
    payload: dict[str, tuple[Path | None, bytes | None, int]] = {}
    for name, source in delivered_files:
        arc = f"data/files/{_safe_member(name)}"
        if arc in payload:
            raise InvalidInput(f"Two delivered files are both named {name!r}.", code="packet_member_name")
        payload[arc] = (Path(source), None, os.stat(source).st_size)
    for name, data in extra_files.items():
        arc = f"data/{_safe_member(name)}"
        if arc in payload:
            raise InvalidInput(f"{name!r} is in the packet twice.", code="packet_member_name")
        payload[arc] = (None, data, len(data))

    out_path = Path(out_path)
    partial = out_path.with_name(out_path.name + ".part")
    payload_hashes: dict[str, str] = {}
    tag_hashes: dict[str, str] = {}
    with zipfile.ZipFile(partial, "w", allowZip64=True) as zf:
        # Sorted member order: bag-info.txt, bagit.txt, data/..., manifest-, tagmanifest-.
        tag_hashes["bag-info.txt"] = _write_bytes(
            zf, f"{root}/bag-info.txt", _bag_info(packet, sum(p[2] for p in payload.values()), len(payload))
        )
        tag_hashes["bagit.txt"] = _write_bytes(
            zf, f"{root}/bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
        )
        for arc in sorted(payload):
            source, data, size = payload[arc]
            if source is not None:
                payload_hashes[arc] = _copy_into(zf, f"{root}/{arc}", source, size)
            else:
                payload_hashes[arc] = _write_bytes(zf, f"{root}/{arc}", data or b"")
        manifest = "".join(f"{h}  {_manifest_path(p)}\n" for p, h in sorted(payload_hashes.items()))
        tag_hashes["manifest-sha256.txt"] = _write_bytes(zf, f"{root}/manifest-sha256.txt", manifest.encode())
        tagmanifest = "".join(f"{h}  {p}\n" for p, h in sorted(tag_hashes.items()))
        _write_bytes(zf, f"{root}/tagmanifest-sha256.txt", tagmanifest.encode())
    os.replace(partial, out_path)
    return file_sha256(out_path)
