"""CPRA deadline arithmetic (Gov. Code § 7922.535; Code Civ. Proc. §§ 12, 12a)."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from records import deadlines
from records.services.requests import city_closures

D = datetime.date
CLOSURES = city_closures([2024, 2025, 2026, 2027])


def test_ten_calendar_days_excluding_the_day_of_receipt():
    # Tue Mar 3, 2026 + 10 = Fri Mar 13, 2026, a working day.
    deadline = deadlines.determination_deadline(D(2026, 3, 3), CLOSURES)
    assert deadline.due == D(2026, 3, 13)
    assert deadline.skipped == ()


def test_a_deadline_on_a_saturday_moves_to_monday():
    # Wed Mar 4, 2026 + 10 = Sat Mar 14 → Mon Mar 16.
    deadline = deadlines.determination_deadline(D(2026, 3, 4), CLOSURES)
    assert deadline.due == D(2026, 3, 16)
    assert [s.why for s in deadline.skipped] == ["Saturday", "Sunday"]


def test_a_deadline_on_thanksgiving_moves_past_the_day_after_and_the_weekend():
    # Mon Nov 16, 2026 + 10 = Thu Nov 26 (Thanksgiving), Fri 27 (day after), Sat, Sun → Mon Nov 30.
    deadline = deadlines.determination_deadline(D(2026, 11, 16), CLOSURES)
    assert deadline.due == D(2026, 11, 30)
    assert [s.why for s in deadline.skipped] == [
        "Thanksgiving Day",
        "Day After Thanksgiving",
        "Saturday",
        "Sunday",
    ]
    assert "Thanksgiving Day" in deadline.explanation()


def test_cesar_chavez_day_is_a_california_holiday():
    # Sat Mar 21, 2026 + 10 = Tue Mar 31 (Cesar Chavez Day) → Wed Apr 1.
    assert deadlines.determination_deadline(D(2026, 3, 21), CLOSURES).due == D(2026, 4, 1)


def test_an_extension_adds_up_to_fourteen_days_then_rolls():
    # Tue Mar 3, 2026: 10 + 14 = 24 days → Fri Mar 27.
    assert deadlines.extended_deadline(D(2026, 3, 3), 14, CLOSURES).due == D(2026, 3, 27)
    # 10 + 12 = 22 days → Wed Mar 25.
    assert deadlines.extended_deadline(D(2026, 3, 3), 12, CLOSURES).due == D(2026, 3, 25)


@pytest.mark.parametrize("days", [0, 15, -1])
def test_an_extension_beyond_fourteen_days_or_of_none_is_refused(days):
    with pytest.raises(ValueError, match="1 to 14"):
        deadlines.extended_deadline(D(2026, 3, 3), days, CLOSURES)


def test_commemorations_that_do_not_close_offices_are_not_skipped():
    assert D(2026, 2, 15) not in CLOSURES or CLOSURES[D(2026, 2, 15)] != "Susan B. Anthony Day"


@given(st.dates(min_value=D(2024, 1, 1), max_value=D(2027, 12, 1)), st.integers(min_value=0, max_value=14))
def test_every_deadline_is_a_working_day_at_least_ten_days_after_receipt(received, extension):
    if extension:
        deadline = deadlines.extended_deadline(received, extension, CLOSURES)
    else:
        deadline = deadlines.determination_deadline(received, CLOSURES)
    assert deadline.due.weekday() < 5
    assert deadline.due not in CLOSURES
    assert (deadline.due - received).days >= 10 + extension
    # Rolling never skips a working day: every skipped day was a closure.
    assert all(s.day.weekday() >= 5 or s.day in CLOSURES for s in deadline.skipped)
    assert (deadline.due - deadline.unrolled).days == len(deadline.skipped)
