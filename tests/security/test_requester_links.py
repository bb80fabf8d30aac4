"""The requester's link token cannot be guessed or enumerated, and stops working when withdrawn.

Entropy: the token is `secrets.token_urlsafe(32)`: 32 bytes from the operating system's
CSPRNG, i.e. 256 bits, written as 43 URL-safe base64 characters (6 bits each, 43 x 6 >=
256). Guessing one live link among a million at a billion tries a second takes ~10^56
years. Only the token's SHA-256 is stored, so a database dump opens no packet; the page
answers an unknown, revoked or expired token alike with 410 and no hint of which exist.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from records.models import AuditEvent, RequesterLink
from records.services import packets

pytestmark = pytest.mark.django_db

URL_SAFE = re.compile(r"^[A-Za-z0-9_-]{43,}$")


def test_the_token_is_256_random_bits_from_token_urlsafe(world, monkeypatch):
    assert packets.LINK_TOKEN_BYTES * 8 >= 256
    drawn = []
    real = secrets.token_urlsafe

    def spy(nbytes=None):
        drawn.append(nbytes)
        return real(nbytes)

    monkeypatch.setattr(packets.secrets, "token_urlsafe", spy)
    issued = packets.issue_new_link(actor=world.clerk, packet=world.packet, valid_days=3)
    assert drawn == [32]
    assert URL_SAFE.match(issued.token) and len(issued.token) >= math.ceil(256 / 6) == 43
    assert issued.token in reverse("records:requester-packet", args=[issued.token])  # no escaping needed


def test_only_the_tokens_sha256_is_stored(world):
    issued = packets.issue_new_link(actor=world.clerk, packet=world.packet, valid_days=3)
    link = RequesterLink.objects.get(pk=issued.link.pk)
    assert link.token_sha256 == hashlib.sha256(issued.token.encode()).hexdigest()
    stored = " ".join(str(v) for v in RequesterLink.objects.filter(pk=link.pk).values().get().values())
    assert issued.token not in stored


def test_tokens_do_not_repeat_or_share_a_prefix(world):
    tokens = [
        packets.issue_new_link(actor=world.clerk, packet=world.packet, valid_days=1).token for _ in range(50)
    ]
    assert len(set(tokens)) == 50
    assert len({t[:8] for t in tokens}) == 50


def test_a_revoked_or_expired_link_answers_410_on_every_page(world):
    client = Client()
    for token in (world.revoked_token, world.expired_token, secrets.token_urlsafe(32)):
        page = client.get(reverse("records:requester-packet", args=[token]))
        assert page.status_code == 410
        for what in ("index.pdf", "packet.zip"):
            assert client.get(reverse("records:requester-download", args=[token, what])).status_code == 410
    live = client.get(reverse("records:requester-packet", args=[world.link_token]))
    assert live.status_code == 200
    packets.revoke_link(
        actor=world.clerk, link=RequesterLink.objects.get(token_sha256=_digest(world.link_token))
    )
    assert client.get(reverse("records:requester-packet", args=[world.link_token])).status_code == 410
    downloads = client.get(reverse("records:requester-download", args=[world.link_token, "packet.zip"]))
    assert downloads.status_code == 410


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ------------------------------------------------- what the link hands out (issue 21, point 4)


def _zip_member(packet, suffix: str) -> tuple[str, bytes]:
    from django.core.files.storage import default_storage

    with default_storage.open(packet.zip_file, "rb") as fh, zipfile.ZipFile(fh) as zf:
        name = next(n for n in zf.namelist() if n.endswith(suffix))
        return name, zf.read(name)


def _downloads(link_token: str) -> list[str]:
    link = RequesterLink.objects.get(token_sha256=_digest(link_token))
    return [
        e.details["what"]
        for e in AuditEvent.objects.filter(verb="packet_downloaded", details__link=link.pk).order_by("id")
    ]


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_requester_opens_the_letter_and_the_index_through_their_link(world):
    from django.core.files.storage import default_storage

    client = Client()
    for what, stored in (("letter.pdf", world.packet.letter_file), ("index.pdf", world.packet.index_file)):
        answer = client.get(reverse("records:requester-download", args=[world.link_token, what]))
        assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
        with default_storage.open(stored, "rb") as fh:
            assert _body(answer) == fh.read()
    assert _downloads(world.link_token) == ["letter.pdf", "index.pdf"]
    assert RequesterLink.objects.get(token_sha256=_digest(world.link_token)).downloads == 2


def test_the_requester_downloads_one_delivered_file_by_its_bates_name_bytes_as_packed(world):
    member, packed = _zip_member(world.packet, f"/data/files/{world.packet.bates_first}.jpg")
    name = member.rsplit("/", 1)[1]
    answer = Client().get(reverse("records:requester-file", args=[world.link_token, name]))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/jpeg" and answer["Content-Length"] == str(len(packed))
    assert answer.streaming and _body(answer) == packed
    assert _downloads(world.link_token) == [f"files/{name}"]


def test_a_revoked_expired_or_unknown_link_answers_410_for_the_letter_the_index_and_every_file(world):
    client = Client()
    name = f"{world.packet.bates_first}.jpg"
    for token in (world.revoked_token, world.expired_token, secrets.token_urlsafe(32)):
        for what in ("letter.pdf", "index.pdf", "packet.zip"):
            assert client.get(reverse("records:requester-download", args=[token, what])).status_code == 410
        assert client.get(reverse("records:requester-file", args=[token, name])).status_code == 410
    assert not AuditEvent.objects.filter(verb="packet_downloaded").exists()


def test_a_bates_name_this_packet_does_not_hold_answers_404(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        other = packets.request_build(actor=world.clerk, records_request=world.gathering)
    packets.build(other.pk)
    other.refresh_from_db()
    other_member, _ = _zip_member(other, f"/data/files/{other.bates_first}.jpg")
    assert other.bates_first.startswith("W-GATHERING")
    client = Client()
    last = int(world.packet.bates_last.rsplit("-", 1)[1])
    for name in (
        other_member.rsplit("/", 1)[1],  # another packet's file
        f"{world.packet.bates_last[:-6]}{last + 1:06d}.jpg",  # past this packet's range
        f"{world.packet.bates_first}.png",  # the right number, another extension
        world.packet.bates_first,  # no extension
        "manifest.json",
        "..",
        "%2e%2e",
    ):
        answer = client.get(reverse("records:requester-file", args=[world.link_token, name]))
        assert answer.status_code == 404, name
    assert client.get(f"/p/{world.link_token}/files/../data/manifest.json").status_code == 404
    assert _downloads(world.link_token) == []


def test_the_contents_list_names_departments_in_plain_words_and_links_each_delivered_file(world):
    from records.services.packet_files import delivered_names
    from records.wording import relation_plain

    page = Client().get(reverse("records:requester-packet", args=[world.link_token]))
    html = page.content.decode()
    departments = re.findall(r'<td data-label="Department">([^<]*)</td>', html)
    assert set(departments) == {"Planning", "Public Works", "Police"}
    assert "hash bits" not in html and "of 64" not in html and "agreement" not in html
    first = world.packet.bates_first
    assert f"duplicate of {first}: {relation_plain('exact')}" in html
    assert re.search(r"withheld: [^<]+ \(Gov\. Code § 7927\.700\)</td>", html)
    assert re.search(r"delivered with 1 part blacked out: [^<]+ \(Gov\. Code § 7927\.700\)</td>", html)
    assert "Not delivered (rule &quot;not_delivered&quot;)" in html  # the truncated JPEG
    files = delivered_names(world.packet)
    links = re.findall(r'href="/p/[^/"]+/files/([^"]+)"', html)
    assert sorted(links) == sorted(files.values()) and len(links) == world.packet.counts["delivered"]
    assert reverse("records:requester-download", args=[world.link_token, "letter.pdf"]) in html


def test_downloads_are_counted_in_the_database_not_from_a_stale_copy_of_the_link(world):
    # Two downloads at one moment both hold the link as it was read; each must still count.
    from records.services.packets import record_download, resolve_link

    first, second = resolve_link(world.link_token), resolve_link(world.link_token)
    record_download(first, "index.pdf")
    record_download(second, "letter.pdf")
    assert RequesterLink.objects.get(token_sha256=_digest(world.link_token)).downloads == 2
