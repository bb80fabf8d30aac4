"""Content-addressed storage of gathered bytes, through Django's storage API.

A file is streamed once: to a local temporary file while its SHA-256 is computed, then
saved under `blobs/ab/cd/<sha256>` unless those bytes are already stored. Any Django
storage backend (file system, S3, ...) can hold the blobs; nothing here reads a whole
file into memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Protocol

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from dedupe.core.sniff import SNIFF_BYTES

from .models import Blob

CHUNK_BYTES = 1024 * 1024


class TooLarge(Exception):
    """The stream is longer than the limit; nothing was stored."""


@dataclass(frozen=True)
class SpooledFile:
    """A stream copied to a local temporary file, with what intake needs to know about it."""

    path: str
    sha256: str
    byte_size: int
    head: bytes  # the first bytes, for sniffing the real type


class ByteStream(Protocol):
    """What spooling reads from: an upload, a file, a capped ZIP entry (only `read` is used)."""

    def read(self, size: int = -1, /) -> bytes: ...


def blob_name(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


@contextmanager
def spooled(stream: ByteStream, max_bytes: int) -> Iterator[SpooledFile]:
    """Copy `stream` to a temporary file in chunks, hashing as it goes; remove it afterwards."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, path = tempfile.mkstemp(prefix="packetdesk-intake-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"larger than the {max_bytes // (1024 * 1024)} MB limit for one file")
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        yield SpooledFile(path=path, sha256=digest.hexdigest(), byte_size=size, head=head)
    finally:
        os.unlink(path)


def store_spooled(spool: SpooledFile) -> Blob:
    """The Blob for these bytes, saving them to storage only if they are new."""
    existing = Blob.objects.filter(sha256=spool.sha256).first()
    if existing is not None:
        return existing
    name = blob_name(spool.sha256)
    if not default_storage.exists(name):
        with open(spool.path, "rb") as fh:
            saved = default_storage.save(name, File(fh, name=name))
        if saved != name:
            # Another process stored the same bytes between our check and our save: the
            # storage gave ours another name. Keep one copy.
            default_storage.delete(saved)
    try:
        with transaction.atomic():
            return Blob.objects.create(sha256=spool.sha256, byte_size=spool.byte_size, file=name)
    except IntegrityError:
        return Blob.objects.get(sha256=spool.sha256)


def stored_name(blob: Blob) -> str:
    """The blob's name in storage. Every Blob is created with its file (store_spooled); the
    stubs allow None because an empty FileField has no name."""
    name = blob.file.name
    assert name is not None, f"blob {blob.sha256} has no stored file"
    return name


def open_blob(blob: Blob) -> IO[bytes]:
    return default_storage.open(stored_name(blob), "rb")


def local_path(blob: Blob) -> str | None:
    """A path on this machine's disk when the storage has one (file system storage)."""
    try:
        return default_storage.path(stored_name(blob))
    except NotImplementedError:
        return None
