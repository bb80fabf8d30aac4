"""The packet page: build, preview the index, release, share and revoke the requester's link."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from .. import selectors
from ..errors import ApplicationError
from ..forms import BuildForm, ReleaseForm
from ..models import PacketState, RequesterLink
from ..services import packets as packet_services
from .common import require_clerk, require_staff, visible_request

ISSUED_LINK_SESSION_KEY = "packetdesk_issued_link"


def _remember_link(request: HttpRequest, issued: packet_services.IssuedLink) -> None:
    # Only the hash is stored; the clerk sees the whole link once, on the next page view.
    request.session[ISSUED_LINK_SESSION_KEY] = {
        "url": request.build_absolute_uri(reverse("records:requester-packet", args=[issued.token])),
        "expires": issued.link.expires_at.isoformat(),
        "link": issued.link.pk,
    }


def _issued_link(request: HttpRequest) -> dict | None:
    issued = request.session.pop(ISSUED_LINK_SESSION_KEY, None)
    if issued:
        issued["expires"] = datetime.datetime.fromisoformat(issued["expires"])
    return issued


@login_required
def packet_page(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_staff(request.user)
    packets = list(selectors.packets_visible_to(request.user).filter(request=records_request))
    current = packets[0] if packets else None
    links = list(RequesterLink.objects.filter(packet__in=packets).select_related("packet", "created_by"))
    now = timezone.now()
    return render(
        request,
        "records/packet.html",
        {
            "rr": records_request,
            "packet": current,
            "packets": packets,
            "links": links,
            "issued": _issued_link(request),
            "build_form": BuildForm(),
            "release_form": ReleaseForm(),
            "run": selectors.latest_completed_run(records_request),
            "now": now,
            "blockers": selectors.packet_build_blockers(records_request),
            "changes": selectors.packet_changes_since(current) if current else None,
            "live_versions": sorted(
                {link.packet.version for link in links if link.revoked_at is None and link.expires_at > now}
            ),
        },
    )


@login_required
@require_GET
def packet_state(request: HttpRequest, reference: str) -> JsonResponse:
    records_request = visible_request(request, reference)
    require_staff(request.user)
    packet = selectors.packets_visible_to(request.user).filter(request=records_request).first()
    if packet is None:
        return JsonResponse({"packet": None})
    return JsonResponse(
        {"packet": packet.pk, "version": packet.version, "state": packet.state, "error": packet.error}
    )


@login_required
@require_POST
def packet_build(request: HttpRequest, reference: str) -> HttpResponse:
    records_request = visible_request(request, reference)
    require_clerk(request.user)
    form = BuildForm(request.POST)
    form.is_valid()
    try:
        packet = packet_services.request_build(
            actor=request.user, records_request=records_request, **form.cleaned_data
        )
        messages.info(
            request, f"Building packet version {packet.version}; this page updates when it is ready."
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("records:packet", reference=reference)


def _packet(request: HttpRequest, reference: str, packet_id: int):
    records_request = visible_request(request, reference)
    return get_object_or_404(
        selectors.packets_visible_to(request.user).filter(request=records_request), pk=packet_id
    )


@login_required
@require_POST
def packet_release(request: HttpRequest, reference: str, packet_id: int) -> HttpResponse:
    require_clerk(request.user)
    packet = _packet(request, reference, packet_id)
    form = ReleaseForm(request.POST)
    days = form.cleaned_data["valid_days"] if form.is_valid() else packet_services.DEFAULT_LINK_DAYS
    try:
        issued = packet_services.release(actor=request.user, packet=packet, valid_days=days)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        _remember_link(request, issued)
        messages.success(request, f"Packet version {packet.version} released.")
    return redirect("records:packet", reference=reference)


@login_required
@require_POST
def packet_new_link(request: HttpRequest, reference: str, packet_id: int) -> HttpResponse:
    require_clerk(request.user)
    packet = _packet(request, reference, packet_id)
    form = ReleaseForm(request.POST)
    days = form.cleaned_data["valid_days"] if form.is_valid() else packet_services.DEFAULT_LINK_DAYS
    try:
        _remember_link(
            request, packet_services.issue_new_link(actor=request.user, packet=packet, valid_days=days)
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("records:packet", reference=reference)


@login_required
@require_POST
def link_revoke(request: HttpRequest, reference: str, link_id: int) -> HttpResponse:
    require_clerk(request.user)
    records_request = visible_request(request, reference)
    link = get_object_or_404(
        RequesterLink.objects.filter(
            packet__in=selectors.packets_visible_to(request.user).filter(request=records_request)
        ),
        pk=link_id,
    )
    try:
        packet_services.revoke_link(actor=request.user, link=link)
        messages.success(request, "The link no longer works; the requester sees that it was withdrawn.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("records:packet", reference=reference)


def _stored_file(name: str, filename: str, content_type: str, inline: bool) -> FileResponse:
    if not name or not default_storage.exists(name):
        raise Http404("This file has not been built.")
    return FileResponse(
        default_storage.open(name, "rb"),
        content_type=content_type,
        as_attachment=not inline,
        filename=filename,
    )


@login_required
@require_GET
@xframe_options_sameorigin
def packet_file(request: HttpRequest, reference: str, packet_id: int, what: str) -> FileResponse:
    """The built index (inline, for the preview), letter or ZIP, for the office's staff."""
    require_staff(request.user)
    packet = _packet(request, reference, packet_id)
    if packet.state not in (PacketState.READY, PacketState.RELEASED, PacketState.SUPERSEDED):
        raise Http404("This packet has not been built.")
    if what == "index.pdf":
        return _stored_file(packet.index_file, f"{reference}-index.pdf", "application/pdf", inline=True)
    if what == "letter.pdf":
        return _stored_file(packet.letter_file, f"{reference}-letter.pdf", "application/pdf", inline=True)
    if what == "packet.zip":
        return _stored_file(packet.zip_file, f"{reference}-packet.zip", "application/zip", inline=False)
    raise Http404("Unknown file.")
