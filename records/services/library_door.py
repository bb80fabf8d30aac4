"""Gathering over the API with the duplicate check at the door (the department's upload policy).

A department system pushes files; each image is fingerprinted once, looked up in the
city-wide library (dedupe/library.py) and then, by the department's `upload_policy`:
`reject` refuses it with the matches, `flag` stores it and lists the matches, `allow`
stores it. Storing reuses the intake service, so every intake rule (safe paths, sniffed
types, size limits, refusals kept as items) holds for the API as for the web upload.
The fingerprints computed at the door are stored with the blob: the library knows the
image at once, and the dedupe run later does not decode it again.
"""

from __future__ import annotations

import hashlib
import posixpath
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

from django.conf import settings
from django.db import IntegrityError, transaction

from dedupe import library
from dedupe.core.fingerprint import fingerprint_bytes
from dedupe.core.sniff import sniff_format
from dedupe.core.types import FINGERPRINT_ALGORITHM_VERSION, Fingerprint, Unreadable
from dedupe.library import (
    MAX_SIGHTINGS,
    LibraryAnswer,
    LibraryQuery,
    Sighting,
    answer_as_dict,
    query_for_fingerprints,
    stored_as_engine,
)
from dedupe.models import ImageFingerprint
from dedupe.runs.fingerprinting import fingerprint_blob
from dedupe.stored import rows_from_results

from ..blobstore import stored_name
from ..errors import Conflict, NotPermitted
from ..models import Blob, Department, GatheredItem, ItemStatus, RecordsRequest
from ..roles import User, can_gather_for
from .audit import record_event
from .intake import (
    IntakeOutcome,
    _require_gathering_allowed,
    _zip_entry_refusal,
    gather_files,
    gather_zip,
    normalised_path,
    unsafe_path_reason,
)

DoorResult = Literal["stored", "already_in_request", "refused", "rejected_duplicate"]
Policy = Department.UploadPolicy


@dataclass(frozen=True)
class DoorOutcome:
    name: str
    result: DoorResult
    reason: str = ""
    item_id: int | None = None
    sha256: str | None = None
    matches: LibraryAnswer | None = None


@dataclass
class DoorReport:
    policy: str
    outcomes: list[DoorOutcome] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        keys = ("stored", "already_in_request", "refused", "rejected_duplicate")
        return {k: sum(1 for o in self.outcomes if o.result == k) for k in keys}

    @property
    def flagged(self) -> int:
        return sum(1 for o in self.outcomes if o.result == "stored" and o.matches and o.matches.has_matches)


def sightings_of(shas: Sequence[str], exclude_item_ids: Sequence[int]) -> dict[str, list[Sighting]]:
    """Where the city holds each blob as a stored item, earliest first (the library's `SightingsOf`)."""
    found: dict[str, list[Sighting]] = defaultdict(list)
    if not shas:
        return found
    items = (
        GatheredItem.objects.filter(sha256__in=list(set(shas)), status=ItemStatus.STORED)
        .exclude(pk__in=list(exclude_item_ids))
        .select_related("department", "request")
        .only(
            "id",
            "sha256",
            "uploaded_at",
            "request_id",
            "department_id",
            "request__reference",
            "department__code",
            "department__name",
        )
        .order_by("uploaded_at", "id")
    )
    for item in items:
        if len(found[item.sha256]) >= MAX_SIGHTINGS:
            continue
        found[item.sha256].append(
            Sighting(
                item_id=item.pk,
                request_id=item.request_id,
                request_reference=item.request.reference,
                department_code=item.department.code if item.department is not None else None,
                department_name=item.department.name if item.department is not None else None,
                uploaded_at=item.uploaded_at,
            )
        )
    return found


def check_library(query: LibraryQuery) -> LibraryAnswer:
    """The city-wide library's answer for `query`, each match with where the city holds it."""
    return library.check_library(query, sightings=sightings_of)


def _read_capped(stream: BinaryIO) -> bytes | None:
    """The whole file, or None when it is over the size limit (intake then refuses it)."""
    data = stream.read(settings.PACKETDESK_MAX_FILE_BYTES + 1)
    stream.seek(0)
    return None if len(data) > settings.PACKETDESK_MAX_FILE_BYTES else data


def _engine_fingerprints(data: bytes) -> list[Fingerprint | Unreadable]:
    # "blob" as the key, as the dedupe run does: name-derived metadata belongs to items.
    return fingerprint_bytes(data, "blob")


def _keep_fingerprints(sha256: str, results: list[Fingerprint | Unreadable]) -> None:
    """Store the door's fingerprints for the blob unless another process already did."""
    if ImageFingerprint.objects.filter(
        blob_id=sha256, algorithm_version=FINGERPRINT_ALGORITHM_VERSION
    ).exists():
        return
    try:
        with transaction.atomic():
            ImageFingerprint.objects.bulk_create(rows_from_results(sha256, results))
    except IntegrityError:
        pass  # a worker or another upload stored the same blob's fingerprints first


def _require_may_gather(actor: User, records_request: RecordsRequest, department: Department) -> None:
    _require_gathering_allowed(records_request)
    if not can_gather_for(actor, department):
        raise NotPermitted(f"You cannot add files for {department.name}.")


def _already_here(records_request: RecordsRequest, department: Department, name: str, sha256: str) -> bool:
    """A retried push of the same file under the same name is not a duplicate of itself."""
    if unsafe_path_reason(name):
        return False
    return GatheredItem.objects.filter(
        request=records_request, department=department, original_path=normalised_path(name), sha256=sha256
    ).exists()


def _record_rejection(
    actor: User, records_request: RecordsRequest, department: Department, names: list[str]
) -> None:
    record_event(
        actor=actor,
        verb="rejected_at_door",
        obj=records_request,
        request=records_request,
        details={"department": department.code, "files": names[:200], "count": len(names)},
    )


def gather_at_door(
    *,
    actor: User,
    records_request: RecordsRequest,
    department: Department,
    files: list[tuple[str, BinaryIO]],
) -> DoorReport:
    """Check each file against the library, apply the policy, store what passes.

    Raises Conflict (409, with every file's matches) when the policy rejected every file
    offered; otherwise the report lists each file's result and, for flagged ones, matches.
    """
    _require_may_gather(actor, records_request, department)
    policy = department.upload_policy
    report = DoorReport(policy=policy)
    passing: list[tuple[int, str, BinaryIO]] = []
    door_prints: dict[int, tuple[str, list[Fingerprint | Unreadable], LibraryAnswer | None]] = {}
    slots: list[DoorOutcome | None] = []
    for index, (name, stream) in enumerate(files):
        data = _read_capped(stream)
        slots.append(None)
        passing.append((index, name, stream))
        if data is None or not sniff_format(data[:64], name).is_readable:
            continue  # intake refuses it with its reason, kept as an item
        sha256 = hashlib.sha256(data).hexdigest()
        if _already_here(records_request, department, name, sha256):
            continue
        results = _engine_fingerprints(data)
        answer = None
        if policy != Policy.ALLOW:
            prints = [r for r in results if isinstance(r, Fingerprint)]
            answer = check_library(query_for_fingerprints(sha256, prints))
            if policy == Policy.REJECT and answer.has_matches:
                passing.pop()
                slots[index] = DoorOutcome(
                    name=name,
                    result="rejected_duplicate",
                    reason="already in the city's library; the department's policy is to refuse duplicates",
                    sha256=sha256,
                    matches=answer,
                )
                continue
        door_prints[index] = (sha256, results, answer)

    if passing:
        intake = gather_files(
            actor=actor,
            records_request=records_request,
            department=department,
            files=[(name, stream) for _, name, stream in passing],
        )
        for (index, _name, _), outcome in zip(passing, intake.outcomes, strict=True):
            _, results, answer = door_prints.get(index, (None, [], None))
            if outcome.result == "stored" and results:
                _keep_fingerprints(outcome.sha256 or "", results)
            slots[index] = _from_intake(outcome, answer)
    report.outcomes = [slot for slot in slots if slot is not None]
    rejected = [o.name for o in report.outcomes if o.result == "rejected_duplicate"]
    if rejected:
        _record_rejection(actor, records_request, department, rejected)
    if rejected and len(rejected) == len(report.outcomes):
        raise Conflict(
            "Every file offered is already in the city's library, and this department refuses duplicates.",
            code="duplicate_rejected",
            details={"policy": policy, "outcomes": [outcome_as_dict(o) for o in report.outcomes]},
        )
    return report


def _from_intake(outcome: IntakeOutcome, answer: LibraryAnswer | None) -> DoorOutcome:
    return DoorOutcome(
        name=outcome.name,
        result=outcome.result,
        reason=outcome.reason,
        item_id=outcome.item_id,
        sha256=outcome.sha256,
        matches=answer if outcome.result == "stored" else None,
    )


def _zip_duplicates(
    zip_file: BinaryIO, records_request: RecordsRequest, department: Department
) -> list[DoorOutcome]:
    """Entries of a ZIP already in the library (read entry by entry, with intake's limits)."""
    found: list[DoorOutcome] = []
    try:
        archive = zipfile.ZipFile(zip_file)
    except (zipfile.BadZipFile, OSError):
        return found  # gather_zip explains what is wrong with it
    with archive:
        for info in archive.infolist():
            if info.is_dir() or unsafe_path_reason(info.filename) or _zip_entry_refusal(info):
                continue
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError):
                continue
            if not sniff_format(data[:64], info.filename).is_readable:
                continue
            sha256 = hashlib.sha256(data).hexdigest()
            if _already_here(records_request, department, info.filename, sha256):
                continue
            prints = [r for r in _engine_fingerprints(data) if isinstance(r, Fingerprint)]
            answer = check_library(query_for_fingerprints(sha256, prints))
            if answer.has_matches:
                found.append(
                    DoorOutcome(
                        name=posixpath.normpath(info.filename),
                        result="rejected_duplicate",
                        reason="already in the city's library",
                        sha256=sha256,
                        matches=answer,
                    )
                )
    zip_file.seek(0)
    return found


def gather_zip_at_door(
    *, actor: User, records_request: RecordsRequest, department: Department, zip_file: BinaryIO
) -> DoorReport:
    """A ZIP for one department, under its policy.

    A ZIP is one delivery: under `reject`, if any entry is already in the library the
    whole ZIP is refused (409) naming those entries, and nothing is stored, so the
    sender can resend it without them. Under `flag`, stored entries list their matches.
    """
    _require_may_gather(actor, records_request, department)
    policy = department.upload_policy
    report = DoorReport(policy=policy)
    if policy == Policy.REJECT:
        duplicates = _zip_duplicates(zip_file, records_request, department)
        if duplicates:
            _record_rejection(actor, records_request, department, [d.name for d in duplicates])
            raise Conflict(
                f"{len(duplicates)} file(s) in this ZIP are already in the city's library, and this "
                "department refuses duplicates; nothing was stored. Send the ZIP again without them.",
                code="duplicate_rejected",
                details={"policy": policy, "outcomes": [outcome_as_dict(d) for d in duplicates]},
            )
    intake = gather_zip(
        actor=actor, records_request=records_request, zip_file=zip_file, department=department
    )
    for outcome in intake.outcomes:
        answer = None
        if outcome.result == "stored" and outcome.sha256:
            # The bytes are on disk now; fingerprint them once, for the library and the run.
            fingerprint_blob(outcome.sha256, stored_name(Blob.objects.get(pk=outcome.sha256)))
            if policy == Policy.FLAG:
                rows = ImageFingerprint.objects.filter(blob_id=outcome.sha256, phash__isnull=False)
                prints = [stored_as_engine(row) for row in rows]
                answer = check_library(
                    query_for_fingerprints(outcome.sha256, prints, exclude_item_ids=[outcome.item_id or 0])
                )
        report.outcomes.append(_from_intake(outcome, answer))
    return report


def outcome_as_dict(outcome: DoorOutcome) -> dict[str, Any]:
    """A plain, JSON-ready view of an outcome (error details carry it as is)."""
    return {
        "name": outcome.name,
        "result": outcome.result,
        "reason": outcome.reason,
        "item_id": outcome.item_id,
        "sha256": outcome.sha256,
        "matches": answer_as_dict(outcome.matches) if outcome.matches else None,
    }
