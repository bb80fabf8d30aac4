"""A first week with PacketDesk in Chromium, as issue 21 walked it: nothing a user meets is untrue.

A clerk opens a request; two department uploaders each choose several files at once; the
clerk runs the duplicate search on a real worker, overrides one group, merges one item and
splits one copy out, withholds one; a late file makes the request page ask for a re-run;
the clerk builds and releases the packet; the requester opens the letter, the index and one
file through their link on a phone; a later change makes the packet page say the link is
out of date; the manager reads the dashboard. Each point of the issue is asserted on the
page, in the index PDF's text (pdftotext) and in the manifest.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image

from dedupe.models import DuplicateGroup, GroupMembership, ItemImage
from records.models import AuditEvent, GatheredItem, Packet, RecordsRequest, StatusTransition
from records.selectors import latest_completed_run
from tests.dedupe.images import exif_rotated_jpeg, exif_with, jpeg_bytes, png_bytes, skimage_photo
from tests.factories import DepartmentFactory, make_clerk, make_manager, make_uploader

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}


def camera_jpeg(image: Image.Image, when: str, quality: int = 92) -> bytes:
    """A JPEG as a phone writes it: make, model, DateTimeOriginal with its UTC offset."""
    exif = exif_with(
        {0x010F: "Google", 0x0110: "Pixel 8"},
        {0x9003: when, 0x9011: "-08:00"},
    )
    return jpeg_bytes(image, quality=quality, exif=exif)


def as_file(name: str, data: bytes) -> dict:
    kind = "image/png" if name.endswith(".png") else "image/jpeg"
    return {"name": name, "mimeType": kind, "buffer": data}


def police_files() -> list[dict]:
    astronaut = skimage_photo("astronaut.png")
    original = camera_jpeg(astronaut, "2026:11:20 09:00:00")
    broken = camera_jpeg(skimage_photo("coins.png").convert("RGB"), "2026:11:20 09:30:00")
    return [
        as_file("IMG_0412.jpg", original),
        as_file("IMG_0412_copy.jpg", original),  # byte for byte the same
        as_file("coffee.png", png_bytes(skimage_photo("coffee.png"))),
        as_file(
            "motorcycle_left.jpg", camera_jpeg(skimage_photo("motorcycle_left.png"), "2026:11:19 14:00:00")
        ),
        as_file("rocket.jpg", camera_jpeg(skimage_photo("rocket.jpg"), "2026:11:18 08:00:00")),
        as_file("IMG_2211.JPG", broken[: len(broken) // 3]),  # truncated on the way
        as_file("empty.jpg", b""),
    ]


def works_files() -> list[dict]:
    astronaut = skimage_photo("astronaut.png")
    half = astronaut.resize((astronaut.width // 2, astronaut.height // 2), Image.Resampling.LANCZOS)
    coffee_turned = exif_rotated_jpeg(skimage_photo("coffee.png"))
    rocket = skimage_photo("rocket.jpg")
    w, h = rocket.size
    detail = (
        rocket.crop((int(w * 0.1), int(h * 0.2), int(w * 0.65), int(h * 0.75))).convert("L").convert("RGB")
    )
    return [
        as_file("astronaut_small.jpg", camera_jpeg(half, "2026:11:20 09:00:00", quality=70)),
        as_file("coffee_turned.jpg", coffee_turned),
        as_file("coffee_turned_again.jpg", coffee_turned),  # an exact copy of the turned one
        # The other half of a stereo pair, taken a day later by the camera's own clock.
        as_file(
            "motorcycle_right.jpg", camera_jpeg(skimage_photo("motorcycle_right.png"), "2026:11:20 14:05:00")
        ),
        as_file("rocket_resaved.jpg", jpeg_bytes(rocket, quality=60)),
        as_file("rocket_detail.jpg", jpeg_bytes(detail, quality=85)),  # no hash finds this one
        as_file("chelsea.jpg", camera_jpeg(skimage_photo("chelsea.png"), "2026:11:17 12:00:00")),
    ]


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
    return problems


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def upload(page, base: str, reference: str, files: list[dict], stored: int, refused: int) -> None:
    page.goto(f"{base}/requests/{reference}/")
    assert page.locator("select[name=department]").count() == 0  # one department: nothing to pick
    page.set_input_files("input[type=file][name=files]", files)
    page.click("form[data-uploader] button[type=submit]")
    page.locator("[data-upload-summary]").get_by_text(
        f"{stored} stored, 0 already in this request, {refused} refused. Reload"
    ).wait_for(timeout=60_000)
    assert "Not uploaded" not in page.locator("[data-upload-list]").inner_text()


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1


def card_of(scope, key: str):
    """The member card of the file `key` (its path as gathered, without the department) in `scope`."""
    return scope.locator(".member").filter(has=scope.page.locator(".path", has_text=key)).first


def membership_of(key: str) -> GroupMembership | None:
    """The membership of the image `key` in a group of the latest completed run."""
    image = ItemImage.objects.select_related("item__request").get(key=key)
    run = latest_completed_run(image.item.request)
    return GroupMembership.objects.filter(image=image, group__run=run).select_related("group").first()


def group_of(key: str) -> DuplicateGroup | None:
    membership = membership_of(key)
    return membership.group if membership else None


def run_dedupe(page, base: str, reference: str) -> None:
    page.goto(f"{base}/requests/{reference}/")
    page.click("button:has-text('Find duplicates')")
    page.wait_for_selector("[data-role=review-link]", timeout=240_000)


def pdf_text(data: bytes, folder: Path, name: str) -> str:
    """The PDF's words in reading order, whitespace collapsed (table cells wrap across lines)."""
    path = folder / name
    path.write_bytes(data)
    words = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout.split()
    return " ".join(words)


def review_number(page, key: str) -> int:
    """The 'Group n' the review page gives the group whose authoritative copy is `key`."""
    group = group_of(key)
    heading = page.locator(f"#group-{group.pk}-h").inner_text()
    return int(re.match(r"Group (\d+)", heading).group(1))


def test_a_first_week_without_surprises(live_server, celery_worker_process, browser, screenshots):
    police = DepartmentFactory(code="PD", name="Police Department")
    works = DepartmentFactory(code="PW", name="Public Works")
    make_clerk("clerk")
    make_manager("manager")
    make_uploader(police, "pd-uploader")
    make_uploader(works, "pw-uploader")
    base = live_server.url
    shots = screenshots / "first-week"
    shots.mkdir(exist_ok=True)

    clerk = browser.new_context(viewport=DESK, accept_downloads=True)
    desk = clerk.new_page()
    desk_problems = watch(desk)
    log_in(desk, base, "clerk")

    # 6. A request received in the future is refused; then the real one is opened.
    desk.click("text=New request")
    desk.fill("#id_requester_name", "Ada Resident")
    desk.fill("#id_requester_email", "ada@example.org")
    desk.fill("#id_description", "Photos of the encampment at 5th and Main, November 2026")
    desk.select_option("#id_office_of_record", label="Police Department (PD)")
    desk.fill("#id_received_at", "2031-01-06T10:00")
    desk.click("button:has-text('Open request')")
    assert "future" in desk.locator("main form").inner_text()
    assert not RecordsRequest.objects.exists()
    received = timezone.localtime() - datetime.timedelta(days=2)
    desk.fill("#id_received_at", received.strftime("%Y-%m-%dT%H:%M"))
    desk.click("button:has-text('Open request')")
    desk.wait_for_selector("h1:has-text('Request')")
    reference = re.search(r"Request (\d\d-\d{5})", desk.locator("h1").inner_text()).group(1)
    rr = RecordsRequest.objects.get(reference=reference)
    assert rr.reference.startswith(f"{received.year % 100:02d}-")
    # The status form starts at the current status and offers only the allowed moves.
    assert desk.locator("#id_to_status option:checked").get_attribute("value") == "received"
    offered = set(desk.locator("#id_to_status option").evaluate_all("os => os.map(o => o.value)"))
    assert offered == {"received", "gathering", "withdrawn", "denied"}

    # 9. The extension notice gives the new date and the statutory reason, not the calculation.
    desk.fill("#id_days", "14")
    desk.select_option("#id_ground", index=1)
    desk.fill("#id_reason", "The photos must be gathered from two field offices.")
    desk.click("button:has-text('Extend and write the notice')")
    desk.wait_for_url(re.compile(r".*/extension-notice/$"))
    notice = desk.locator("main").inner_text()
    rr.refresh_from_db()
    assert f"{rr.extended_due_date:%B} {rr.extended_due_date.day}, {rr.extended_due_date.year}" in notice
    assert "7922.535" in notice and "two field offices" in notice
    assert "calendar day" not in notice.lower() and "skipped" not in notice.lower()

    # 1, 6, 10. Two department uploaders each choose several files at once for the new request.
    police_page = browser.new_context(viewport=DESK).new_page()
    works_page = browser.new_context(viewport=DESK).new_page()
    uploader_problems = watch(police_page) + watch(works_page)
    log_in(police_page, base, "pd-uploader")
    log_in(works_page, base, "pw-uploader")
    upload(police_page, base, reference, police_files(), stored=6, refused=1)
    assert (
        "empty.jpg (0 KB)\nrefused: this file is empty"
        in police_page.locator("[data-upload-list]").inner_text()
    )
    upload(works_page, base, reference, works_files(), stored=7, refused=0)
    police_page.screenshot(path=shots / "1-uploader.png", full_page=True)
    moves = StatusTransition.objects.filter(request=rr).order_by("at", "id")
    assert [(t.from_status, t.to_status) for t in moves] == [("", "received"), ("received", "gathering")]
    assert AuditEvent.objects.filter(request=rr, verb="gathered").count() == 14  # one per upload

    # The duplicate search, on a real worker.
    run_dedupe(desk, base, reference)
    desk.goto(f"{base}/requests/{reference}/review/")
    review_problems = watch(desk)

    # 3. The stereo pair a day apart: another shot, with a date conflict, never "the same photo".
    stereo = group_of("PD/motorcycle_left.jpg")
    assert stereo is not None and stereo == group_of("PW/motorcycle_right.jpg")
    stereo_card = desk.locator(f"#group-{stereo.pk}")
    assert "Conflict" in stereo_card.inner_text() and "captur" in stereo_card.inner_text().lower()
    pair = stereo.memberships.get(is_authoritative=False)
    assert pair.relation == "near_identical_shot" and "day" in pair.explanation

    # 5. The truncated JPEG is under its own heading with its reason, and cannot be redacted.
    unreadable = desk.locator("#unreadable")
    assert "IMG_2211.JPG" in unreadable.inner_text() and "empty.jpg" in unreadable.inner_text()
    assert unreadable.locator("[data-redact]").count() == 0
    assert "IMG_2211.JPG" not in desk.locator("#singles").inner_text()

    # 2. Override: the smaller Public Works copy becomes authoritative; the former one gets a relation.
    astronaut = group_of("PD/IMG_0412.jpg")
    assert astronaut is not None and astronaut == group_of("PW/astronaut_small.jpg")
    small = ItemImage.objects.get(key="PW/astronaut_small.jpg")
    card = card_of(desk.locator(f"#group-{astronaut.pk}"), "astronaut_small.jpg")
    card.locator("summary:has-text('Make this the authoritative copy')").click()
    card.locator(f"#auth-reason-{small.pk}").fill("Public Works holds the field record")
    card.locator("button:has-text('Make authoritative')").click()
    desk.wait_for_selector("text=is now the authoritative copy")
    astronaut = group_of("PW/astronaut_small.jpg")
    assert astronaut.authoritative_id == small.pk
    former = astronaut.memberships.get(image__key="PD/IMG_0412.jpg")
    assert former.relation == "same_image" and former.explanation
    group_text = desk.locator(f"#group-{astronaut.pk}").inner_text()
    assert "chosen by a clerk" in group_text and "clerk_override" not in group_text
    assert group_text.count("Same photo") == 2  # both Police copies, measured against the new one
    desk.locator(f"#group-{astronaut.pk}").screenshot(path=shots / "2-after-override.png")

    # 2. Merge a single item (a cropped grey detail no hash finds) into the rocket group.
    rocket = group_of("PD/rocket.jpg")
    assert rocket is not None and group_of("PW/rocket_detail.jpg") is None
    detail = GatheredItem.objects.get(request=rr, original_path="rocket_detail.jpg")
    single = desk.locator(f"#item-{detail.pk}")
    single.locator("summary:has-text('Same record as a group')").click()
    single.locator("select[name=group]").select_option(value=str(rocket.pk))
    single.locator("input[name=reason]").fill("The detail is cut from the same evidence photo")
    single.locator("button:has-text('Put in the group')").click()
    desk.wait_for_load_state()
    rocket = group_of("PD/rocket.jpg")
    merged = rocket.memberships.get(image__key="PW/rocket_detail.jpg")
    assert merged.relation != "exact" and "clerk" in merged.explanation
    merged_text = card_of(desk.locator(f"#group-{rocket.pk}"), "rocket_detail.jpg").inner_text()
    assert "byte for byte" not in merged_text
    desk.locator(f"#group-{rocket.pk}").screenshot(path=shots / "2-after-merge.png")

    # 2. Split the turned coffee copy out: its exact copy leaves with it.
    coffee = group_of("PD/coffee.png")
    assert coffee is not None and coffee == group_of("PW/coffee_turned.jpg") == group_of(
        "PW/coffee_turned_again.jpg"
    )
    turned = ItemImage.objects.get(key="PW/coffee_turned.jpg")
    if coffee.authoritative.key != "PD/coffee.png":
        pytest.fail(
            f"expected the lossless PNG to be the coffee group's authoritative copy, not {coffee.authoritative.key}"
        )
    card = card_of(desk.locator(f"#group-{coffee.pk}"), "coffee_turned.jpg")
    card.locator("summary:has-text('Not a duplicate')").click()
    card.locator(f"#split-reason-{turned.pk}").fill("The phone copy was taken on another visit")
    card.locator("button:has-text('Split out')").click()
    desk.wait_for_selector("text=split out")
    assert group_of("PD/coffee.png") is None  # nothing left beside it
    split = group_of("PW/coffee_turned.jpg")
    assert split is not None and split == group_of("PW/coffee_turned_again.jpg")
    assert {m.relation for m in split.memberships.filter(is_authoritative=False)} == {"exact"}

    # Withhold one photo, with a description for the log and the letter.
    chelsea = GatheredItem.objects.get(request=rr, original_path="chelsea.jpg")
    desk.goto(f"{base}/requests/{reference}/review/#item-{chelsea.pk}")
    cat = desk.locator(f"#item-{chelsea.pk}")
    cat.locator("summary:has-text('Withhold this item')").click()
    cat.locator("select[name=exemption]").select_option(label="Personal privacy (Gov. Code § 7927.700)")
    cat.locator("input[name=note]").fill("Photo of a resident inside her home")
    cat.locator("button:has-text('Withhold')").click()
    desk.wait_for_selector("text=withheld under")

    # 8. A late file: the request page asks for a re-run and the packet page names what blocks a build.
    late = camera_jpeg(skimage_photo("moon.png").convert("RGB"), "2026:11:21 22:00:00")
    upload(police_page, base, reference, [as_file("late_moon.jpg", late)], stored=1, refused=0)
    desk.goto(f"{base}/requests/{reference}/")
    stale = desk.locator("[data-stale=files-since-run]").inner_text()
    assert "1 file added since the last run — run again" in stale and "late_moon.jpg" in stale
    desk.goto(f"{base}/requests/{reference}/packet/")
    blocked = desk.locator("#build-blocked").inner_text()
    assert "late_moon.jpg" in blocked and "Police Department" in blocked
    assert desk.locator("button:has-text('Build packet')").is_disabled()

    # The re-run keeps every decision and its evidence.
    run_dedupe(desk, base, reference)
    assert not desk.locator("[data-stale=files-since-run]").count()
    assert group_of("PW/astronaut_small.jpg").authoritative.key == "PW/astronaut_small.jpg"
    assert group_of("PW/rocket_detail.jpg") == group_of("PD/rocket.jpg")
    assert group_of("PD/coffee.png") is None and group_of("PW/coffee_turned_again.jpg") is not None
    assert membership_of("PD/IMG_0412.jpg").relation == "same_image"

    # 4, 10. The review page on a phone: no sideways scroll, its actions in reach.
    review_phone = browser.new_context(viewport=PHONE)
    staff_phone = review_phone.new_page()
    log_in(staff_phone, base, "clerk")
    staff_phone.goto(f"{base}/requests/{reference}/review/")
    assert fits_the_width(staff_phone)
    staff_phone.mouse.wheel(0, 3000)
    bar = staff_phone.locator("[data-review-bar]")
    assert bar.is_visible() and bar.bounding_box()["y"] < 10  # stuck to the top while scrolling
    staff_phone.screenshot(path=shots / "10-review-phone.png")
    review_phone.close()

    # Build (no load files asked for) and release.
    desk.goto(f"{base}/requests/{reference}/review/")
    numbers = {key: review_number(desk, key) for key in ("PW/astronaut_small.jpg", "PD/rocket.jpg")}
    desk.goto(f"{base}/requests/{reference}/packet/")
    assert not desk.locator("#build-blocked").count()
    desk.click("button:has-text('Build packet')")
    desk.wait_for_selector("button:has-text('Release to the requester')", timeout=240_000)
    desk.click("button:has-text('Release to the requester')")
    link = desk.locator("[data-issued-link]").input_value()
    packet = Packet.objects.get(request=rr, state="released")

    # 4. The requester, on a phone, opens the letter, the index and one delivered file.
    requester = browser.new_context(viewport=PHONE, accept_downloads=True)
    visitor = requester.new_page()
    visitor_problems = watch(visitor)
    visitor.goto(link)
    contents = visitor.locator("#contents-h").locator("xpath=..").inner_text()
    assert "Police Department" in contents and "Public Works" in contents
    assert "hash bits" not in contents and "PD/" not in contents.split("Department")[0]
    assert fits_the_width(visitor)
    visitor.screenshot(path=shots / "4-requester.png", full_page=True)

    def fetch(locator):
        return visitor.request.get(base + locator.get_attribute("href"))

    letter = fetch(visitor.locator("a:has-text('Open the letter')"))
    index = fetch(visitor.locator("a:has-text('Open the index')"))
    assert letter.status == 200 and letter.body().startswith(b"%PDF")
    assert index.status == 200 and index.body().startswith(b"%PDF")
    one_file = fetch(visitor.locator("td[data-label=Bates] a").first)
    assert one_file.status == 200 and Image.open(io.BytesIO(one_file.body())).size[0] > 0
    downloads = AuditEvent.objects.filter(request=rr, verb="packet_downloaded")
    assert {e.details["what"] for e in downloads} >= {"letter.pdf", "index.pdf"}
    assert downloads.count() == 3

    # 9, 5, 2, 3. The index and the letter, read back as text.
    index_text = pdf_text(index.body(), shots, "index.pdf")
    letter_text = pdf_text(letter.body(), shots, "letter.pdf")
    for text in (index_text, letter_text):
        assert "clerk_override" not in text and "most_pixels" not in text
    assert "chosen by clerk: Public Works holds the field record" in index_text
    for key, number in numbers.items():
        assert f"Group {number}" in index_text, key
    assert "IMG_2211.JPG" in index_text and "not delivered" in index_text.lower()
    assert "Photo of a resident inside her home" in index_text
    assert "Photo of a resident inside her home" in letter_text
    assert "another shot" in index_text.lower()

    # The manifest says the same, from the ZIP the clerk downloads; no load files were asked for.
    zipped = desk.request.get(f"{base}/requests/{reference}/packet/{packet.pk}/packet.zip")
    with zipfile.ZipFile(io.BytesIO(zipped.body())) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read(next(n for n in names if n.endswith("/data/manifest.json"))))
    assert not [n for n in names if n.endswith((".dat", ".opt"))]
    items = {i["path"]: i for i in manifest["items"]}
    assert items["PD/IMG_0412.jpg"]["status"] == "duplicate"
    assert "exact" not in items["PD/IMG_0412.jpg"]["reason"].split(";")[0]
    assert items["PW/rocket_detail.jpg"]["status"] == "duplicate"
    assert "clerk" in items["PW/rocket_detail.jpg"]["reason"]
    assert items["PD/IMG_2211.JPG"]["status"] == "unreadable"
    assert "not delivered" in items["PD/IMG_2211.JPG"]["reason"].lower()
    assert "this file is empty" in items["PD/empty.jpg"]["reason"]
    assert items["PW/chelsea.jpg"]["status"] == "withheld"
    assert len(manifest["items"]) == GatheredItem.objects.filter(request=rr).count()

    # 8. A change after release: the packet page says the link shows the older packet.
    desk.goto(f"{base}/requests/{reference}/review/")
    coffee_item = GatheredItem.objects.get(request=rr, original_path="coffee.png")
    mug = desk.locator(f"#item-{coffee_item.pk}")
    mug.locator("summary:has-text('Withhold this item')").click()
    mug.locator("select[name=exemption]").select_option(label="Personal privacy (Gov. Code § 7927.700)")
    mug.locator("button:has-text('Withhold')").click()
    desk.wait_for_selector("text=withheld under")
    desk.goto(f"{base}/requests/{reference}/packet/")
    stale_packet = desk.locator("[data-stale=packet]").inner_text()
    assert (
        "This link shows the packet of" in stale_packet
        and "rebuild to include today's changes" in stale_packet
    )
    desk.screenshot(path=shots / "8-packet-stale.png", full_page=True)

    # 7. The manager's dashboard: every figure with its definition; released is not closed.
    board = browser.new_context(viewport=DESK).new_page()
    log_in(board, base, "manager")
    board.goto(f"{base}/dashboard/")
    tile = {
        name: board.locator(f"[data-stat={name}]").inner_text().strip()
        for name in board.locator("[data-stat]").evaluate_all("els => els.map(e => e.dataset.stat)")
    }
    assert tile["received"] == "1" and tile["released"] == "1" and tile["closed"] == "0"
    assert tile["open"] == "0" and tile["overdue"] == "0"
    for name in tile:
        assert board.locator(f"[data-definition={name}]").inner_text().strip(), name
    board.screenshot(path=shots / "7-dashboard.png", full_page=True)

    # 10. The API docs render from the project's own files.
    desk.goto(f"{base}/api/docs/")
    desk.locator(".opblock").first.wait_for(timeout=30_000)
    desk.screenshot(path=shots / "10-api-docs.png")

    problems = desk_problems + uploader_problems + review_problems + visitor_problems
    assert problems == []
