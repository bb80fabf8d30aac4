"""One realistic world for the security tests: two departments, a released request, a gathering one.

Built once per test through the real services: gathering, a dedupe run done in-process, a
redaction, a withholding, a built and released packet with its requester links, department
tasks, uploaders and API tokens for both departments.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from dedupe.models import DuplicateGroup, ItemImage
from records.models import DepartmentTask, Exemption, GatheredItem, Packet, RecordsRequest, Redaction
from records.packet.redact import Box
from records.services import packets, tasking
from records.services.api_tokens import create_token
from records.services.dedupe_runs import start_run
from records.services.intake import gather_files
from records.services.redaction import add_redaction
from records.services.requests import extend_deadline
from records.services.withholding import withhold_item
from tests.dedupe.images import jpeg_bytes, skimage_photo
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request
from tests.factories import RecordsRequestFactory, make_manager, make_uploader


@pytest.fixture(autouse=True)
def _media_in_tmp(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class World:
    clerk: Any
    manager: Any
    uploader_a: Any  # Planning (department A)
    uploader_b: Any  # Public Works (department B)
    token_a: str
    token_b: str
    released: RecordsRequest  # packet built and released; departments no longer see it
    gathering: RecordsRequest  # still gathering: items from A and B, deduplicated
    item_a: GatheredItem
    item_b: GatheredItem
    image_a: ItemImage
    image_b: ItemImage
    group: DuplicateGroup
    packet: Packet
    link_token: str
    revoked_token: str
    expired_token: str
    spare_link_id: int  # a live link the clerk's POSTs may revoke
    redaction: Redaction
    withheld_item: GatheredItem
    task_a: DepartmentTask
    task_b: DepartmentTask


def _dedupe(clerk, rr, queue, capture) -> None:
    with capture(execute=True):
        start_run(actor=clerk, records_request=rr)
    queue.drain()


@pytest.fixture
def world(db, monkeypatch, django_capture_on_commit_callbacks) -> World:
    capture = django_capture_on_commit_callbacks
    queue = InProcessQueue()
    queue.install(monkeypatch)
    clerk, released = gathered_request()
    pln = GatheredItem.objects.get(original_path="coffee.png").department
    pw = GatheredItem.objects.get(original_path="coffee_turned.jpg").department
    # References outside open_request()'s yearly sequence, so the API may open new requests.
    released.reference = "W-RELEASED"
    released.save(update_fields=["reference"])
    _dedupe(clerk, released, queue, capture)
    privacy = Exemption.objects.get(code_section="Gov. Code § 7927.700")
    chelsea = GatheredItem.objects.get(request=released, original_path="chelsea.jpg")
    redaction = add_redaction(actor=clerk, item=chelsea, box=Box(10, 10, 30, 30), exemption=privacy)
    withheld = GatheredItem.objects.get(request=released, original_path="coffee.png")
    withhold_item(actor=clerk, item=withheld, exemption=privacy)
    with capture(execute=False):
        packet = packets.request_build(actor=clerk, records_request=released)
    packets.build(packet.pk)
    issued = packets.release(actor=clerk, packet=packet)
    revoked = packets.issue_new_link(actor=clerk, packet=packet, valid_days=5)
    packets.revoke_link(actor=clerk, link=revoked.link)
    expired = packets.issue_new_link(actor=clerk, packet=packet, valid_days=1)
    expired.link.expires_at = timezone.now() - datetime.timedelta(minutes=1)
    expired.link.save(update_fields=["expires_at"])
    spare = packets.issue_new_link(actor=clerk, packet=packet, valid_days=5)
    packet.refresh_from_db()

    gathering = RecordsRequestFactory(status="gathering", office_of_record=pln, reference="W-GATHERING")
    for department, name, photo in (
        (pln, "parcel.jpg", "rocket.jpg"),
        (pw, "street.jpg", "motorcycle_left.png"),
    ):
        gather_files(
            actor=clerk,
            records_request=gathering,
            department=department,
            files=[(name, io.BytesIO(jpeg_bytes(skimage_photo(photo))))],
        )
    _dedupe(clerk, gathering, queue, capture)
    extend_deadline(actor=clerk, records_request=gathering, days=5, ground="voluminous", reason="Many photos")
    task_a, task_b = sorted(
        tasking.task_departments(
            actor=clerk,
            records_request=gathering,
            departments=[pln, pw],
            due_date=timezone.localdate() + datetime.timedelta(days=3),
        ),
        key=lambda t: t.department.code,
    )
    item_a = GatheredItem.objects.get(request=gathering, department=pln)
    item_b = GatheredItem.objects.get(request=gathering, department=pw)
    return World(
        clerk=clerk,
        manager=make_manager(),
        uploader_a=make_uploader(pln, "uploader-a"),
        uploader_b=make_uploader(pw, "uploader-b"),
        token_a=create_token(actor=None, department=pln, name="Planning GIS").token,
        token_b=create_token(actor=None, department=pw, name="Works field app").token,
        released=released,
        gathering=gathering,
        item_a=item_a,
        item_b=item_b,
        image_a=ItemImage.objects.get(item=item_a),
        image_b=ItemImage.objects.get(item=item_b),
        group=DuplicateGroup.objects.filter(run__request=released).order_by("id").first(),
        packet=packet,
        link_token=issued.token,
        revoked_token=revoked.token,
        expired_token=expired.token,
        spare_link_id=spare.link.pk,
        redaction=redaction,
        withheld_item=withheld,
        task_a=task_a if task_a.department_id == pln.pk else task_b,
        task_b=task_b if task_b.department_id == pw.pk else task_a,
    )
