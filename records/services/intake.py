"""Gathering files into a request: one file, many files, or a ZIP of department folders.

Every file offered gets an outcome: stored, already in this request, or refused with a
reason a clerk can act on. Refused files whose bytes could be read are kept as items
(status "refused") so the packet index accounts for them; nothing is silently dropped.
Bytes stream to disk; a ZIP is read entry by entry, never whole into memory.
"""

from __future__ import annotations

import posixpath
import stat
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dedupe.core.pdf import carries_javascript
from dedupe.core.sniff import sniff_format

from ..blobstore import ByteStream, SpooledFile, TooLarge, spooled, store_spooled
from ..errors import ApplicationError, InvalidInput, NotPermitted, RequestClosedForGathering
from ..models import GATHERING_STATUSES, Department, GatheredItem, ItemStatus, RecordsRequest, RequestStatus
from ..roles import User, can_gather_for, signed_in_user, uploader_department
from .audit import record_event
from .requests import move_status_if

Result = Literal["stored", "already_in_request", "refused"]

MAX_PATH_CHARS = 1000
# A 0-byte file (an interrupted copy, an empty ZIP entry): said plainly, not as "not an image".
EMPTY_FILE_REASON = "this file is empty"


@dataclass(frozen=True)
class IntakeOutcome:
    name: str  # the name as offered (cleaned of control characters)
    result: Result
    reason: str = ""
    item_id: int | None = None
    sha256: str | None = None
    department: str | None = None


@dataclass
class IntakeReport:
    outcomes: list[IntakeOutcome] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted: Counter[str] = Counter(o.result for o in self.outcomes)
        return {r: counted.get(r, 0) for r in ("stored", "already_in_request", "refused")}

    def add(self, outcome: IntakeOutcome) -> None:
        self.outcomes.append(outcome)


def printable_name(name: str) -> str:
    """The name with control and bidirectional-override characters removed, for display and storage."""
    cleaned = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    return cleaned.strip() or "(unnamed)"


def unsafe_path_reason(path: str) -> str | None:
    """Why a path offered by an uploader cannot be used, or None when it is safe."""
    if not path or path.strip() in ("", ".", "/"):
        return "the file has no name"
    if "\x00" in path:
        return "the name contains a NUL character"
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        return "unsafe path: an absolute path, which could write outside the request's folder"
    parts = path.replace("\\", "/").split("/")
    if ".." in parts:
        return "unsafe path: it climbs out of its folder with '..'"
    if len(path) > MAX_PATH_CHARS:
        return f"the path is longer than {MAX_PATH_CHARS} characters"
    return None


def normalised_path(path: str) -> str:
    return posixpath.normpath(printable_name(path).replace("\\", "/")).lstrip("/")


def _require_gathering_allowed(records_request: RecordsRequest) -> None:
    if records_request.status not in GATHERING_STATUSES:
        raise RequestClosedForGathering(
            f"Request {records_request.reference} is {records_request.get_status_display().lower()}; "
            "files can no longer be added."
        )


def _record_refusal(
    *,
    records_request: RecordsRequest,
    department: Department | None,
    path: str,
    reason: str,
    actor: User,
    spool: SpooledFile | None = None,
    detected_format: str = "",
) -> IntakeOutcome:
    """Keep a refused file as an item (with its bytes when we have them) so nothing is lost."""
    blob = store_spooled(spool) if spool is not None else None
    item = GatheredItem.objects.create(
        request=records_request,
        department=department,
        original_path=path[:MAX_PATH_CHARS],
        file_name=posixpath.basename(path)[:255] or "(unnamed)",
        blob=blob,
        byte_size=spool.byte_size if spool else 0,
        sha256=spool.sha256 if spool else "",
        detected_format=detected_format,
        status=ItemStatus.REFUSED,
        error_reason=reason,
        uploaded_by=signed_in_user(actor),
        uploaded_at=timezone.now(),
    )
    return IntakeOutcome(
        name=path,
        result="refused",
        reason=reason,
        item_id=item.pk,
        sha256=item.sha256 or None,
        department=department.code if department else None,
    )


def _gather_one(
    *,
    records_request: RecordsRequest,
    department: Department | None,
    original_path: str,
    stream: ByteStream,
    actor: User,
) -> IntakeOutcome:
    shown = printable_name(original_path)
    if department is None:
        return _record_refusal(
            records_request=records_request,
            department=None,
            path=shown,
            reason="no department given",
            actor=actor,
        )
    unsafe = unsafe_path_reason(original_path)
    if unsafe:
        return _record_refusal(
            records_request=records_request, department=department, path=shown, reason=unsafe, actor=actor
        )
    path = normalised_path(original_path)
    try:
        with spooled(stream, settings.PACKETDESK_MAX_FILE_BYTES) as spool:
            if spool.byte_size == 0:
                return _record_refusal(
                    records_request=records_request,
                    department=department,
                    path=path,
                    reason=EMPTY_FILE_REASON,
                    actor=actor,
                    spool=spool,
                    detected_format="EMPTY",
                )
            sniffed = sniff_format(spool.head, path)
            if not sniffed.is_readable:
                return _record_refusal(
                    records_request=records_request,
                    department=department,
                    path=path,
                    reason=f"not an image: this is {sniffed.description}",
                    actor=actor,
                    spool=spool,
                    detected_format=sniffed.format,
                )
            already = GatheredItem.objects.filter(
                request=records_request, department=department, original_path=path, sha256=spool.sha256
            ).first()
            if already is not None:
                return IntakeOutcome(
                    name=path,
                    result="already_in_request",
                    reason="the same file under the same name is already in this request",
                    item_id=already.pk,
                    sha256=spool.sha256,
                    department=department.code,
                )
            blob = store_spooled(spool)
            item = GatheredItem.objects.create(
                request=records_request,
                department=department,
                original_path=path,
                file_name=posixpath.basename(path)[:255],
                blob=blob,
                byte_size=spool.byte_size,
                sha256=spool.sha256,
                detected_format=sniffed.format,
                mislabelled=sniffed.mislabelled,
                status=ItemStatus.STORED,
                uploaded_by=signed_in_user(actor),
                uploaded_at=timezone.now(),
            )
            notes = []
            if sniffed.mislabelled:
                what = "a PDF document" if sniffed.format == "PDF" else f"a {sniffed.format} image"
                notes.append(f"the name says otherwise but it is {what}")
            if sniffed.format == "PDF" and carries_javascript(spool.path):
                notes.append("the PDF carries JavaScript, which is never run: its pages go out as images")
            note = "stored; " + "; ".join(notes) if notes else ""
            return IntakeOutcome(
                name=path,
                result="stored",
                reason=note,
                item_id=item.pk,
                sha256=spool.sha256,
                department=department.code,
            )
    except TooLarge as exc:
        return _record_refusal(
            records_request=records_request, department=department, path=path, reason=str(exc), actor=actor
        )


def _after_gathering(records_request: RecordsRequest, actor: User, report: IntakeReport, source: str) -> None:
    if report.counts["stored"]:
        # Decided on the locked row: uploads running side by side all read "received", and
        # only the first of them moves the request (the others find it gathering already).
        move_status_if(
            actor=actor,
            records_request=records_request,
            from_statuses=frozenset({RequestStatus.RECEIVED}),
            to_status=RequestStatus.GATHERING,
            note="first files gathered",
        )
    record_event(
        actor=actor,
        verb="gathered",
        obj=records_request,
        request=records_request,
        details={"source": source, **report.counts},
    )


def gather_files(
    *,
    actor: User,
    records_request: RecordsRequest,
    department: Department,
    files: list[tuple[str, BinaryIO]],
) -> IntakeReport:
    """Add files (name, stream) to a request under one department."""
    _require_gathering_allowed(records_request)
    if not can_gather_for(actor, department):
        raise NotPermitted(f"You cannot add files for {department.name}.")
    report = IntakeReport()
    for name, stream in files:
        with transaction.atomic():
            report.add(
                _gather_one(
                    records_request=records_request,
                    department=department,
                    original_path=name,
                    stream=stream,
                    actor=actor,
                )
            )
    with transaction.atomic():
        _after_gathering(records_request, actor, report, source="upload")
    return report


def _department_by_folder(folder: str, departments: dict[str, Department]) -> Department | None:
    return departments.get(folder.strip().lower())


def _zip_entry_refusal(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        return "a symbolic link, not a file"
    if info.flag_bits & 0x1:
        return "the entry is encrypted; send it without a password"
    if info.file_size > settings.PACKETDESK_MAX_FILE_BYTES:
        return f"larger than the {settings.PACKETDESK_MAX_FILE_BYTES // (1024 * 1024)} MB limit for one file"
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > 1024 * 1024 and ratio > settings.PACKETDESK_MAX_ZIP_RATIO:
        return f"compressed {ratio:.0f} to 1, which no photograph does: refused as a ZIP bomb"
    return None


class _CappedReader:
    """Reads a ZIP entry and stops at the size its header declared (a lying header is a bomb)."""

    def __init__(self, raw: ByteStream, limit: int) -> None:
        self.raw = raw
        self.remaining = limit + 1  # one byte over the limit proves the header lied

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        size = self.remaining if size < 0 else min(size, self.remaining)
        data = self.raw.read(size)
        self.remaining -= len(data)
        if self.remaining <= 0:
            raise zipfile.BadZipFile("the entry expands beyond the size its header declares")
        return data


@dataclass(frozen=True)
class _ZipPlacement:
    """Where a ZIP entry goes: its department and its path inside the department's folder."""

    department: Department
    path: str


@dataclass(frozen=True)
class _ZipRefusal:
    """Why a ZIP entry is not gathered, and the department its refusal is filed under."""

    department: Department | None
    reason: str


def _place_zip_entry(
    info: zipfile.ZipInfo,
    *,
    index: int,
    actor: User,
    department: Department | None,
    departments: dict[str, Department],
    own: Department | None,
    bytes_so_far: int,
) -> _ZipPlacement | _ZipRefusal:
    """Decide, before reading a byte of it, whether and where one ZIP entry is gathered.

    Without `department`, the entry's first-level folder names its department. Checks run
    cheapest first, and each refusal is filed where a clerk looks for it: under the named
    department, under none when no department could be read from the path, under the
    uploader's own department when they may not upload for the one named.
    """
    if index >= settings.PACKETDESK_MAX_ZIP_ENTRIES:
        reason = f"the ZIP has more than {settings.PACKETDESK_MAX_ZIP_ENTRIES} files; split it"
        return _ZipRefusal(department, reason)
    unsafe = unsafe_path_reason(info.filename)
    if unsafe:
        return _ZipRefusal(department, unsafe)
    target, path = department, info.filename
    if target is None:
        folder, _, rest = normalised_path(info.filename).partition("/")
        target = _department_by_folder(folder, departments)
        if not rest:
            return _ZipRefusal(None, "not inside a department folder")
        if target is None:
            return _ZipRefusal(None, f"no department is named '{printable_name(folder)}'")
        path = rest
    if not can_gather_for(actor, target):
        reason = f"you upload for {own.code if own else 'no department'} only, not {target.code}"
        return _ZipRefusal(own, reason)
    refusal = _zip_entry_refusal(info)
    if refusal is None and bytes_so_far + info.file_size > settings.PACKETDESK_MAX_ZIP_TOTAL_BYTES:
        refusal = "the ZIP expands beyond the total size limit; split it"
    if refusal:
        return _ZipRefusal(target, refusal)
    return _ZipPlacement(target, path)


def _gather_zip_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    placement: _ZipPlacement,
    *,
    records_request: RecordsRequest,
    actor: User,
) -> IntakeOutcome:
    """Stream one placed entry into the request; an entry that breaks while read is refused."""
    try:
        with archive.open(info) as raw:
            return _gather_one(
                records_request=records_request,
                department=placement.department,
                original_path=placement.path,
                stream=_CappedReader(raw, info.file_size),
                actor=actor,
            )
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        return _record_refusal(
            records_request=records_request,
            department=placement.department,
            path=printable_name(info.filename),
            reason=f"the ZIP entry cannot be read: {exc}",
            actor=actor,
        )


def gather_zip(
    *,
    actor: User,
    records_request: RecordsRequest,
    zip_file: BinaryIO | str,
    department: Department | None = None,
) -> IntakeReport:
    """Add every file in a ZIP. Without `department`, first-level folders name departments.

    Entries are read one at a time, each in its own transaction, so a bad entry costs only
    itself and memory stays bounded by one entry's stream.
    """
    _require_gathering_allowed(records_request)
    if department is not None and not can_gather_for(actor, department):
        raise NotPermitted(f"You cannot add files for {department.name}.")
    try:
        archive = zipfile.ZipFile(zip_file)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"This is not a readable ZIP file ({exc}).") from exc
    departments: dict[str, Department] = {}
    for dept in Department.objects.all():
        departments[dept.code.lower()] = dept
        departments[dept.name.lower()] = dept
    own = uploader_department(actor)  # where a refusal for another department is filed
    report = IntakeReport()
    total_bytes = 0
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        for index, info in enumerate(entries):
            with transaction.atomic():
                placed = _place_zip_entry(
                    info,
                    index=index,
                    actor=actor,
                    department=department,
                    departments=departments,
                    own=own,
                    bytes_so_far=total_bytes,
                )
                if isinstance(placed, _ZipRefusal):
                    outcome = _record_refusal(
                        records_request=records_request,
                        department=placed.department,
                        path=printable_name(info.filename),
                        reason=placed.reason,
                        actor=actor,
                    )
                else:
                    outcome = _gather_zip_entry(
                        archive, info, placed, records_request=records_request, actor=actor
                    )
                    total_bytes += info.file_size
                report.add(outcome)
    with transaction.atomic():
        _after_gathering(records_request, actor, report, source="zip")
    return report


def _is_zip(stream: BinaryIO) -> bool:
    # A local file header: a ZIP with entries (an empty one is refused as a file instead).
    head = stream.read(4)
    stream.seek(0)
    return head == b"PK\x03\x04"


def gather_uploads(
    *,
    actor: User,
    records_request: RecordsRequest,
    department: Department | None,
    files: list[tuple[str, BinaryIO]],
) -> IntakeReport:
    """What a person drops on a page: ZIPs are unpacked (without a department their first-level
    folders name the departments), other files are gathered under `department`."""
    report = IntakeReport()
    plain = []
    for name, stream in files:
        if _is_zip(stream):
            unpacked = gather_zip(
                actor=actor, records_request=records_request, zip_file=stream, department=department
            )
            report.outcomes.extend(unpacked.outcomes)
        else:
            plain.append((name, stream))
    if plain:
        if department is None:
            raise ApplicationError("Choose the department these files come from.")
        gathered = gather_files(
            actor=actor, records_request=records_request, department=department, files=plain
        )
        report.outcomes.extend(gathered.outcomes)
    return report
