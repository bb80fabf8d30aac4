"""Dedupe runs, groups (override, split, merge), withholdings, packets, links and metrics."""

from __future__ import annotations

import pytest

from dedupe.models import DuplicateGroup, RunState
from records.models import Exemption, Packet, PacketState, RequesterLink
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch) -> InProcessQueue:
    queue = InProcessQueue()
    queue.install(monkeypatch)
    return queue


@pytest.fixture
def reviewed(clerk, queue, django_capture_on_commit_callbacks):
    """A request with a completed dedupe run started over the API."""
    from rest_framework.test import APIClient

    clerk, records_request = gathered_request(clerk)
    client = APIClient()
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/api/v1/dedupe-runs/", {"request": records_request.pk}, format="json")
    assert started.status_code == 201, started.json()
    queue.drain()
    return client, records_request, started.json()["id"]


def test_a_clerk_starts_a_run_and_polls_its_progress(reviewed):
    client, records_request, run_id = reviewed
    progress = client.get(f"/api/v1/dedupe-runs/{run_id}/").json()
    assert progress["state"] == RunState.COMPLETED and progress["percent"] == 100
    again = client.post("/api/v1/dedupe-runs/", {"request": records_request.pk}, format="json")
    assert again.status_code == 201  # the first finished, so a re-run may start


def test_groups_list_with_members_and_evidence(reviewed):
    client, records_request, _ = reviewed
    groups = client.get(f"/api/v1/groups/?request={records_request.pk}&latest=true").json()["results"]
    assert groups
    astronaut = next(g for g in groups if any(m["key"].endswith("astronaut_small.jpg") for m in g["members"]))
    assert astronaut["rule"] and astronaut["reason"]
    assert sum(m["is_authoritative"] for m in astronaut["members"]) == 1


def _astronaut_group(records_request) -> DuplicateGroup:
    for group in DuplicateGroup.objects.filter(request=records_request):
        if group.memberships.filter(image__key__endswith="astronaut_small.jpg").exists():
            return group
    raise AssertionError("no astronaut group")


def test_a_clerk_overrides_the_authoritative_copy(reviewed):
    client, records_request, _ = reviewed
    group = _astronaut_group(records_request)
    other = group.memberships.filter(is_authoritative=False).first().image
    response = client.post(
        f"/api/v1/groups/{group.pk}/override/",
        {"image": other.pk, "reason": "PW holds the signed copy"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["authoritative"] == other.pk
    missing = client.post(f"/api/v1/groups/{group.pk}/override/", {"image": 0, "reason": "x"}, format="json")
    assert missing.status_code == 400


def test_a_clerk_splits_a_member_out(reviewed):
    client, records_request, _ = reviewed
    group = _astronaut_group(records_request)
    # Not the exact copy of the authoritative one: the same bytes cannot be told apart.
    member = group.memberships.filter(is_authoritative=False).exclude(relation="exact").first().image
    response = client.post(
        f"/api/v1/groups/{group.pk}/split/", {"image": member.pk, "reason": "a different day"}, format="json"
    )
    assert response.status_code in (200, 204)
    assert not group.memberships.filter(image=member).exists()


def test_a_clerk_merges_two_groups_of_the_same_run(reviewed):
    client, records_request, _ = reviewed
    groups = list(DuplicateGroup.objects.filter(request=records_request))
    if len(groups) < 2:
        pytest.skip("the sample request yields one group")
    into, other = groups[0], groups[1]
    response = client.post(
        f"/api/v1/groups/{into.pk}/merge/", {"other": other.pk, "reason": "same record"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert not DuplicateGroup.objects.filter(pk=other.pk).exists()


def test_merge_with_itself_is_400(reviewed):
    client, records_request, _ = reviewed
    group = _astronaut_group(records_request)
    response = client.post(
        f"/api/v1/groups/{group.pk}/merge/", {"other": group.pk, "reason": "x"}, format="json"
    )
    assert response.status_code == 400


def test_a_clerk_withholds_an_item_and_releases_it(clerk_client, reviewed):
    client, records_request, _ = reviewed
    exemption = Exemption.objects.filter(active=True).first() or Exemption.objects.create(
        label="Personal privacy", code_section="Gov. Code § 7927.700"
    )
    item = records_request.items.filter(status="stored").first()
    assert exemption.pk in [e["id"] for e in client.get("/api/v1/exemptions/").json()["results"]]
    created = client.post(
        "/api/v1/withholdings/", {"item": item.pk, "exemption": exemption.pk, "note": "a face"}, format="json"
    )
    assert created.status_code == 201, created.json()
    listed = client.get(f"/api/v1/withholdings/?request={records_request.pk}").json()
    assert listed["count"] == 1
    released = client.post(
        f"/api/v1/withholdings/{created.json()['id']}/release/", {"reason": "consent"}, format="json"
    )
    assert released.status_code == 204
    assert client.get("/api/v1/withholdings/").json()["count"] == 0


def test_a_clerk_builds_releases_and_revokes(reviewed, monkeypatch, django_capture_on_commit_callbacks):
    from records.services import packets as packet_service

    client, records_request, _ = reviewed
    monkeypatch.setattr(packet_service, "_dispatch_build", lambda packet_id: None)
    built = client.post("/api/v1/packets/", {"request": records_request.pk}, format="json")
    assert built.status_code == 201, built.json()
    packet_id = built.json()["id"]
    too_soon = client.post(f"/api/v1/packets/{packet_id}/release/", {"valid_days": 10}, format="json")
    assert too_soon.status_code == 409
    Packet.objects.filter(pk=packet_id).update(state=PacketState.READY)  # as the worker would
    released = client.post(f"/api/v1/packets/{packet_id}/release/", {"valid_days": 10}, format="json")
    assert released.status_code == 201, released.json()
    link_id = released.json()["link"]["id"]
    assert released.json()["token"]
    revoked = client.post(f"/api/v1/links/{link_id}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert RequesterLink.objects.get(pk=link_id).revoked_at is not None
    assert client.get(f"/api/v1/packets/?request={records_request.pk}").json()["count"] == 1


def test_metrics_answer_the_dashboard_numbers_or_say_they_are_missing(clerk_client):
    response = clerk_client.get("/api/v1/metrics/?start=2026-01-01&end=2026-01-31")
    try:
        import records.metrics  # noqa: F401
    except ModuleNotFoundError:
        assert response.status_code == 501
        assert response.json()["error"]["code"] == "metrics_unavailable"
    else:
        assert response.status_code == 200 and isinstance(response.json(), dict)
    assert clerk_client.get("/api/v1/metrics/?start=2026-02-01&end=2026-01-01").status_code == 400


def test_a_department_token_cannot_start_runs_or_see_metrics(police_client, open_request):
    assert (
        police_client.post("/api/v1/dedupe-runs/", {"request": open_request.pk}, format="json").status_code
        == 403
    )
    assert police_client.get("/api/v1/metrics/?start=2026-01-01&end=2026-01-31").status_code == 403
