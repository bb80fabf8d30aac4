"""Every page with real data fits a phone (390 px wide) without scrolling sideways.

Long file names, long department names, wide tables and many items are what push a page
wider than the screen; the data here has all of them. Duplicate detection and the packet
build run in this process (the engine's steps called in order), which is enough for the
pages: the real-worker journey is test_clerk_journey. Screenshots of every page are left
in var/…/e2e-screenshots/phone-*.png for a person to look at.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from records.models import Exemption, GatheredItem
from records.services import packets, tasking
from records.services.dedupe_runs import start_run
from records.services.intake import gather_files
from records.services.requests import extend_deadline
from records.services.withholding import withhold_item
from tests.dedupe.images import exif_rotated_jpeg, jpeg_bytes, png_bytes, skimage_photo
from tests.dedupe_runs.helpers import InProcessQueue, as_if_done_days_ago
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_clerk, make_manager, make_uploader

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LONG_FOLDER = "Evidence_photographs/2024-03-12_encampment_at_5th_and_Main_taken_by_officer_badge_4471_morning"
UNBROKEN = "IMG" + "0123456789" * 14 + ".jpg"  # a name with no place to break

# Elements whose right edge passes the viewport, outside any container that scrolls on its own.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (e) => { for (let p = e.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p); if (/(auto|scroll|hidden)/.test(s.overflowX)) return true; } return false; };
  return [...document.querySelectorAll('body *')]
    .filter((e) => !scrolls(e) && (e.getBoundingClientRect().right > width + 1
      || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')))
    .slice(0, 8)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className} → ${Math.round(e.getBoundingClientRect().right)}px`);
}"""


def photo(n: int) -> bytes:
    return jpeg_bytes(Image.new("RGB", (64, 48), ((37 * n) % 256, (91 * n) % 256, (53 * n) % 256)))


def gather(clerk, rr, department, named: dict[str, bytes]) -> None:
    gather_files(
        actor=clerk,
        records_request=rr,
        department=department,
        files=[(name, io.BytesIO(data)) for name, data in named.items()],
    )


def run_dedupe(clerk, rr, queue) -> None:
    start_run(actor=clerk, records_request=rr)
    queue.drain()
    rr.refresh_from_db()


def build(clerk, rr):
    packet = packets.request_build(actor=clerk, records_request=rr)
    packets.build(packet.pk)
    packet.refresh_from_db()
    return packet


def an_office(queue):
    """A released request with many long-named items and groups, an open one gone stale, a full list."""
    pln = DepartmentFactory(code="PLN", name="Planning and Building Department")
    pw = DepartmentFactory(code="PW", name="Public Works, Streets and Sanitation")
    pd = DepartmentFactory(code="PD", name="Police Department, Records and Evidence Unit")
    clerk = make_clerk("clerk")
    make_manager("manager")
    make_uploader(pd, "pd-uploader")
    today = timezone.localdate()
    rr = RecordsRequestFactory(
        status="gathering",
        office_of_record=pln,
        requester_name="Maximiliana Alexandrovna Featherstonehaugh-Worthington",
        requester_organisation="Featherstonehaugh, Worthington & Associates, Attorneys at Law, LLP",
        requester_email="maximiliana.featherstonehaugh-worthington@featherstonehaugh-worthington-law.example",
        description="All photographs of the encampment at 5th and Main, March 2024, " * 4
        + "as listed at https://www.alamedavista.example/records/encampments/2024/03/12/photographs-of-5th-and-main",
    )
    astronaut = skimage_photo("astronaut.png")
    half = astronaut.resize((astronaut.width // 2, astronaut.height // 2), Image.Resampling.LANCZOS)
    original = jpeg_bytes(astronaut, quality=92)
    coffee = skimage_photo("coffee.png")
    gather(
        clerk,
        rr,
        pln,
        {
            f"{LONG_FOLDER}/IMG_20240312_101502.jpg": original,
            f"{LONG_FOLDER}/coffee.png": png_bytes(coffee),
            UNBROKEN: jpeg_bytes(skimage_photo("chelsea.png")),
            **{
                f"{LONG_FOLDER}/field_photo_{n:03d}_looking_north_from_the_corner.jpg": photo(n)
                for n in range(24)
            },
        },
    )
    gather(clerk, rr, pw, {f"{LONG_FOLDER}/astronaut_small.jpg": jpeg_bytes(half, quality=70)})
    gather(
        clerk,
        rr,
        pd,
        {
            f"case_2024_000123/{LONG_FOLDER}/astronaut.jpg": original,
            "coffee_turned.jpg": exif_rotated_jpeg(coffee),
        },
    )
    tasking.task_departments(
        actor=clerk,
        records_request=rr,
        departments=[pw, pd],
        due_date=today + datetime.timedelta(days=3),
        note="Please send every photograph of the encampment, including the ones on the shared drive " * 2,
    )
    extend_deadline(
        actor=clerk, records_request=rr, days=14, ground="voluminous", reason="Many departments " * 6
    )
    run_dedupe(clerk, rr, queue)
    issued = packets.release(actor=clerk, packet=build(clerk, rr))
    # The released packet goes stale: a withholding made after it was built.
    as_if_done_days_ago(rr)
    withhold_item(
        actor=clerk,
        item=GatheredItem.objects.get(request=rr, original_path=UNBROKEN),
        exemption=Exemption.objects.get(code_section="Gov. Code § 7927.700"),
        note="Shows a bystander's face " * 3,
    )
    # An open request with a build, then files gathered after its run: blocked and stale.
    stale = RecordsRequestFactory(status="gathering", requester_name="Ada Resident")
    gather(clerk, stale, pd, {f"{LONG_FOLDER}/first_{n}.jpg": photo(100 + n) for n in range(3)})
    run_dedupe(clerk, stale, queue)
    build(clerk, stale)
    as_if_done_days_ago(stale)
    gather(clerk, stale, pd, {f"{LONG_FOLDER}/{UNBROKEN}_{n}.jpg": photo(200 + n) for n in range(3)})
    # A full request list: every status, long names.
    for n, status in enumerate(["received", "gathering", "in_review", "released", "closed", "denied"] * 4):
        RecordsRequestFactory(
            status=status,
            requester_name=f"Requester with a rather long name number {n}",
            requester_organisation="The Alameda Vista Neighbourhood Association for Safer Streets",
            due_date=today + datetime.timedelta(days=n - 10),
        )
    return rr, stale, issued.token


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_every_page_fits_a_phone_without_scrolling_sideways(live_server, browser, screenshots, monkeypatch):
    queue = InProcessQueue()
    queue.install(monkeypatch)
    rr, stale, token = an_office(queue)
    base = live_server.url
    pages = {
        "requests": reverse("records:request-list"),
        "new-request": reverse("records:request-new"),
        "request": reverse("records:request-detail", args=[rr.reference]),
        "request-stale": reverse("records:request-detail", args=[stale.reference]),
        "review": reverse("records:review", args=[rr.reference]),
        "packet": reverse("records:packet", args=[rr.reference]),
        "packet-blocked": reverse("records:packet", args=[stale.reference]),
        "extension-notice": reverse("records:extension-notice", args=[rr.reference]),
        "tasks": reverse("records:my-tasks"),
    }
    too_wide: dict[str, tuple[int, list[str]]] = {}

    def check(page, name: str) -> None:
        page.screenshot(path=screenshots / f"phone-{name}.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"] + 1:
            too_wide[name] = (width, page.evaluate(OVERFLOWING))

    clerk = browser.new_context(viewport=PHONE)
    page = clerk.new_page()
    log_in(page, base, "clerk")
    for name, path in pages.items():
        page.goto(base + path)
        check(page, name)
    shown = page.goto(base + pages["packet"]) and page.locator("[data-stale=packet]").inner_text()
    assert "This link shows the packet of" in shown and "rebuild to include today's changes" in shown
    page.goto(base + pages["packet-blocked"])
    assert "Build blocked: 3 file(s) were gathered after the last duplicate search" in page.content()
    assert page.locator("button:has-text('Build packet')").is_disabled()
    page.goto(base + pages["request-stale"])
    assert (
        "3 files added since the last run — run again."
        in page.locator("[data-stale=files-since-run]").inner_text()
    )

    uploader = browser.new_context(viewport=PHONE).new_page()
    log_in(uploader, base, "pd-uploader")
    for name in ("request", "tasks"):
        uploader.goto(base + pages[name])
        check(uploader, f"uploader-{name}")

    manager = browser.new_context(viewport=PHONE)
    board = manager.new_page()
    log_in(board, base, "manager")
    board.goto(base + reverse("records:dashboard"))
    check(board, "dashboard")
    wide = browser.new_context(viewport=DESKTOP)
    desk = wide.new_page()
    log_in(desk, base, "manager")
    desk.goto(base + reverse("records:dashboard"))
    desk.screenshot(path=screenshots / "desktop-dashboard.png", full_page=True)
    desk_clerk = browser.new_context(viewport=DESKTOP).new_page()
    log_in(desk_clerk, base, "clerk")
    for name in ("packet", "packet-blocked", "request-stale"):
        desk_clerk.goto(base + pages[name])
        desk_clerk.screenshot(path=screenshots / f"desktop-{name}.png", full_page=True)

    requester = browser.new_context(viewport=PHONE)
    visitor = requester.new_page()
    visitor.goto(base + reverse("records:requester-packet", args=[token]))
    check(visitor, "requester")
    visitor.goto(base + reverse("records:requester-packet", args=["x" * 43]))
    check(visitor, "requester-gone")
    visitor.goto(base + "/login/")
    check(visitor, "login")
    assert not too_wide, f"pages wider than {PHONE['width']} px: {too_wide}"
