"""Building, releasing and sharing a request's packet from a finished dedupe run."""

import csv
import datetime
import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from dedupe.models import ItemImage
from records.errors import Conflict
from records.models import AuditEvent, Exemption, GatheredItem, Packet, PacketState, RequestStatus
from records.packet.redact import Box
from records.services import packets
from records.services.dedupe_runs import start_run
from records.services.redaction import add_redaction
from records.services.withholding import withhold_item
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch):
    q = InProcessQueue()
    q.install(monkeypatch)
    return q


@pytest.fixture
def deduplicated(queue, django_capture_on_commit_callbacks):
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        start_run(actor=clerk, records_request=rr)
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


def test_a_requested_build_goes_to_the_build_task_once_the_request_commits(
    deduplicated, django_capture_on_commit_callbacks, monkeypatch
):
    from records import tasks

    sent = []
    monkeypatch.setattr(tasks.build_packet, "delay", sent.append)
    clerk, rr = deduplicated
    with django_capture_on_commit_callbacks(execute=True):
        packet = packets.request_build(actor=clerk, records_request=rr)
        assert sent == []
    assert sent == [packet.pk]


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


# ------------------------------------------------------------------------ issue 21 (9, 5, 10)


def _pdf_text(pdf: bytes, tmp_path) -> str:
    import re
    import subprocess

    (tmp_path / "doc.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "doc.pdf"), "-"], capture_output=True, text=True
    ).stdout
    return re.sub(r"\s+", " ", text)


def test_load_files_are_in_the_packet_only_when_the_box_is_ticked_and_then_once(
    deduplicated, django_capture_on_commit_callbacks
):
    clerk, rr = deduplicated
    plain = read_zip(build(clerk, rr, django_capture_on_commit_callbacks))
    assert not [n for n in plain if n.endswith((".dat", ".opt"))]
    asked = read_zip(build(clerk, rr, django_capture_on_commit_callbacks, load_files=True))
    assert len([n for n in asked if n.endswith(".dat")]) == 1
    assert len([n for n in asked if n.endswith(".opt")]) == 1
    (dat,) = [n for n in asked if n.endswith(".dat")]
    assert dat.startswith("data/") and dat.count("/") == 1  # beside files/, which it points into


@pytest.mark.parametrize("rule", ["not_delivered", "original_bytes"])
def test_the_unreadable_files_setting_decides_what_the_requester_gets(
    rule, deduplicated, django_capture_on_commit_callbacks, settings, tmp_path
):
    from records.services.intake import gather_files

    clerk, rr = deduplicated
    pd = GatheredItem.objects.get(original_path="truncated.jpg").department
    gather_files(actor=clerk, records_request=rr, department=pd, files=[("notes.txt", io.BytesIO(b"a note"))])
    settings.PACKETDESK_UNREADABLE_FILES = rule
    packet = build(clerk, rr, django_capture_on_commit_callbacks)
    files = read_zip(packet)
    items = {i["path"]: i for i in json.loads(files["data/manifest.json"])["items"]}
    truncated, refused = items["PD/truncated.jpg"], items["PD/notes.txt"]
    assert truncated["status"] == refused["status"] == "unreadable"
    text = _pdf_text(files["data/index.pdf"], tmp_path)
    assert f"Files that could not be opened Rule {rule}:" in text
    rows = {r["path"]: r for r in csv.DictReader(io.StringIO(files["data/manifest.csv"].decode("utf-8-sig")))}
    if rule == "not_delivered":
        assert truncated["bates"] is None and refused["bates"] is None
        assert 'Not delivered (rule "not_delivered")' in truncated["reason"]
        assert 'You receive: Not delivered (rule "not_delivered")' in text
        assert packet.counts["delivered"] == 3
    else:
        stored = GatheredItem.objects.get(original_path="truncated.jpg").blob.file.read()
        assert files[f"data/files/{truncated['bates']}.jpg"] == stored  # bytes as received
        assert files[f"data/files/{refused['bates']}.txt"] == b"a note"
        assert 'Delivered as received (rule "original_bytes")' in truncated["reason"]
        assert 'You receive: Delivered as received (rule "original_bytes")' in text
        assert packet.counts["delivered"] == 5
    assert rows["PD/truncated.jpg"]["reason"] == truncated["reason"]


def test_a_withholdings_description_is_in_the_log_and_the_letter(
    deduplicated, django_capture_on_commit_callbacks, tmp_path
):
    clerk, rr = deduplicated
    withhold_item(
        actor=clerk,
        item=GatheredItem.objects.get(original_path="chelsea.jpg"),
        exemption=Exemption.objects.get(code_section="Gov. Code § 7927.700"),
        note="Photo of a resident's cat inside the home",
    )
    files = read_zip(build(clerk, rr, django_capture_on_commit_callbacks))
    index = _pdf_text(files["data/index.pdf"], tmp_path)
    log = index.split("Withholding and redaction log", 1)[1]
    assert "Photo of a resident's cat inside the home" in log
    assert "Photo of a resident's cat inside the home" in _pdf_text(files["data/letter.pdf"], tmp_path)


def test_the_review_page_the_index_and_the_manifest_number_the_groups_alike(
    deduplicated, django_capture_on_commit_callbacks, client, tmp_path
):
    import re

    from django.urls import reverse

    from dedupe.models import DuplicateGroup

    clerk, rr = deduplicated
    files = read_zip(build(clerk, rr, django_capture_on_commit_callbacks))
    manifest = json.loads(files["data/manifest.json"])
    numbers = {g["id"]: g["number"] for g in manifest["groups"]}
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1)) and len(numbers) >= 2
    by_path = {i["path"]: i for i in manifest["items"]}
    index = _pdf_text(files["data/index.pdf"], tmp_path)
    for group in manifest["groups"]:
        delivered = by_path[group["authoritative"]]["bates"] or "not delivered"
        assert (
            f"Group {group['number']} · {len(group['members'])} copies · authoritative copy {delivered}"
            in index
        )
        assert group["id"] not in index

    client.force_login(clerk)
    page = client.get(reverse("records:review", args=[rr.reference])).content.decode()
    shown = re.findall(r'<h2 id="group-(\d+)-h">Group (\d+) ', page)
    engine_id = dict(DuplicateGroup.objects.filter(request=rr).values_list("pk", "engine_id"))
    assert [(engine_id[int(pk)], int(n)) for pk, n in shown] == sorted(numbers.items(), key=lambda kv: kv[1])

    # Filtered to the groups with a conflict, a group keeps its own number.
    last = max(numbers, key=numbers.get)
    DuplicateGroup.objects.filter(request=rr, engine_id=last).update(
        conflicts=[{"field": "capture_date", "description": "dates differ"}]
    )
    page = client.get(reverse("records:review", args=[rr.reference]) + "?conflicts=1").content.decode()
    assert re.findall(r'<h2 id="group-\d+-h">Group (\d+) ', page) == [str(numbers[last])]
