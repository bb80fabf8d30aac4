"""Building, releasing and sharing a request's packet from a finished dedupe run."""

import datetime
import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from dedupe import runs
from dedupe.models import ItemImage
from records.errors import Conflict
from records.models import AuditEvent, Exemption, GatheredItem, Packet, PacketState, RequestStatus
from records.packet.redact import Box
from records.services import packets
from records.services.redaction import add_redaction
from records.services.withholding import withhold_item
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch):
    q = InProcessQueue()
    monkeypatch.setattr(runs, "dispatch", q)
    monkeypatch.setattr(runs, "_after_commit", lambda name, *args: q(name, args))
    return q


@pytest.fixture
def deduplicated(queue, django_capture_on_commit_callbacks):
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        runs.start_run(actor=clerk, records_request=rr)
    queue.drain()
    rr.refresh_from_db()
    return clerk, rr


def build(clerk, rr, capture, **options) -> Packet:
    with capture(execute=False) as callbacks:
        packet = packets.request_build(actor=clerk, records_request=rr, **options)
    assert len(callbacks) == 1  # the build is queued after commit
    packets.build(packet.pk)
    packet.refresh_from_db()
    return packet


def read_zip(packet: Packet) -> dict[str, bytes]:
    with default_storage.open(packet.zip_file, "rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
        return {name.split("/", 1)[1]: zf.read(name) for name in zf.namelist()}


def test_the_packet_accounts_for_every_gathered_file(deduplicated, django_capture_on_commit_callbacks):
    clerk, rr = deduplicated
    packet = build(clerk, rr, django_capture_on_commit_callbacks)
    assert packet.state == PacketState.READY, packet.error
    files = read_zip(packet)
    manifest = json.loads(files["data/manifest.json"])
    paths = sorted(item["path"] for item in manifest["items"])
    gathered = sorted(i.gathered_path for i in GatheredItem.objects.filter(request=rr))
    assert paths == gathered
    statuses = {item["path"]: item["status"] for item in manifest["items"]}
    assert statuses["PD/case/astronaut.jpg"] == "duplicate"
    assert statuses["PLN/IMG_20240312_101502.jpg"] == "delivered"
    assert statuses["PD/truncated.jpg"] == "unreadable"
    delivered = [name for name in files if name.startswith("data/files/")]
    assert len(delivered) == packet.counts["delivered"] == 3  # astronaut, coffee, chelsea
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(files["data/index.pdf"])).pages)
    for item in manifest["items"]:
        assert (item["bates"] or item["path"].split("/")[-1]) in text


def test_the_same_inputs_and_decisions_build_the_same_bytes(deduplicated, django_capture_on_commit_callbacks):
    clerk, rr = deduplicated
    first = build(clerk, rr, django_capture_on_commit_callbacks)
    second = build(clerk, rr, django_capture_on_commit_callbacks)
    assert first.zip_sha256 == second.zip_sha256
    assert first.version + 1 == second.version


def test_a_withheld_record_is_withheld_in_every_copy(deduplicated, django_capture_on_commit_callbacks):
    clerk, rr = deduplicated
    original = GatheredItem.objects.get(original_path="IMG_20240312_101502.jpg")
    withhold_item(
        actor=clerk, item=original, exemption=Exemption.objects.get(code_section="Gov. Code § 7927.700")
    )
    packet = build(clerk, rr, django_capture_on_commit_callbacks, every_copy=True)
    manifest = json.loads(read_zip(packet)["data/manifest.json"])
    statuses = {item["path"]: item["status"] for item in manifest["items"]}
    assert statuses["PLN/IMG_20240312_101502.jpg"] == "withheld"
    assert statuses["PD/case/astronaut.jpg"] == "withheld"
    assert statuses["PW/astronaut_small.jpg"] == "withheld"
    log = read_zip(packet)["data/withholding_log.csv"].decode()
    assert "Gov. Code § 7927.700" in log


def test_a_redacted_item_is_delivered_with_its_boxes_burned_in(
    deduplicated, django_capture_on_commit_callbacks
):
    clerk, rr = deduplicated
    item = GatheredItem.objects.get(original_path="chelsea.jpg")
    add_redaction(
        actor=clerk,
        item=item,
        box=Box(10, 20, 50, 40),
        exemption=Exemption.objects.get(code_section="Gov. Code § 7927.700"),
    )
    packet = build(clerk, rr, django_capture_on_commit_callbacks)
    files = read_zip(packet)
    manifest = json.loads(files["data/manifest.json"])
    entry = next(i for i in manifest["items"] if i["path"] == "PLN/chelsea.jpg")
    delivered = Image.open(io.BytesIO(files[f"data/files/{entry['bates']}.jpg"])).convert("RGB")
    assert delivered.getpixel((30, 40)) == (0, 0, 0)
    assert delivered.getpixel((5, 5)) != (0, 0, 0)
    assert not delivered.getexif()
    assert packet.counts["redactions"] == 1


def test_building_needs_a_current_dedupe_run(deduplicated, django_capture_on_commit_callbacks):
    clerk, rr = deduplicated
    from records.services.intake import gather_files

    pw = GatheredItem.objects.filter(department__code="PW").first().department
    gather_files(
        actor=clerk,
        records_request=rr,
        department=pw,
        files=[("late.png", io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 40))],
    )
    with pytest.raises(Conflict, match="gathered after the last duplicate search"):
        packets.request_build(actor=clerk, records_request=rr)


def test_release_issues_a_link_that_works_until_revoked_or_expired(
    deduplicated, django_capture_on_commit_callbacks
):
    clerk, rr = deduplicated
    packet = build(clerk, rr, django_capture_on_commit_callbacks)
    issued = packets.release(actor=clerk, packet=packet)
    assert len(issued.token) >= 43  # 32 random bytes, URL-safe
    assert packets.resolve_link(issued.token).packet == packet
    rr.refresh_from_db()
    assert rr.status == RequestStatus.RELEASED
    packets.revoke_link(actor=clerk, link=issued.link)
    with pytest.raises(packets.LinkNotUsable, match="withdrawn"):
        packets.resolve_link(issued.token)
    second = packets.issue_new_link(actor=clerk, packet=packet, valid_days=1)
    second.link.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    second.link.save()
    with pytest.raises(packets.LinkNotUsable, match="expired"):
        packets.resolve_link(second.token)
    with pytest.raises(packets.LinkNotUsable, match="not valid"):
        packets.resolve_link("x" * 43)
    assert AuditEvent.objects.filter(verb__in=["packet_released", "link_revoked", "link_issued"]).count() == 3


def test_item_images_keep_their_preview_for_the_index(deduplicated):
    assert all(i.fingerprint.preview_jpeg for i in ItemImage.objects.exclude(unreadable_reason__gt=""))


def test_the_redacted_copy_has_its_own_sha256_beside_the_originals(
    deduplicated, django_capture_on_commit_callbacks
):
    import hashlib

    clerk, rr = deduplicated
    item = GatheredItem.objects.get(original_path="coffee.png")
    add_redaction(
        actor=clerk,
        item=item,
        box=Box(0, 0, 30, 30),
        exemption=Exemption.objects.get(code_section="Gov. Code § 7927.700"),
    )
    packet = build(clerk, rr, django_capture_on_commit_callbacks)
    files = read_zip(packet)
    entry = next(i for i in json.loads(files["data/manifest.json"])["items"] if i["path"] == "PLN/coffee.png")
    delivered = files[f"data/files/{entry['bates']}.png"]
    assert entry["sha256"] == item.sha256
    assert entry["delivered_sha256"] == hashlib.sha256(delivered).hexdigest() != item.sha256


def test_a_packet_is_not_built_while_mapped_redactions_await_confirmation(deduplicated):
    clerk, rr = deduplicated
    item = GatheredItem.objects.get(original_path="coffee.png")
    add_redaction(
        actor=clerk,
        item=item,
        box=Box(0, 0, 30, 30),
        confirmed=False,
        exemption=Exemption.objects.get(code_section="Gov. Code § 7927.700"),
    )
    with pytest.raises(Conflict, match="wait for confirmation"):
        packets.request_build(actor=clerk, records_request=rr)
