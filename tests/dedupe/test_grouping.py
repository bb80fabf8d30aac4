"""Grouping: verified on pixels, never chained, deterministic, and clerk decisions respected."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from dedupe.core.decisions import ClerkDecisions
from dedupe.core.grouping import group_fingerprints
from dedupe.core.types import Relation
from tests.dedupe.builders import blend, fingerprint_of, form, metadata, reencode, rescan, scene

ORIGINAL = scene(1)
OTHER = scene(2)


def _members(groups) -> list[set[str]]:
    return [set(g.keys) for g in groups]


def test_exact_copy_and_reencode_join_the_original() -> None:
    original = fingerprint_of(ORIGINAL, "police/a.jpg", data=b"bytes-a")
    copy = fingerprint_of(ORIGINAL, "parks/a.jpg", "parks", data=b"bytes-a", uploaded_order=1)
    lower, data = reencode(ORIGINAL, 60)
    reencoded = fingerprint_of(lower, "planning/a.jpg", "planning", data=data, jpeg_quality=60)
    (group,) = group_fingerprints([original, copy, reencoded])
    relations = {m.key: m.relation for m in group.members}
    assert group.authoritative == "police/a.jpg"
    assert relations == {"parks/a.jpg": Relation.EXACT, "planning/a.jpg": Relation.SAME_IMAGE}
    assert "re-encoded at lower quality" in group.members[1].explanation


def test_rotated_copy_joins_its_original() -> None:
    original = fingerprint_of(ORIGINAL, "a.jpg")
    turned = fingerprint_of(ORIGINAL.rotate(90, expand=True), "b.jpg")
    (group,) = group_fingerprints([original, turned])
    (member,) = group.members
    assert member.relation is Relation.SAME_IMAGE and member.rotation in (90, 270)


def test_page_scanned_upside_down_joins_its_original() -> None:
    page = form(["John Smith", "123 Main St", "Pass"])
    original = fingerprint_of(page, "clerk/form.png", fmt="PNG")
    upside_down = fingerprint_of(rescan(page.rotate(180)), "police/scan.jpg")
    (group,) = group_fingerprints([original, upside_down])
    assert group.members[0].rotation == 180


def test_small_crop_and_resize_join_the_original() -> None:
    original = fingerprint_of(ORIGINAL, "a.jpg")
    cropped = fingerprint_of(ORIGINAL.crop((0, 0, 295, 221)), "b.jpg")
    resized = fingerprint_of(ORIGINAL.resize((80, 60)), "c.jpg")
    (group,) = group_fingerprints([original, cropped, resized])
    assert set(group.keys) == {"a.jpg", "b.jpg", "c.jpg"}


def test_two_forms_on_one_template_stay_apart() -> None:
    first = fingerprint_of(form(["John Smith", "123 Main St", "Pass"]), "a.png", fmt="PNG")
    second = fingerprint_of(form(["Maria Garcia", "77 Oak Ave", "Fail"], seed=1), "b.png", fmt="PNG")
    one_word = fingerprint_of(form(["John Smith", "123 Main St", "Fail"]), "c.png", fmt="PNG")
    assert first.document_like
    assert group_fingerprints([first, second, one_word]) == ()


def test_rescanned_form_joins_its_original() -> None:
    page = form(["John Smith", "123 Main St", "Pass"])
    original = fingerprint_of(page, "a.png", fmt="PNG")
    scanned = fingerprint_of(rescan(page), "b.jpg")
    (group,) = group_fingerprints([original, scanned])
    assert group.members[0].relation is Relation.SAME_IMAGE


def test_different_pictures_stay_apart() -> None:
    assert group_fingerprints([fingerprint_of(scene(s), f"{s}.jpg") for s in range(8)]) == ()


def test_chain_a_b_c_with_a_far_from_c_is_not_one_group() -> None:
    # b is a blend between a and c: near enough to each, while a and c are too far apart.
    # a has the most pixels, so it is the authoritative copy of anything it joins.
    a = fingerprint_of(ORIGINAL, "a.jpg")
    b = fingerprint_of(blend(ORIGINAL, OTHER, 0.25).resize((160, 120)), "b.jpg")
    c = fingerprint_of(blend(ORIGINAL, OTHER, 0.5).resize((160, 120)), "c.jpg")
    assert group_fingerprints([a, b]) and group_fingerprints([b, c]) and not group_fingerprints([a, c])
    groups = group_fingerprints([c, b, a])
    assert _members(groups) == [{"a.jpg", "b.jpg"}]


def test_near_blank_pages_are_never_matched_perceptually() -> None:
    white = Image.new("RGB", (850, 1100), (255, 255, 255))
    speck = white.copy()
    speck.putpixel((400, 500), (0, 0, 0))
    blue = Image.new("RGB", (850, 1100), (30, 60, 200))
    fps = [fingerprint_of(im, k) for im, k in ((white, "w.png"), (speck, "s.png"), (blue, "b.png"))]
    assert all(f.low_information for f in fps)
    assert group_fingerprints(fps) == ()
    exact = fingerprint_of(white, "w2.png")
    (group,) = group_fingerprints([*fps, exact])
    assert group.members[0].relation is Relation.SAME_PIXELS


def test_burst_shot_seconds_apart_is_a_near_identical_shot() -> None:
    rng = np.random.default_rng(0)
    shifted = np.roll(np.asarray(ORIGINAL, dtype=float), 2, axis=1) + rng.normal(0, 4, (240, 320, 3))
    burst = Image.fromarray(np.clip(shifted, 0, 255).astype(np.uint8))
    a = fingerprint_of(ORIGINAL, "a.jpg", meta=metadata(datetime(2024, 5, 1, 10, 0, 0)))
    b = fingerprint_of(burst, "b.jpg", meta=metadata(datetime(2024, 5, 1, 10, 0, 3)))
    (group,) = group_fingerprints([a, b])
    assert group.members[0].relation is Relation.NEAR_IDENTICAL_SHOT
    assert "3 s apart" in group.members[0].explanation


def test_distinct_pair_is_never_merged() -> None:
    a = fingerprint_of(ORIGINAL, "a.jpg")
    b = fingerprint_of(reencode(ORIGINAL)[0], "b.jpg")
    c = fingerprint_of(ORIGINAL.resize((160, 120)), "c.jpg")
    decisions = ClerkDecisions(distinct_pairs=ClerkDecisions.pairs([("b.jpg", "c.jpg")]))
    groups = group_fingerprints([a, b, c], decisions=decisions)
    assert not any({"b.jpg", "c.jpg"} <= keys for keys in _members(groups))
    assert any({"a.jpg", "b.jpg"} <= keys for keys in _members(groups))


def test_forced_merge_and_forced_authority_are_honoured() -> None:
    a = fingerprint_of(ORIGINAL, "a.jpg")
    b = fingerprint_of(OTHER, "b.jpg")
    decisions = ClerkDecisions(
        forced_merges=ClerkDecisions.pairs([("a.jpg", "b.jpg")]),
        forced_authority={"a.jpg": "b.jpg"},
        merge_reasons={frozenset(("a.jpg", "b.jpg")): "same incident file"},
    )
    (group,) = group_fingerprints([a, b], decisions=decisions)
    assert (group.authoritative, group.rule) == ("b.jpg", "clerk_override")
    (member,) = group.members
    assert member.relation is Relation.CLERK_MERGED  # never "exact" or "same image": it is not
    assert member.explanation.startswith("joined by a clerk: same incident file; the pictures do not match")


def _corpus() -> list:
    fps = [fingerprint_of(ORIGINAL, "p/a.jpg", data=b"a")]
    fps.append(fingerprint_of(ORIGINAL, "q/a.jpg", data=b"a"))
    fps.append(fingerprint_of(reencode(ORIGINAL)[0], "q/b.jpg"))
    fps.append(fingerprint_of(ORIGINAL.resize((160, 120)), "r/c.jpg"))
    fps.append(fingerprint_of(blend(ORIGINAL, OTHER, 0.15), "r/d.jpg"))
    fps.append(fingerprint_of(OTHER, "r/e.jpg"))
    fps.append(fingerprint_of(reencode(OTHER)[0], "p/f.jpg"))
    fps.append(fingerprint_of(scene(3), "p/g.jpg"))
    return fps


CORPUS = _corpus()


@given(st.permutations(CORPUS))
@settings(max_examples=15, deadline=None)
def test_grouping_is_deterministic_under_input_order(order) -> None:
    assert group_fingerprints(order) == group_fingerprints(CORPUS)


def test_every_item_is_in_at_most_one_group() -> None:
    seen: list[str] = []
    for group in group_fingerprints(CORPUS):
        seen.extend(group.keys)
        assert group.authoritative not in {m.key for m in group.members}
    assert len(seen) == len(set(seen))


def test_half_and_half_blend_of_two_photos_is_a_copy_of_neither() -> None:
    # Regression: the tile check passed a 50/50 blend as a near-identical shot.
    from tests.dedupe.images import skimage_photo

    astronaut = skimage_photo("astronaut.png").resize((256, 256))
    chelsea = skimage_photo("chelsea.png").resize((256, 256))
    mixed = fingerprint_of(Image.blend(astronaut, chelsea, 0.5), "blend.jpg")
    for key, photo in (("astronaut.jpg", astronaut), ("chelsea.jpg", chelsea)):
        assert group_fingerprints([fingerprint_of(photo, key), mixed]) == ()


def test_dates_with_and_without_utc_offset_do_not_stop_grouping() -> None:
    # Regression: a copy whose date carries an offset beside one without raised TypeError.
    from datetime import timedelta, timezone

    pinned = datetime(2024, 3, 12, 10, 0, 5, tzinfo=timezone(timedelta(hours=-7)))
    a = fingerprint_of(ORIGINAL, "a.jpg", meta=metadata(datetime(2024, 3, 12, 10, 0, 0)))
    b = fingerprint_of(ORIGINAL.resize((160, 120)), "b.jpg", meta=metadata(pinned))
    (group,) = group_fingerprints([a, b])
    assert group.members[0].relation is Relation.SAME_IMAGE


def test_candidates_report_each_pair_once_with_every_turn_suggested() -> None:
    # Regression: pairs found by several hash searches were materialised once per search.
    from dedupe.core.search import search_pairs
    from dedupe.core.settings import MatchSettings

    a = fingerprint_of(scene(1), "a.jpg")
    b = fingerprint_of(scene(1), "b.png")
    found = search_pairs([a, b], MatchSettings())
    assert list(zip(found.first.tolist(), found.second.tolist(), strict=True)) == [(0, 1)]
    assert found.rotations[0] & 1  # the plain overlay is always tried


def test_the_coarse_checks_reject_an_unrelated_pair_before_the_full_search() -> None:
    # Regression: every candidate pair ran the 48-px crop search (~12-70 ms a pair).
    from dedupe.core.search import CoarseGate
    from dedupe.core.settings import MatchSettings
    from dedupe.core.verify import verify_pair

    s = MatchSettings()
    a, b = fingerprint_of(scene(1), "a.jpg"), fingerprint_of(scene(2), "b.jpg")
    v = verify_pair(a, b, s)
    assert not v.local_ok and "16-px" in v.detail
    gate = CoarseGate([a, a, b], s.coarse_gate_score)
    assert gate.passes(0, 1, {0})


def test_pairs_verified_elsewhere_give_the_same_groups(monkeypatch) -> None:
    # dedupe.runs spreads a plan's pairs over workers and groups with their results.
    from dedupe.core.plan import plan_candidates, verify_checks

    fps = [
        fingerprint_of(ORIGINAL, "a.jpg"),
        fingerprint_of(ORIGINAL.crop((0, 0, 295, 221)), "b.jpg"),
        fingerprint_of(ORIGINAL.rotate(90, expand=True), "c.jpg"),
        fingerprint_of(ORIGINAL.resize((160, 120)), "d.jpg"),
        fingerprint_of(OTHER, "e.jpg"),
        fingerprint_of(OTHER.resize((200, 150)), "f.jpg"),
        fingerprint_of(scene(3), "g.jpg"),
    ]
    plan = plan_candidates(fps)
    by_key = {f.key: f for f in fps}
    halves = plan.to_verify[::2], plan.to_verify[1::2]  # two workers' shares
    verified = {c: v for share in halves for c, v in zip(share, verify_checks(share, by_key), strict=True)}
    assert verified  # the plan holds pairs to verify
    alone = group_fingerprints(fps)
    import dedupe.core.grouping as grouping
    import dedupe.core.relations as relations

    compared_here = []
    original = grouping.verify_pair
    for module in (grouping, relations):  # where grouping compares pixels itself
        monkeypatch.setattr(
            module, "verify_pair", lambda *args: compared_here.append(args) or original(*args)
        )
    assert group_fingerprints(fps, plan=plan, verified=verified) == alone
    assert compared_here == []  # the plan foresaw every re-check against an authoritative copy
    assert _members(alone) == [{"a.jpg", "b.jpg", "c.jpg", "d.jpg"}, {"e.jpg", "f.jpg"}]


def test_a_plan_made_for_other_fingerprints_is_ignored() -> None:
    from dataclasses import replace

    from dedupe.core.plan import PairCheck, plan_candidates

    fps = [fingerprint_of(ORIGINAL, "a.jpg"), fingerprint_of(ORIGINAL.resize((160, 120)), "b.jpg")]
    stale = plan_candidates(fps[:1])  # made before b.jpg was gathered
    check = PairCheck("a.jpg", "b.jpg", (0,), ((0, 1.0, 1.0, 1.0),))
    wrong = {check: replace(_verification_of(fps), score=0.0, local_ok=False)}
    (group,) = group_fingerprints(fps, plan=stale, verified=wrong)
    assert set(group.keys) == {"a.jpg", "b.jpg"}


def _verification_of(fps):
    from dedupe.core.settings import MatchSettings
    from dedupe.core.verify import verify_pair

    return verify_pair(fps[0], fps[1], MatchSettings())
