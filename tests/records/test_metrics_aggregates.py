"""dashboard_numbers pinned on a varied desk: every figure, exactly, whatever computes it.

The figures below were computed once by the Python-loop implementation that read every
request, transition, packet and run into memory, and are written out by hand so that the
database-aggregate implementation must return the very same dict. The desk is built on
the edges an aggregate can get wrong: moments near local midnight (the range, the weeks
and the due dates are local days, the database stores UTC), a range across the spring
DST change, ties between transitions, packets and runs at the same moment, re-releases,
requests determined twice, runs after the build or not completed, missing count keys.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from dedupe.models import RunState
from records.metrics import dashboard_numbers
from records.models import PacketState
from tests.factories import DedupeRunFactory, PacketFactory, RecordsRequestFactory, StatusTransitionFactory

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()  # America/Los_Angeles: UTC-8, UTC-7 from 2025-03-09
START, END = datetime.date(2025, 2, 26), datetime.date(2025, 4, 2)  # a Wednesday to a Wednesday
IMAGE_NAMES = ("gathered", "delivered", "withheld", "redacted", "unreadable")
DEPARTMENT_NAMES = ("gathered", "exact_duplicates", "near_duplicates", "bytes_gathered", "bytes_saved")


def at(day: str, time: str = "12:00") -> datetime.datetime:
    """A local moment, as a clerk would read it."""
    return datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time.fromisoformat(time), TZ)


def date(day: str) -> datetime.date:
    return datetime.date.fromisoformat(day)


def later(days: int) -> datetime.date:
    """A due date still ahead whatever day the test runs (open requests that are not overdue)."""
    return timezone.localdate() + datetime.timedelta(days=days)


def request(status, received, due, *, moves=(), extended=None):
    """A request received at `received` with its transitions: moves are (status, moment)."""
    rr = RecordsRequestFactory(
        status=status,
        received_at=received,
        status_changed_at=received,
        due_date=due,
        **(
            {"extension_days": 14, "extended_at": extended[0], "extended_due_date": extended[1]}
            if extended
            else {}
        ),
    )
    StatusTransitionFactory(request=rr, from_status="", to_status="received", at=received)
    previous = "received"
    for to_status, moment in moves:
        StatusTransitionFactory(request=rr, from_status=previous, to_status=to_status, at=moment)
        previous = to_status
    return rr


def packet(rr, version, requested, released, counts, state=PacketState.RELEASED):
    return PacketFactory(
        request=rr,
        version=version,
        state=state,
        requested_at=requested,
        released_at=released,
        counts=dict(zip(IMAGE_NAMES, counts, strict=False)),  # short tuples leave keys out
    )


def run(rr, finished, departments, state=RunState.COMPLETED):
    counts = (
        {
            "departments": {
                code: dict(zip(DEPARTMENT_NAMES, row, strict=True)) for code, row in departments.items()
            }
        }
        if departments is not None
        else {}
    )
    return DedupeRunFactory(request=rr, state=state, created_at=finished, finished_at=finished, counts=counts)


def build_desk() -> None:
    # A: released on time (7 days), one packet; of its runs only the completed one finished
    # before the build counts (not the failed one, not the one finished after the build).
    a = request(
        "released",
        at("2025-03-03", "09:00"),
        date("2025-03-13"),
        moves=[
            ("gathering", at("2025-03-04")),
            ("in_review", at("2025-03-06")),
            ("released", at("2025-03-10")),
        ],
    )
    run(a, at("2025-03-08"), {"PD": (6, 2, 1, 6000, 3000), "PW": (4, 0, 1, 4000, 1000)})
    run(a, at("2025-03-08", "18:00"), {"PD": (90, 90, 0, 9, 9)}, state=RunState.FAILED)
    run(a, at("2025-03-11"), {"PD": (80, 80, 0, 8, 8)})
    packet(a, 1, at("2025-03-09", "10:00"), at("2025-03-10", "14:00"), (10, 7, 1, 2, 1))
    packet(
        a, 2, at("2025-03-11", "10:00"), at("2025-03-11", "14:00"), (70, 70, 0, 0, 0), PacketState.SUPERSEDED
    )

    # B: late by the 10-day date, on time by its extended date (21 days); released twice in
    # the range (v2 counts), v2 built from the later of two runs finished at the same moment.
    b = request(
        "released",
        at("2025-03-04", "09:00"),
        date("2025-03-14"),
        extended=(at("2025-03-12"), date("2025-03-28")),
        moves=[("in_review", at("2025-03-20")), ("released", at("2025-03-25"))],
    )
    run(b, at("2025-03-22"), {"PW": (5, 1, 2, 5000, 2500)})
    packet(b, 1, at("2025-03-24", "10:00"), at("2025-03-25", "14:00"), (20, 20, 0, 0, 0))
    run(b, at("2025-03-30", "09:00"), {"PD": (1, 1, 0, 10, 10)})
    run(b, at("2025-03-30", "09:00"), {"FD": (3, 1, 0, 300, 100), "_unassigned": (2, 0, 0, 50, 0)})
    packet(b, 2, at("2025-03-30", "10:00"), at("2025-03-31", "14:00"), (8, 5, 0, 2, 0))

    # C: released late, no extension (15 days), no packet.
    request("released", at("2025-03-05", "09:00"), date("2025-03-15"), moves=[("released", at("2025-03-20"))])

    # D: denied at 23:30 on its due date (already the next day in UTC): on time, 10 days.
    request(
        "denied", at("2025-03-06", "09:00"), date("2025-03-16"), moves=[("denied", at("2025-03-16", "23:30"))]
    )

    # E: withdrawn: no determination.
    request(
        "withdrawn", at("2025-03-07", "09:00"), date("2025-03-17"), moves=[("withdrawn", at("2025-03-18"))]
    )

    # F: received in the range, released across the DST change (8 days), then closed; its
    # second build was never released. Its run has a department with nothing removed.
    f = request(
        "closed",
        at("2025-02-27", "09:00"),
        date("2025-03-09"),
        moves=[("released", at("2025-03-07")), ("closed", at("2025-03-21"))],
    )
    run(f, at("2025-03-06"), {"PD": (2, 0, 0, 200, 0)})
    packet(f, 1, at("2025-03-07", "10:00"), at("2025-03-07", "14:00"), (2, 2, 0, 0, 0))
    packet(f, 2, at("2025-03-08", "10:00"), None, (99, 99, 0, 0, 0), PacketState.READY)

    # G: received and released before the range, closed in it: only "closed" counts.
    g = request(
        "closed",
        at("2025-02-10", "09:00"),
        date("2025-02-20"),
        moves=[("released", at("2025-02-24")), ("closed", at("2025-03-03"))],
    )
    packet(g, 1, at("2025-02-24", "10:00"), at("2025-02-24", "14:00"), (30, 30, 0, 0, 0))

    # H: received before the range, extended in it, released in it (22 days): late by the
    # 10-day date, on time by the extended one. Its first packet went out before the range;
    # the second, built with no run behind it, counts images but no duplicates.
    h = request(
        "released",
        at("2025-02-18", "09:00"),
        date("2025-02-28"),
        extended=(at("2025-02-27"), date("2025-03-14")),
        moves=[("released", at("2025-03-12"))],
    )
    packet(h, 1, at("2025-02-25", "10:00"), at("2025-02-25", "14:00"), (40, 40, 0, 0, 0))
    packet(h, 2, at("2025-03-12", "10:00"), at("2025-03-12", "14:00"), (4, 3, 1, 0, 0))

    # I: released, sent back to review, released again: reached and determined once, on the
    # first release (4 days). v3 and v2 were released at the same moment: the higher
    # version counts (created first, so it is not the later row).
    i = request(
        "released",
        at("2025-03-10", "09:00"),
        date("2025-03-20"),
        moves=[
            ("released", at("2025-03-14")),
            ("in_review", at("2025-03-15")),
            ("released", at("2025-03-19")),
        ],
    )
    run(i, at("2025-03-13"), {"PW": (50, 50, 0, 5, 5)})
    run(i, at("2025-03-18"), {"PW": (7, 3, 1, 7000, 3500)})
    run(i, at("2025-03-18", "20:00"), None, state=RunState.RUNNING)
    packet(i, 1, at("2025-03-14", "10:00"), at("2025-03-14", "14:00"), (60, 60, 0, 0, 0))
    packet(i, 3, at("2025-03-19", "10:00"), at("2025-03-19", "14:00"), (7, 4, 1, 1, 1))
    packet(i, 2, at("2025-03-19", "10:00"), at("2025-03-19", "14:00"), (6, 6, 0, 0, 0))

    # J: released at 23:30 on the range's last day (next day in UTC): counted, 9 days; its
    # run has no department figures.
    j = request(
        "released",
        at("2025-03-24", "09:00"),
        date("2025-04-03"),
        moves=[("released", at("2025-04-02", "23:30"))],
    )
    run(j, at("2025-04-01"), None)
    packet(j, 1, at("2025-04-02", "10:00"), at("2025-04-02", "23:30"), (5, 5, 0, 0, 0))

    # K: released half an hour after the range: not counted (but received in it).
    k = request(
        "released",
        at("2025-03-25", "09:00"),
        date("2025-04-04"),
        moves=[("released", at("2025-04-03", "00:30"))],
    )
    packet(k, 1, at("2025-04-02", "10:00"), at("2025-04-03", "00:30"), (9, 9, 0, 0, 0))

    # L: denied, then released on appeal: reached once each, determined once (9 days, on
    # time); the run finished at the very moment of the build counts; counts lack keys.
    lr = request(
        "released",
        at("2025-03-11", "09:00"),
        date("2025-03-21"),
        moves=[("denied", at("2025-03-20")), ("released", at("2025-03-26"))],
    )
    run(lr, at("2025-03-26", "10:00"), {"PD": (1, 0, 1, 100, 100)})
    packet(lr, 1, at("2025-03-26", "10:00"), at("2025-03-26", "14:00"), (3, 2))

    # M: two transitions to Released at the same moment: one release, 5 days.
    m = request(
        "released", at("2025-03-12", "09:00"), date("2025-03-22"), moves=[("released", at("2025-03-17"))]
    )
    StatusTransitionFactory(request=m, from_status="in_review", to_status="released", at=at("2025-03-17"))

    # N: received at 23:30 the day before the range (already the range's first day in UTC):
    # not received in the range; open and overdue now.
    request("received", at("2025-02-25", "23:30"), date("2025-03-07"))
    # O: received at 00:15 on the range's first day: counted; gathering, overdue now.
    request(
        "gathering", at("2025-02-26", "00:15"), date("2025-03-08"), moves=[("gathering", at("2025-02-27"))]
    )
    # P: in review, extended in the range to a date still ahead: open, not overdue.
    request(
        "in_review",
        at("2025-03-28", "09:00"),
        date("2025-04-07"),
        extended=(at("2025-04-01"), later(5)),
        moves=[("in_review", at("2025-03-29"))],
    )
    # Q: received at 23:30 on Sunday 2025-03-02 (Monday in UTC: the week of 2025-02-24
    # locally); deduplicating, extended after the range to a date now past: overdue.
    request(
        "deduplicating",
        at("2025-03-02", "23:30"),
        date("2025-03-12"),
        extended=(at("2025-04-03"), date("2025-04-25")),
        moves=[("deduplicating", at("2025-03-03"))],
    )
    # R: received at 23:30 on the range's last day (next day in UTC), due later: open only.
    request("received", at("2025-04-02", "23:30"), later(10))
    # S: received after the range: nothing of it counts but "open now".
    request("received", at("2025-04-03", "09:00"), later(12))


def week(day: str, **figures: int) -> dict:
    row = dict.fromkeys(
        (
            "received",
            "released",
            "denied",
            "withdrawn",
            "closed",
            "gathered",
            "delivered",
            "exact_duplicates",
            "near_duplicates",
            "bytes_saved",
        ),
        0,
    )
    return {"week": date(day), **row, **figures}


def test_every_figure_of_a_varied_desk_is_pinned():
    build_desk()
    n = dashboard_numbers(START, END)
    assert n["start"] == START and n["end"] == END and n["today"] == timezone.localdate()
    assert n["requests"] == {
        # A B C D E F I J K L M, O (00:15 on the first day), Q (Sunday 23:30), R (23:30 on the
        # last day); not G, H (before), N (23:30 the day before), S (after).
        "received": 15,
        # A B C F H I J L M: I and M once each; not G (before the range), K (00:30 after it).
        "released": 9,
        "denied": 2,  # D (23:30 local) and L (before its release)
        "withdrawn": 1,  # E
        "closed": 2,  # F, and G (released before the range, closed in it)
        "open_now": 6,  # N O P Q R S
        "overdue_now": 3,  # N, O, and Q (past its extended date); not P, R, S (dates ahead)
        "extensions_used": 3,  # B, H, P; Q was extended after the range
    }
    assert n["determined_within_10_days"] == {
        "determined": 10,  # the nine released and D; L counts once (denied first); E needs none
        "on_time": 7,  # A D F I J L M; not B, C, H
        "percent": 70.0,
        "by_deadline": 9,  # and B and H by their extended dates; C is late either way
        "percent_by_deadline": 90.0,
    }
    # Days: I 4, M 5, A 7, F 8, J 9, L 9, D 10, C 15, B 21, H 22 (local days, across DST).
    assert n["days_to_determination"] == {"count": 10, "median": 9.0, "p90": 21}
    assert isinstance(n["days_to_determination"]["median"], float)
    assert isinstance(n["days_to_determination"]["p90"], int)
    # The latest packet released in the range of A (v1), B (v2), F, H (v2), I (v3), J, L.
    assert n["images"] == {
        "packets_released": 7,
        "gathered": 39,  # 10 + 8 + 2 + 4 + 7 + 5 + 3
        "delivered": 28,  # 7 + 5 + 2 + 3 + 4 + 5 + 2
        "withheld": 3,  # A, H, I
        "redacted": 5,  # A 2, B 2, I 1
        "unreadable": 2,  # A, I; L's counts have no such key
    }
    # From the runs behind A, B (the later of two at 09:00), F, I and L; none behind H, J's empty.
    assert n["duplicates"] == {
        "files_examined": 25,
        "exact": 6,
        "near": 4,
        "bytes_gathered": 17650,
        "bytes_saved": 7700,
    }
    assert n["by_department"] == [
        {
            "department": "FD",  # B
            "gathered": 3,
            "exact_duplicates": 1,
            "near_duplicates": 0,
            "bytes_gathered": 300,
            "bytes_saved": 100,
        },
        {
            "department": "PD",  # A, F (nothing removed), L
            "gathered": 9,
            "exact_duplicates": 2,
            "near_duplicates": 2,
            "bytes_gathered": 6300,
            "bytes_saved": 3100,
        },
        {
            "department": "PW",  # A, I
            "gathered": 11,
            "exact_duplicates": 3,
            "near_duplicates": 2,
            "bytes_gathered": 11000,
            "bytes_saved": 4500,
        },
        {
            "department": "_unassigned",  # B
            "gathered": 2,
            "exact_duplicates": 0,
            "near_duplicates": 0,
            "bytes_gathered": 50,
            "bytes_saved": 0,
        },
    ]
    assert n["weeks"] == [
        week("2025-02-24", received=3),  # F, O, Q (Sunday night)
        week(
            "2025-03-03",
            received=5,  # A B C D E
            released=1,  # F
            closed=1,  # G
            gathered=2,  # F's packet
            delivered=2,
        ),
        week(
            "2025-03-10",
            received=3,  # I L M
            released=3,  # A H I
            denied=1,  # D (Sunday 23:30)
            gathered=14,  # A and H's packets
            delivered=10,
            exact_duplicates=2,
            near_duplicates=2,
            bytes_saved=4000,
        ),
        week(
            "2025-03-17",
            released=2,  # C M
            denied=1,  # L
            withdrawn=1,  # E
            closed=1,  # F
            gathered=7,  # I's v3
            delivered=4,
            exact_duplicates=3,
            near_duplicates=1,
            bytes_saved=3500,
        ),
        week(
            "2025-03-24",
            received=3,  # J K P
            released=2,  # B L
            gathered=3,  # L's packet
            delivered=2,
            near_duplicates=1,
            bytes_saved=100,
        ),
        week(
            "2025-03-31",
            received=1,  # R
            released=1,  # J
            gathered=13,  # B's v2 and J's
            delivered=10,
            exact_duplicates=1,
            bytes_saved=100,
        ),
    ]


def test_a_reversed_range_is_the_same_range():
    build_desk()
    assert dashboard_numbers(END, START) == dashboard_numbers(START, END)


def test_an_empty_range_has_zeros_and_no_averages():
    n = dashboard_numbers(START, END)
    assert n["requests"] == dict.fromkeys(
        (
            "received",
            "released",
            "denied",
            "withdrawn",
            "closed",
            "open_now",
            "overdue_now",
            "extensions_used",
        ),
        0,
    )
    assert n["determined_within_10_days"] == {
        "determined": 0,
        "on_time": 0,
        "percent": None,
        "by_deadline": 0,
        "percent_by_deadline": None,
    }
    assert n["days_to_determination"] == {"count": 0, "median": None, "p90": None}
    assert n["images"] == dict.fromkeys(("packets_released", *IMAGE_NAMES), 0)
    assert n["duplicates"] == dict.fromkeys(
        ("files_examined", "exact", "near", "bytes_gathered", "bytes_saved"), 0
    )
    assert n["by_department"] == []
    assert [w["week"] for w in n["weeks"]] == [
        date("2025-02-24") + datetime.timedelta(weeks=k) for k in range(6)
    ]


def test_an_odd_number_of_determinations_has_a_whole_median():
    rr = request(
        "released", at("2025-03-03", "09:00"), date("2025-03-13"), moves=[("released", at("2025-03-10"))]
    )
    assert rr.pk
    n = dashboard_numbers(START, END)
    assert n["days_to_determination"] == {"count": 1, "median": 7, "p90": 7}
    assert isinstance(n["days_to_determination"]["median"], int)
