"""CSRF on every form: a POST without the token is refused (403) by every web URL.

The URL patterns come from Django's resolver (through the permission matrix's table,
which fails when a pattern is missing), so a new form cannot slip through unprotected.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from .test_permission_matrix import GETS, POSTS, pattern_names

WEB_POST_NAMES = {t.name for t in POSTS if not t.name.startswith("api:")}


def web_targets():
    seen, targets = set(), []
    for target in GETS + POSTS:
        if target.name.startswith("api") or target.name in seen:
            continue
        seen.add(target.name)
        targets.append(target)
    return targets


def test_every_web_pattern_is_tried():
    web = {n for n in pattern_names() if not n.startswith("api")}
    assert web == {t.name for t in web_targets()}
    assert web >= WEB_POST_NAMES and len(WEB_POST_NAMES) >= 20


@pytest.mark.django_db
def test_a_post_without_the_token_is_refused_everywhere(world):
    clerk = Client(enforce_csrf_checks=True)
    clerk.force_login(world.clerk)
    anonymous = Client(enforce_csrf_checks=True)
    refused = []
    for target in web_targets():
        url = target.url(world)
        for who, client in (("clerk", clerk), ("anonymous", anonymous)):
            response = client.post(url, target.body(world))
            if response.status_code != 403 or b"CSRF" not in response.content:
                refused.append(f"{target.name} as {who}: {response.status_code}")
    assert not refused, "POSTs accepted without a CSRF token:\n" + "\n".join(refused)


@pytest.mark.django_db
def test_the_same_post_with_the_token_gets_past_the_check(world):
    """So the 403 above is the CSRF check, not the view refusing the clerk."""
    clerk = Client(enforce_csrf_checks=True)
    clerk.force_login(world.clerk)
    clerk.get(reverse("records:request-detail", args=[world.gathering.reference]))
    token = clerk.cookies["csrftoken"].value
    for target in POSTS:
        if target.name.startswith("api:") or target.name in ("logout", "records:link-revoke"):
            continue
        response = clerk.post(target.url(world), target.body(world), headers={"X-CSRFToken": token})
        assert b"CSRF verification failed" not in response.content, target.name
        assert response.status_code == target.expect["clerk"] or target.name == "records:redaction-action", (
            target.name,
            response.status_code,
        )
