"""A multi-page file goes out page by page: one Bates number, one file, one page each.

Bates numbers are per page, so each delivered page of a multi-page TIFF is delivered as
that page alone (lossless PNG, no metadata), with its own SHA-256 in the manifest. A page
that is a duplicate of another item is not delivered inside its neighbours' file, and a
redaction drawn on a page is burned into that page only.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from records.models import Exemption, GatheredItem, Packet, PacketState
from records.packet.redact import Box
from records.services import packets
from records.services.dedupe_runs import start_run
from records.services.intake import gather_files
from records.services.redaction import add_redaction
from tests.dedupe.images import jpeg_bytes, letter_page, multipage_tiff, skimage_photo
from tests.dedupe_runs.helpers import InProcessQueue
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_clerk

pytestmark = pytest.mark.django_db

PRIVACY = "Gov. Code § 7927.700"


def _pages() -> list[Image.Image]:
    # Three different pages: a letter, a photo (also gathered alone by another department,
    # so page 2 is a duplicate), and a second letter.
    return [
        letter_page(lines=30).convert("L"),
        skimage_photo("astronaut.png").resize((400, 400)),
        letter_page(lines=12).convert("L"),
    ]


@pytest.fixture
def scanned(monkeypatch, django_capture_on_commit_callbacks):
    queue = InProcessQueue()
    queue.install(monkeypatch)
    clerk = make_clerk()
    planning = DepartmentFactory(code="PLN", name="Planning")
    police = DepartmentFactory(code="PD", name="Police")
    rr = RecordsRequestFactory(office_of_record=police, status="gathering")
    pages = _pages()
    gather_files(
        actor=clerk,
        records_request=rr,
        department=planning,
        files=[("permit_packet.tif", io.BytesIO(multipage_tiff(pages)))],
    )
    gather_files(
        actor=clerk,
        records_request=rr,
        department=police,
        files=[("astronaut.jpg", io.BytesIO(jpeg_bytes(skimage_photo("astronaut.png"), quality=95)))],
    )
    with django_capture_on_commit_callbacks(execute=True):
        start_run(actor=clerk, records_request=rr)
    queue.drain()
    rr.refresh_from_db()
    return clerk, rr, pages


def _build(clerk, rr, capture) -> dict[str, bytes]:
    with capture(execute=False):
        packet = packets.request_build(actor=clerk, records_request=rr)
    packets.build(packet.pk)
    packet.refresh_from_db()
    assert packet.state == PacketState.READY, packet.error
    return _files(packet)


def _files(packet: Packet) -> dict[str, bytes]:
    with default_storage.open(packet.zip_file, "rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
        return {name.split("/", 1)[1]: zf.read(name) for name in zf.namelist()}


def _entry(files: dict[str, bytes], path: str) -> dict:
    manifest = json.loads(files["data/manifest.json"])
    return next(i for i in manifest["items"] if i["path"] == path)


def _delivered(files: dict[str, bytes], path: str) -> tuple[str, bytes]:
    bates = _entry(files, path)["bates"]
    assert bates, path
    (name,) = [n for n in files if n.startswith(f"data/files/{bates}.")]
    return name, files[name]


def _only_page(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        assert getattr(im, "n_frames", 1) == 1
        return np.asarray(im.convert("L"), dtype=int)


def test_each_delivered_page_is_its_own_file_holding_that_page_alone(
    scanned, django_capture_on_commit_callbacks
):
    clerk, rr, pages = scanned
    files = _build(clerk, rr, django_capture_on_commit_callbacks)
    for number in (1, 3):
        path = f"PLN/permit_packet.tif#page={number}"
        name, data = _delivered(files, path)
        assert name.endswith(".png")
        assert np.array_equal(_only_page(data), np.asarray(pages[number - 1], dtype=int))
        entry = _entry(files, path)
        original = GatheredItem.objects.get(original_path="permit_packet.tif")
        assert entry["sha256"] == original.sha256  # the gathered file, as the index cites it
    # Page 2 is a copy of the police photo: a duplicate, delivered by neither file.
    assert _entry(files, "PLN/permit_packet.tif#page=2")["bates"] is None
    produced = [n for n in files if n.startswith("data/files/")]
    assert len(produced) == 3  # pages 1 and 3, and the police photo


def test_a_box_on_one_page_is_burned_into_that_page_only(scanned, django_capture_on_commit_callbacks):
    clerk, rr, pages = scanned
    item = GatheredItem.objects.get(original_path="permit_packet.tif")
    box = Box(100, 120, 300, 80)
    add_redaction(
        actor=clerk, item=item, box=box, exemption=Exemption.objects.get(code_section=PRIVACY), page=3
    )
    files = _build(clerk, rr, django_capture_on_commit_callbacks)

    _, third = _delivered(files, "PLN/permit_packet.tif#page=3")
    burned = _only_page(third)
    assert (burned[box.y : box.y + box.height, box.x : box.x + box.width] == 0).all()
    outside = np.ones(burned.shape, dtype=bool)
    outside[box.y : box.y + box.height, box.x : box.x + box.width] = False
    assert np.array_equal(burned[outside], np.asarray(pages[2], dtype=int)[outside])

    _, first = _delivered(files, "PLN/permit_packet.tif#page=1")
    assert np.array_equal(_only_page(first), np.asarray(pages[0], dtype=int))
    assert _entry(files, "PLN/permit_packet.tif#page=3")["redactions"]["count"] == 1
    assert not _entry(files, "PLN/permit_packet.tif#page=1").get("redactions")


def test_the_manifest_gives_each_page_file_its_own_sha256(scanned, django_capture_on_commit_callbacks):
    clerk, rr, _ = scanned
    files = _build(clerk, rr, django_capture_on_commit_callbacks)
    for number in (1, 3):
        path = f"PLN/permit_packet.tif#page={number}"
        _, data = _delivered(files, path)
        assert _entry(files, path)["delivered_sha256"] == hashlib.sha256(data).hexdigest()
    bag_manifest = files["manifest-sha256.txt"].decode()
    _, first = _delivered(files, "PLN/permit_packet.tif#page=1")
    assert hashlib.sha256(first).hexdigest() in bag_manifest
