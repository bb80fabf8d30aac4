"""A request from intake to the requester's download, through the pages a clerk, a manager
and a requester use, in Chromium, with duplicate detection and the packet built by a real worker."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from PIL import Image, ImageStat

from dedupe.models import DuplicateGroup
from records.models import AuditEvent, GatheredItem, Packet, Redaction, Withholding
from tests.dedupe.images import exif_rotated_jpeg, jpeg_bytes, png_bytes, skimage_photo
from tests.factories import DepartmentFactory, make_clerk, make_manager

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def request_zip() -> bytes:
    """Three departments' folders: an original photo, a half-size copy, an exact copy and others."""
    astronaut = skimage_photo("astronaut.png")
    half = astronaut.resize((astronaut.width // 2, astronaut.height // 2), Image.Resampling.LANCZOS)
    original = jpeg_bytes(astronaut, quality=92)
    entries = {
        "PLN/IMG_20240312_101502.jpg": original,
        "PLN/coffee.png": png_bytes(skimage_photo("coffee.png")),
        "PLN/chelsea.jpg": jpeg_bytes(skimage_photo("chelsea.png")),
        "PW/astronaut_small.jpg": jpeg_bytes(half, quality=70),
        "PW/coffee_turned.jpg": exif_rotated_jpeg(skimage_photo("coffee.png")),
        "PD/case/astronaut.jpg": original,
        "PD/rocket.jpg": jpeg_bytes(skimage_photo("rocket.jpg")),
        "PD/notes.txt": b"not an image",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def stat(page, name: str) -> str:
    return page.locator(f"[data-stat={name}]").inner_text().strip()


def test_a_request_goes_from_intake_to_the_requesters_download(
    live_server, celery_worker_process, browser, screenshots, tmp_path
):
    for code, name in (("PLN", "Planning"), ("PW", "Public Works"), ("PD", "Police")):
        DepartmentFactory(code=code, name=name)
    make_clerk("clerk")
    make_manager("manager")
    base = live_server.url

    clerk = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = clerk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "clerk")

    # The manager's dashboard before anything is released.
    manager = browser.new_context(viewport={"width": 1280, "height": 900})
    board = manager.new_page()
    log_in(board, base, "manager")
    board.goto(f"{base}/dashboard/")
    assert stat(board, "delivered") == "0"
    received_before = int(stat(board, "received"))

    # A new request: the form shows how the due date is computed.
    page.click("text=New request")
    page.fill("#id_requester_name", "Ada Resident")
    page.select_option("#id_requester_kind", "resident")
    page.fill("#id_description", "Photos of parcel 5123-004-017")
    page.select_option("#id_office_of_record", label="Planning (PLN)")
    page.fill("#id_received_at", "2026-11-16T10:00")
    page.locator("#id_received_at").dispatch_event("change")
    # (Locator waits, not wait_for_function: the pages' CSP forbids evaluating strings.)
    page.locator("#deadline-preview", has_text="Thanksgiving").wait_for()
    page.click("button:has-text('Open request')")
    page.wait_for_selector("h1:has-text('Request')")
    reference = re.search(r"Request (\d\d-\d{5})", page.locator("h1").inner_text()).group(1)
    assert "Monday November 30, 2026" in page.content()

    # Upload a ZIP of department folders by the drag-and-drop form (XHR, per-file results).
    archive = tmp_path / "gathered.zip"
    archive.write_bytes(request_zip())
    page.set_input_files("input[type=file][name=files]", str(archive))
    page.click("form[data-uploader] button[type=submit]")
    page.locator("[data-upload-summary]", has_text="7 stored").wait_for(timeout=60_000)
    assert "notes.txt: refused" in page.locator("[data-upload-list]").inner_text()
    page.screenshot(path=screenshots / "1-upload.png", full_page=True)

    # Find duplicates: a real worker fingerprints and groups; the page shows progress, then the result.
    page.reload()
    page.click("button:has-text('Find duplicates')")
    page.wait_for_selector("[data-role=review-link]", timeout=180_000)
    assert "duplicate group" in page.locator("#duplicates").inner_text()

    # Review: override the authoritative copy of the astronaut group, withhold one item.
    page.click("[data-role=review-link]")
    group = DuplicateGroup.objects.get(authoritative__key="PLN/IMG_20240312_101502.jpg")
    member = group.memberships.exclude(is_authoritative=True).select_related("image").first()
    card = page.locator(f"#group-{group.pk} .member[data-item='{member.image.item_id}']")
    card.locator("summary:has-text('Make this the authoritative copy')").click()
    card.locator(f"#auth-reason-{member.image_id}").fill("This copy is the evidence record")
    card.locator("button:has-text('Make authoritative')").click()
    page.wait_for_selector("text=is now the authoritative copy")
    group.refresh_from_db()
    assert group.authoritative_id == member.image_id and group.rule == "clerk_override"

    rocket = GatheredItem.objects.get(request__reference=reference, original_path="rocket.jpg")
    single = page.locator(f"#item-{rocket.pk}")
    single.locator("summary:has-text('Withhold this item')").click()
    single.locator("select[name=exemption]").select_option(label="Personal privacy (Gov. Code § 7927.700)")
    single.locator("input[name=note]").fill("Shows a bystander's face")
    single.locator("button:has-text('Withhold')").click()
    page.wait_for_selector("text=withheld under")
    assert Withholding.objects.filter(item=rocket).exists()

    # Redact: draw a box on the cat photo with the mouse; it is stored in the upright image's pixels.
    chelsea = GatheredItem.objects.get(request__reference=reference, original_path="chelsea.jpg")
    page.locator(f"#item-{chelsea.pk} [data-redact]").click()
    stage_image = page.locator("#redactor [data-role=image]")
    stage_image.wait_for()
    page.locator("#redactor [data-role=zoom]", has_text="100%").wait_for()
    page.wait_for_timeout(300)
    page.screenshot(path=screenshots / "2-redact-before.png")
    box = stage_image.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=5)
    page.mouse.up()
    page.wait_for_selector("#redactor [data-role=status]:has-text('Saved')")
    page.screenshot(path=screenshots / "3-redact-after.png")
    redaction = Redaction.objects.get(item=chelsea)
    assert 0.2 * 451 < redaction.width < 0.3 * 451  # chelsea.png is 451×300
    page.click("#redactor [data-close]")

    # Packet: build in the worker, preview the index, release, copy the link shown once.
    page.goto(f"{base}/requests/{reference}/packet/")
    page.click("button:has-text('Build packet')")
    page.wait_for_selector("button:has-text('Release to the requester')", timeout=180_000)
    assert page.locator("iframe.pdf").count() == 1
    page.click("button:has-text('Release to the requester')")
    link = page.locator("[data-issued-link]").input_value()
    assert "/p/" in link
    page.screenshot(path=screenshots / "4-released.png", full_page=True)
    packet = Packet.objects.get(request__reference=reference, state="released")
    page.reload()
    assert page.locator("[data-issued-link]").count() == 0  # shown once only

    # The requester opens the link (no login) and downloads the ZIP.
    requester = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    visitor = requester.new_page()
    visitor.goto(link)
    assert f"request {reference}" in visitor.content()
    with visitor.expect_download() as download_info:
        visitor.click("text=Download everything")
    saved = tmp_path / "packet.zip"
    download_info.value.save_as(saved)
    visitor.screenshot(path=screenshots / "5-requester.png", full_page=True)
    assert AuditEvent.objects.filter(verb="packet_downloaded", request__reference=reference).exists()

    with zipfile.ZipFile(saved) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read(next(n for n in names if n.endswith("/data/manifest.json"))))
        delivered = [n for n in names if "/data/files/" in n]
        assert len(delivered) == packet.counts["delivered"]
        by_path = {i["path"]: i for i in manifest["items"]}
        assert by_path["PD/rocket.jpg"]["status"] == "withheld"
        assert by_path[member.image.key]["status"] == "delivered"
        cat = by_path["PLN/chelsea.jpg"]
        cat_file = next(n for n in delivered if n.rsplit("/", 1)[1].startswith(cat["bates"]))
        redacted = Image.open(io.BytesIO(zf.read(cat_file))).convert("L")
    r = redaction
    inside = redacted.crop((r.x + 2, r.y + 2, r.x + r.width - 2, r.y + r.height - 2))
    assert inside.getextrema()[1] < 24  # opaque black where the box was drawn
    outside = redacted.crop((r.x + r.width + 5, 0, redacted.width, redacted.height))
    assert ImageStat.Stat(outside).mean[0] > 40

    # The manager sees the counts change.
    board.reload()
    assert int(stat(board, "received")) == received_before + 1
    assert stat(board, "delivered") == str(packet.counts["delivered"])
    assert int(stat(board, "exact")) + int(stat(board, "near")) >= 2
    board.screenshot(path=screenshots / "6-dashboard.png", full_page=True)

    # A revoked link says so plainly.
    page.goto(f"{base}/requests/{reference}/packet/")
    page.click("button:has-text('Revoke')")
    response = visitor.goto(link)
    assert response.status == 410 and "withdrawn" in visitor.content()
    assert errors == []
