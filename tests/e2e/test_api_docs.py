"""The API reference at /api/docs/ renders in Chromium under the site's Content-Security-Policy."""

from __future__ import annotations

import pytest

from tests.factories import make_clerk

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_from_our_own_static_files_without_csp_violations(
    live_server, browser, screenshots
):
    make_clerk("clerk")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    failed: list[str] = []
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/api/docs/")
    page.get_by_role("heading", name="PacketDesk API").wait_for(timeout=30_000)
    page.screenshot(path=screenshots / "api-docs-top.png")
    upload = page.locator(".opblock-post", has_text="/api/v1/requests/{id}/items/")
    upload.locator(".opblock-summary").click()
    upload.get_by_role("button", name="Try it out").wait_for(timeout=10_000)  # the operation opened
    page.screenshot(path=screenshots / "api-docs-operation.png")

    assert [line for line in console if "Content Security Policy" in line] == []
    assert [line for line in console if line.startswith("error")] == []
    assert failed == []
    assert all(url.startswith(live_server.url) for url in requested), requested
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in requested)
    context.close()
