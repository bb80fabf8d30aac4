"""Several files chosen at once for a new request, in Chromium: every one is stored.

The page sends each chosen file in its own request, three at a time (static/js/desk.js),
so the first files of a request arrive side by side; none may be refused with a conflict.
"""

from __future__ import annotations

import re

import pytest

from records.models import AuditEvent, GatheredItem, ItemStatus, RecordsRequest, StatusTransition
from tests.factories import DepartmentFactory, jpeg_bytes, make_clerk, make_uploader

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def photos(prefix: str, count: int, shade: int) -> list[dict]:
    return [
        {
            "name": f"{prefix}_{n:04d}.jpg",
            "mimeType": "image/jpeg",
            "buffer": jpeg_bytes((shade, (n * 37) % 256, 255 - n * 20), size=(80, 60)),
        }
        for n in range(count)
    ]


def watch(page) -> list[str]:
    """Script errors and failed requests (the site has no favicon; that 404 is not a failure here)."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "response",
        lambda r: (
            r.status >= 400 and not r.url.endswith("/favicon.ico") and problems.append(f"{r.status} {r.url}")
        ),
    )
    return problems


def test_several_files_chosen_at_once_for_a_new_request_are_all_stored_with_one_event_each(
    live_server, browser, screenshots
):
    police = DepartmentFactory(code="PD", name="Police")
    DepartmentFactory(code="PW", name="Public Works")
    make_clerk("clerk")
    make_uploader(police, "pd-uploader")
    base = live_server.url

    clerk = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = clerk.new_page()
    desk_problems = watch(desk)
    log_in(desk, base, "clerk")
    desk.click("text=New request")
    desk.fill("#id_requester_name", "Ada Resident")
    desk.fill("#id_description", "Photos of the encampment at 5th and Main")
    desk.click("button:has-text('Open request')")
    desk.wait_for_selector("h1:has-text('Request')")
    reference = re.search(r"Request (\d\d-\d{5})", desk.locator("h1").inner_text()).group(1)
    rr = RecordsRequest.objects.get(reference=reference)
    assert rr.status == "received"

    # The first files of the request: a Police uploader chooses six at once, without a department to pick.
    uploader = browser.new_context(viewport={"width": 1280, "height": 900})
    page = uploader.new_page()
    problems = watch(page)
    log_in(page, base, "pd-uploader")
    page.goto(f"{base}/requests/{reference}/")
    assert page.locator("select[name=department]").count() == 0
    assert "Files are gathered for Police" in page.locator("[data-upload-department]").inner_text()
    page.set_input_files("input[type=file][name=files]", photos("PD", 6, 40))
    page.click("form[data-uploader] button[type=submit]")
    summary = page.locator("[data-upload-summary]")
    summary.get_by_text("6 stored, 0 already in this request, 0 refused. Reload").wait_for(timeout=60_000)
    assert "Not uploaded" not in page.locator("[data-upload-list]").inner_text()
    page.screenshot(path=screenshots / "multi-upload-uploader.png", full_page=True)

    # The clerk adds four more for Public Works, choosing the department.
    desk.reload()
    desk.select_option("select[name=department]", label="Public Works (PW)")
    desk.set_input_files("input[type=file][name=files]", photos("PW", 4, 200))
    desk.click("form[data-uploader] button[type=submit]")
    desk.locator("[data-upload-summary]").get_by_text(
        "4 stored, 0 already in this request, 0 refused."
    ).wait_for(timeout=60_000)
    desk.reload()
    desk.locator("ol.transitions").scroll_into_view_if_needed()
    desk.screenshot(path=screenshots / "multi-upload-clerk.png", full_page=True)

    assert problems == [] and desk_problems == []
    stored = GatheredItem.objects.filter(request=rr, status=ItemStatus.STORED)
    assert sorted(stored.values_list("file_name", flat=True)) == sorted(
        [p["name"] for p in photos("PD", 6, 40)] + [p["name"] for p in photos("PW", 4, 200)]
    )
    assert sorted(stored.values_list("department__code", flat=True)) == ["PD"] * 6 + ["PW"] * 4
    moves = StatusTransition.objects.filter(request=rr).order_by("at", "id")
    assert [(t.from_status, t.to_status) for t in moves] == [("", "received"), ("received", "gathering")]
    assert AuditEvent.objects.filter(request=rr, verb="gathered").count() == 10  # one per upload
    assert desk.locator("ol.transitions li").count() == 2
    uploader.close()
    clerk.close()
