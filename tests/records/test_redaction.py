"""Redaction end to end: boxes burned into the delivered copy, nothing else changed, mapped onto copies.

The request is gathered_request()'s photos (an original, a half-size copy, an EXIF-rotated
copy) plus a photo carrying GPS and a copy stored with its pixels turned a quarter.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image, ImageOps
from pypdf import PdfReader

from dedupe.models import GroupMembership
from records.models import Exemption, GatheredItem, Packet, PacketState
from records.packet.redact import Box, map_box
from records.services import packets
from records.services.dedupe_runs import start_run
from records.services.intake import gather_files
from records.services.redaction import add_redaction, apply_to_group, confirm_redaction, delivered_copy_path
from tests.dedupe.images import exif_with, jpeg_bytes, png_bytes, skimage_photo
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request

pytestmark = pytest.mark.django_db

PRIVACY = "Gov. Code § 7927.700"
GPS = {1: "N", 2: (34.0, 3.0, 8.0), 3: "W", 4: (118.0, 14.0, 37.0)}  # Los Angeles City Hall
JPEG_MARGIN = 8  # one JPEG block: re-encoding rings within a block of a hard edge
JPEG_OUTSIDE_MEAN = 1.5  # grey levels, quality-95 re-encode away from the box
JPEG_INSIDE_MAX = 3


@pytest.fixture
def world(monkeypatch, django_capture_on_commit_callbacks):
    queue = InProcessQueue()
    queue.install(monkeypatch)
    clerk, rr = gathered_request()
    rocket = skimage_photo("rocket.jpg")
    coffee = skimage_photo("coffee.png")
    gather_files(
        actor=clerk,
        records_request=rr,
        department=GatheredItem.objects.get(original_path="coffee.png").department,
        files=[("gps_photo.jpg", io.BytesIO(jpeg_bytes(rocket, exif=exif_with(gps_ifd=GPS))))],
    )
    gather_files(
        actor=clerk,
        records_request=rr,
        department=GatheredItem.objects.get(original_path="coffee_turned.jpg").department,
        # Scanned a quarter-turn counter-clockwise, no orientation tag: only the engine knows.
        files=[("coffee_scan.png", io.BytesIO(png_bytes(coffee.transpose(Image.Transpose.ROTATE_90))))],
    )
    with django_capture_on_commit_callbacks(execute=True):
        start_run(actor=clerk, records_request=rr)
    queue.drain()
    rr.refresh_from_db()
    return clerk, rr


@pytest.fixture
def privacy() -> Exemption:
    return Exemption.objects.get(code_section=PRIVACY)


def item(name: str) -> GatheredItem:
    return GatheredItem.objects.get(original_path=name)


def original_bytes(gathered: GatheredItem) -> bytes:
    with default_storage.open(gathered.blob.file.name, "rb") as fh:
        return fh.read()


def upright(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB")).astype(int)


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def mask(shape: tuple[int, ...], box: Box, grow: int = 0) -> np.ndarray:
    inside = np.zeros(shape[:2], dtype=bool)
    inside[
        max(0, box.y - grow) : box.y + box.height + grow,
        max(0, box.x - grow) : box.x + box.width + grow,
    ] = True
    return inside


def burned_copy(gathered: GatheredItem) -> bytes:
    with contextlib.ExitStack() as stack:
        path = delivered_copy_path(gathered, 0, default_storage.path(gathered.blob.file.name), stack)
        assert path is not None, "the item has no confirmed redaction"
        with open(path, "rb") as fh:
            return fh.read()


def changed_area(before: np.ndarray, after: np.ndarray, threshold: int = 40) -> Box:
    """The bounding box of the pixels a redaction changed (a big difference, not re-encode noise)."""
    ys, xs = np.nonzero(np.abs(before - after).max(axis=2) > threshold)
    return Box(int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))


def assert_near(found: Box, expected: Box, slack: int) -> None:
    for name in ("x", "y", "width", "height"):
        assert abs(getattr(found, name) - getattr(expected, name)) <= slack, (found, expected)


def build(clerk, rr, capture) -> tuple[Packet, dict[str, bytes]]:
    with capture(execute=False):
        packet = packets.request_build(actor=clerk, records_request=rr)
    packets.build(packet.pk)
    packet.refresh_from_db()
    assert packet.state == PacketState.READY, packet.error
    with default_storage.open(packet.zip_file, "rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
        files = {name.split("/", 1)[1]: zf.read(name) for name in zf.namelist()}
    return packet, files


def delivered(files: dict[str, bytes], path: str) -> bytes:
    manifest = json.loads(files["data/manifest.json"])
    entry = next(i for i in manifest["items"] if i["path"] == path)
    assert entry["bates"], entry
    (name,) = [n for n in files if n.startswith(f"data/files/{entry['bates']}.")]
    return files[name]


def index_text(files: dict[str, bytes]) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(files["data/index.pdf"])).pages)


# --------------------------------------------------------------------- the delivered copy


def test_a_lossless_copy_has_exactly_the_boxed_pixels_replaced(
    world, privacy, django_capture_on_commit_callbacks
):
    clerk, rr = world
    coffee = item("coffee.png")
    box = Box(120, 45, 97, 61)
    add_redaction(actor=clerk, item=coffee, box=box, exemption=privacy)
    _, files = build(clerk, rr, django_capture_on_commit_callbacks)
    before, after = upright(original_bytes(coffee)), pixels(delivered(files, "PLN/coffee.png"))
    assert after.shape == before.shape
    inside = mask(before.shape, box)
    assert (after[inside] == 0).all()  # opaque black, not a translucent overlay
    assert np.array_equal(after[~inside], before[~inside])  # every other pixel untouched
    assert inside.sum() == 97 * 61


def test_a_jpeg_copy_is_black_in_the_box_and_unchanged_elsewhere_within_re_encoding(
    world, privacy, django_capture_on_commit_callbacks
):
    clerk, rr = world
    photo = item("gps_photo.jpg")
    box = Box(203, 77, 150, 90)
    add_redaction(actor=clerk, item=photo, box=box, exemption=privacy)
    _, files = build(clerk, rr, django_capture_on_commit_callbacks)
    before, after = upright(original_bytes(photo)), pixels(delivered(files, "PLN/gps_photo.jpg"))
    assert after.shape == before.shape
    core = mask(before.shape, Box(box.x + JPEG_MARGIN, box.y + JPEG_MARGIN, box.width - 16, box.height - 16))
    assert after[core].max() <= JPEG_INSIDE_MAX
    away = ~mask(before.shape, box, grow=JPEG_MARGIN)
    assert np.abs(after[away] - before[away]).mean() < JPEG_OUTSIDE_MEAN
    assert_near(changed_area(before, after), box, slack=2)


def test_the_redacted_copy_carries_no_gps_and_its_own_sha256(
    world, privacy, django_capture_on_commit_callbacks
):
    clerk, rr = world
    photo = item("gps_photo.jpg")
    original = original_bytes(photo)
    with Image.open(io.BytesIO(original)) as im:
        assert im.getexif().get_ifd(0x8825), "the fixture's original must carry GPS"
    add_redaction(actor=clerk, item=photo, box=Box(10, 10, 40, 40), exemption=privacy)
    _, files = build(clerk, rr, django_capture_on_commit_callbacks)
    copy = delivered(files, "PLN/gps_photo.jpg")
    with Image.open(io.BytesIO(copy)) as im:
        assert not im.getexif().get_ifd(0x8825)
        assert not im.getexif()
        assert "exif" not in im.info and "xmp" not in im.info
    assert b"GPS" not in copy
    assert hashlib.sha256(copy).hexdigest() != photo.sha256
    # The original is never changed: its stored bytes still hash to the recorded SHA-256.
    assert hashlib.sha256(original_bytes(photo)).hexdigest() == photo.sha256 == original_sha(photo)


def original_sha(gathered: GatheredItem) -> str:
    gathered.refresh_from_db()
    return gathered.blob.sha256


def test_the_index_lists_the_redaction_and_its_exemption(world, privacy, django_capture_on_commit_callbacks):
    clerk, rr = world
    _, plain = build(clerk, rr, django_capture_on_commit_callbacks)
    assert "delivered with 1 redaction" not in index_text(plain)
    add_redaction(actor=clerk, item=item("chelsea.jpg"), box=Box(10, 20, 50, 40), exemption=privacy)
    packet, files = build(clerk, rr, django_capture_on_commit_callbacks)
    text = " ".join(index_text(files).split())
    assert "delivered with 1 redaction" in text
    assert "7927.700" in text and privacy.label in text
    assert packet.counts["redactions"] == 1 and packet.counts["redacted"] == 1
    entry = next(
        i for i in json.loads(files["data/manifest.json"])["items"] if i["path"] == "PLN/chelsea.jpg"
    )
    assert entry["redactions"]["count"] == 1


# ------------------------------------------------------------------ mapping onto the group


def map_and_confirm(clerk, source: GatheredItem, box: Box, privacy: Exemption) -> dict[str, Box]:
    drawn = add_redaction(actor=clerk, item=source, box=box, exemption=privacy)
    mapped = {}
    for r in apply_to_group(actor=clerk, redaction=drawn):
        assert not r.confirmed  # a mapped box waits for a clerk
        confirm_redaction(actor=clerk, redaction=r)
        mapped[r.item.original_path] = Box(r.x, r.y, r.width, r.height)
    return mapped


def test_a_box_on_the_original_lands_on_the_half_size_copy_at_half_the_place(world, privacy):
    clerk, _ = world
    box = Box(180, 90, 120, 80)  # on the 512 x 512 original
    mapped = map_and_confirm(clerk, item("IMG_20240312_101502.jpg"), box, privacy)
    expected = Box(90, 45, 60, 40)
    assert mapped["astronaut_small.jpg"] == expected
    assert mapped["case/astronaut.jpg"] == box
    small = item("astronaut_small.jpg")
    before, after = upright(original_bytes(small)), pixels(burned_copy(small))
    assert_near(changed_area(before, after), expected, slack=1)
    core = mask(
        before.shape,
        Box(
            expected.x + JPEG_MARGIN,
            expected.y + JPEG_MARGIN,
            expected.width - 2 * JPEG_MARGIN,
            expected.height - 2 * JPEG_MARGIN,
        ),
    )
    assert after[core].max() <= JPEG_INSIDE_MAX


def test_a_box_lands_on_the_exif_rotated_copy_where_the_clerk_sees_it(world, privacy):
    clerk, _ = world
    box = Box(250, 40, 110, 70)  # on coffee.png, 600 x 400 upright
    mapped = map_and_confirm(clerk, item("coffee.png"), box, privacy)
    assert mapped["coffee_turned.jpg"] == box  # upright, the copy is the same picture
    turned = item("coffee_turned.jpg")
    with Image.open(io.BytesIO(original_bytes(turned))) as im:
        assert im.getexif().get(0x0112) == 6 and im.size == (400, 600)  # stored on its side
    before, after = upright(original_bytes(turned)), pixels(burned_copy(turned))
    assert after.shape == before.shape == (400, 600, 3)  # delivered upright, no tag to misread
    assert_near(changed_area(before, after), box, slack=2)


def test_a_box_lands_on_a_copy_whose_pixels_are_turned(world, privacy):
    clerk, rr = world
    scan = item("coffee_scan.png")
    membership = GroupMembership.objects.get(
        image__item=scan, group__run=runs_latest(rr)
    )  # the engine found it turned
    assert membership.rotation in (90, 270)
    box = Box(250, 40, 110, 70)
    mapped = map_and_confirm(clerk, item("coffee.png"), box, privacy)
    # The scan is coffee.png turned a quarter counter-clockwise: (x, y) -> (y, 600 - x - w).
    expected = Box(40, 600 - 250 - 110, 70, 110)
    assert mapped["coffee_scan.png"] == expected
    before, after = upright(original_bytes(scan)), pixels(burned_copy(scan))
    inside = mask(before.shape, expected)
    assert (after[inside] == 0).all()
    assert np.array_equal(after[~inside], before[~inside])


def test_a_box_drawn_on_the_turned_copy_lands_upright_on_the_original(world, privacy):
    clerk, _ = world
    on_scan = Box(40, 240, 70, 110)
    mapped = map_and_confirm(clerk, item("coffee_scan.png"), on_scan, privacy)
    assert mapped["coffee.png"] == Box(250, 40, 110, 70)
    assert mapped["coffee_turned.jpg"] == Box(250, 40, 110, 70)


def runs_latest(rr):
    from records.selectors import latest_completed_run

    return latest_completed_run(rr)


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        (0, Box(20, 10, 30, 5)),
        (90, Box(10, 200 - 20 - 30, 5, 30)),
        (180, Box(200 - 20 - 30, 100 - 10 - 5, 30, 5)),
        (270, Box(100 - 10 - 5, 20, 5, 30)),
    ],
)
def test_map_box_turns_with_the_picture_counter_clockwise(turn, expected):
    source = np.zeros((100, 200), dtype=np.uint8)
    box = Box(20, 10, 30, 5)
    source[box.y : box.y + box.height, box.x : box.x + box.width] = 255
    turned = np.rot90(source, k=turn // 90)  # counter-clockwise, as PIL's ROTATE_90
    ys, xs = np.nonzero(turned)
    found = Box(int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    size = (turned.shape[1], turned.shape[0])
    assert map_box(box, (200, 100), size, turn) == found == expected
