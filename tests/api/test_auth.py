"""Who reaches what: department tokens, revocation, requester links, sessions, throttling."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from records.models import DepartmentToken, GatheredItem
from records.services.api_tokens import revoke_token
from records.services.intake import gather_files
from records.services.packets import _issue_link
from tests.api.conftest import token_client
from tests.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


def _item_for(department, records_request, clerk, name="a.jpg", color=(10, 200, 30)) -> GatheredItem:
    import io

    report = gather_files(
        actor=clerk,
        records_request=records_request,
        department=department,
        files=[(name, io.BytesIO(jpeg_bytes(color=color)))],
    )
    return GatheredItem.objects.get(pk=report.outcomes[0].item_id)


def test_a_department_token_cannot_read_another_departments_items(
    police, works, clerk, open_request, police_client
):
    own = _item_for(police, open_request, clerk, "own.jpg")
    theirs = _item_for(works, open_request, clerk, "theirs.jpg", color=(1, 2, 3))
    listed = police_client.get("/api/v1/items/").json()["results"]
    assert [i["id"] for i in listed] == [own.pk]
    assert police_client.get(f"/api/v1/items/{theirs.pk}/").status_code == 404
    assert police_client.get(f"/api/v1/items/{own.pk}/").status_code == 200


def test_a_department_token_cannot_upload_for_another_department(works, open_request, police_client):
    response = police_client.post(
        f"/api/v1/requests/{open_request.pk}/items/",
        {"department": "PW", "files": [_jpeg("x.jpg")]},
        format="multipart",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_permitted"


def test_a_revoked_token_is_refused_at_once(police, police_token, police_client):
    assert police_client.get("/api/v1/requests/").status_code == 200
    revoke_token(actor=None, record=DepartmentToken.objects.get(department=police))
    response = police_client.get("/api/v1/requests/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_requester_link_token_reaches_nothing(clerk, open_request):
    from records.models import Packet

    packet = Packet.objects.create(
        request=open_request, version=1, state="released", requested_at=open_request.received_at
    )
    link_token = _issue_link(clerk, packet, 30).token
    client = token_client(link_token)
    for url in ("/api/v1/requests/", "/api/v1/items/", "/api/v1/packets/", "/api/v1/library/check"):
        assert client.get(url).status_code == 401
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {link_token}")
    assert bearer.get("/api/v1/requests/").status_code in (401, 403)


def test_without_credentials_the_api_answers_401_with_the_error_shape(db):
    response = APIClient().get("/api/v1/requests/")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_only_the_tokens_sha256_is_stored_and_use_is_recorded(police, police_token, police_client):
    record = DepartmentToken.objects.get(department=police)
    assert record.token_sha256 == hashlib.sha256(police_token.encode()).hexdigest()
    assert police_token not in {record.prefix, record.token_sha256, record.name}
    assert record.last_used_at is None
    police_client.get("/api/v1/requests/")
    record.refresh_from_db()
    assert record.last_used_at is not None


def test_a_department_token_sees_no_clerk_work(police_client):
    for url in ("/api/v1/groups/", "/api/v1/packets/", "/api/v1/withholdings/", "/api/v1/dedupe-runs/"):
        response = police_client.get(url)
        assert response.status_code == 403, url
        assert response.json()["error"]["code"] == "permission_denied"


def test_a_department_token_cannot_open_requests(police_client):
    response = police_client.post(
        "/api/v1/requests/", {"requester_name": "A", "description": "B"}, format="json"
    )
    assert response.status_code == 403


def test_throttling_counts_per_token(police_client, works_client, monkeypatch):
    from django.core.cache import cache

    from records.api.throttling import DepartmentTokenThrottle

    cache.clear()
    monkeypatch.setattr(DepartmentTokenThrottle, "THROTTLE_RATES", {"department_token": "3/min"})
    codes = [police_client.get("/api/v1/requests/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert works_client.get("/api/v1/requests/").status_code == 200  # its own budget
    cache.clear()


def test_the_management_command_prints_a_working_token_once(police, capsys):
    call_command("create_department_token", "pd", "Nightly export")
    token = capsys.readouterr().out.strip()
    assert token_client(token).get("/api/v1/requests/").status_code == 200
    assert DepartmentToken.objects.filter(
        name="Nightly export", token_sha256=hashlib.sha256(token.encode()).hexdigest()
    ).exists()


def _jpeg(name: str):
    from tests.api.helpers import upload

    return upload(name, jpeg_bytes())


def test_a_token_stops_when_its_departments_system_account_is_disabled(police, police_token, police_client):
    from records.services.api_tokens import system_username

    assert police_client.get("/api/v1/items/").status_code == 200
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username=system_username(police)).update(is_active=False)
    response = police_client.get("/api/v1/items/")
    assert response.status_code == 401
    assert "disabled" in response.json()["error"]["message"]
