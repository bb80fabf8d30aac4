"""The one guard per role (records/roles.py) and the one visibility rule for packets.

Services call `require_clerk` / `require_staff`; pages and the API ask the same predicates.
These specify who passes, and that a refusal is the service error the API maps to 403.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.test import APIClient

from records.errors import NotPermitted
from records.models import Packet
from records.roles import is_staff_member, require_clerk, require_staff
from records.selectors import packets_visible_to
from tests.factories import (
    DepartmentFactory,
    RecordsRequestFactory,
    UserFactory,
    make_clerk,
    make_manager,
    make_uploader,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    police = DepartmentFactory(code="PD", name="Police")
    return {
        "clerk": make_clerk(),
        "manager": make_manager(),
        "uploader": make_uploader(police),
        "no role": UserFactory(username="someone"),
        "anonymous": AnonymousUser(),
        "administrator": UserFactory(username="admin", is_superuser=True),
    }


def test_only_clerks_and_administrators_pass_the_clerk_guard(people):
    for who in ("clerk", "administrator"):
        require_clerk(people[who])
    for who in ("manager", "uploader", "no role", "anonymous"):
        with pytest.raises(NotPermitted, match=r"Only a clerk can do this\."):
            require_clerk(people[who])


def test_the_staff_guard_lets_the_records_office_in_and_keeps_departments_out(people):
    for who in ("clerk", "manager", "administrator"):
        assert is_staff_member(people[who])
        require_staff(people[who])
    for who in ("uploader", "no role", "anonymous"):
        assert not is_staff_member(people[who])
        with pytest.raises(NotPermitted):
            require_staff(people[who])


def test_a_guard_refuses_with_the_message_its_service_names(people):
    with pytest.raises(NotPermitted) as refused:
        require_clerk(people["manager"], "Only a clerk can redact.")
    assert str(refused.value) == "Only a clerk can redact."
    assert refused.value.code == "not_permitted"
    assert refused.value.http_status == 403


def test_the_pages_and_the_api_list_the_same_packets(people):
    records_request = RecordsRequestFactory()
    built = [
        Packet.objects.create(request=records_request, version=v, state="ready", requested_at=timezone.now())
        for v in (1, 2)
    ]
    for who in ("clerk", "manager"):
        assert set(packets_visible_to(people[who])) == set(built)
    for who in ("uploader", "no role", "anonymous"):
        assert not packets_visible_to(people[who]).exists()

    client = APIClient()
    client.force_authenticate(people["manager"])
    listed = client.get("/api/v1/packets/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert {row["id"] for row in rows} == {p.pk for p in built}
    client.force_authenticate(people["uploader"])
    assert client.get("/api/v1/packets/").status_code == 403
