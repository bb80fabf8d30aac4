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
r = 11), and keep the rows matching any probe whose full 64-bit distance is within r. No
candidate within r can be missed; no all-pairs scan is ever made.

On PostgreSQL each block is one index-only scan of `library_phash_blockN` (block, phash,
id; partial on readable, hashed, not-flat rows) with `bit_count` applied to the index
entries, so the ~8,000 candidates of a check at 1M rows never touch the table; only the
matches are fetched by primary key, in the same statement. Elsewhere the candidates are
read with indexed IN queries and filtered in Python.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cache

from django.db import connection, transaction
from django.db.models import Q

from dedupe.core.grouping import relation_between
from dedupe.core.settings import MatchSettings
from dedupe.core.types import (
    CaptureDateSource,
    Fingerprint,
    Relation,
)
from dedupe.core.verify import verify_pair
from dedupe.models import ImageFingerprint, signed64, unsigned64
from dedupe.stored import fingerprint_from_row

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


# Where the city holds each of these blobs as stored items (at most MAX_SIGHTINGS each,
# earliest first), leaving out the given item ids. The request workflow answers it.
SightingsOf = Callable[[Sequence[str], Sequence[int]], Mapping[str, Sequence[Sighting]]]


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


# The columns a near row carries: enough to answer a hash-only check without another query.
_NEAR_COLUMNS = ("id", "blob_id", "page", "phash", "dhash", "capture_date", "capture_date_source")


@dataclass(frozen=True)
class _NearRow:
    pk: int
    blob_id: str
    page: int
    phash: int
    dhash: int | None
    capture_date: str
    capture_date_source: str
    distance: int


def _near_sql(phash: int, radius: int, exclude_shas: set[str]) -> tuple[str, list]:
    """PostgreSQL: one index-only scan per block, the Hamming filter on index entries.

    Each branch reads `library_phash_blockN` (block, phash, id; partial on the rows that can
    be near-duplicates), so the ~2,000 candidates per block at 1M rows are filtered without
    visiting the table; only the few matches are then fetched by primary key.
    """
    table = ImageFingerprint._meta.db_table
    branches = " UNION ALL ".join(
        f"SELECT id FROM {table} WHERE phash_block{n} = ANY(%s) AND NOT low_information"
        " AND phash IS NOT NULL AND bit_count((phash # %s)::bit(64)) <= %s"
        for n in range(BLOCKS)
    )
    query = signed64(phash)
    params: list = [query]
    for values in block_probes(phash, radius):
        params += [values, query, radius]
    sql = (
        f"SELECT {', '.join(f'f.{c}' for c in _NEAR_COLUMNS)}, bit_count((f.phash # %s)::bit(64)) AS distance"
        f" FROM {table} f WHERE f.id IN ({branches})"
    )
    if exclude_shas:
        sql += " AND f.blob_id <> ALL(%s)"
        params.append(sorted(exclude_shas))
    sql += " ORDER BY distance, f.blob_id, f.page LIMIT %s"
    params.append(MAX_MATCHES * 4)
    return sql, params


def _near_rows(phash: int, radius: int, exclude_shas: set[str]) -> tuple[list[_NearRow], int]:
    """Stored rows within `radius` of `phash`, nearest first, and the candidates examined."""
    if connection.vendor == "postgresql":
        sql, params = _near_sql(phash, radius, exclude_shas)
        with transaction.atomic(), connection.cursor() as cursor:
            # Four index-only scans take ~2 ms; a parallel plan (which the planner picks for
            # the UNION ALL) only adds the workers' start-up, 10-20 ms on a busy machine.
            # SET LOCAL: serial for this transaction only.
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cursor.execute(sql, params)
            found = [_NearRow(*row) for row in cursor.fetchall()]
        return found, len(found)
    where = Q()
    for index, values in enumerate(block_probes(phash, radius)):
        where |= Q(**{f"phash_block{index}__in": values})
    rows = ImageFingerprint.objects.filter(where, low_information=False, phash__isnull=False)
    if exclude_shas:
        rows = rows.exclude(blob_id__in=exclude_shas)
    found = []
    seen = 0
    for row in rows.values_list(*_NEAR_COLUMNS).iterator():
        seen += 1
        distance = (unsigned64(row[3]) ^ phash).bit_count()
        if distance <= radius:
            found.append(_NearRow(*row, distance))
    found.sort(key=lambda r: (r.distance, r.blob_id, r.page))
    return found[: MAX_MATCHES * 4], seen


def stored_as_engine(fp: ImageFingerprint) -> Fingerprint:
    """The engine's view of a stored library fingerprint (per blob, not per item)."""
    return fingerprint_from_row(
        fp, key=f"{fp.blob_id}#{fp.page}", source_key=fp.blob_id, department="", sha256=fp.blob_id
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


def check_library(query: LibraryQuery, *, sightings: SightingsOf) -> LibraryAnswer:
    """Exact matches (same bytes, same pixels) and near-duplicates (pHash within radius) of `query`.

    Only images the city still holds as stored items count: a library hit must say where
    it was seen, which `sightings` answers (records.services.library_door.sightings_of).
    `exclude_item_ids` leaves out the caller's own items (e.g. the item just stored), so
    an image never matches itself.
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
        query_fp = by_phash.get(phash)
        stored: dict[int, ImageFingerprint] = {}
        if query_fp is not None:
            # Pixel verification needs the stored thumbnail; never the preview JPEG.
            stored = {
                fp.pk: fp
                for fp in ImageFingerprint.objects.filter(pk__in=[r.pk for r in rows]).defer("preview_jpeg")
            }
        for row in rows:
            if (row.blob_id, row.page) in near or len(near) >= MAX_MATCHES:
                continue
            dhash_distance = None
            own_dhash = query_fp.dhash if query_fp is not None else query.dhash
            if own_dhash is not None and row.dhash is not None:
                dhash_distance = (own_dhash ^ unsigned64(row.dhash)).bit_count()
            if query_fp is not None:
                relation, score, why = _verify(query_fp, stored[row.pk])
                if relation is None:
                    continue  # close hashes, different pictures: not a duplicate
                near[(row.blob_id, row.page)] = _match(
                    row, relation, row.distance, dhash_distance, score, why
                )
            else:
                near[(row.blob_id, row.page)] = _match(
                    row,
                    "near_duplicate",
                    row.distance,
                    dhash_distance,
                    None,
                    f"pHash within {row.distance} bits",
                )

    seen_at = sightings(sorted({m.sha256 for m in (*exact.values(), *near.values())}), query.exclude_item_ids)

    def seen(matches: dict[tuple[str, int], LibraryMatch]) -> tuple[LibraryMatch, ...]:
        # A fingerprint whose bytes no stored item holds any more is not in the library.
        kept = []
        for m in matches.values():
            where = seen_at.get(m.sha256)
            if where:
                kept.append(_with_sightings(m, tuple(where)))
        return tuple(kept)

    return LibraryAnswer(exact=seen(exact), near=seen(near), radius=radius, candidates_examined=examined)


def _match(
    fp: ImageFingerprint | _NearRow,
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

    from dedupe.core.fingerprint import fingerprint_bytes

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
