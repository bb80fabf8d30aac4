"""A desk that grows: one request with n of everything a list shows, for query-count tests.

`Desk.grow(n)` adds n more of each listed thing, through the services a clerk's actions go
through: requests, each with a completed search; exemptions; pairs of files gathered by two departments (byte-identical, so the
duplicate search makes one group per pair) and a fresh search over them; withholdings;
redaction boxes on one item; department tasks; released packets, each with a requester
link. A list whose query count is the same after grow(2) and after grow(18) more does
not query per row.
"""

from __future__ import annotations

import io
import random

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from dedupe.models import DedupeRun, DuplicateGroup
from records.models import Exemption, GatheredItem, PacketState, RequestStatus
from records.packet.redact import Box
from records.services import packets
from records.services.intake import gather_files
from records.services.redaction import add_redaction
from records.services.tasking import task_departments
from records.services.withholding import withhold_item
from tests.dedupe_runs.helpers import InProcessQueue, run_dedupe
from tests.factories import (
    DedupeRunFactory,
    DepartmentFactory,
    PacketFactory,
    RecordsRequestFactory,
    make_clerk,
    make_uploader,
)

PRIVACY = "Gov. Code § 7927.700"


def noise_png(rng: random.Random, size: int = 48) -> bytes:
    """A picture no other one resembles: random pixels (each pair of copies is its own group)."""
    image = Image.frombytes("RGB", (size, size), rng.randbytes(size * size * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class Desk:
    def __init__(self, queue: InProcessQueue, capture) -> None:
        self.queue, self.capture = queue, capture
        self.rng = random.Random(14)
        self.clerk = make_clerk()
        self.police = DepartmentFactory(code="PD", name="Police")
        self.works = DepartmentFactory(code="PW", name="Public Works")
        self.uploader = make_uploader(self.police)
        self.request = RecordsRequestFactory(status=RequestStatus.GATHERING, office_of_record=self.works)
        self.privacy = Exemption.objects.get(code_section=PRIVACY, active=True)
        self.redacted_item: GatheredItem | None = None
        self.grown = 0

    @property
    def run(self) -> DedupeRun:
        return DedupeRun.objects.filter(request=self.request).latest("pk")

    def grow(self, n: int) -> Desk:
        rr = self.request
        for other in RecordsRequestFactory.create_batch(n):
            DedupeRunFactory(request=other)
        for _ in range(n):
            Exemption.objects.create(
                label=f"Exemption {self.rng.random()}", code_section="Gov. Code § 7920.000"
            )
        for _ in range(n):
            data = noise_png(self.rng)
            name = f"photo-{self.grown:03d}.png"
            for department in (self.police, self.works):
                gather_files(
                    actor=self.clerk,
                    records_request=rr,
                    department=department,
                    files=[(name, io.BytesIO(data))],
                )
            self.grown += 1
        run_dedupe(self.clerk, rr, self.queue, self.capture)
        rr.refresh_from_db()
        assert DuplicateGroup.objects.filter(run=self.run).count() == self.grown, "one group per pair"
        unwithheld = GatheredItem.objects.filter(request=rr, department=self.police, withholding__isnull=True)
        for item in unwithheld.order_by("pk")[:n]:
            withhold_item(actor=self.clerk, item=item, exemption=self.privacy)
        self.redacted_item = (
            self.redacted_item or GatheredItem.objects.filter(request=rr, department=self.works).first()
        )
        for k in range(n):
            add_redaction(
                actor=self.clerk, item=self.redacted_item, box=Box(k, k, 4, 4), exemption=self.privacy
            )
        task_departments(
            actor=self.clerk,
            records_request=rr,
            departments=[DepartmentFactory() for _ in range(n)] + [self.police],
            due_date=timezone.localdate(),
        )
        version = rr.packets.count()
        for k in range(n):
            packet = PacketFactory(request=rr, version=version + k + 1, state=PacketState.RELEASED)
            packets.issue_new_link(actor=self.clerk, packet=packet)
        return self


def queries_of(call) -> int:
    """How many queries `call()` makes."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)
