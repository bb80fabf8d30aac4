"""The requester's page behind an expiring link: no login, only the one packet the link opens."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..services import packet_files
from ..services import packets as packet_services

CONTENTS_PAGE_SIZE = 100
# Delivered files a browser may show in place; anything else (a file delivered as received,
# which nobody could open) is only ever downloaded, so it cannot run as a page of this site.
INLINE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif"}


def _gone(request: HttpRequest, exc: packet_services.LinkNotUsable) -> HttpResponse:
    return render(
        request,
        "records/requester_gone.html",
        {"message": exc.message, "office_email": settings.DEFAULT_FROM_EMAIL},
        status=410,
    )


@never_cache
@require_GET
def requester_packet(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = packet_services.resolve_link(token)
    except packet_services.LinkNotUsable as exc:
        return _gone(request, exc)
    packet = link.packet
    # What the requester sees is read from the ZIP they download.
    rows = packet_files.requester_contents(packet, packet_files.read_manifest(packet))
    page = Paginator(rows, CONTENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "records/requester_packet.html",
        {
            "link": link,
            "packet": packet,
            "rr": packet.request,
            "counts": packet.counts,
            "page": page,
            "token": token,
        },
    )


@never_cache
@require_GET
def requester_download(request: HttpRequest, token: str, what: str) -> HttpResponse:
    try:
        link = packet_services.resolve_link(token)
    except packet_services.LinkNotUsable as exc:
        return _gone(request, exc)
    packet = link.packet
    reference = packet.request.reference
    if what == "packet.zip":
        name, filename, content_type, inline = (
            packet.zip_file,
            f"{reference}-packet.zip",
            "application/zip",
            False,
        )
    elif what == "index.pdf":
        name, filename, content_type, inline = (
            packet.index_file,
            f"{reference}-index.pdf",
            "application/pdf",
            True,
        )
    elif what == "letter.pdf":
        name, filename, content_type, inline = (
            packet.letter_file,
            f"{reference}-letter.pdf",
            "application/pdf",
            True,
        )
    else:
        raise Http404("Unknown file.")
    if not name or not default_storage.exists(name):
        raise Http404("This file is missing; contact the office.")
    packet_services.record_download(link, what, request.headers.get("User-Agent", ""))
    return FileResponse(
        default_storage.open(name, "rb"),
        content_type=content_type,
        as_attachment=not inline,
        filename=filename,
    )


@never_cache
@require_GET
def requester_file(request: HttpRequest, token: str, name: str) -> HttpResponse:
    """One delivered file by its Bates name, streamed out of the packet's ZIP, audited."""
    try:
        link = packet_services.resolve_link(token)
    except packet_services.LinkNotUsable as exc:
        return _gone(request, exc)
    delivered = packet_files.open_delivered_file(link.packet, name)
    if delivered is None:
        raise Http404("This packet has no file by that name.")
    packet_services.record_download(link, f"files/{name}", request.headers.get("User-Agent", ""))
    extension = name[name.rfind(".") :].lower() if "." in name else ""
    inline = extension in INLINE_TYPES
    response = FileResponse(
        delivered,
        content_type=INLINE_TYPES.get(extension, "application/octet-stream"),
        as_attachment=not inline,
        filename=name,
    )
    response["Content-Length"] = str(delivered.size)
    return response
