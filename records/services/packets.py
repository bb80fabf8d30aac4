"""Building, releasing and sharing a request's packet; the requester's expiring link.

A build runs in a worker (it reads every delivered file) and stores the ZIP, the index
and the letter through Django's storage. Release gives the requester a link holding 256
random bits; only its SHA-256 is kept, and it stops working when revoked or expired.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from .. import selectors
from ..blobstore import stored_name
from ..errors import ApplicationError, Conflict
from ..models import (
    Blob,
    GatheredItem,
    Packet,
    PacketState,
    RecordsRequest,
    RequesterLink,
    RequestStatus,
)
from ..packet.data import Packet as PacketData
from ..roles import User, require_clerk, signed_in_user
from .audit import record_event
from .requests import move_status

if TYPE_CHECKING:
    from dedupe.models import DedupeRun

LINK_TOKEN_BYTES = 32  # 256 bits: not guessable, not enumerable
DEFAULT_LINK_DAYS = 30


class LinkNotUsable(ApplicationError):
    http_status = 410


_CLERK_ONLY = "Only a clerk can build or release packets."


def _latest_run(records_request: RecordsRequest) -> DedupeRun | None:
    from dedupe.models import DedupeRun, RunState

    return (
        DedupeRun.objects.filter(request=records_request, state=RunState.COMPLETED)
        .order_by("-finished_at", "-id")
        .first()
    )


def request_build(
    *, actor: User, records_request: RecordsRequest, every_copy: bool = False, load_files: bool = False
) -> Packet:
    """Queue a build of the packet from the latest duplicate search and the clerk's decisions."""
    require_clerk(actor, _CLERK_ONLY)
    # The packet page shows the same blockers before the clerk presses Build.
    blockers = selectors.packet_build_blockers(records_request)
    if blockers:
        first = blockers[0]
        raise Conflict(
            first.message,
            code=first.code,
            details={"items": [{"id": i.id, "where": i.where} for i in first.items]},
        )
    with transaction.atomic():
        locked = RecordsRequest.objects.select_for_update().get(pk=records_request.pk)
        if locked.packets.filter(state=PacketState.BUILDING).exists():
            raise Conflict("A packet is already being built for this request.", code="packet_building")
        version = (locked.packets.aggregate(v=Max("version"))["v"] or 0) + 1
        packet = Packet.objects.create(
            request=locked,
            version=version,
            every_copy=every_copy,
            load_files=load_files,
            built_by=signed_in_user(actor),
            requested_at=timezone.now(),
        )
        record_event(
            actor=actor, verb="packet_requested", obj=packet, request=locked, details={"version": version}
        )
        transaction.on_commit(lambda: _dispatch_build(packet.pk))
    return packet


# Sends a build to a worker: records.tasks.build_packet, registered when the app is ready
# (records/apps.py), so this module does not import the task module that calls it.
_send_build: Callable[[int], None] | None = None


def register_build_sender(send: Callable[[int], None]) -> None:
    global _send_build
    _send_build = send


def _dispatch_build(packet_id: int) -> None:
    if _send_build is None:
        raise ImproperlyConfigured("No packet build sender is registered (records registers one when ready).")
    _send_build(packet_id)


def _local_copy(blob: Blob, stack: contextlib.ExitStack) -> str:
    name = stored_name(blob)
    try:
        return default_storage.path(name)
    except NotImplementedError:
        tmp = stack.enter_context(tempfile.NamedTemporaryFile(suffix=Path(name).suffix))  # noqa: SIM115
        with default_storage.open(name, "rb") as src:
            while chunk := src.read(1024 * 1024):
                tmp.write(chunk)
        tmp.flush()
        return tmp.name


def build(packet_id: int) -> None:
    """Render and store the packet (idempotent: a finished build is left as it is)."""
    from dedupe.core.types import page_of_key
    from records.packet.delivered import as_delivered
    from records.packet.prepare import prepare_packet
    from records.services.redaction import delivered_copy_path

    packet = Packet.objects.select_related("request").get(pk=packet_id)
    if packet.state != PacketState.BUILDING:
        return
    records_request = packet.request
    run = _latest_run(records_request)
    # request_build refuses a request without a completed run (packet_build_blockers).
    assert run is not None
    prepared = prepare_packet(records_request, run, every_copy=packet.every_copy)
    items = {i.pk: i for i in GatheredItem.objects.filter(request=records_request).select_related("blob")}
    with contextlib.ExitStack() as stack:
        # Copies made for an item (a page alone, a redacted copy) first: their own SHA-256
        # goes into the index and the manifest.
        sources: dict[str, str] = {}
        originals: dict[int, str] = {}  # one local copy per file, whatever its page count
        delivered_items = []
        for item in prepared.packet.items:
            if item.bates:
                stored = items[prepared.item_ids[item.path]]
                if stored.pk not in originals:
                    # A numbered item is delivered, so it has bytes: only a refusal without them has no blob.
                    assert stored.blob is not None
                    originals[stored.pk] = _local_copy(stored.blob, stack)
                original = originals[stored.pk]
                # A refused file delivered as received (PACKETDESK_UNREADABLE_FILES) has no pages.
                page = 0 if item.status == "refused" else page_of_key(item.path)
                copy = delivered_copy_path(stored, page, original, stack)
                sources[item.path] = copy or original
                if copy is not None:
                    # A page alone or a burned copy: JPEG or PNG whatever the original was.
                    item = as_delivered(item, Path(copy))
            delivered_items.append(item)
        data = dataclasses.replace(prepared.packet, items=tuple(delivered_items))
        zip_name, index_name, letter_name, digest, zip_size = _render_and_store(packet, data, sources, stack)
    _mark_ready(packet_id, data, zip_name, index_name, letter_name, digest, zip_size)


def _render_and_store(
    packet: Packet, data: PacketData, sources: dict[str, str], stack: contextlib.ExitStack
) -> tuple[str, str, str, str, int]:
    from records.packet.bag import bag_name, packet_documents, write_packet_zip

    records_request = packet.request
    documents = packet_documents(data, load_files=packet.load_files)
    folder = f"packets/{records_request.reference}/v{packet.version}"
    delivered = [(f"{item.bates}{item.extension}", sources[item.path]) for item in data.items if item.bates]
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="packetdesk-packet-")))
    zip_path = workdir / f"{bag_name(records_request.reference)}.zip"
    digest = write_packet_zip(zip_path, data, delivered, documents)
    with open(zip_path, "rb") as fh:
        zip_name = default_storage.save(f"{folder}/{zip_path.name}", File(fh))
    index_name = default_storage.save(f"{folder}/index.pdf", ContentFile(documents["index.pdf"]))
    letter_name = default_storage.save(f"{folder}/letter.pdf", ContentFile(documents["letter.pdf"]))
    return zip_name, index_name, letter_name, digest, zip_path.stat().st_size


def _mark_ready(
    packet_id: int,
    data: PacketData,
    zip_name: str,
    index_name: str,
    letter_name: str,
    digest: str,
    zip_size: int,
) -> None:
    counts = data.counts
    bates = data.bates_range() or ("", "")
    with transaction.atomic():
        locked = Packet.objects.select_for_update().select_related("request").get(pk=packet_id)
        records_request = locked.request
        if locked.state != PacketState.BUILDING:
            return
        locked.state = PacketState.READY
        locked.built_at = timezone.now()
        locked.generated_at = (
            timezone.make_aware(data.generated_at)
            if timezone.is_naive(data.generated_at)
            else data.generated_at
        )
        locked.zip_file, locked.index_file, locked.letter_file = zip_name, index_name, letter_name
        locked.zip_sha256, locked.zip_bytes = digest, zip_size
        locked.bates_first, locked.bates_last = bates
        locked.counts = {
            "gathered": counts.gathered,
            "delivered": counts.delivered,
            "exact_duplicates": counts.exact_duplicates,
            "near_duplicates": counts.near_duplicates,
            "withheld": counts.withheld,
            "redacted": counts.redacted,
            "redactions": counts.redactions,
            "unreadable": counts.unreadable,
            "bytes_gathered": counts.bytes_gathered,
            "bytes_saved": counts.bytes_saved,
        }
        locked.save()
        record_event(
            actor=None,
            verb="packet_built",
            obj=locked,
            request=records_request,
            details={"version": locked.version, "zip_sha256": digest, **locked.counts},
        )


def fail_build(packet_id: int, error: str) -> None:
    with transaction.atomic():
        packet = Packet.objects.select_for_update().select_related("request").get(pk=packet_id)
        if packet.state != PacketState.BUILDING:
            return
        packet.state = PacketState.FAILED
        packet.error = error[:2000]
        packet.save(update_fields=["state", "error"])
        record_event(
            actor=None, verb="packet_failed", obj=packet, request=packet.request, details={"error": error}
        )


@dataclass(frozen=True)
class IssuedLink:
    link: RequesterLink
    token: str  # shown once; only its hash is stored


def _issue_link(actor: User, packet: Packet, valid_days: int) -> IssuedLink:
    token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    now = timezone.now()
    link = RequesterLink.objects.create(
        packet=packet,
        token_sha256=hashlib.sha256(token.encode()).hexdigest(),
        created_by=signed_in_user(actor),
        created_at=now,
        expires_at=now + datetime.timedelta(days=valid_days),
    )
    return IssuedLink(link=link, token=token)


@transaction.atomic
def release(*, actor: User, packet: Packet, valid_days: int = DEFAULT_LINK_DAYS) -> IssuedLink:
    """Release a built packet to the requester and issue their link."""
    require_clerk(actor, _CLERK_ONLY)
    packet = Packet.objects.select_for_update().select_related("request").get(pk=packet.pk)
    if packet.state != PacketState.READY:
        raise Conflict(
            f"Only a built packet can be released; this one is {packet.get_state_display().lower()}."
        )
    newest = packet.request.packets.order_by("-version").first()
    if newest is not None and newest.pk != packet.pk:
        raise Conflict("A newer build of this packet exists; release that one.", code="packet_superseded")
    packet.state = PacketState.RELEASED
    packet.released_at = timezone.now()
    packet.released_by = signed_in_user(actor)
    packet.save()
    if packet.request.status == RequestStatus.IN_REVIEW:
        move_status(
            actor=actor,
            records_request=packet.request,
            to_status=RequestStatus.RELEASED,
            note=f"packet v{packet.version} released",
        )
    issued = _issue_link(actor, packet, valid_days)
    record_event(
        actor=actor,
        verb="packet_released",
        obj=packet,
        request=packet.request,
        details={
            "version": packet.version,
            "link": issued.link.pk,
            "expires_at": issued.link.expires_at.isoformat(),
        },
    )
    return issued


@transaction.atomic
def issue_new_link(*, actor: User, packet: Packet, valid_days: int = DEFAULT_LINK_DAYS) -> IssuedLink:
    """Another link to a released packet (e.g. after revoking one that was forwarded)."""
    require_clerk(actor, _CLERK_ONLY)
    packet = Packet.objects.select_related("request").get(pk=packet.pk)
    if packet.state != PacketState.RELEASED:
        raise Conflict("Release the packet before sharing it.")
    issued = _issue_link(actor, packet, valid_days)
    record_event(
        actor=actor,
        verb="link_issued",
        obj=packet,
        request=packet.request,
        details={"link": issued.link.pk, "expires_at": issued.link.expires_at.isoformat()},
    )
    return issued


@transaction.atomic
def revoke_link(*, actor: User, link: RequesterLink) -> RequesterLink:
    require_clerk(actor, _CLERK_ONLY)
    link = RequesterLink.objects.select_for_update().select_related("packet__request").get(pk=link.pk)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.revoked_by = signed_in_user(actor)
        link.save(update_fields=["revoked_at", "revoked_by"])
        record_event(
            actor=actor,
            verb="link_revoked",
            obj=link.packet,
            request=link.packet.request,
            details={"link": link.pk},
        )
    return link


def resolve_link(token: str) -> RequesterLink:
    """The link a token opens, or a plain explanation of why it no longer does."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    link = RequesterLink.objects.select_related("packet__request").filter(token_sha256=digest).first()
    if link is None:
        raise LinkNotUsable("This link is not valid. Check that it was copied whole.", code="link_unknown")
    if link.revoked_at is not None:
        raise LinkNotUsable(
            f"This link was withdrawn on {timezone.localtime(link.revoked_at):%B %-d, %Y}. "
            f"Contact the {settings.PACKETDESK_OFFICE_NAME} for a new one.",
            code="link_revoked",
        )
    if link.expires_at <= timezone.now():
        raise LinkNotUsable(
            f"This link expired on {timezone.localtime(link.expires_at):%B %-d, %Y}. "
            f"Contact the {settings.PACKETDESK_OFFICE_NAME} for a new one.",
            code="link_expired",
        )
    return link


def record_download(link: RequesterLink, what: str, client: str = "") -> None:
    """Audit a requester's download (counted per link, in the database: two downloads at one
    moment must count twice, not both write the count they read)."""
    now = timezone.now()
    RequesterLink.objects.filter(pk=link.pk).update(downloads=F("downloads") + 1, last_used_at=now)
    record_event(
        actor=None,
        actor_label="requester",
        verb="packet_downloaded",
        obj=link.packet,
        request=link.packet.request,
        details={"what": what, "link": link.pk, "client": client[:200]},
    )
