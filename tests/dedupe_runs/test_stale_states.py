"""Stale states say so on the page: files added after a run, a link to a packet whose inputs
changed, a build blocked by named items; and each message goes once it is fixed."""

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from records.errors import Conflict
from records.models import Exemption, GatheredItem, Packet
from records.packet.redact import Box
from records.services import packets
from records.services.dedupe_runs import start_run
from records.services.intake import gather_files
from records.services.redaction import add_redaction, confirm_redaction
from records.services.withholding import withhold_item
from tests.dedupe.images import jpeg_bytes
from tests.dedupe_runs.helpers import InProcessQueue, as_if_done_days_ago, gathered_request
from tests.factories import make_uploader

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch):
    q = InProcessQueue()
    q.install(monkeypatch)
    return q


def run_dedupe(clerk, rr, queue, capture) -> None:
    with capture(execute=True):
        start_run(actor=clerk, records_request=rr)
    queue.drain()
    rr.refresh_from_db()


@pytest.fixture
def deduplicated(queue, django_capture_on_commit_callbacks):
    clerk, rr = gathered_request()
    run_dedupe(clerk, rr, queue, django_capture_on_commit_callbacks)
    return clerk, rr


def build(clerk, rr, capture) -> Packet:
    with capture(execute=False):
        packet = packets.request_build(actor=clerk, records_request=rr)
    packets.build(packet.pk)
    packet.refresh_from_db()
    return packet


def new_photos(count: int) -> list[tuple[str, io.BytesIO]]:
    return [
        (
            f"late/IMG_{n:04d}.jpg",
            io.BytesIO(jpeg_bytes(Image.new("RGB", (64, 48), (20 * n, 90, 200 - 20 * n)))),
        )
        for n in range(count)
    ]


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).replace("&#x27;", "'")


def page_text(client, name: str, rr) -> str:
    return text(client.get(reverse(f"records:{name}", args=[rr.reference])).content.decode())


def build_button(client, rr) -> str:
    html = client.get(reverse("records:packet", args=[rr.reference])).content.decode()
    return re.search(r"<button type=\"submit\"[^>]*>Build packet</button>", html).group(0)


def test_the_request_page_counts_files_added_since_the_last_run_until_it_runs_again(
    deduplicated, queue, django_capture_on_commit_callbacks, client
):
    clerk, rr = deduplicated
    police = GatheredItem.objects.filter(department__code="PD").first().department
    client.force_login(clerk)
    assert "added since the last run" not in page_text(client, "request-detail", rr)
    gather_files(actor=clerk, records_request=rr, department=police, files=new_photos(3))
    shown = page_text(client, "request-detail", rr)
    assert "3 files added since the last run — run again." in shown
    first = GatheredItem.objects.get(original_path="late/IMG_0000.jpg")
    assert f"item {first.pk} (Police/late/IMG_0000.jpg)" in shown
    client.force_login(make_uploader(police))  # an uploader cannot run it: not told to
    assert "added since the last run" not in page_text(client, "request-detail", rr)
    run_dedupe(clerk, rr, queue, django_capture_on_commit_callbacks)
    client.force_login(clerk)
    assert "added since the last run" not in page_text(client, "request-detail", rr)


def test_a_build_blocked_by_new_files_names_them_on_the_packet_page_and_in_the_refusal(
    deduplicated, queue, django_capture_on_commit_callbacks, client
):
    clerk, rr = deduplicated
    police = GatheredItem.objects.filter(department__code="PD").first().department
    gather_files(actor=clerk, records_request=rr, department=police, files=new_photos(7))
    first = GatheredItem.objects.get(original_path="late/IMG_0000.jpg")
    with pytest.raises(Conflict, match="gathered after the last duplicate search") as refused:
        packets.request_build(actor=clerk, records_request=rr)
    assert f"item {first.pk} (Police/late/IMG_0000.jpg)" in refused.value.message
    assert "and 2 more" in refused.value.message  # five named, then the count of the rest
    assert refused.value.details["items"][0] == {"id": first.pk, "where": "Police/late/IMG_0000.jpg"}
    client.force_login(clerk)
    shown = page_text(client, "packet", rr)
    assert "The Build button waits for:" in shown
    assert f"Build blocked: 7 file(s) were gathered after the last duplicate search: item {first.pk}" in shown
    assert "disabled" in build_button(client, rr) and 'aria-describedby="build-blocked"' in build_button(
        client, rr
    )
    run_dedupe(clerk, rr, queue, django_capture_on_commit_callbacks)
    assert "Build blocked" not in page_text(client, "packet", rr)
    assert "disabled" not in build_button(client, rr)


def test_unconfirmed_redactions_name_their_items_on_the_packet_page_until_confirmed(deduplicated, client):
    clerk, rr = deduplicated
    item = GatheredItem.objects.get(original_path="coffee.png")
    redaction = add_redaction(
        actor=clerk,
        item=item,
        box=Box(0, 0, 30, 30),
        confirmed=False,
        exemption=Exemption.objects.get(code_section="Gov. Code § 7927.700"),
    )
    with pytest.raises(Conflict, match=rf"wait for confirmation on item {item.pk} \(Planning/coffee.png\)"):
        packets.request_build(actor=clerk, records_request=rr)
    client.force_login(clerk)
    assert f"wait for confirmation on item {item.pk} (Planning/coffee.png)" in page_text(client, "packet", rr)
    assert "disabled" in build_button(client, rr)
    confirm_redaction(actor=clerk, redaction=redaction)
    assert "Build blocked" not in page_text(client, "packet", rr)
    assert "disabled" not in build_button(client, rr)


def test_a_live_link_to_a_packet_whose_inputs_changed_says_rebuild_until_rebuilt(
    deduplicated, django_capture_on_commit_callbacks, client
):
    clerk, rr = deduplicated
    packet = build(clerk, rr, django_capture_on_commit_callbacks)
    packets.release(actor=clerk, packet=packet)
    client.force_login(clerk)
    assert "rebuild to include" not in page_text(client, "packet", rr)
    as_if_done_days_ago(rr)
    packet.refresh_from_db()
    built = f"{timezone.localtime(packet.built_at):%b %-d};"
    withhold_item(
        actor=clerk,
        item=GatheredItem.objects.get(original_path="chelsea.jpg"),
        exemption=Exemption.objects.get(code_section="Gov. Code § 7927.700"),
    )
    shown = page_text(client, "packet", rr)
    assert "This link shows the packet of " + built in shown
    assert "rebuild to include today's changes." in shown
    assert "Changed since it was built: 1 withholding added or removed" in shown
    rebuilt = build(clerk, rr, django_capture_on_commit_callbacks)
    shown = page_text(client, "packet", rr)
    assert "rebuild to include" not in shown
    assert f"A live requester link still shows version {packet.version}" in shown
    packets.release(actor=clerk, packet=rebuilt)
    assert f"revoke it once the requester has the link to version {rebuilt.version}" in page_text(
        client, "packet", rr
    )


def test_files_gathered_after_a_build_say_run_again_then_rebuild(
    deduplicated, django_capture_on_commit_callbacks, client
):
    clerk, rr = deduplicated
    build(clerk, rr, django_capture_on_commit_callbacks)
    as_if_done_days_ago(rr)
    police = GatheredItem.objects.filter(department__code="PD").first().department
    gather_files(actor=clerk, records_request=rr, department=police, files=new_photos(2))
    client.force_login(clerk)
    shown = page_text(client, "packet", rr)
    assert "This build is the packet of" in shown and "2 files gathered" in shown
    assert "run the duplicate search again, then build." in shown
    assert "Build blocked: 2 file(s) were gathered after the last duplicate search" in shown
