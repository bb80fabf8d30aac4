"""Requests (list, open, read, extend, status) and items (upload under a policy, list, read)."""

from __future__ import annotations

import pytest

from records.models import AuditEvent, GatheredItem
from tests.api.helpers import photo, upload, zip_upload
from tests.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


def _push(client, records_request, department: str, files: dict[str, bytes]):
    return client.post(
        f"/api/v1/requests/{records_request.pk}/items/",
        {
            "department": department,
            "files": [upload(n.rsplit("/", 1)[-1], d) for n, d in files.items()],
            "paths": list(files),
        },
        format="multipart",
    )


def test_a_clerk_opens_reads_lists_and_filters_requests(clerk_client):
    created = clerk_client.post(
        "/api/v1/requests/",
        {
            "requester_name": "Ada Resident",
            "description": "Parcel photos, 2024",
            "requester_kind": "attorney",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "received" and body["due_date"]
    assert clerk_client.get(f"/api/v1/requests/{body['id']}/").json()["reference"] == body["reference"]
    assert clerk_client.get("/api/v1/requests/?status=received").json()["count"] == 1
    assert clerk_client.get("/api/v1/requests/?status=closed").json()["count"] == 0


def test_a_clerk_extends_a_deadline_once(clerk_client, open_request):
    url = f"/api/v1/requests/{open_request.pk}/extend/"
    payload = {"days": 14, "ground": "voluminous", "reason": "Forty departments to search."}
    first = clerk_client.post(url, payload, format="json")
    assert first.status_code == 200 and first.json()["extension_days"] == 14
    again = clerk_client.post(url, payload, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "extension_refused"


def test_a_clerk_moves_the_status_and_illegal_moves_are_409(clerk_client, open_request):
    url = f"/api/v1/requests/{open_request.pk}/status/"
    assert clerk_client.post(url, {"status": "closed"}, format="json").status_code == 409
    moved = clerk_client.post(url, {"status": "withdrawn", "note": "requester withdrew"}, format="json")
    assert moved.status_code == 200 and moved.json()["status"] == "withdrawn"


def test_invalid_input_has_the_one_error_shape(clerk_client):
    response = clerk_client.post("/api/v1/requests/", {"requester_name": ""}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and "description" in error["details"]


def test_a_department_pushes_files_and_reads_them_back_with_fingerprints(police_client, open_request):
    response = _push(
        police_client, open_request, "PD", {"case/astronaut.jpg": photo(), "notes.txt": b"hello"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["counts"]["stored"] == 1 and body["counts"]["refused"] == 1
    stored = next(o for o in body["outcomes"] if o["result"] == "stored")
    detail = police_client.get(f"/api/v1/items/{stored['item_id']}/").json()
    assert detail["department"] == "PD" and detail["original_path"] == "case/astronaut.jpg"
    [fingerprint] = detail["fingerprints"]  # fingerprinted at the door, once
    assert len(fingerprint["phash"]) == 16 and fingerprint["width"] > 0
    listed = police_client.get(f"/api/v1/items/?request={open_request.pk}&status=stored").json()
    assert [i["id"] for i in listed["results"]] == [stored["item_id"]]


def test_flag_policy_stores_the_copy_and_lists_where_it_was_seen(
    police_client, works_client, open_request, clerk
):
    from tests.factories import RecordsRequestFactory

    earlier = RecordsRequestFactory(status="gathering")
    original = photo()
    assert _push(police_client, earlier, "PD", {"astronaut.jpg": original}).status_code == 201
    response = _push(works_client, open_request, "PW", {"copy.jpg": original})
    assert response.status_code == 201
    [outcome] = response.json()["outcomes"]
    assert outcome["result"] == "stored"
    [match] = outcome["matches"]["exact"]
    assert match["relation"] == "exact"
    [seen] = match["sightings"]
    assert seen["department_code"] == "PD" and seen["request_reference"] == earlier.reference
    assert response.json()["flagged"] == 1


def test_reject_policy_refuses_a_duplicate_with_409_and_the_matches(
    police_client, works, works_client, open_request
):
    from tests.factories import RecordsRequestFactory

    works.upload_policy = "reject"
    works.save()
    earlier = RecordsRequestFactory(status="gathering")
    _push(police_client, earlier, "PD", {"astronaut.jpg": photo()})
    response = _push(works_client, open_request, "PW", {"small.jpg": photo(half=True, quality=70)})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate_rejected"
    [outcome] = error["details"]["outcomes"]
    assert outcome["result"] == "rejected_duplicate"
    assert outcome["matches"]["near"][0]["sightings"][0]["department_code"] == "PD"
    assert not GatheredItem.objects.filter(request=open_request).exists()
    assert AuditEvent.objects.filter(verb="rejected_at_door", request=open_request).exists()


def test_reject_policy_stores_the_new_files_of_a_mixed_push(police_client, works, works_client, open_request):
    from tests.factories import RecordsRequestFactory

    works.upload_policy = "reject"
    works.save()
    _push(police_client, RecordsRequestFactory(status="gathering"), "PD", {"a.jpg": photo()})
    response = _push(works_client, open_request, "PW", {"dup.jpg": photo(), "new.jpg": photo("coffee.png")})
    assert response.status_code == 201
    results = {o["name"]: o["result"] for o in response.json()["outcomes"]}
    assert results == {"dup.jpg": "rejected_duplicate", "new.jpg": "stored"}


def test_a_retried_push_is_not_a_duplicate_of_itself(works, works_client, open_request):
    works.upload_policy = "reject"
    works.save()
    assert _push(works_client, open_request, "PW", {"a.jpg": photo()}).status_code == 201
    again = _push(works_client, open_request, "PW", {"a.jpg": photo()})
    assert again.status_code == 201
    assert again.json()["outcomes"][0]["result"] == "already_in_request"


def test_allow_policy_stores_without_checking(police_client, works, works_client, open_request):
    from tests.factories import RecordsRequestFactory

    works.upload_policy = "allow"
    works.save()
    _push(police_client, RecordsRequestFactory(status="gathering"), "PD", {"a.jpg": photo()})
    response = _push(works_client, open_request, "PW", {"a.jpg": photo()})
    assert response.status_code == 201
    assert response.json()["outcomes"][0]["matches"] is None


def test_a_zip_under_reject_is_refused_whole_when_an_entry_is_known(
    police_client, works, works_client, open_request
):
    from tests.factories import RecordsRequestFactory

    works.upload_policy = "reject"
    works.save()
    _push(police_client, RecordsRequestFactory(status="gathering"), "PD", {"a.jpg": photo()})
    archive = zip_upload({"dup.jpg": photo(), "new.jpg": photo("coffee.png")})
    response = works_client.post(
        f"/api/v1/requests/{open_request.pk}/items/", {"department": "PW", "zip": archive}, format="multipart"
    )
    assert response.status_code == 409
    assert [o["name"] for o in response.json()["error"]["details"]["outcomes"]] == ["dup.jpg"]
    assert not GatheredItem.objects.filter(request=open_request).exists()


def test_a_zip_under_flag_is_stored_and_lists_matches(police_client, works_client, open_request):
    from tests.factories import RecordsRequestFactory

    _push(police_client, RecordsRequestFactory(status="gathering"), "PD", {"a.jpg": photo()})
    archive = zip_upload({"dup.jpg": photo(), "new.jpg": photo("coffee.png")})
    response = works_client.post(
        f"/api/v1/requests/{open_request.pk}/items/", {"department": "PW", "zip": archive}, format="multipart"
    )
    assert response.status_code == 201
    by_name = {o["name"]: o for o in response.json()["outcomes"]}
    assert by_name["dup.jpg"]["matches"]["exact"][0]["sightings"][0]["department_code"] == "PD"
    assert not by_name["new.jpg"]["matches"]["exact"] and not by_name["new.jpg"]["matches"]["near"]


def test_upload_needs_files_or_a_zip(police_client, open_request):
    response = police_client.post(
        f"/api/v1/requests/{open_request.pk}/items/", {"department": "PD"}, format="multipart"
    )
    assert response.status_code == 400


def test_a_flat_colour_matches_only_exactly(police_client, works_client, open_request):
    from tests.factories import RecordsRequestFactory

    _push(police_client, RecordsRequestFactory(status="gathering"), "PD", {"red.jpg": jpeg_bytes()})
    response = _push(works_client, open_request, "PW", {"blue.jpg": jpeg_bytes(color=(0, 0, 250))})
    assert response.json()["outcomes"][0]["matches"] == {
        "exact": [],
        "near": [],
        "radius": 11,
        "candidates_examined": 0,
    }


@pytest.mark.parametrize("value", ["3.774588227897669e+42", "9223372036854775808", "0", "-4", "1.5"])
def test_an_id_filter_that_is_no_row_id_is_a_400_not_a_server_error(clerk_client, value):
    # Found by the schema fuzz: SQLite cannot bind 3.8e42, and the list answered 500.
    response = clerk_client.get("/api/v1/items/", {"request": value})
    assert response.status_code == 400
    assert "request" in str(response.json())
