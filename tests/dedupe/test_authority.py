"""The authoritative copy is chosen by ordered, written rules, each giving its reason."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from dedupe.core.authority import choose_authoritative
from tests.dedupe.builders import fingerprint_of, metadata, scene

PICTURE = scene(5)


def test_authority_reason_names_the_rule_that_decided() -> None:
    big = fingerprint_of(PICTURE, "parks/big.jpg", "parks")
    small = fingerprint_of(PICTURE.resize((160, 120)), "police/small.jpg", "police")
    decision = choose_authoritative([small, big])
    assert decision.key == "parks/big.jpg"
    assert decision.rule == "most_pixels"
    assert "320×240 against 160×120" in decision.reason


def test_department_of_record_comes_before_resolution() -> None:
    big = fingerprint_of(PICTURE, "parks/big.jpg", "parks")
    small = fingerprint_of(PICTURE.resize((160, 120)), "police/small.jpg", "police")
    decision = choose_authoritative([big, small], departments_of_record={"police"})
    assert (decision.key, decision.rule) == ("police/small.jpg", "department_of_record")
    assert "police" in decision.reason and "parks" in decision.reason


def test_less_recompressed_copy_wins_at_equal_size() -> None:
    q95 = fingerprint_of(PICTURE, "a.jpg", jpeg_quality=95)
    q60 = fingerprint_of(PICTURE, "b.jpg", jpeg_quality=60)
    decision = choose_authoritative([q60, q95])
    assert (decision.key, decision.rule) == ("a.jpg", "least_recompressed")
    assert "JPEG quality 95 against JPEG quality 60" in decision.reason


def test_earliest_known_capture_wins_and_unknown_dates_do_not_compete() -> None:
    early = fingerprint_of(PICTURE, "a.jpg", meta=metadata(datetime(2024, 3, 1, 9)))
    late = fingerprint_of(PICTURE, "b.jpg", meta=metadata(datetime(2024, 3, 5, 9)))
    unknown = fingerprint_of(PICTURE, "c.jpg")
    decision = choose_authoritative([unknown, late, early])
    assert (decision.key, decision.rule) == ("a.jpg", "earliest_capture")


def test_identical_copies_fall_through_to_earliest_upload() -> None:
    first = fingerprint_of(PICTURE, "z.jpg", uploaded_order=1, data=b"same")
    second = fingerprint_of(PICTURE, "a.jpg", uploaded_order=2, data=b"same")
    assert choose_authoritative([second, first]).rule == "earliest_upload"


def test_rule_order_is_configurable() -> None:
    big = fingerprint_of(PICTURE, "big.jpg", uploaded_order=2)
    small = fingerprint_of(PICTURE.resize((160, 120)), "small.jpg", uploaded_order=1)
    decision = choose_authoritative([big, small], order=("earliest_upload", "most_pixels"))
    assert (decision.key, decision.rule) == ("small.jpg", "earliest_upload")


def test_choice_does_not_depend_on_input_order() -> None:
    copies = [dataclasses.replace(fingerprint_of(PICTURE, f"{k}.jpg"), sha256=k * 64) for k in "cab"]
    assert {choose_authoritative(p).key for p in (copies, copies[::-1])} == {"a.jpg"}
    assert choose_authoritative(copies).rule == "smallest_sha256"


def test_a_date_pinned_to_utc_beside_a_local_one_is_compared_by_wall_clock() -> None:
    # Regression: an aware date beside a naive one raised TypeError in earliest_capture.
    pinned = fingerprint_of(PICTURE, "a.jpg", meta=metadata(datetime(2024, 3, 12, 9, tzinfo=UTC)))
    local = fingerprint_of(PICTURE, "b.jpg", meta=metadata(datetime(2024, 3, 12, 10)))
    decision = choose_authoritative([local, pinned])
    assert (decision.key, decision.rule) == ("a.jpg", "earliest_capture")
