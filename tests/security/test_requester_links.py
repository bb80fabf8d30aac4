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

import pytest
from django.test import Client
from django.urls import reverse

from records.models import RequesterLink
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
