"""Every URL of the web app and the API, for every role, answers exactly as expected.

The URL patterns are walked from Django's resolver, so a new view without an entry in
EXPECTED fails `test_every_url_pattern_has_an_expectation` until someone decides who may
use it. Roles: anonymous, clerk, manager, the uploaders of department A (Planning) and B
(Public Works), department A's API token, and a requester holding a packet link (who
sends the link's token as an API token too: it must open nothing there).

"login" means a 302 to the login page. POSTs carry a plausible body; a clerk's POSTs run
last because they change the world (a new run, a revoked link).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from records.models import Exemption, GatheredItem, Withholding
from records.services.packet_files import delivered_names

from .conftest import World

ROLES = ("anon", "clerk", "manager", "up_a", "up_b", "tok_a", "link")
LOGIN = "login"
PRIVACY = "Gov. Code § 7927.700"


def walk(patterns, namespace: str = "", prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from walk(p.url_patterns, ns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield (
                (f"{namespace}{p.name}" if p.name else f"<unnamed {prefix}{p.pattern}>"),
                prefix + str(p.pattern),
                p.callback,
            )


def pattern_names() -> set[str]:
    # Django's admin is covered as a whole by test_the_admin_lets_no_role_in.
    return {name for name, route, _ in walk(get_resolver().url_patterns) if not route.startswith("admin/")}


@dataclass
class Target:
    """One call: a URL (built from the world), a method, a body, and each role's answer."""

    name: str
    url: Callable[[World], str]
    expect: dict[str, int | str]
    method: str = "get"
    body: Callable[[World], dict] = field(default=lambda w: {})
    label: str = ""

    def describe(self) -> str:
        return f"{self.method.upper()} {self.name}{f' [{self.label}]' if self.label else ''}"


def web(**answers: int | str) -> dict[str, int | str]:
    """A login-required page: anonymous callers, tokens and link holders go to the login page."""
    return {"anon": LOGIN, "tok_a": LOGIN, "link": LOGIN, **answers}


def logged_in(status: int) -> dict[str, int | str]:
    return web(clerk=status, manager=status, up_a=status, up_b=status)


def staff_page(status: int = 200, others: int = 403) -> dict[str, int | str]:
    return web(clerk=status, manager=status, up_a=others, up_b=others)


def clerk_page(status: int = 200, manager: int = 403, uploaders: int = 403) -> dict[str, int | str]:
    return web(clerk=status, manager=manager, up_a=uploaders, up_b=uploaders)


def everyone(status: int) -> dict[str, int | str]:
    return dict.fromkeys(ROLES, status)


def api(**answers: int) -> dict[str, int | str]:
    """An API endpoint: no credentials (or a requester's link token) is 401."""
    return {"anon": 401, "link": 401, **answers}


def api_all(status: int) -> dict[str, int | str]:
    return api(clerk=status, manager=status, up_a=status, up_b=status, tok_a=status)


def api_staff(status: int = 200, others: int = 403) -> dict[str, int | str]:
    return api(clerk=status, manager=status, up_a=others, up_b=others, tok_a=others)


def api_clerk(status: int = 200, others: int = 403) -> dict[str, int | str]:
    return api(clerk=status, manager=others, up_a=others, up_b=others, tok_a=others)


def r(name: str, *args: Callable[[World], Any], query: str = "") -> Callable[[World], str]:
    return lambda w: reverse(name, args=[a(w) for a in args]) + query


# Shorthands for the world's objects.
RELEASED = lambda w: w.released.reference  # noqa: E731
GATHERING = lambda w: w.gathering.reference  # noqa: E731
RELEASED_PK = lambda w: w.released.pk  # noqa: E731
GATHERING_PK = lambda w: w.gathering.pk  # noqa: E731
GROUP = lambda w: w.group.pk  # noqa: E731
PACKET = lambda w: w.packet.pk  # noqa: E731
REDACTION = lambda w: w.redaction.pk  # noqa: E731
REDACTED_ITEM = lambda w: w.redaction.item_id  # noqa: E731
ITEM_A = lambda w: w.item_a.pk  # noqa: E731
ITEM_B = lambda w: w.item_b.pk  # noqa: E731
IMAGE_A = lambda w: w.image_a.pk  # noqa: E731
SPARE_LINK = lambda w: w.spare_link_id  # noqa: E731
LINK = lambda w: w.link_token  # noqa: E731
RUN = lambda w: w.group.run_id  # noqa: E731
WITHHOLDING = lambda w: Withholding.objects.get(item=w.withheld_item).pk  # noqa: E731
CONST = lambda value: lambda w: value  # noqa: E731
FIRST_FILE = lambda w: delivered_names(w.packet)[w.packet.bates_first]  # noqa: E731


def privacy_id() -> int:
    return Exemption.objects.get(code_section=PRIVACY).pk


GETS: list[Target] = [
    # ---------------------------------------------------------------- outside the app
    Target("login", r("login"), everyone(200)),
    Target("logout", r("logout"), everyone(405)),  # Django 5: logging out is a POST
    Target("healthz", r("healthz"), everyone(200)),
    Target("api-schema", r("api-schema"), {**everyone(200), "link": 401}),
    Target("api-docs", r("api-docs"), {**everyone(200), "link": 401}),
    # ---------------------------------------------------------------- the clerk's desk
    Target("records:request-list", r("records:request-list"), logged_in(200)),
    Target("records:request-new", r("records:request-new"), clerk_page()),
    Target("records:deadline-preview", r("records:deadline-preview"), logged_in(200)),
    Target(
        "records:request-detail", r("records:request-detail", GATHERING), logged_in(200), label="gathering"
    ),
    Target(
        "records:request-detail",
        r("records:request-detail", RELEASED),
        staff_page(others=404),
        label="released: departments no longer see it",
    ),
    Target("records:request-upload", r("records:request-upload", GATHERING), logged_in(405)),
    Target("records:request-extend", r("records:request-extend", GATHERING), logged_in(405)),
    Target("records:extension-notice", r("records:extension-notice", GATHERING), clerk_page()),
    Target("records:request-status", r("records:request-status", GATHERING), logged_in(405)),
    Target("records:request-task", r("records:request-task", GATHERING), logged_in(405)),
    Target("records:dedupe-start", r("records:dedupe-start", GATHERING), logged_in(405)),
    Target(
        "records:dedupe-progress", r("records:dedupe-progress", GATHERING), logged_in(200), label="gathering"
    ),
    Target(
        "records:dedupe-progress",
        r("records:dedupe-progress", RELEASED),
        staff_page(others=404),
        label="released",
    ),
    Target("records:review", r("records:review", RELEASED), staff_page(others=404), label="released"),
    Target("records:review", r("records:review", GATHERING), staff_page(), label="gathering"),
    Target("records:review-authority", r("records:review-authority", RELEASED, GROUP), logged_in(405)),
    Target("records:review-accept", r("records:review-accept", RELEASED, GROUP), logged_in(405)),
    Target("records:review-split", r("records:review-split", RELEASED, GROUP), logged_in(405)),
    Target("records:review-merge", r("records:review-merge", RELEASED, GROUP), logged_in(405)),
    Target("records:review-merge-item", r("records:review-merge-item", RELEASED, IMAGE_A), logged_in(405)),
    Target("records:review-withhold", r("records:review-withhold", RELEASED), logged_in(405)),
    Target("records:review-unwithhold", r("records:review-unwithhold", RELEASED), logged_in(405)),
    Target(
        "records:redactions",
        lambda w: reverse("records:redactions", args=[w.released.reference]) + f"?item={w.redaction.item_id}",
        clerk_page(uploaders=404),
    ),
    Target(
        "records:redactions",
        lambda w: reverse("records:redactions", args=[w.gathering.reference]) + f"?item={w.item_a.pk}",
        clerk_page(),
        label="gathering",
    ),
    Target(
        "records:redaction-action",
        r("records:redaction-action", RELEASED, REDACTION, CONST("delete")),
        logged_in(405),
    ),
    Target("records:packet", r("records:packet", RELEASED), staff_page(others=404)),
    Target("records:packet", r("records:packet", GATHERING), staff_page(), label="gathering"),
    Target("records:packet-state", r("records:packet-state", RELEASED), staff_page(others=404)),
    Target("records:packet-build", r("records:packet-build", RELEASED), logged_in(405)),
    Target("records:packet-release", r("records:packet-release", RELEASED, PACKET), logged_in(405)),
    Target("records:packet-new-link", r("records:packet-new-link", RELEASED, PACKET), logged_in(405)),
    Target(
        "records:packet-file", r("records:packet-file", RELEASED, PACKET, CONST("index.pdf")), staff_page()
    ),
    Target(
        "records:packet-file",
        r("records:packet-file", RELEASED, PACKET, CONST("packet.zip")),
        staff_page(),
        label="zip",
    ),
    Target("records:link-revoke", r("records:link-revoke", RELEASED, SPARE_LINK), logged_in(405)),
    Target(
        "records:image-preview",
        lambda w: reverse("records:image-preview", args=[w.image_a.pk]),
        web(clerk=200, manager=200, up_a=200, up_b=404),
        label="department A's image",
    ),
    Target(
        "records:image-preview",
        lambda w: reverse("records:image-preview", args=[w.image_b.pk]),
        web(clerk=200, manager=200, up_a=404, up_b=200),
        label="department B's image",
    ),
    Target(
        "records:image-preview",
        lambda w: reverse("records:image-preview", args=[w.group.authoritative_id]),
        staff_page(others=404),
        label="released request's image",
    ),
    Target("records:item-view", r("records:item-view", ITEM_A), clerk_page(), label="A's item"),
    Target("records:item-view", r("records:item-view", ITEM_B), clerk_page(), label="B's item"),
    Target("records:my-tasks", r("records:my-tasks"), logged_in(200)),
    Target(
        "records:task-answer", lambda w: reverse("records:task-answer", args=[w.task_a.pk]), logged_in(405)
    ),
    Target("records:dashboard", r("records:dashboard"), staff_page()),
    Target("records:dashboard-csv", r("records:dashboard-csv"), staff_page()),
    # ---------------------------------------------------------------- the requester's link
    Target("records:requester-packet", r("records:requester-packet", LINK), everyone(200)),
    Target(
        "records:requester-packet",
        lambda w: reverse("records:requester-packet", args=[w.revoked_token]),
        everyone(410),
        label="revoked",
    ),
    Target(
        "records:requester-packet",
        lambda w: reverse("records:requester-packet", args=[w.expired_token]),
        everyone(410),
        label="expired",
    ),
    Target(
        "records:requester-packet",
        r("records:requester-packet", CONST("A" * 43)),
        everyone(410),
        label="guessed",
    ),
    Target(
        "records:requester-download", r("records:requester-download", LINK, CONST("index.pdf")), everyone(200)
    ),
    Target(
        "records:requester-download",
        r("records:requester-download", LINK, CONST("packet.zip")),
        everyone(200),
        label="zip",
    ),
    Target(
        "records:requester-download",
        lambda w: reverse("records:requester-download", args=[w.revoked_token, "packet.zip"]),
        everyone(410),
        label="revoked",
    ),
    Target(
        "records:requester-download",
        r("records:requester-download", LINK, CONST("manifest.json")),
        everyone(404),
        label="not a packet file",
    ),
    Target(
        "records:requester-download",
        r("records:requester-download", LINK, CONST("letter.pdf")),
        everyone(200),
        label="letter",
    ),
    Target("records:requester-file", r("records:requester-file", LINK, FIRST_FILE), everyone(200)),
    Target(
        "records:requester-file",
        r("records:requester-file", lambda w: w.revoked_token, FIRST_FILE),
        everyone(410),
        label="revoked",
    ),
    Target(
        "records:requester-file",
        r("records:requester-file", LINK, CONST("manifest.json")),
        everyone(404),
        label="not a delivered file",
    ),
    # ---------------------------------------------------------------- API v1
    Target("api:api-root", r("api:api-root"), api_all(200)),
    Target("api:request-list", r("api:request-list"), api_all(200)),
    Target("api:request-detail", r("api:request-detail", GATHERING_PK), api_all(200), label="gathering"),
    Target(
        "api:request-detail",
        r("api:request-detail", RELEASED_PK),
        api_staff(others=404),
        label="released",
    ),
    Target("api:request-extend", r("api:request-extend", GATHERING_PK), api_all(405)),
    Target("api:request-move", r("api:request-move", GATHERING_PK), api_all(405)),
    Target("api:request-items-upload", r("api:request-items-upload", GATHERING_PK), api_all(405)),
    Target("api:item-list", r("api:item-list"), api_all(200)),
    Target(
        "api:item-detail",
        r("api:item-detail", ITEM_A),
        api(clerk=200, manager=200, up_a=200, up_b=404, tok_a=200),
        label="A's item",
    ),
    Target(
        "api:item-detail",
        r("api:item-detail", ITEM_B),
        api(clerk=200, manager=200, up_a=404, up_b=200, tok_a=404),
        label="B's item",
    ),
    Target("api:library-check", r("api:library-check"), api_all(405)),
    Target("api:metrics", r("api:metrics", query="?start=2024-01-01&end=2024-12-31"), api_staff()),
    Target("api:dedupe-run-list", r("api:dedupe-run-list"), api_staff()),
    Target("api:dedupe-run-detail", r("api:dedupe-run-detail", RUN), api_staff()),
    Target("api:group-list", r("api:group-list"), api_staff()),
    Target("api:group-detail", r("api:group-detail", GROUP), api_staff()),
    Target("api:group-override", r("api:group-override", GROUP), api_staff(405)),
    Target("api:group-split", r("api:group-split", GROUP), api_staff(405)),
    Target("api:group-merge", r("api:group-merge", GROUP), api_staff(405)),
    Target("api:exemption-list", r("api:exemption-list"), api_staff()),
    Target("api:withholding-list", r("api:withholding-list"), api_staff()),
    Target("api:withholding-detail", r("api:withholding-detail", WITHHOLDING), api_staff()),
    Target("api:withholding-release-item", r("api:withholding-release-item", WITHHOLDING), api_staff(405)),
    Target("api:packet-list", r("api:packet-list"), api_staff()),
    Target("api:packet-detail", r("api:packet-detail", PACKET), api_staff()),
    Target("api:packet-release-packet", r("api:packet-release-packet", PACKET), api_staff(405)),
    Target("api:link-detail", r("api:link-detail", SPARE_LINK), api_staff()),
    Target("api:link-revoke", r("api:link-revoke", SPARE_LINK), api_staff(405)),
    Target("api:item-redactions", r("api:item-redactions", REDACTED_ITEM), api_clerk()),
    Target("api:item-redaction", r("api:item-redaction", REDACTED_ITEM, REDACTION), api_clerk(405)),
    Target(
        "api:item-redaction-confirm",
        r("api:item-redaction-confirm", REDACTED_ITEM, REDACTION),
        api_clerk(405),
    ),
]

# POSTs in the order a clerk may run them (the API first: the web's dedupe-start makes a run
# active, and link-revoke ends the spare link). Bodies are valid where the view validates first.
POSTS: list[Target] = [
    Target(
        "api:request-list",
        r("api:request-list"),
        api(clerk=201, manager=403, up_a=403, up_b=403, tok_a=403),
        method="post",
        body=lambda w: {"requester_name": "Bo Journalist", "description": "Street photos"},
    ),
    Target(
        "api:request-extend",
        r("api:request-extend", GATHERING_PK),
        api(clerk=409, manager=403, up_a=403, up_b=403, tok_a=403),  # one extension only
        method="post",
        body=lambda w: {"days": 3, "ground": "voluminous", "reason": "More photos"},
    ),
    Target(
        "api:request-move",
        r("api:request-move", GATHERING_PK),
        api(clerk=409, manager=403, up_a=403, up_b=403, tok_a=403),  # not a legal move: but let through
        method="post",
        body=lambda w: {"status": "in_review"},
    ),
    Target(
        "api:request-items-upload",
        r("api:request-items-upload", RELEASED_PK),
        api(clerk=415, manager=415, up_a=404, up_b=404, tok_a=404),  # files come as multipart
        method="post",
        label="released",
    ),
    Target("api:library-check", r("api:library-check"), api_all(400), method="post"),
    Target(
        "api:dedupe-run-list",
        r("api:dedupe-run-list"),
        api_clerk(201),
        method="post",
        body=lambda w: {"request": w.released.pk},
    ),
    Target("api:group-override", r("api:group-override", GROUP), api_staff(400), method="post"),
    Target("api:group-split", r("api:group-split", GROUP), api_staff(400), method="post"),
    Target("api:group-merge", r("api:group-merge", GROUP), api_staff(400), method="post"),
    Target(
        "api:withholding-list",
        r("api:withholding-list"),
        api_clerk(201),
        method="post",
        body=lambda w: {"item": w.item_a.pk, "exemption": privacy_id()},
    ),
    Target(
        "api:withholding-release-item",
        r("api:withholding-release-item", WITHHOLDING),
        api_clerk(204),
        method="post",
        body=lambda w: {"reason": "Released on appeal"},
    ),
    Target(
        "api:packet-list",
        r("api:packet-list"),
        api_clerk(201),
        method="post",
        body=lambda w: {"request": w.released.pk},
    ),
    Target(
        "api:packet-release-packet", r("api:packet-release-packet", PACKET), api_clerk(409), method="post"
    ),
    Target(
        "api:item-redactions",
        r("api:item-redactions", REDACTED_ITEM),
        api_clerk(201),
        method="post",
        body=lambda w: {"x": 1, "y": 1, "width": 9, "height": 9, "exemption": privacy_id()},
    ),
    Target(
        "api:item-redaction-confirm",
        r("api:item-redaction-confirm", REDACTED_ITEM, REDACTION),
        api_clerk(200),
        method="post",
    ),
    Target(
        "api:item-redaction",
        r("api:item-redaction", REDACTED_ITEM, REDACTION),
        api_clerk(204),
        method="delete",
    ),
    Target("api:link-revoke", r("api:link-revoke", SPARE_LINK), api_clerk(200), method="post"),
    # ---------------------------------------------------------------- web forms
    Target("login", r("login"), everyone(200), method="post"),  # the form again, with its errors
    Target("records:request-new", r("records:request-new"), clerk_page(200), method="post"),
    Target("records:request-upload", r("records:request-upload", GATHERING), logged_in(302), method="post"),
    Target(
        "records:request-upload",
        r("records:request-upload", RELEASED),
        staff_page(302, 404),
        method="post",
        label="released",
    ),
    Target("records:request-extend", r("records:request-extend", GATHERING), clerk_page(302), method="post"),
    Target("records:request-status", r("records:request-status", GATHERING), clerk_page(302), method="post"),
    Target("records:request-task", r("records:request-task", GATHERING), clerk_page(302), method="post"),
    Target("records:dedupe-start", r("records:dedupe-start", GATHERING), clerk_page(302), method="post"),
    Target(
        "records:review-authority",
        r("records:review-authority", RELEASED, GROUP),
        clerk_page(302, uploaders=404),
        method="post",
    ),
    Target(
        "records:review-accept",
        r("records:review-accept", RELEASED, GROUP),
        clerk_page(302, uploaders=404),
        method="post",
    ),
    Target(
        "records:review-split",
        r("records:review-split", RELEASED, GROUP),
        clerk_page(302, uploaders=404),
        method="post",
    ),
    Target(
        "records:review-merge",
        r("records:review-merge", RELEASED, GROUP),
        clerk_page(302, uploaders=404),
        method="post",
    ),
    Target(
        "records:review-merge-item",
        r("records:review-merge-item", RELEASED, IMAGE_A),
        clerk_page(302, uploaders=404),
        method="post",
    ),
    Target(
        "records:review-withhold",
        r("records:review-withhold", GATHERING),
        clerk_page(302),
        method="post",
    ),
    Target(
        "records:review-unwithhold",
        r("records:review-unwithhold", RELEASED),
        clerk_page(302, uploaders=404),
        method="post",
        body=lambda w: {"item": w.withheld_item.pk, "reason": "released on appeal"},
    ),
    Target("records:redactions", r("records:redactions", GATHERING), clerk_page(400), method="post"),
    Target(
        "records:redaction-action",
        r("records:redaction-action", RELEASED, REDACTION, CONST("confirm")),
        clerk_page(404, uploaders=404),  # the clerk deleted it over the API above
        method="post",
    ),
    Target(
        "records:packet-build",
        r("records:packet-build", RELEASED),
        clerk_page(302, uploaders=404),
        method="post",
    ),
    Target(
        "records:packet-release",
        r("records:packet-release", RELEASED, PACKET),
        clerk_page(302),
        method="post",
    ),
    Target(
        "records:packet-new-link",
        r("records:packet-new-link", RELEASED, PACKET),
        clerk_page(302),
        method="post",
    ),
    Target(
        "records:task-answer",
        lambda w: reverse("records:task-answer", args=[w.task_a.pk]),
        web(clerk=302, manager=302, up_a=302, up_b=404),
        method="post",
        body=lambda w: {"answer": "none", "note": "checked"},
        label="A's task",
    ),
    Target(
        "records:link-revoke", r("records:link-revoke", RELEASED, SPARE_LINK), clerk_page(302), method="post"
    ),
    Target("logout", r("logout"), everyone(LOGIN), method="post"),
]

EXPECTED = {t.name for t in GETS + POSTS}


def clients(world: World) -> dict[str, Client]:
    made = {role: Client() for role in ROLES}
    made["clerk"].force_login(world.clerk)
    made["manager"].force_login(world.manager)
    made["up_a"].force_login(world.uploader_a)
    made["up_b"].force_login(world.uploader_b)
    made["tok_a"] = Client(headers={"Authorization": f"Token {world.token_a}"})
    made["link"] = Client(headers={"Authorization": f"Token {world.link_token}"})
    return made


def answer(response) -> int | str:
    if response.status_code == 302 and response["Location"].startswith("/login/"):
        return LOGIN
    return response.status_code


def call(client: Client, target: Target, world: World):
    url = target.url(world)
    if target.method == "get":
        return client.get(url)
    if target.name.startswith("api:"):
        return getattr(client, target.method)(url, target.body(world), content_type="application/json")
    return getattr(client, target.method)(url, target.body(world))


def test_every_url_pattern_has_an_expectation():
    missing = pattern_names() - EXPECTED
    assert not missing, f"URL patterns with no permission expectation (add them to GETS/POSTS): {missing}"
    stale = EXPECTED - pattern_names()
    assert not stale, f"expectations for URL patterns that no longer exist: {stale}"


def test_every_pattern_accepting_a_post_is_posted_by_every_role():
    posted = {t.name for t in POSTS}
    get_only = {t.name for t in GETS} - posted
    for name in get_only:
        # Everything not POSTed here answers GET only (or is the requester's read-only page).
        assert name in GET_ONLY, f"{name} is never POSTed in the matrix"


GET_ONLY = {
    "healthz",
    "api-schema",
    "api-docs",
    "records:request-list",
    "records:deadline-preview",
    "records:request-detail",
    "records:extension-notice",
    "records:dedupe-progress",
    "records:review",
    "records:packet",
    "records:packet-state",
    "records:packet-file",
    "records:image-preview",
    "records:item-view",
    "records:my-tasks",
    "records:dashboard",
    "records:dashboard-csv",
    "records:requester-packet",
    "records:requester-download",
    "records:requester-file",
    "api:api-root",
    "api:request-detail",
    "api:item-list",
    "api:item-detail",
    "api:metrics",
    "api:dedupe-run-detail",
    "api:group-list",
    "api:group-detail",
    "api:exemption-list",
    "api:withholding-detail",
    "api:packet-detail",
    "api:link-detail",
}


@pytest.mark.django_db
def test_each_role_gets_exactly_its_answer_from_every_url(world, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    by_role = clients(world)
    wrong, counts = [], {role: 0 for role in ROLES}
    order = [r for r in ROLES if r != "clerk"] + ["clerk"]  # the clerk's POSTs change the world
    for target in GETS:
        for role in ROLES:
            got = answer(call(by_role[role], target, world))
            counts[role] += 1
            if got != target.expect[role]:
                wrong.append(f"{target.describe()} as {role}: {got}, expected {target.expect[role]}")
    for role in order:
        for target in POSTS:
            got = answer(call(by_role[role], target, world))
            counts[role] += 1
            if got != target.expect[role]:
                wrong.append(f"{target.describe()} as {role}: {got}, expected {target.expect[role]}")
    if os.environ.get("MATRIX_REPORT"):
        print({role: n for role, n in counts.items()})
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_the_admin_lets_no_role_in(world):
    by_role = clients(world)
    for role in ROLES:
        for url in (
            "/admin/",
            "/admin/records/gathereditem/",
            f"/admin/records/gathereditem/{world.item_a.pk}/change/",
        ):
            response = by_role[role].get(url)
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), (
                role,
                url,
            )


# ------------------------------------------------------------------ what each role is shown


@pytest.mark.django_db
def test_department_b_never_sees_department_a_items_anywhere(world):
    a_items = GatheredItem.objects.filter(department=world.item_a.department)
    a_paths = [i.original_path for i in a_items]
    by_role = clients(world)
    up_b = by_role["up_b"]
    page = up_b.get(reverse("records:request-detail", args=[world.gathering.reference])).content.decode()
    assert world.item_b.original_path in page
    assert not any(path in page for path in a_paths)
    assert world.item_a.sha256 not in page
    tasks = up_b.get(reverse("records:my-tasks")).content.decode()
    assert world.gathering.reference in tasks
    tok_b = Client(headers={"Authorization": f"Token {world.token_b}"})
    for client in (tok_b, up_b):
        listed = client.get("/api/v1/items/?page_size=500").json()["results"]
        assert listed and {i["department"] for i in listed} == {world.item_b.department.code}
        assert client.get(f"/api/v1/items/{world.item_a.pk}/").status_code == 404
        assert client.get(reverse("records:image-preview", args=[world.image_a.pk])).status_code in (302, 404)
        requests = {r["reference"] for r in client.get("/api/v1/requests/").json()["results"]}
        assert world.released.reference not in requests


@pytest.mark.django_db
def test_a_requester_link_shows_only_its_packet(world):
    from tests.factories import RecordsRequestFactory

    other = RecordsRequestFactory(status="gathering", reference="26-99999", requester_name="Someone Else")
    page = Client().get(reverse("records:requester-packet", args=[world.link_token])).content.decode()
    assert world.released.reference in page
    assert other.reference not in page and "Someone Else" not in page
    assert world.gathering.reference not in page
    assert world.item_a.original_path not in page  # an item of another request
