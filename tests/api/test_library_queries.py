"""The library check's cost does not grow with its answer, and its near search is exact.

Query counts: a check makes a fixed number of queries whatever the number of matches and
sightings (no N+1 over requests or departments), and a department token costs one query
to authenticate. Near search: the indexed search (index-only scans on PostgreSQL, the
same partial indexes on SQLite) returns exactly what a brute-force Hamming scan returns.
"""

from __future__ import annotations

import hashlib
import itertools
import random

import pytest
from django.utils import timezone

from dedupe.library import MAX_MATCHES, query_for_hashes
from dedupe.models import ImageFingerprint, signed64
from records.models import Blob, DepartmentToken, GatheredItem
from records.services.library_door import check_library
from tests.factories import DepartmentFactory, RecordsRequestFactory

pytestmark = pytest.mark.django_db

RADIUS = 11


def _sha(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def _store(label: str, phash: int, *, sightings=(), low_information: bool = False) -> str:
    """A fingerprinted blob, gathered as a stored item into each (request, department)."""
    sha = _sha(label)
    blob = Blob.objects.create(sha256=sha, byte_size=10, file=f"blobs/{sha}")
    blocks = [(phash >> s) & 0xFFFF for s in (48, 32, 16, 0)]
    ImageFingerprint.objects.create(
        blob=blob,
        phash=signed64(phash),
        dhash=signed64(phash ^ 0xFF),
        phash_block0=blocks[0],
        phash_block1=blocks[1],
        phash_block2=blocks[2],
        phash_block3=blocks[3],
        low_information=low_information,
        capture_date="2024-03-01T10:00:00",
    )
    for n, (request, department) in enumerate(sightings):
        GatheredItem.objects.create(
            request=request,
            department=department,
            original_path=f"{label}/{n}.jpg",
            file_name=f"{n}.jpg",
            blob=blob,
            sha256=sha,
            byte_size=10,
            uploaded_at=timezone.now(),
        )
    return sha


def _flip(value: int, bits: int, rng: random.Random) -> int:
    for position in rng.sample(range(64), bits):
        value ^= 1 << position
    return value


_DEPARTMENT_NUMBERS = itertools.count()


def _everywhere(count: int):
    """`count` (request, department) pairs, each a new request and a new department."""
    pairs = []
    for _ in range(count):
        n = next(_DEPARTMENT_NUMBERS)
        pairs.append(
            (RecordsRequestFactory(status="gathering"), DepartmentFactory(code=f"D{n}", name=f"Dept {n}"))
        )
    return pairs


def _check(client, body):
    response = client.post("/api/v1/library/check", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_check_costs_the_same_queries_for_one_match_as_for_many(
    works_client, django_assert_max_num_queries
):
    rng = random.Random(11)
    query = rng.getrandbits(64)
    exact_sha = _store("exact", query, sightings=_everywhere(1))
    _store("near-0", _flip(query, 2, rng), sightings=_everywhere(1))
    _check(works_client, {"sha256": exact_sha, "phash": f"{query:016x}"})  # last_used_at written
    with django_assert_max_num_queries(12) as few:
        body = _check(works_client, {"sha256": exact_sha, "phash": f"{query:016x}"})
    assert len(body["exact"]) == 1 and len(body["near"]) == 1
    baseline = len(few.captured_queries)

    for n in range(1, 8):  # many more near matches, each seen in several requests and departments
        _store(f"near-{n}", _flip(query, 1 + n % RADIUS, rng), sightings=_everywhere(3))
    with django_assert_max_num_queries(baseline) as many:
        body = _check(works_client, {"sha256": exact_sha, "phash": f"{query:016x}"})
    assert len(body["near"]) == 8
    assert all(match["sightings"] for match in body["near"])
    assert len({s["department_code"] for m in body["near"] for s in m["sightings"]}) == 1 + 7 * 3
    assert len(many.captured_queries) == baseline


def test_a_department_token_is_authenticated_in_one_query(works_client, works_token):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIRequestFactory

    from records.api.authentication import DepartmentTokenAuthentication

    _check(works_client, {"phash": "0123456789abcdef"})  # binds the user, writes last_used_at
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {works_token}")
    with CaptureQueriesContext(connection) as queries:
        user, record = DepartmentTokenAuthentication().authenticate(request)
    assert len(queries.captured_queries) == 1
    assert user.username == "api-pw" and user.uploader.department.code == "PW"
    assert record.department.code == "PW" and record.pk == DepartmentToken.objects.get().pk
    assert not record._state.adding


def test_a_revoked_token_fails_on_the_one_query_path(works_client, works_token):
    _check(works_client, {"phash": "0123456789abcdef"})
    DepartmentToken.objects.update(revoked_at=timezone.now())
    response = works_client.post("/api/v1/library/check", {"phash": "0123456789abcdef"}, format="json")
    assert response.status_code == 401


def test_near_search_returns_exactly_what_a_brute_force_scan_returns(open_request, police):
    rng = random.Random(5)
    queries = [rng.getrandbits(64) for _ in range(6)]
    stored: dict[str, tuple[int, bool]] = {}
    for q_index, query in enumerate(queries):
        for n, bits in enumerate((0, 1, 3, 4, 7, 8, 11, 12, 13, 20, 32)):
            flat = n == 3  # low-information rows are never near-duplicates
            label = f"q{q_index}-{n}"
            value = _flip(query, bits, rng)
            sha = _store(label, value, sightings=[(open_request, police)], low_information=flat)
            stored[sha] = (value, flat)
    for _ in range(200):  # background noise
        value = rng.getrandbits(64)
        stored[_store(f"noise-{len(stored)}", value, sightings=[(open_request, police)])] = (value, False)

    for query in queries:
        answer = check_library(query_for_hashes(sha256=None, phash_hex=f"{query:016x}", radius=RADIUS))
        expected = {
            sha: (value ^ query).bit_count()
            for sha, (value, flat) in stored.items()
            if not flat and (value ^ query).bit_count() <= RADIUS
        }
        assert {m.sha256: m.phash_distance for m in answer.near} == expected
        distances = [m.phash_distance for m in answer.near]
        assert distances == sorted(distances)  # nearest first
        assert answer.candidates_examined >= len(expected)
        assert len(answer.near) <= MAX_MATCHES


def test_the_exact_copy_is_not_reported_again_as_near(open_request, police):
    rng = random.Random(3)
    query = rng.getrandbits(64)
    sha = _store("original", query, sightings=[(open_request, police)])
    other = _store("other", _flip(query, 5, rng), sightings=[(open_request, police)])
    answer = check_library(query_for_hashes(sha256=sha, phash_hex=f"{query:016x}"))
    assert [m.sha256 for m in answer.exact] == [sha]
    assert [m.sha256 for m in answer.near] == [other]
    assert answer.near[0].capture_date == "2024-03-01T10:00:00"
    assert answer.near[0].dhash_distance is None  # no dHash in the query
