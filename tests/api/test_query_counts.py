"""Every API list makes as many queries for 20 rows as for 2: no query per row.

Each list is read at a desk with 2 of everything (tests/query_desk.py), then again after
18 more of each; django_assert_num_queries holds the second read to the first one's
count. Lists are read as a clerk signed in, and the ones a department reads, with its
API token too.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from records.services.api_tokens import create_token
from tests.dedupe_runs.helpers import InProcessQueue
from tests.query_desk import Desk, queries_of

pytestmark = pytest.mark.django_db


def listing(name: str, **query: str):
    """The URL of an API list, filtered to the desk's request where the list takes `request`."""

    def url(desk: Desk) -> str:
        values = {key: (desk.request.pk if value == "desk" else value) for key, value in query.items()}
        return reverse(f"api:{name}") + (
            "?" + "&".join(f"{k}={v}" for k, v in values.items()) if values else ""
        )

    return url


API_LISTS = [
    ("requests", "clerk", listing("request-list")),
    ("requests", "department", listing("request-list")),
    ("items", "clerk", listing("item-list", request="desk")),
    ("items", "department", listing("item-list", request="desk")),
    ("dedupe-runs", "clerk", listing("dedupe-run-list")),
    ("groups", "clerk", listing("group-list", request="desk")),
    ("groups-latest", "clerk", listing("group-list", request="desk", latest="true")),
    ("exemptions", "clerk", listing("exemption-list")),
    ("withholdings", "clerk", listing("withholding-list", request="desk")),
    ("packets", "clerk", listing("packet-list", request="desk")),
    (
        "item-redactions",
        "clerk",
        lambda desk: reverse("api:item-redactions", args=[desk.redacted_item.pk]),
    ),
]


@pytest.fixture
def desk(monkeypatch, django_capture_on_commit_callbacks) -> Desk:
    return Desk(InProcessQueue().install(monkeypatch), django_capture_on_commit_callbacks)


def reader(desk: Desk, who: str) -> APIClient:
    client = APIClient()
    if who == "clerk":
        client.force_login(desk.clerk)
    else:
        token = create_token(actor=None, department=desk.police, name="PD evidence server").token
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.mark.parametrize(("endpoint", "who", "url"), API_LISTS, ids=[f"{e}-{w}" for e, w, _ in API_LISTS])
def test_an_api_list_makes_the_same_queries_for_20_rows_as_for_2(
    endpoint, who, url, desk, django_assert_num_queries
):
    client = reader(desk, who)

    def read() -> int:
        response = client.get(url(desk))
        assert response.status_code == 200, response.content
        body = response.json()
        return len(body["results"] if isinstance(body, dict) and "results" in body else body)

    desk.grow(2)
    read()  # the first read may fill caches (permissions, groups)
    with_two = queries_of(read)
    desk.grow(18)
    with django_assert_num_queries(with_two):
        rows = read()
    assert rows >= 20, f"the list should show the 20 rows grown, shows {rows}"
