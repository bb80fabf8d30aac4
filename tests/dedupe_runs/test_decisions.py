"""A clerk's override, merge and split: every member is measured again against the group's
authoritative copy at once, the review page and the packet say so, and a re-run agrees."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from dedupe.models import ClerkDecision, DuplicateGroup, ItemImage
from records.errors import InvalidInput
from records.models import Department
from records.packet.prepare import prepare_packet
from records.selectors import latest_completed_run, ungrouped_images
from records.services.decisions import choose_authoritative, merge_groups, merge_item, split_member
from records.services.intake import gather_files
from tests.dedupe.images import jpeg_bytes, skimage_photo
from tests.dedupe_runs.helpers import InProcessQueue, evidence_snapshot, gathered_request, run_dedupe

pytestmark = pytest.mark.django_db

ASTRONAUT = "PLN/IMG_20240312_101502.jpg"
EXACT = "PD/case/astronaut.jpg"
SMALL = "PW/astronaut_small.jpg"


@pytest.fixture
def queue(monkeypatch):
    q = InProcessQueue()
    q.install(monkeypatch)
    return q


@pytest.fixture
def deduplicated(queue, django_capture_on_commit_callbacks):
    clerk, rr = gathered_request()
    run_dedupe(clerk, rr, queue, django_capture_on_commit_callbacks)
    return clerk, rr


def group_of(key: str) -> DuplicateGroup:
    run = DuplicateGroup.objects.order_by("-run_id").values_list("run_id", flat=True).first()
    return DuplicateGroup.objects.get(run_id=run, memberships__image__key=key)


def image(key: str) -> ItemImage:
    return ItemImage.objects.get(key=key)


def packet_items(rr) -> dict:
    prepared = prepare_packet(rr, latest_completed_run(rr))
    return {i.path: i for i in prepared.packet.items}


def rerun_agrees(clerk, rr, queue, capture) -> None:
    decided = evidence_snapshot(clerk, rr)
    run_dedupe(clerk, rr, queue, capture)
    assert evidence_snapshot(clerk, rr) == decided


def test_after_an_override_the_former_authoritative_copy_has_its_evidence_against_the_new_one(
    deduplicated, queue, django_capture_on_commit_callbacks, client
):
    clerk, rr = deduplicated
    chosen = choose_authoritative(
        actor=clerk, group=group_of(ASTRONAUT), image=image(SMALL), reason="the copy the requester saw"
    )
    assert chosen.authoritative.key == SMALL and chosen.rule == "clerk_override"
    members = {m.image.key: m for m in chosen.memberships.all()}
    for former in (ASTRONAUT, EXACT):  # same bytes as each other, not as the new authoritative copy
        assert members[former].relation == "same_image"
        assert members[former].explanation.startswith("same picture resized to 512×512")
        assert members[former].verification_score is not None
    items = packet_items(rr)
    assert items[ASTRONAUT].relation == "same_image" and items[ASTRONAUT].status == "duplicate"
    assert items[SMALL].is_authoritative
    client.force_login(clerk)
    page = client.get(reverse("records:review", args=[rr.reference])).content.decode()
    assert page.count("Same photo, re-saved, resized, slightly cropped or turned") >= 2
    assert "same picture resized to 512×512" in page
    rerun_agrees(clerk, rr, queue, django_capture_on_commit_callbacks)


def test_a_merged_group_is_measured_against_its_authoritative_copy_and_never_called_exact(
    deduplicated, queue, django_capture_on_commit_callbacks
):
    clerk, rr = deduplicated
    merged = merge_groups(
        actor=clerk, into=group_of(ASTRONAUT), other=group_of("PLN/coffee.png"), reason="Same incident file"
    )
    members = {m.image.key: m for m in merged.memberships.all()}
    assert merged.authoritative.key == ASTRONAUT
    for key in ("PLN/coffee.png", "PW/coffee_turned.jpg"):
        assert members[key].relation == "clerk_merged"
        assert members[key].explanation.startswith(
            "joined by a clerk: Same incident file; the pictures do not match"
        )
    assert members[EXACT].relation == "exact" and members[SMALL].relation == "same_image"
    assert packet_items(rr)["PLN/coffee.png"].relation == "clerk_merged"
    assert DuplicateGroup.objects.filter(run=merged.run).count() == 1
    rerun_agrees(clerk, rr, queue, django_capture_on_commit_callbacks)


def test_a_single_item_in_no_group_can_be_merged_into_a_group(
    deduplicated, queue, django_capture_on_commit_callbacks
):
    clerk, rr = deduplicated
    chelsea = image("PLN/chelsea.jpg")
    assert ungrouped_images(clerk, rr).filter(pk=chelsea.pk).exists()
    merged = merge_item(
        actor=clerk, into=group_of("PLN/coffee.png"), image=chelsea, reason="Cat on the same file"
    )
    member = merged.memberships.get(image=chelsea)
    assert member.relation == "clerk_merged"
    assert member.explanation.startswith("joined by a clerk: Cat on the same file;")
    assert not ungrouped_images(clerk, rr).filter(pk=chelsea.pk).exists()
    assert ClerkDecision.objects.filter(kind="merge", second_key="PLN/chelsea.jpg").exists()
    assert packet_items(rr)["PLN/chelsea.jpg"].status == "duplicate"
    rerun_agrees(clerk, rr, queue, django_capture_on_commit_callbacks)


def test_an_unreadable_image_cannot_be_merged(deduplicated):
    clerk, _ = deduplicated
    with pytest.raises(InvalidInput, match="could not be read"):
        merge_item(actor=clerk, into=group_of(ASTRONAUT), image=image("PD/truncated.jpg"), reason="same")


def test_a_split_takes_the_members_exact_copies_with_it_into_a_group_of_their_own(
    queue, django_capture_on_commit_callbacks
):
    clerk, rr = gathered_request()
    pw_bytes = _bytes_of(rr, SMALL)  # Police also holds an exact copy of the small one
    gather_files(
        actor=clerk,
        records_request=rr,
        department=Department.objects.get(code="PD"),
        files=[("small_copy.jpg", io.BytesIO(pw_bytes))],
    )
    run_dedupe(clerk, rr, queue, django_capture_on_commit_callbacks)
    assert {m.image.key for m in group_of(ASTRONAUT).memberships.all()} >= {SMALL, "PD/small_copy.jpg"}
    remaining = split_member(
        actor=clerk, group=group_of(ASTRONAUT), image=image(SMALL), reason="A different print"
    )
    assert {m.image.key for m in remaining.memberships.all()} == {ASTRONAUT, EXACT}
    twins = group_of(SMALL)
    assert twins.pk != remaining.pk
    assert {m.image.key: m.relation for m in twins.memberships.all() if not m.is_authoritative} in (
        {SMALL: "exact"},
        {"PD/small_copy.jpg": "exact"},
    )
    rerun_agrees(clerk, rr, queue, django_capture_on_commit_callbacks)


def test_an_exact_copy_of_the_authoritative_copy_cannot_be_split_from_it(deduplicated):
    clerk, _ = deduplicated
    with pytest.raises(InvalidInput, match="same bytes or pixels as the authoritative copy"):
        split_member(actor=clerk, group=group_of(ASTRONAUT), image=image(EXACT), reason="not the same")


def test_the_last_of_two_overrides_holds_after_a_rerun(
    deduplicated, queue, django_capture_on_commit_callbacks
):
    clerk, rr = deduplicated
    choose_authoritative(actor=clerk, group=group_of(ASTRONAUT), image=image(SMALL), reason="first")
    choose_authoritative(actor=clerk, group=group_of(ASTRONAUT), image=image(EXACT), reason="second thoughts")
    assert group_of(ASTRONAUT).authoritative.key == EXACT
    rerun_agrees(clerk, rr, queue, django_capture_on_commit_callbacks)
    assert group_of(ASTRONAUT).reason == f"chosen by {clerk.username}: second thoughts"


def _bytes_of(rr, key: str) -> bytes:
    (item,) = [i for i in rr.items.all() if i.gathered_path == key]
    with item.blob.file.open("rb") as fh:
        return fh.read()


def test_splitting_out_the_copy_an_override_was_made_over_keeps_the_clerks_choice(
    queue, django_capture_on_commit_callbacks
):
    clerk, rr = gathered_request()
    mid = skimage_photo("astronaut.png").resize((384, 384), Image.Resampling.LANCZOS)
    gather_files(
        actor=clerk,
        records_request=rr,
        department=Department.objects.get(code="PW"),
        files=[("astronaut_mid.jpg", io.BytesIO(jpeg_bytes(mid, quality=80)))],
    )
    run_dedupe(clerk, rr, queue, django_capture_on_commit_callbacks)
    choose_authoritative(
        actor=clerk, group=group_of(ASTRONAUT), image=image(SMALL), reason="the signed print"
    )
    # The choice was made over the original; the clerk then says the original is another record.
    remaining = split_member(
        actor=clerk, group=group_of(SMALL), image=image(ASTRONAUT), reason="another record"
    )
    assert remaining.authoritative.key == SMALL  # not the mid-size copy the rules would pick
    assert remaining.reason == f"chosen by {clerk.username}: the signed print"
    assert {m.image.key for m in remaining.memberships.all()} == {SMALL, "PW/astronaut_mid.jpg"}
    assert {m.image.key for m in group_of(ASTRONAUT).memberships.all()} == {ASTRONAUT, EXACT}
    rerun_agrees(clerk, rr, queue, django_capture_on_commit_callbacks)
