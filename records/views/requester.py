"""The requester's page behind an expiring link: no login, only the one packet the link opens."""

from __future__ import annotations

import json
import zipfile

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..services import packets as packet_services

CONTENTS_PAGE_SIZE = 100


def _gone(request: HttpRequest, exc: packet_services.LinkNotUsable) -> HttpResponse:
    return render(
        request,
        "records/requester_gone.html",
        {"message": exc.message, "office_email": settings.DEFAULT_FROM_EMAIL},
        status=410,
    )


def _manifest(packet) -> dict:
    """manifest.json as packed in the packet's ZIP (the requester sees what they download)."""
    try:
        with default_storage.open(packet.zip_file, "rb") as fh, zipfile.ZipFile(fh) as zf:
            name = next((n for n in zf.namelist() if n.endswith("/data/manifest.json")), None)
            return json.loads(zf.read(name)) if name else {}
    except (OSError, zipfile.BadZipFile, ValueError):
        return {}


@never_cache
@require_GET
def requester_packet(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = packet_services.resolve_link(token)
    except packet_services.LinkNotUsable as exc:
        return _gone(request, exc)
    packet = link.packet
    items = _manifest(packet).get("items", [])
    page = Paginator(items, CONTENTS_PAGE_SIZE).get_page(request.GET.get("page"))
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
