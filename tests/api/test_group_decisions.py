"""The API's override and merge use the review page's decision services: same evidence, same rules."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from dedupe.models import DuplicateGroup, ItemImage
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request, run_dedupe

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(clerk, monkeypatch, django_capture_on_commit_callbacks):
    queue = InProcessQueue()
    queue.install(monkeypatch)
    clerk, records_request = gathered_request(clerk)
    run_dedupe(clerk, records_request, queue, django_capture_on_commit_callbacks)
    client = APIClient()
    client.force_login(clerk)
    return client, records_request


def _group_holding(key: str) -> DuplicateGroup:
    return DuplicateGroup.objects.get(memberships__image__key=key)


def test_an_image_in_no_group_is_merged_into_a_group_over_the_api(reviewed):
    client, _ = reviewed
    group = _group_holding("PLN/coffee.png")
    chelsea = ItemImage.objects.get(key="PLN/chelsea.jpg")
    response = client.post(
        f"/api/v1/groups/{group.pk}/merge/", {"image": chelsea.pk, "reason": "same case file"}, format="json"
    )
    assert response.status_code == 200, response.json()
    member = next(m for m in response.json()["members"] if m["key"] == "PLN/chelsea.jpg")
    assert member["relation"] == "clerk_merged"
    assert member["explanation"].startswith("joined by a clerk: same case file;")


def test_a_merge_names_either_a_group_or_an_image(reviewed):
    client, _ = reviewed
    group = _group_holding("PLN/coffee.png")
    response = client.post(f"/api/v1/groups/{group.pk}/merge/", {"reason": "x"}, format="json")
    assert response.status_code == 400


def test_an_override_over_the_api_recomputes_every_members_evidence(reviewed):
    client, _ = reviewed
    group = _group_holding("PW/astronaut_small.jpg")
    small = ItemImage.objects.get(key="PW/astronaut_small.jpg")
    response = client.post(
        f"/api/v1/groups/{group.pk}/override/", {"image": small.pk, "reason": "signed copy"}, format="json"
    )
    assert response.status_code == 200, response.json()
    former = next(m for m in response.json()["members"] if m["key"] == "PLN/IMG_20240312_101502.jpg")
    assert former["relation"] == "same_image" and former["verification_score"] is not None


def test_splitting_an_exact_copy_of_the_authoritative_copy_is_refused_with_the_reason(reviewed):
    client, _ = reviewed
    group = _group_holding("PD/case/astronaut.jpg")
    exact = ItemImage.objects.get(key="PD/case/astronaut.jpg")
    response = client.post(
        f"/api/v1/groups/{group.pk}/split/", {"image": exact.pk, "reason": "not ours"}, format="json"
    )
    assert response.status_code == 400
    assert "same bytes or pixels as the authoritative copy" in response.json()["error"]["message"]
