"""The requester's page in Chromium: the letter, the index and each delivered file open from it."""

from __future__ import annotations

import pytest

from records.models import AuditEvent
from tests.security.conftest import _media_in_tmp, world  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_requester_opens_the_letter_the_index_and_a_file_from_their_page(
    live_server,
    world,  # noqa: F811
    browser,
    screenshots,
):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/p/{world.link_token}/")
    page.screenshot(path=screenshots / "requester-contents-phone.png", full_page=True)
    departments = page.locator("td[data-label=Department]").all_inner_texts()
    assert set(departments) == {"Planning", "Public Works", "Police"}
    assert "hash" not in page.content()

    for text in ("Open the letter (PDF)", "Open the index (PDF)"):
        href = page.get_by_role("link", name=text).get_attribute("href")
        answer = page.request.get(f"{live_server.url}{href}")
        assert answer.status == 200 and answer.body().startswith(b"%PDF")
    first = page.locator("td[data-label=Bates] a").first
    href = first.get_attribute("href")
    answer = page.request.get(f"{live_server.url}{href}")
    assert answer.status == 200 and answer.headers["content-type"] == "image/jpeg"
    what = [e.details["what"] for e in AuditEvent.objects.filter(verb="packet_downloaded").order_by("id")]
    assert what == ["letter.pdf", "index.pdf", f"files/{href.rsplit('/', 1)[1]}"]

    desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    desk.goto(f"{live_server.url}/p/{world.link_token}/")
    desk.screenshot(path=screenshots / "requester-contents-desktop.png", full_page=True)
    context.close()
