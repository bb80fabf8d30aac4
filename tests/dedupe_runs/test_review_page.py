"""The review page after a run: unreadable files under their own heading, never offered for
redaction; its actions reachable from a bar that stays in view; single items mergeable."""

import io
import re

import pytest
from django.urls import reverse

from dedupe.models import DuplicateGroup, ItemImage
from records.errors import InvalidInput
from records.models import Department, Exemption
from records.packet.redact import Box
from records.services.intake import gather_files
from records.services.redaction import add_redaction
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request, run_dedupe

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(monkeypatch, django_capture_on_commit_callbacks, client):
    queue = InProcessQueue()
    queue.install(monkeypatch)
    clerk, rr = gathered_request()
    gather_files(
        actor=clerk,
        records_request=rr,
        department=Department.objects.get(code="PD"),
        files=[("notes.txt", io.BytesIO(b"not an image at all"))],
    )
    run_dedupe(clerk, rr, queue, django_capture_on_commit_callbacks)
    client.force_login(clerk)
    return clerk, rr, client


def review_page(client, rr) -> str:
    return client.get(reverse("records:review", args=[rr.reference])).content.decode()


def section(page: str, element_id: str) -> str:
    match = re.search(rf'<section class="card" id="{element_id}".*?</section>', page, re.S)
    assert match, element_id
    return match.group(0)


def test_a_truncated_jpeg_is_listed_with_its_reason_and_not_as_delivered(reviewed):
    _, rr, client = reviewed
    page = review_page(client, rr)
    truncated = ItemImage.objects.get(key="PD/truncated.jpg")
    singles = section(page, "singles")
    assert "truncated.jpg" not in singles and "chelsea.jpg" in singles
    unreadable = section(page, "unreadable")
    assert "PD/truncated.jpg" in unreadable and truncated.unreadable_reason in unreadable
    assert "PD/notes.txt" in unreadable and "refused at intake" in unreadable
    assert "data-redact" not in unreadable  # never offered for redaction
    assert f'data-item="{truncated.item_id}" data-name' not in page


def test_redacting_or_viewing_an_unreadable_file_is_refused(reviewed):
    clerk, rr, client = reviewed
    truncated = ItemImage.objects.get(key="PD/truncated.jpg").item
    exemption = Exemption.objects.filter(active=True).first()
    with pytest.raises(InvalidInput, match="cannot be read as an image"):
        add_redaction(actor=clerk, item=truncated, box=Box(0, 0, 10, 10), exemption=exemption)
    assert client.get(reverse("records:item-view", args=[truncated.pk])).status_code == 404
    refused = rr.items.get(status="refused")
    with pytest.raises(InvalidInput, match="refused at intake"):
        add_redaction(actor=clerk, item=refused, box=Box(0, 0, 10, 10), exemption=exemption)
    chelsea = ItemImage.objects.get(key="PLN/chelsea.jpg").item
    assert client.get(reverse("records:item-view", args=[chelsea.pk])).status_code == 200


def test_the_action_bar_counts_the_groups_and_reaches_the_packet_and_the_unreadable_files(reviewed):
    _, rr, client = reviewed
    page = review_page(client, rr)
    bar = re.search(r"<nav class=\"review-bar\".*?</nav>", page, re.S).group(0)
    assert "<strong>2</strong> groups" in bar
    assert 'data-go="previous"' in bar and 'data-go="next"' in bar
    assert reverse("records:packet", args=[rr.reference]) in bar
    assert 'href="#unreadable"' in bar and re.sub(r"<[^>]+>", "", bar).count("Unreadable files (2)") == 1


def test_the_merge_box_offers_the_items_in_no_group_and_merges_one(reviewed):
    _, rr, client = reviewed
    group = DuplicateGroup.objects.get(authoritative__key="PLN/coffee.png")
    chelsea = ItemImage.objects.get(key="PLN/chelsea.jpg")
    page = review_page(client, rr)
    assert f'<option value="image-{chelsea.pk}">PLN/chelsea.jpg</option>' in page
    truncated = ItemImage.objects.get(key="PD/truncated.jpg")
    assert f'<option value="image-{truncated.pk}"' not in page
    response = client.post(
        reverse("records:review-merge", args=[rr.reference, group.pk]),
        {"target": f"image-{chelsea.pk}", "reason": "the cat is in the case file"},
    )
    assert response.status_code == 302
    member = group.memberships.get(image=chelsea)
    assert member.relation == "clerk_merged"
    page = review_page(client, rr)
    card = re.search(rf'<div class="member[^"]*" data-item="{chelsea.item_id}">.*?</ul>', page, re.S).group(0)
    assert "Joined by a clerk as the same record" in card
    assert "joined by a clerk: the cat is in the case file" in card
    assert "Pixels do not match (correlation" in card and "matched on a closer pixel check" not in card


def test_an_item_in_no_group_is_put_into_a_group_from_its_own_card(reviewed):
    _, rr, client = reviewed
    group = DuplicateGroup.objects.get(authoritative__key="PLN/IMG_20240312_101502.jpg")
    chelsea = ItemImage.objects.get(key="PLN/chelsea.jpg")
    response = client.post(
        reverse("records:review-merge-item", args=[rr.reference, chelsea.pk]),
        {"group": group.pk, "reason": "same file"},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#group-{group.pk}")
    assert group.memberships.filter(image=chelsea, relation="clerk_merged").exists()
