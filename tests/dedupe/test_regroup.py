"""After a clerk's decision, every member is measured again against the group's authoritative copy.

regroup is what a decision calls and group_fingerprints what a run calls; both measure each
member with evidence_against, so the evidence written just after a decision is the
evidence a re-run writes.
"""

from __future__ import annotations

from dedupe.core.decisions import ClerkDecisions
from dedupe.core.grouping import group_fingerprints, regroup
from dedupe.core.relations import evidence_against
from dedupe.core.search import identical_copies
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Relation
from tests.dedupe.builders import fingerprint_of, reencode, scene

PICTURE = scene(21)
S = MatchSettings()


def _copies():
    big = fingerprint_of(PICTURE, "pln/big.jpg", "pln", data=b"big")
    exact = fingerprint_of(PICTURE, "pd/big-copy.jpg", "pd", data=b"big")
    small = fingerprint_of(PICTURE.resize((160, 120)), "pw/small.jpg", "pw", data=b"small")
    lower = fingerprint_of(reencode(PICTURE, 50)[0], "ce/lower.jpg", "ce", data=b"lower", jpeg_quality=50)
    return big, exact, small, lower


def _by_key(group):
    return {m.key: m for m in group.members}


def test_exact_is_said_only_of_the_same_bytes() -> None:
    big, exact, small, _ = _copies()
    assert evidence_against(big, exact, S).relation is Relation.EXACT
    assert evidence_against(small, exact, S).relation is Relation.SAME_IMAGE


def test_after_an_override_the_former_authoritative_copy_is_measured_against_the_new_one() -> None:
    copies = _copies()
    (before,) = group_fingerprints(copies)
    assert before.authoritative in ("pd/big-copy.jpg", "pln/big.jpg")
    override = ClerkDecisions(forced_authority={before.authoritative: "pw/small.jpg"})
    (after,) = regroup(copies, decisions=override)
    assert (after.authoritative, after.rule) == ("pw/small.jpg", "clerk_override")
    members = _by_key(after)
    assert set(members) == {"pln/big.jpg", "pd/big-copy.jpg", "ce/lower.jpg"}
    for key in ("pln/big.jpg", "pd/big-copy.jpg"):  # exact copies of each other, not of the authority
        assert members[key].relation is Relation.SAME_IMAGE
        assert members[key].explanation.startswith("same picture resized to 320×240")
    assert regroup(copies, decisions=override) == group_fingerprints(copies, decisions=override)


def test_a_merged_copy_that_does_not_match_says_a_clerk_joined_it_with_their_reason() -> None:
    big, exact, small, lower = _copies()
    stranger = fingerprint_of(scene(22), "pd/other.jpg", "pd", data=b"other")
    merged = ClerkDecisions(
        forced_merges=ClerkDecisions.pairs([("pln/big.jpg", "pd/other.jpg")]),
        merge_reasons={frozenset(("pln/big.jpg", "pd/other.jpg")): "same incident, other angle"},
    )
    copies = [big, exact, small, lower, stranger]
    (group,) = regroup(copies, decisions=merged)
    member = _by_key(group)["pd/other.jpg"]
    assert member.relation is Relation.CLERK_MERGED
    assert member.explanation.startswith(
        "joined by a clerk: same incident, other angle; the pictures do not match:"
    )
    assert member.verification_score < S.near_identical_score
    assert regroup(copies, decisions=merged) == group_fingerprints(copies, decisions=merged)


def test_copies_merged_through_a_member_admitted_later_still_join() -> None:
    # The merge links the stranger to ce/lower.jpg, looked at after the stranger (key order).
    big, exact, small, lower = _copies()
    stranger = fingerprint_of(scene(23), "a/stranger.jpg", "a", data=b"stranger")
    merged = ClerkDecisions(forced_merges=ClerkDecisions.pairs([("ce/lower.jpg", "a/stranger.jpg")]))
    (group,) = group_fingerprints([big, exact, small, lower, stranger], decisions=merged)
    assert _by_key(group)["a/stranger.jpg"].relation is Relation.CLERK_MERGED


def test_a_split_copy_takes_its_exact_copies_with_it_and_they_form_their_own_group() -> None:
    big, exact, small, lower = _copies()
    small_twin = fingerprint_of(PICTURE.resize((160, 120)), "pd/small-twin.jpg", "pd", data=b"small")
    copies = [big, exact, small, lower, small_twin]
    moving = identical_copies("pw/small.jpg", copies)
    assert {f.key for f in moving} == {"pw/small.jpg", "pd/small-twin.jpg"}
    split = ClerkDecisions(
        distinct_pairs=ClerkDecisions.pairs((m.key, o.key) for m in moving for o in (big, exact, lower))
    )
    groups = regroup(copies, decisions=split)
    assert sorted(sorted(g.keys) for g in groups) == [
        ["ce/lower.jpg", "pd/big-copy.jpg", "pln/big.jpg"],
        ["pd/small-twin.jpg", "pw/small.jpg"],
    ]
    twins = next(g for g in groups if "pw/small.jpg" in g.keys)
    assert twins.members[0].relation is Relation.EXACT
    assert groups == group_fingerprints(copies, decisions=split)


def test_the_last_override_decided_is_the_one_that_applies() -> None:
    copies = _copies()
    first_then_second = ClerkDecisions(
        forced_authority={"pln/big.jpg": "pw/small.jpg", "pw/small.jpg": "ce/lower.jpg"}
    )
    (group,) = regroup(copies, decisions=first_then_second)
    assert group.authoritative == "ce/lower.jpg"
    back_again = ClerkDecisions(
        forced_authority={"pw/small.jpg": "ce/lower.jpg", "pln/big.jpg": "pw/small.jpg"}
    )
    (group,) = regroup(copies, decisions=back_again)
    assert group.authoritative == "pw/small.jpg"


def test_a_member_that_does_not_verify_against_a_new_authority_leaves_unless_merged() -> None:
    # The clerk makes a stranger merged earlier the authoritative copy: nothing else verifies
    # against it, and only what a clerk merged stays.
    big, exact, small, lower = _copies()
    stranger = fingerprint_of(scene(24), "pd/other.jpg", "pd", data=b"other")
    decisions = ClerkDecisions(
        forced_merges=ClerkDecisions.pairs([("pln/big.jpg", "pd/other.jpg")]),
        forced_authority={"pln/big.jpg": "pd/other.jpg"},
    )
    copies = [big, exact, small, lower, stranger]
    groups = regroup(copies, decisions=decisions)
    assert groups == group_fingerprints(copies, decisions=decisions)
    with_stranger = next(g for g in groups if g.authoritative == "pd/other.jpg")
    assert {"pln/big.jpg", "pd/big-copy.jpg"} <= set(with_stranger.keys)
    assert "pw/small.jpg" not in with_stranger.keys
