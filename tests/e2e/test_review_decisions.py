"""The review page in Chromium after a clerk's override and merge: every member's evidence
is measured again at once, and the action bar stays in view on a long page and a phone."""

from __future__ import annotations

import io

import pytest

from dedupe.models import DuplicateGroup, ItemImage
from records.models import Department
from records.services.intake import gather_files
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request, run_dedupe
from tests.factories import make_clerk

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.fixture
def reviewed(monkeypatch, django_capture_on_commit_callbacks):
    """A request deduplicated in this process (the steps a worker runs), ready for review."""
    queue = InProcessQueue()
    queue.install(monkeypatch)
    clerk, rr = gathered_request(make_clerk("clerk"))
    gather_files(
        actor=clerk,
        records_request=rr,
        department=Department.objects.get(code="PD"),
        files=[("notes.txt", io.BytesIO(b"not an image"))],
    )
    run_dedupe(clerk, rr, queue, django_capture_on_commit_callbacks)
    return rr


def test_after_an_override_and_a_merge_the_review_page_shows_the_new_evidence(
    live_server, browser, screenshots, reviewed
):
    rr = reviewed
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "clerk")
    page.goto(f"{base}/requests/{rr.reference}/review/")

    # Override: the half-size copy becomes the authoritative one.
    astronaut = DuplicateGroup.objects.get(authoritative__key="PLN/IMG_20240312_101502.jpg")
    small = ItemImage.objects.get(key="PW/astronaut_small.jpg")
    card = page.locator(f"#group-{astronaut.pk} .member[data-item='{small.item_id}']")
    card.locator("summary:has-text('Make this the authoritative copy')").click()
    card.locator(f"#auth-reason-{small.pk}").fill("The copy the requester was sent")
    card.locator("button:has-text('Make authoritative')").click()
    page.wait_for_selector("text=is now the authoritative copy")
    former = ItemImage.objects.get(key="PLN/IMG_20240312_101502.jpg")
    former_card = page.locator(f"#group-{astronaut.pk} .member[data-item='{former.item_id}']")
    assert "Same photo, re-saved, resized, slightly cropped or turned" in former_card.inner_text()
    assert "same picture resized to 512×512" in former_card.inner_text()

    # Merge: the cat photo, in no group, joins the coffee group by the clerk's word.
    coffee = DuplicateGroup.objects.get(authoritative__key="PLN/coffee.png")
    chelsea = ItemImage.objects.get(key="PLN/chelsea.jpg")
    box = page.locator(f"#group-{coffee.pk}")
    box.locator("summary:has-text('merge it into this one')").click()
    box.locator(f"#merge-{coffee.pk}").select_option(f"image-{chelsea.pk}")
    box.locator(f"#merge-reason-{coffee.pk}").fill("Same case file")
    box.locator("button:has-text('Merge')").click()
    page.wait_for_selector("text=merged into the group")
    cat_card = page.locator(f"#group-{coffee.pk} .member[data-item='{chelsea.item_id}']")
    assert "Joined by a clerk as the same record" in cat_card.inner_text()
    assert "joined by a clerk: Same case file" in cat_card.inner_text()
    unreadable = page.locator("#unreadable").inner_text()
    assert "PD/truncated.jpg" in unreadable and "PD/notes.txt" in unreadable
    assert page.locator("#unreadable [data-redact]").count() == 0
    page.screenshot(path=screenshots / "review-after-override-and-merge.png", full_page=True)

    # The bar stays at the top once the page is scrolled, and "Next group" moves through groups.
    page.mouse.wheel(0, 1500)
    page.wait_for_timeout(300)
    bar = page.locator("[data-review-bar]")
    assert abs(bar.bounding_box()["y"]) < 1
    page.screenshot(path=screenshots / "review-scrolled-bar.png")
    page.keyboard.press("Home")
    page.wait_for_timeout(300)
    page.screenshot(path=screenshots / "review-top.png")
    bar.locator("button[data-go=next]").click()
    first_id = page.locator("article.group").first.get_attribute("id")
    page.locator(f"#{first_id}:focus").wait_for()
    page.wait_for_timeout(800)  # the smooth scroll
    bar.locator("button[data-go=next]").click()
    second_id = page.locator("article.group").nth(1).get_attribute("id")
    page.locator(f"#{second_id}:focus").wait_for()
    page.wait_for_timeout(800)
    heading = page.locator(f"#{second_id}-h").bounding_box()
    assert heading["y"] >= bar.bounding_box()["height"]  # the group's heading is not under the bar
    page.screenshot(path=screenshots / "review-next-group.png")
    bar.locator("button[data-go=previous]").click()
    page.locator(f"#{first_id}:focus").wait_for()

    # On a phone: the bar is still there mid-page, within the screen's width.
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    small_page = phone.new_page()
    log_in(small_page, base, "clerk")
    small_page.goto(f"{base}/requests/{rr.reference}/review/")
    small_page.mouse.wheel(0, 2500)
    small_page.wait_for_timeout(300)
    phone_bar = small_page.locator("[data-review-bar]")
    placed = phone_bar.bounding_box()
    assert abs(placed["y"]) < 1 and placed["x"] >= 0 and placed["x"] + placed["width"] <= 390
    assert phone_bar.locator("a:has-text('Packet')").is_visible()
    small_page.screenshot(path=screenshots / "review-phone-bar.png")
    assert errors == []
