"""The city-wide library: is this image already somewhere in the city's records?

Every fingerprint ever stored (ImageFingerprint, one per blob and page) is searchable:
exact copies by SHA-256 of the bytes or of the decoded pixels, near-duplicates by pHash
Hamming distance. The truth is the database, so any number of web and worker processes
on any number of machines answer alike and see a fingerprint the moment its row commits;
nothing is cached in a process.

Near-duplicate search is a multi-index over the four 16-bit pHash blocks stored in
indexed columns (`phash_block0..3`). Pigeonhole: if two hashes differ in at most r bits
over four blocks, at least one block differs in at most r // 4 bits. So we probe, per
block, every 16-bit value within r // 4 bits of the query's block (137 values for
r = 11), fetch the rows matching any probe with indexed IN queries, and keep those whose
full 64-bit distance is within r (computed by PostgreSQL with `bit_count`, elsewhere in
Python). No candidate within r can be missed; no all-pairs scan is ever made.
"""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cache

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from dedupe.grouping import relation_between
from dedupe.models import ImageFingerprint, signed64, unsigned64
from dedupe.settings import MatchSettings
from dedupe.types import (
    CaptureDate,
    CaptureDateSource,
    Fingerprint,
    GeoPoint,
    ImageMetadata,
    Relation,
)
from dedupe.verify import verify_pair

BLOCKS = 4
BLOCK_BITS = 16
# The library answers with at most this many matches of each kind; a department system
# needs to know that an image is known and where, not every copy the city holds.
MAX_MATCHES = 50
# Sightings listed per matched blob (the same bytes gathered into many requests).
MAX_SIGHTINGS = 20


def default_radius() -> int:
    """The dedupe engine's pHash radius, so the door and the runs agree on 'near'."""
    return MatchSettings().phash_radius


def phash_blocks(phash: int) -> tuple[int, int, int, int]:
    """The four 16-bit blocks of an unsigned 64-bit pHash, most significant first."""
    return tuple((phash >> shift) & 0xFFFF for shift in (48, 32, 16, 0))  # type: ignore[return-value]


@cache
def _flip_masks(bits: int) -> tuple[int, ...]:
    """Every 16-bit mask with at most `bits` bits set: XOR a block with each to probe."""
    masks = [0]
    for k in range(1, bits + 1):
        for positions in itertools.combinations(range(BLOCK_BITS), k):
            masks.append(sum(1 << p for p in positions))
    return tuple(masks)


def block_probes(phash: int, radius: int) -> list[list[int]]:
    """Per block, the values a hash within `radius` of `phash` must show in at least one block."""
    masks = _flip_masks(radius // BLOCKS)
    return [sorted({block ^ m for m in masks}) for block in phash_blocks(phash)]


# ------------------------------------------------------------------------ answers


@dataclass(frozen=True)
class Sighting:
    """Where the city has seen a matched image: one gathered item."""

    item_id: int
    request_id: int
    request_reference: str
    department_code: str | None
    department_name: str | None
    uploaded_at: datetime.datetime


@dataclass(frozen=True)
class LibraryMatch:
    """One stored image (blob and page) that matches the query, with its evidence."""

    sha256: str
    page: int
    relation: str  # Relation value, or "near_duplicate" when no pixels were verified
    phash_distance: int | None
    dhash_distance: int | None
    verification_score: float | None
    explanation: str
    capture_date: str | None
    capture_date_source: str
    sightings: tuple[Sighting, ...] = ()


@dataclass(frozen=True)
class LibraryAnswer:
    exact: tuple[LibraryMatch, ...]
    near: tuple[LibraryMatch, ...]
    radius: int
    candidates_examined: int = 0

    @property
    def has_matches(self) -> bool:
        return bool(self.exact or self.near)


@dataclass(frozen=True)
class LibraryQuery:
    """What is known about the image being checked: at least a SHA-256 or a pHash.

    `fingerprints` are the engine's fingerprints of an uploaded file (one per page); with
    them near candidates are verified on pixels, so a form on a shared template is not
    reported as a copy of another.
    """

    sha256: str | None = None
    pixel_sha256s: tuple[str, ...] = ()
    phashes: tuple[int, ...] = ()  # unsigned 64-bit
    dhash: int | None = None
    fingerprints: tuple[Fingerprint, ...] = field(default=())
    radius: int | None = None
    exclude_item_ids: tuple[int, ...] = ()


def query_for_fingerprints(
    sha256: str, fingerprints: Sequence[Fingerprint], exclude_item_ids: Iterable[int] = ()
) -> LibraryQuery:
    """The library query for a file the engine has fingerprinted (low-information pages excluded
    from near search: flat images all hash alike)."""
    usable = tuple(fp for fp in fingerprints if not fp.low_information)
    return LibraryQuery(
        sha256=sha256,
        pixel_sha256s=tuple(fp.pixel_sha256 for fp in fingerprints),
        phashes=tuple(fp.phash for fp in usable),
        fingerprints=usable,
        exclude_item_ids=tuple(exclude_item_ids),
    )


# ------------------------------------------------------------------------ search


def _near_rows(phash: int, radius: int, exclude_shas: set[str]) -> tuple[list[tuple], int]:
    """Rows within `radius` of `phash`: (id, blob_id, page, phash, distance), and candidates seen."""
    probes = block_probes(phash, radius)
    where = Q()
    for index, values in enumerate(probes):
        where |= Q(**{f"phash_block{index}__in": values})
    rows = ImageFingerprint.objects.filter(where, low_information=False, phash__isnull=False)
    if exclude_shas:
        rows = rows.exclude(blob_id__in=exclude_shas)
    if connection.vendor == "postgresql":
        # Let the database drop the far candidates: only matches cross the wire.
        rows = rows.annotate(distance=RawSQL("bit_count((phash # %s)::bit(64))", (signed64(phash),))).filter(
            distance__lte=radius
        )
        found = list(rows.values_list("id", "blob_id", "page", "phash", "distance")[: MAX_MATCHES * 4])
        return found, len(found)
    found = []
    seen = 0
    for pk, blob_id, page, stored in rows.values_list("id", "blob_id", "page", "phash").iterator():
        seen += 1
        distance = (unsigned64(stored) ^ phash).bit_count()
        if distance <= radius:
            found.append((pk, blob_id, page, stored, distance))
    return found, seen


def stored_as_engine(fp: ImageFingerprint) -> Fingerprint:
    """The engine's view of a stored library fingerprint (per blob, not per item)."""
    capture = datetime.datetime.fromisoformat(fp.capture_date) if fp.capture_date else None
    return Fingerprint(
        key=f"{fp.blob_id}#{fp.page}",
        source_key=fp.blob_id,
        department="",
        sha256=fp.blob_id,
        pixel_sha256=fp.pixel_sha256,
        byte_size=0,
        format=fp.format,
        mislabelled=False,
        width=fp.width,
        height=fp.height,
        page=fp.page or None,
        phash=unsigned64(fp.phash),
        dhash=unsigned64(fp.dhash) if fp.dhash is not None else 0,
        rotated_phashes=tuple(unsigned64(h or 0) for h in (fp.phash_rot90, fp.phash_rot180, fp.phash_rot270)),  # type: ignore[arg-type]
        quality=fp.quality,
        low_information=fp.low_information,
        document_like=fp.document_like,
        thumbnail=bytes(fp.thumbnail),
        thumb_size=(fp.thumb_width, fp.thumb_height),
        jpeg_quality=fp.jpeg_quality,
        metadata=ImageMetadata(
            capture=CaptureDate(
                capture, CaptureDateSource(fp.capture_date_source), fp.capture_utc_offset or None
            ),
            camera_make=fp.camera_make or None,
            camera_model=fp.camera_model or None,
            gps=GeoPoint(fp.gps_latitude, fp.gps_longitude) if fp.gps_latitude is not None else None,
            parcels=tuple(fp.parcels),
            has_original_metadata=fp.has_original_metadata,
        ),
    )


def _verify(query_fp: Fingerprint, stored: ImageFingerprint) -> tuple[str | None, float, str]:
    """Pixel verification of one near candidate: (relation or None, score, explanation)."""
    if not stored.thumbnail or not query_fp.thumbnail:
        return "near_duplicate", 0.0, "hashes are close; pixels not available to verify"
    settings = MatchSettings()
    other = stored_as_engine(stored)
    verification = verify_pair(query_fp, other, settings)
    relation = relation_between(query_fp, other, verification, settings)
    if relation is None:
        return None, verification.score, f"hashes are close but pixels differ ({verification.detail})"
    return (
        relation.value,
        verification.score,
        f"pixels agree (score {verification.score:.2f}; {verification.detail})",
    )


def _sightings(shas: Iterable[str], exclude_item_ids: Sequence[int]) -> dict[str, list[Sighting]]:
    from records.models import GatheredItem, ItemStatus

    found: dict[str, list[Sighting]] = defaultdict(list)
    shas = list(set(shas))
    if not shas:
        return found
    items = (
        GatheredItem.objects.filter(sha256__in=shas, status=ItemStatus.STORED)
        .exclude(pk__in=list(exclude_item_ids))
        .select_related("department", "request")
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
                department_code=item.department.code if item.department_id else None,
                department_name=item.department.name if item.department_id else None,
                uploaded_at=item.uploaded_at,
            )
        )
    return found


def check_library(query: LibraryQuery) -> LibraryAnswer:
    """Exact matches (same bytes, same pixels) and near-duplicates (pHash within radius) of `query`.

    Only images the city still holds as stored items count: a library hit must say where
    it was seen. `exclude_item_ids` leaves out the caller's own items (e.g. the item just
    stored), so an image never matches itself.
    """
    radius = default_radius() if query.radius is None else query.radius
    exact: dict[tuple[str, int], LibraryMatch] = {}
    fp_rows = ImageFingerprint.objects.filter(phash__isnull=False).only(
        "blob_id", "page", "capture_date", "capture_date_source", "phash", "dhash"
    )

    exact_shas: set[str] = set()
    if query.sha256:
        exact_shas.add(query.sha256)
        for fp in fp_rows.filter(blob_id=query.sha256)[:MAX_MATCHES]:
            exact[(fp.blob_id, fp.page)] = _match(fp, Relation.EXACT.value, 0, 0, 1.0, "the same bytes")
        if not exact:
            # Gathered but not fingerprinted yet (no dedupe run): still the same bytes.
            exact[(query.sha256, 0)] = LibraryMatch(
                sha256=query.sha256,
                page=0,
                relation=Relation.EXACT.value,
                phash_distance=0,
                dhash_distance=0,
                verification_score=1.0,
                explanation="the same bytes",
                capture_date=None,
                capture_date_source=CaptureDateSource.UNKNOWN.value,
            )
    if query.pixel_sha256s:
        same_pixels = fp_rows.filter(pixel_sha256__in=[p for p in query.pixel_sha256s if p])
        for fp in same_pixels.exclude(blob_id__in=exact_shas)[:MAX_MATCHES]:
            exact.setdefault(
                (fp.blob_id, fp.page),
                _match(
                    fp, Relation.SAME_PIXELS.value, 0, 0, 1.0, "different bytes, identical decoded pixels"
                ),
            )

    near: dict[tuple[str, int], LibraryMatch] = {}
    examined = 0
    known = exact_shas | {sha for sha, _ in exact}
    by_phash = {fp.phash: fp for fp in query.fingerprints}
    for phash in query.phashes:
        rows, seen = _near_rows(phash, radius, known)
        examined += seen
        if not rows:
            continue
        stored = {fp.pk: fp for fp in ImageFingerprint.objects.filter(pk__in=[r[0] for r in rows])}
        query_fp = by_phash.get(phash)
        for pk, blob_id, page, _stored_hash, distance in sorted(rows, key=lambda r: (r[4], r[1], r[2])):
            if (blob_id, page) in near or len(near) >= MAX_MATCHES:
                continue
            fp = stored[pk]
            dhash_distance = None
            if query_fp is not None and fp.dhash is not None:
                dhash_distance = (query_fp.dhash ^ unsigned64(fp.dhash)).bit_count()
            elif query.dhash is not None and fp.dhash is not None:
                dhash_distance = (query.dhash ^ unsigned64(fp.dhash)).bit_count()
            if query_fp is not None:
                relation, score, why = _verify(query_fp, fp)
                if relation is None:
                    continue  # close hashes, different pictures: not a duplicate
                near[(blob_id, page)] = _match(fp, relation, distance, dhash_distance, score, why)
            else:
                near[(blob_id, page)] = _match(
                    fp, "near_duplicate", distance, dhash_distance, None, f"pHash within {distance} bits"
                )

    sightings = _sightings([m.sha256 for m in (*exact.values(), *near.values())], query.exclude_item_ids)

    def seen(matches: dict[tuple[str, int], LibraryMatch]) -> tuple[LibraryMatch, ...]:
        # A fingerprint whose bytes no stored item holds any more is not in the library.
        kept = []
        for m in matches.values():
            where = sightings.get(m.sha256)
            if where:
                kept.append(_with_sightings(m, tuple(where)))
        return tuple(kept)

    return LibraryAnswer(exact=seen(exact), near=seen(near), radius=radius, candidates_examined=examined)


def _match(
    fp: ImageFingerprint,
    relation: str,
    phash_distance: int | None,
    dhash_distance: int | None,
    score: float | None,
    explanation: str,
) -> LibraryMatch:
    return LibraryMatch(
        sha256=fp.blob_id,
        page=fp.page,
        relation=relation,
        phash_distance=phash_distance,
        dhash_distance=dhash_distance,
        verification_score=score,
        explanation=explanation,
        capture_date=fp.capture_date or None,
        capture_date_source=fp.capture_date_source,
    )


def _with_sightings(match: LibraryMatch, sightings: tuple[Sighting, ...]) -> LibraryMatch:
    return replace(match, sightings=sightings)


def answer_as_dict(answer: LibraryAnswer) -> dict:
    """The answer as plain data (JSON-ready but for datetimes, which the API renders)."""
    return asdict(answer)


def query_for_image(data: bytes, radius: int | None = None) -> LibraryQuery:
    """Fingerprint an offered image (one decode) and build its library query."""
    import hashlib

    from dedupe.fingerprint import fingerprint_bytes

    prints = [r for r in fingerprint_bytes(data, "blob") if isinstance(r, Fingerprint)]
    query = query_for_fingerprints(hashlib.sha256(data).hexdigest(), prints)
    return replace(query, radius=radius)


def query_for_hashes(
    *, sha256: str | None, phash_hex: str | None, dhash_hex: str | None = None, radius: int | None = None
) -> LibraryQuery:
    """A query from hashes a department system computed itself (no pixels to verify)."""
    return LibraryQuery(
        sha256=sha256.lower() if sha256 else None,
        phashes=(int(phash_hex, 16),) if phash_hex else (),
        dhash=int(dhash_hex, 16) if dhash_hex else None,
        radius=radius,
    )
