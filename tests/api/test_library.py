"""The city-wide library: exact and near-duplicates found across requests and departments."""

from __future__ import annotations

import random

import pytest

from dedupe.library import block_probes, query_for_hashes
from dedupe.models import ImageFingerprint, unsigned64
from records.services.library_door import check_library
from tests.api.helpers import photo, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen_by_police(police_client, police):
    """The astronaut photo, pushed by Police to an earlier request (fingerprinted at the door)."""
    from tests.factories import RecordsRequestFactory

    earlier = RecordsRequestFactory(status="gathering")
    response = police_client.post(
        f"/api/v1/requests/{earlier.pk}/items/",
        {"department": "PD", "files": [upload("astronaut.jpg", photo())]},
        format="multipart",
    )
    assert response.status_code == 201
    return earlier


def test_an_uploaded_image_finds_its_exact_copy_from_another_request(works_client, seen_by_police):
    response = works_client.post(
        "/api/v1/library/check", {"image": upload("x.jpg", photo())}, format="multipart"
    )
    assert response.status_code == 200
    [match] = response.json()["exact"]
    assert match["relation"] == "exact"
    assert match["sightings"][0]["request_reference"] == seen_by_police.reference
    assert match["sightings"][0]["department_code"] == "PD"
    assert "capture_date" in match and "capture_date_source" in match


def test_an_uploaded_resized_copy_is_a_verified_near_duplicate(works_client, seen_by_police):
    small = upload("small.jpg", photo(half=True, quality=70))
    body = works_client.post("/api/v1/library/check", {"image": small}, format="multipart").json()
    assert body["exact"] == []
    [match] = body["near"]
    assert match["relation"] == "same_image"
    assert match["phash_distance"] <= body["radius"]
    assert match["verification_score"] >= 0.9
    assert match["sightings"][0]["department_code"] == "PD"


def test_a_different_photo_is_not_a_match(works_client, seen_by_police):
    body = works_client.post(
        "/api/v1/library/check", {"image": upload("c.jpg", photo("coffee.png"))}, format="multipart"
    ).json()
    assert body["exact"] == [] and body["near"] == []


def test_hashes_alone_find_exact_and_near(works_client, seen_by_police):
    stored = ImageFingerprint.objects.get()
    phash = unsigned64(stored.phash) ^ 0b1011  # three bits away
    body = works_client.post(
        "/api/v1/library/check", {"sha256": stored.blob_id, "phash": f"{phash:016x}"}, format="json"
    ).json()
    assert [m["sha256"] for m in body["exact"]] == [stored.blob_id]
    near_only = works_client.post("/api/v1/library/check", {"phash": f"{phash:016x}"}, format="json").json()
    [match] = near_only["near"]
    assert match["phash_distance"] == 3 and match["relation"] == "near_duplicate"


def test_a_check_without_an_image_or_hashes_is_400(works_client):
    response = works_client.post("/api/v1/library/check", {"radius": 3}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def test_the_multi_index_never_misses_a_hash_within_the_radius():
    # Pigeonhole: some block of any hash within r differs by at most r // 4 bits.
    rng = random.Random(7)
    for _ in range(300):
        query = rng.getrandbits(64)
        radius = rng.randrange(0, 16)
        other = query
        for bit in rng.sample(range(64), radius):
            other ^= 1 << bit
        probes = block_probes(query, radius)
        blocks = [(other >> s) & 0xFFFF for s in (48, 32, 16, 0)]
        assert any(blocks[i] in probes[i] for i in range(4))


def test_the_library_is_read_from_the_database_each_time(seen_by_police):
    stored = ImageFingerprint.objects.get()
    query = query_for_hashes(sha256=None, phash_hex=f"{unsigned64(stored.phash):016x}")
    assert check_library(query).near
    stored.blob.items.all().delete()  # no stored item holds it any more: not in the library
    assert not check_library(query).near


def test_a_pdf_page_seen_before_is_found_at_the_door(police_client, works_client):
    """Police pushed a two-page PDF to an earlier request; Public Works checks a PDF holding
    only its second page: that page is found, with the earlier request and department."""
    from tests.dedupe.pdfs import document_pdf
    from tests.factories import RecordsRequestFactory

    case_118 = ["Case 24-118", "Address: 1200 Harbor Blvd", "Inspector: M. Reyes"]
    case_207 = ["Case 24-207", "Address: 88 Olive St", "Inspector: J. Tran"]
    earlier = RecordsRequestFactory(status="gathering")
    pushed = police_client.post(
        f"/api/v1/requests/{earlier.pk}/items/",
        {
            "department": "PD",
            "files": [upload("inspections.pdf", document_pdf([case_118, case_207]), "application/pdf")],
        },
        format="multipart",
    )
    assert pushed.status_code == 201, pushed.content
    body = works_client.post(
        "/api/v1/library/check",
        {"image": upload("207.pdf", document_pdf([case_207]), "application/pdf")},
        format="multipart",
    ).json()
    found = body["exact"] + body["near"]
    assert found, body
    assert found[0]["sightings"][0]["request_reference"] == earlier.reference
    assert found[0]["sightings"][0]["department_code"] == "PD"
