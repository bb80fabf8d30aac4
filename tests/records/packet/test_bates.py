from dataclasses import replace

import pytest

from records.errors import InvalidInput
from records.packet.data import Fate, assign_bates, index_order
from tests.records.packet.builders import demo_packet


def test_delivered_files_are_numbered_in_index_order_without_gaps(demo):
    _, packet = demo
    numbered = [i.bates for i in index_order(packet.items) if i.bates]
    assert numbered == [f"LACC-{n:06d}" for n in range(1, len(numbered) + 1)]


def test_authoritative_copies_ungrouped_and_redacted_items_get_numbers_and_nothing_else(demo):
    _, packet = demo
    for item in packet.items:
        should = item.status == Fate.DELIVERED or item.is_redacted
        assert (item.bates is not None) == should, item.path


def test_duplicates_point_at_their_authoritative_copys_number(demo):
    _, packet = demo
    by_group = {i.group_id: i.bates for i in packet.items if i.is_authoritative}
    dups = [i for i in packet.items if i.status == Fate.DUPLICATE]
    assert dups
    for dup in dups:
        assert dup.duplicate_of_bates == by_group[dup.group_id]
    withheld_copy = next(i for i in dups if i.path == "PD/field/victim_face_copy.jpg")
    assert withheld_copy.duplicate_of_bates is None  # its original is withheld in full


def test_numbering_does_not_depend_on_input_order(demo):
    _, packet = demo
    unnumbered = [replace(i, bates=None, duplicate_of_bates=None) for i in packet.items]
    forward = assign_bates(unnumbered, "LACC")
    backward = assign_bates(list(reversed(unnumbered)), "LACC")
    assert {i.path: i.bates for i in forward} == {i.path: i.bates for i in backward}


def test_every_copy_option_numbers_duplicates_too():
    _, packet = demo_packet(every_copy=True)
    dups = [i for i in packet.items if i.status == Fate.DUPLICATE]
    assert all(i.bates for i in dups)
    assert all(i.duplicate_of_bates != i.bates for i in dups)
    assert not any(i.bates for i in packet.items if i.is_withheld_in_full or i.status == Fate.UNREADABLE)


def test_start_number_is_honoured(demo):
    _, packet = demo
    again = assign_bates(packet.items, "LACC", start=500)
    assert min(i.bates for i in again if i.bates) == "LACC-000500"


@pytest.mark.parametrize("prefix", ["", "a/b", "LA CC", "../X", "x" * 30])
def test_a_prefix_that_cannot_be_a_file_name_is_refused(demo, prefix):
    _, packet = demo
    with pytest.raises(InvalidInput):
        assign_bates(packet.items, prefix)


def test_counts_add_up_to_every_gathered_file(demo):
    _, packet = demo
    c = packet.counts
    assert c.gathered == 13
    assert (c.delivered, c.exact_duplicates, c.near_duplicates, c.withheld, c.unreadable) == (6, 2, 2, 1, 2)
    assert c.delivered + c.exact_duplicates + c.near_duplicates + c.withheld + c.unreadable == c.gathered
    assert c.redacted == 1 and c.redactions == 2
    assert [e.section for e in c.exemptions] == ["Gov. Code § 7923.600", "Gov. Code § 7927.700"]
    assert c.bytes_saved == sum(i.byte_size for i in packet.items if i.status == Fate.DUPLICATE)
