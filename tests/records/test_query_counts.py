"""Every list page makes as many queries for 20 rows as for 2: no query per row.

Each page is read at a desk with 2 of everything it lists, then again after 18 more of
each (tests/query_desk.py); django_assert_num_queries holds the second read to the first
one's count.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.dedupe_runs.helpers import InProcessQueue
from tests.factories import make_manager
from tests.query_desk import Desk, queries_of

pytestmark = pytest.mark.django_db


def of_request(page: str, query: str = ""):
    """The URL of one of the desk's request pages."""
    return lambda desk: reverse(page, args=[desk.request.reference]) + query


# (page, who reads it, its URL at the desk)
LIST_PAGES = [
    ("records:request-list", "clerk", lambda desk: reverse("records:request-list")),
    ("records:request-list", "uploader", lambda desk: reverse("records:request-list")),
    ("records:request-detail", "clerk", of_request("records:request-detail")),
    ("records:request-detail", "uploader", of_request("records:request-detail")),
    ("records:review", "clerk", of_request("records:review")),
    ("records:review", "manager", of_request("records:review")),
    ("records:packet", "clerk", of_request("records:packet")),
    ("records:my-tasks", "clerk", lambda desk: reverse("records:my-tasks")),
    ("records:my-tasks", "uploader", lambda desk: reverse("records:my-tasks")),
    ("records:dashboard", "manager", lambda desk: reverse("records:dashboard")),
    ("records:dashboard-csv", "manager", lambda desk: reverse("records:dashboard-csv")),
]


@pytest.fixture
def desk(monkeypatch, django_capture_on_commit_callbacks) -> Desk:
    return Desk(InProcessQueue().install(monkeypatch), django_capture_on_commit_callbacks)


@pytest.mark.parametrize(("page", "who", "url"), LIST_PAGES, ids=[f"{p}-{w}" for p, w, _ in LIST_PAGES])
def test_a_list_page_makes_the_same_queries_for_20_rows_as_for_2(
    page, who, url, desk, client, django_assert_num_queries
):
    reader = {"clerk": desk.clerk, "uploader": desk.uploader, "manager": make_manager()}[who]
    client.force_login(reader)

    def read():
        response = client.get(url(desk))
        assert response.status_code == 200, response.status_code

    desk.grow(2)
    read()  # the first read of a session may fill caches (permissions, groups)
    with_two = queries_of(read)
    desk.grow(18)
    with django_assert_num_queries(with_two):
        read()


def test_an_items_redaction_boxes_cost_the_same_queries_for_20_boxes_as_for_2(
    desk, client, django_assert_num_queries
):
    client.force_login(desk.clerk)

    def read():
        url = reverse("records:redactions", args=[desk.request.reference])
        response = client.get(url, {"item": desk.redacted_item.pk})
        assert response.status_code == 200, response.status_code

    desk.grow(2)
    read()
    with_two = queries_of(read)
    desk.grow(18)
    with django_assert_num_queries(with_two):
        read()
