"""How one copy relates to another, and the evidence a group member carries for it.

A verified pair is the same image or a near-identical shot (another moment: a burst, or
camera dates further apart than one photo's copies can be); the same bytes are an exact
copy and the same pixels a same-pixels copy, whatever else differs. The evidence (hash
distances, pixel score, turn and a sentence) is always measured against the group's
authoritative copy, by a run and by a clerk's decision alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from dedupe.core.conflicts import duration_words, from_camera_clock
from dedupe.core.ocr import turn_words
from dedupe.core.settings import MatchSettings
from dedupe.core.types import Fingerprint, MemberEvidence, Relation
from dedupe.core.verify import Verification, verify_pair

__all__ = ["evidence_against", "relation_between"]


# ---------------------------------------------------------------- camera-clock rules


def _seconds_apart(a: Fingerprint, b: Fingerprint) -> float | None:
    ca, cb = a.metadata.capture, b.metadata.capture
    if not (ca.is_known and cb.is_known) or ca.weak or cb.weak:
        return None
    when_a, when_b = ca.value, cb.value
    assert when_a is not None and when_b is not None
    if (when_a.tzinfo is None) != (when_b.tzinfo is None):
        # One date is pinned to UTC (an offset tag, GPS time), the other is local wall-clock
        # time in an unknown zone: hours apart or equal, nobody can tell, so say unknown.
        return None
    return abs((when_a - when_b).total_seconds())


def _camera_seconds_apart(a: Fingerprint, b: Fingerprint) -> float | None:
    """Seconds between the two capture dates when both are the camera's own clock's."""
    if not (from_camera_clock(a) and from_camera_clock(b)):
        return None
    return _seconds_apart(a, b)


def _other_moment_by_camera(a: Fingerprint, b: Fingerprint, s: MatchSettings) -> float | None:
    """The seconds between the camera dates when they say two moments (see MatchSettings)."""
    apart = _camera_seconds_apart(a, b)
    return apart if apart is not None and apart > s.same_photo_max_seconds_apart else None


# ---------------------------------------------------------------- relations


def relation_between(
    ref: Fingerprint, other: Fingerprint, v: Verification, s: MatchSettings
) -> Relation | None:
    """How `other` relates to `ref` given its verification, or None when it does not match."""
    if not v.local_ok or v.score < s.near_identical_score:
        return None
    apart = _seconds_apart(ref, other)
    another_moment = apart is not None and 1.0 <= apart <= s.burst_max_seconds
    another_moment = another_moment or _other_moment_by_camera(ref, other, s) is not None
    if v.score >= s.same_image_score and not another_moment:
        return Relation.SAME_IMAGE
    return Relation.NEAR_IDENTICAL_SHOT


# ---------------------------------------------------------------- evidence


def _hash_distances(ref: Fingerprint, other: Fingerprint, rotation: int) -> tuple[int, int | None]:
    if rotation == 0:
        return (ref.phash ^ other.phash).bit_count(), (ref.dhash ^ other.dhash).bit_count()
    turned = min((ref.phash ^ r).bit_count() for r in other.rotated_phashes)
    return turned, None


def _explain(
    ref: Fingerprint, other: Fingerprint, relation: Relation, v: Verification, pd: int, s: MatchSettings
) -> str:
    if relation is Relation.NEAR_IDENTICAL_SHOT:
        camera = _other_moment_by_camera(ref, other, s)
        apart = _seconds_apart(ref, other)
        if camera is not None:
            head = f"another shot: camera dates {duration_words(camera)} apart"
        elif apart:
            head = f"near-identical shot, taken {duration_words(apart)} apart"
        else:
            head = "near-identical shot, a slightly different moment or framing"
    else:
        changes = []
        if other.upright_turn != ref.upright_turn:
            if other.upright_turn:
                changes.append(turn_words(other.upright_turn))
            else:
                changes.append(f"upright, where the authoritative copy was {turn_words(ref.upright_turn)}")
        if v.rotation:
            changes.append(f"turned {v.rotation}°")
        if (other.width, other.height) != (ref.width, ref.height):
            changes.append(f"resized to {other.width}×{other.height}")
        if v.cropped:
            changes.append("cropped a little")
        if other.format != ref.format:
            changes.append(f"converted to {other.format}")
        elif other.jpeg_quality and ref.jpeg_quality and other.jpeg_quality < ref.jpeg_quality:
            changes.append("re-encoded at lower quality")
        if ref.document_like and other.document_like:
            if other.text_was_read and not ref.text_was_read and other.upright_turn == ref.upright_turn:
                # Read by OCR, against a page that has its words (a turned scan says how it was scanned).
                changes.insert(0, "scanned again")
            head = "same page" + (", " + ", ".join(changes) if changes else ", scanned or saved again")
            if v.unconfirmed:
                # The clerk checks these by eye: the words did not settle them, the marks did.
                entries = " and ".join(f"'{entry}'" for entry in v.unconfirmed[:2])
                more = f" and {len(v.unconfirmed) - 2} more" if len(v.unconfirmed) > 2 else ""
                head += f" (OCR could not confirm {entries}{more}; the page's marks agree there)"
        else:
            head = "same picture " + (", ".join(changes) if changes else "re-encoded or re-scanned")
    return f"{head}; {pd} of 64 hash bits differ; pixels agree {v.score:.2f}"


def _identical_evidence(fp: Fingerprint, relation: Relation) -> MemberEvidence:
    what = "same bytes (an exact copy)" if relation is Relation.EXACT else "same pixels, different file"
    return MemberEvidence(
        fp.key, relation, 0, 0, 1.0, 0, f"{what}; 0 of 64 hash bits differ; pixels agree 1.00"
    )


def evidence_against(
    authoritative: Fingerprint,
    member: Fingerprint,
    settings: MatchSettings,
    *,
    verification: Verification | None = None,
    clerk_reason: str | None = None,
    turns: Iterable[int] = (),
) -> MemberEvidence | None:
    """Why `member` belongs with `authoritative`, measured against it: the one measure a run
    and a clerk's decision both write, so their evidence is the same.

    The same bytes (and page) are an exact copy and the same pixels a same-pixels copy,
    whatever else differs; otherwise the pixels are verified (`verification` when the
    caller has it, else here: upright and at `turns`) and relation_between names the
    relation. None when the member does not verify and no clerk put it in the group;
    `clerk_reason` (the clerk's words, maybe "") says one did, and a member that does not
    verify then stays as Relation.CLERK_MERGED, its evidence saying so.
    """
    if member.sha256 == authoritative.sha256 and member.page == authoritative.page:
        return _identical_evidence(member, Relation.EXACT)
    if member.pixel_sha256 == authoritative.pixel_sha256:
        return _identical_evidence(member, Relation.SAME_PIXELS)
    v = verification
    if v is None:
        v = verify_pair(authoritative, member, settings, frozenset(turns) | {0})
    relation = relation_between(authoritative, member, v, settings)
    pd, dd = _hash_distances(authoritative, member, v.rotation)
    if relation is not None:
        explanation = _explain(authoritative, member, relation, v, pd, settings)
        return MemberEvidence(member.key, relation, pd, dd, v.score, v.rotation, explanation)
    if clerk_reason is None:
        return None
    said = f"joined by a clerk: {clerk_reason}" if clerk_reason else "joined by a clerk"
    if v.text_difference:  # pages whose words were read: name the words
        mismatch = f"the pages do not match: {v.text_difference}"
    else:
        mismatch = f"the pictures do not match: {pd} of 64 hash bits differ; pixels agree {v.score:.2f}"
    return MemberEvidence(
        member.key, Relation.CLERK_MERGED, pd, dd, v.score, v.rotation, f"{said}; {mismatch}"
    )
