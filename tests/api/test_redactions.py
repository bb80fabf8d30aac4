"""Redactions over the API: list, draw (optionally onto the group), confirm, delete; clerks only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from records.models import AuditEvent, Exemption, GatheredItem, Redaction
from records.services.dedupe_runs import start_run
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request

pytestmark = pytest.mark.django_db

PRIVACY = "Gov. Code § 7927.700"


@pytest.fixture
def deduplicated(clerk, monkeypatch, django_capture_on_commit_callbacks):
    queue = InProcessQueue()
    queue.install(monkeypatch)
    clerk, records_request = gathered_request(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        start_run(actor=clerk, records_request=records_request)
    queue.drain()
    return records_request


@pytest.fixture
def privacy(db) -> Exemption:
    return Exemption.objects.get(code_section=PRIVACY, active=True)


def url(item: GatheredItem, redaction: int | None = None, suffix: str = "") -> str:
    base = f"/api/v1/items/{item.pk}/redactions/"
    return base if redaction is None else f"{base}{redaction}/{suffix}"


def item_named(name: str) -> GatheredItem:
    return GatheredItem.objects.get(original_path=name)


def test_a_clerk_draws_lists_and_deletes_a_box_and_each_step_is_audited(clerk_client, deduplicated, privacy):
    chelsea = item_named("chelsea.jpg")
    assert clerk_client.get(url(chelsea)).json() == []
    created = clerk_client.post(
        url(chelsea), {"x": 10, "y": 20, "width": 50, "height": 40, "exemption": privacy.pk}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["mapped"] == []
    box = body["redaction"]
    assert (box["x"], box["y"], box["width"], box["height"], box["page"]) == (10, 20, 50, 40, 0)
    assert box["exemption"]["code_section"] == PRIVACY and box["confirmed"] is True
    listed = clerk_client.get(url(chelsea)).json()
    assert [r["id"] for r in listed] == [box["id"]]

    assert clerk_client.delete(url(chelsea, box["id"])).status_code == 204
    assert not Redaction.objects.filter(pk=box["id"]).exists()
    verbs = AuditEvent.objects.filter(verb__startswith="redaction_").order_by("id")
    assert list(verbs.values_list("verb", "actor__username")) == [
        ("redaction_added", "clerk1"),
        ("redaction_removed", "clerk1"),
    ]


def test_a_box_reaching_past_the_edge_is_clipped_and_one_outside_is_400(clerk_client, deduplicated, privacy):
    chelsea = item_named("chelsea.jpg")  # 451 x 300
    clipped = clerk_client.post(
        url(chelsea),
        {"x": 400, "y": 250, "width": 500, "height": 500, "exemption": privacy.pk},
        format="json",
    ).json()["redaction"]
    assert (clipped["width"], clipped["height"]) == (51, 50)
    outside = clerk_client.post(
        url(chelsea), {"x": 5000, "y": 5000, "width": 5, "height": 5, "exemption": privacy.pk}, format="json"
    )
    assert outside.status_code == 400
    assert outside.json()["error"]["code"] == "invalid_input"
    assert "outside the image" in outside.json()["error"]["message"]


def test_invalid_boxes_and_unknown_exemptions_are_refused(clerk_client, deduplicated, privacy):
    chelsea = item_named("chelsea.jpg")
    no_width = clerk_client.post(url(chelsea), {"x": 1, "y": 1, "height": 5, "exemption": privacy.pk})
    assert no_width.status_code == 400 and "width" in no_width.json()["error"]["details"]
    negative = clerk_client.post(
        url(chelsea), {"x": -1, "y": 1, "width": 5, "height": 5, "exemption": privacy.pk}, format="json"
    )
    assert negative.status_code == 400
    unknown = clerk_client.post(
        url(chelsea), {"x": 1, "y": 1, "width": 5, "height": 5, "exemption": 999_999}, format="json"
    )
    assert unknown.status_code == 404
    privacy.active = False
    privacy.save()
    retired = clerk_client.post(
        url(chelsea), {"x": 1, "y": 1, "width": 5, "height": 5, "exemption": privacy.pk}, format="json"
    )
    assert retired.status_code == 404
    assert not Redaction.objects.exists()


def test_a_box_applied_to_the_group_lands_on_every_copy_awaiting_confirmation(
    clerk_client, deduplicated, privacy
):
    original = item_named("IMG_20240312_101502.jpg")  # 512 x 512
    created = clerk_client.post(
        url(original),
        {"x": 100, "y": 60, "width": 80, "height": 40, "exemption": privacy.pk, "apply_to_group": True},
        format="json",
    )
    assert created.status_code == 201, created.json()
    mapped = {GatheredItem.objects.get(pk=r["item"]).gathered_path: r for r in created.json()["mapped"]}
    assert set(mapped) == {"PW/astronaut_small.jpg", "PD/case/astronaut.jpg"}
    small = mapped["PW/astronaut_small.jpg"]
    assert (small["x"], small["y"], small["width"], small["height"]) == (50, 30, 40, 20)
    assert not small["confirmed"] and small["mapped_from"] == created.json()["redaction"]["id"]

    small_item = item_named("astronaut_small.jpg")
    confirmed = clerk_client.post(url(small_item, small["id"], "confirm/"))
    assert confirmed.status_code == 200 and confirmed.json()["confirmed"] is True
    assert AuditEvent.objects.filter(verb="redaction_confirmed").count() == 1


def test_apply_to_group_on_an_item_in_no_group_is_400_and_adds_nothing(clerk_client, deduplicated, privacy):
    chelsea = item_named("chelsea.jpg")
    refused = clerk_client.post(
        url(chelsea),
        {"x": 1, "y": 1, "width": 5, "height": 5, "exemption": privacy.pk, "apply_to_group": True},
        format="json",
    )
    assert refused.status_code == 400
    assert "not in a duplicate group" in refused.json()["error"]["message"]
    assert not Redaction.objects.exists()


def test_a_redaction_is_addressed_through_its_own_item_only(clerk_client, deduplicated, privacy):
    chelsea, coffee = item_named("chelsea.jpg"), item_named("coffee.png")
    box = clerk_client.post(
        url(chelsea), {"x": 1, "y": 1, "width": 5, "height": 5, "exemption": privacy.pk}, format="json"
    ).json()["redaction"]
    assert clerk_client.delete(url(coffee, box["id"])).status_code == 404
    assert clerk_client.get(url(GatheredItem(pk=999_999))).status_code == 404
    assert Redaction.objects.filter(pk=box["id"]).exists()


def test_only_clerks_redact(clerk, deduplicated, privacy, manager, police_client):
    chelsea = item_named("chelsea.jpg")
    payload = {"x": 1, "y": 1, "width": 5, "height": 5, "exemption": privacy.pk}
    anonymous = APIClient()
    assert anonymous.get(url(chelsea)).status_code == 401
    assert anonymous.post(url(chelsea), payload, format="json").status_code == 401
    managing = APIClient()
    managing.force_login(manager)
    assert managing.get(url(chelsea)).status_code == 403
    assert managing.post(url(chelsea), payload, format="json").status_code == 403
    # PD's own item, through PD's own token: still not a department's decision.
    pd_item = item_named("case/astronaut.jpg")
    assert police_client.get(url(pd_item)).status_code == 403
    denied = police_client.post(url(pd_item), payload, format="json")
    assert denied.status_code == 403
    assert denied.json()["error"]["message"] == "Only a clerk can redact."
    assert not Redaction.objects.exists()


def test_the_redaction_endpoints_are_in_the_openapi_schema(clerk_client):
    schema = clerk_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/items/{item_pk}/redactions/"]) >= {"get", "post"}
    assert "delete" in paths["/api/v1/items/{item_pk}/redactions/{id}/"]
    assert "post" in paths["/api/v1/items/{item_pk}/redactions/{id}/confirm/"]
    created = schema["components"]["schemas"]["RedactionCreate"]["properties"]
    assert {"x", "y", "width", "height", "exemption", "page", "apply_to_group"} <= set(created)
