"""Gathering a small request of real and generated images, and running dedupe in-process."""

from __future__ import annotations

import datetime
import io
from collections import deque
from collections.abc import Sequence

from django.db.models import F
from PIL import Image

from dedupe import tasks as dedupe_tasks
from dedupe.models import ClerkDecision, DedupeRun
from dedupe.runs.next_steps import NextStep
from dedupe.runs.steps import run_step
from records.models import AuditEvent, GatheredItem, Packet, Redaction, RequesterLink, Withholding
from records.services.dedupe_runs import start_run
from records.services.intake import gather_files
from tests.dedupe.images import exif_rotated_jpeg, jpeg_bytes, png_bytes, skimage_photo
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_clerk


class InProcessQueue:
    """Stands in for the broker in unit tests: the steps a step returns run here, in order, when drained.

    Installed as `dedupe.tasks.sender`, it receives the same `NextStep` values the workers
    would; `pending` and `sent` hold them, each a (step, args) pair.
    """

    def __init__(self):
        self.pending: deque[NextStep] = deque()
        self.sent: list[NextStep] = []

    def install(self, monkeypatch) -> InProcessQueue:
        monkeypatch.setattr(dedupe_tasks, "sender", self)
        return self

    def __call__(self, steps: Sequence[NextStep]) -> None:
        self.pending.extend(steps)
        self.sent.extend(steps)

    def deliver(self, step: NextStep) -> None:
        """Run one step as a worker would, queueing the steps it returns."""
        self(run_step(step))

    def deliver_next(self) -> None:
        self.deliver(self.pending.popleft())

    def drain(self) -> None:
        while self.pending:
            self.deliver_next()


def gathered_request(clerk=None):
    """A request where Planning holds originals and other departments hold copies."""
    clerk = clerk or make_clerk()
    pln = DepartmentFactory(code="PLN", name="Planning")
    pw = DepartmentFactory(code="PW", name="Public Works")
    pd = DepartmentFactory(code="PD", name="Police")
    rr = RecordsRequestFactory(office_of_record=pln, status="gathering")
    astronaut = skimage_photo("astronaut.png")
    coffee = skimage_photo("coffee.png")
    chelsea = skimage_photo("chelsea.png")
    original = jpeg_bytes(astronaut, quality=92)
    half = astronaut.resize((astronaut.width // 2, astronaut.height // 2), Image.Resampling.LANCZOS)
    files = {
        pln: [
            ("IMG_20240312_101502.jpg", original),
            ("coffee.png", png_bytes(coffee)),
            ("chelsea.jpg", jpeg_bytes(chelsea)),
        ],
        pw: [
            ("astronaut_small.jpg", jpeg_bytes(half, quality=70)),
            ("coffee_turned.jpg", exif_rotated_jpeg(coffee)),
        ],
        pd: [("case/astronaut.jpg", original), ("truncated.jpg", original[:2000])],
    }
    for department, named in files.items():
        gather_files(
            actor=clerk,
            records_request=rr,
            department=department,
            files=[(name, io.BytesIO(data)) for name, data in named],
        )
    rr.refresh_from_db()
    return clerk, rr


def as_if_done_days_ago(rr, days: int = 1) -> None:
    """Move everything the request holds back in time, as if it was all done `days` ago."""
    back = datetime.timedelta(days=days)
    DedupeRun.objects.filter(request=rr).update(
        created_at=F("created_at") - back, finished_at=F("finished_at") - back
    )
    Packet.objects.filter(request=rr).update(
        requested_at=F("requested_at") - back,
        built_at=F("built_at") - back,
        generated_at=F("generated_at") - back,
        released_at=F("released_at") - back,
    )
    RequesterLink.objects.filter(packet__request=rr).update(created_at=F("created_at") - back)
    GatheredItem.objects.filter(request=rr).update(uploaded_at=F("uploaded_at") - back)
    ClerkDecision.objects.filter(request=rr).update(decided_at=F("decided_at") - back)
    Withholding.objects.filter(item__request=rr).update(withheld_at=F("withheld_at") - back)
    Redaction.objects.filter(item__request=rr).update(created_at=F("created_at") - back)
    # The trail moves with them (a test's time travel, not an edit: rows are never saved again).
    AuditEvent.objects.filter(request=rr).update(at=F("at") - back)


def run_dedupe(clerk, rr, queue: InProcessQueue, capture):
    """Start a dedupe run of `rr` and run all its steps here, as workers would; the finished run."""
    with capture(execute=True):
        run = start_run(actor=clerk, records_request=rr)
    queue.drain()
    run.refresh_from_db()
    return run


def evidence_snapshot(user, rr) -> list[tuple]:
    """The current groups as the review page, the packet and the manifest read them."""
    from records.selectors import current_groups

    return sorted(
        (
            g.authoritative.key,
            g.rule,
            g.reason,
            tuple(c["description"] for c in g.conflicts),
            tuple(
                (
                    m.image.key,
                    m.relation,
                    m.phash_distance,
                    m.dhash_distance,
                    m.verification_score,
                    m.rotation,
                    m.explanation,
                )
                for m in sorted(g.memberships.all(), key=lambda m: m.image.key)
                if not m.is_authoritative
            ),
        )
        for g in current_groups(user, rr)
    )
