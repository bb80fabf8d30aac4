"""dashboard_numbers and the dashboard page: each figure counts one defined thing.

One office with a request in every status (some overdue, some extended, some released
with packets and counts, one released twice) is checked tile by tile, on the page and in
the numbers, so a figure cannot silently count something else.
"""

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from dedupe.models import DedupeRun
from records.metrics import DEFINITIONS, dashboard_numbers, percentile, week_start
from records.models import Packet, StatusTransition
from records.views.dashboard import dashboard_tiles
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_manager

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()


def at(day: datetime.date | str, hour: int = 12) -> datetime.datetime:
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day)
    return datetime.datetime.combine(day, datetime.time(hour), TZ)


def released(rr, day: str) -> None:
    StatusTransition.objects.create(request=rr, from_status="in_review", to_status="released", at=at(day))


def test_percentile_is_nearest_rank():
    assert percentile([], 0.9) is None
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([7], 0.9) == 7


def test_weeks_start_on_monday():
    assert week_start(datetime.date(2026, 11, 26)) == datetime.date(2026, 11, 23)


def test_released_is_not_counted_as_closed_and_determinations_are_timed_against_the_10_day_date():
    on_time = RecordsRequestFactory(received_at=at("2026-03-02"), due_date=datetime.date(2026, 3, 12))
    late = RecordsRequestFactory(received_at=at("2026-03-03"), due_date=datetime.date(2026, 3, 13))
    RecordsRequestFactory(received_at=at("2026-01-05"), due_date=datetime.date(2026, 1, 15))  # out of range
    released(on_time, "2026-03-06")
    released(late, "2026-03-20")
    numbers = dashboard_numbers(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    assert numbers["requests"]["received"] == 2
    assert numbers["requests"]["released"] == 2
    assert numbers["requests"]["closed"] == 0
    assert numbers["determined_within_10_days"]["determined"] == 2
    assert numbers["determined_within_10_days"]["on_time"] == 1
    assert numbers["determined_within_10_days"]["percent"] == 50.0
    assert numbers["days_to_determination"]["median"] == (4 + 17) / 2
    assert numbers["days_to_determination"]["p90"] == 17
    march_2 = next(w for w in numbers["weeks"] if w["week"] == datetime.date(2026, 3, 2))
    assert march_2["received"] == 2


def test_open_and_overdue_are_counted_now_whatever_the_range():
    today = timezone.localdate()
    RecordsRequestFactory(status="gathering", due_date=today - datetime.timedelta(days=1))
    RecordsRequestFactory(
        status="gathering",
        due_date=today - datetime.timedelta(days=1),
        extension_days=14,
        extended_due_date=today + datetime.timedelta(days=5),
    )
    RecordsRequestFactory(status="closed", due_date=today - datetime.timedelta(days=30))
    numbers = dashboard_numbers(datetime.date(2020, 1, 1), datetime.date(2020, 1, 31))
    assert numbers["requests"]["open_now"] == 2
    assert numbers["requests"]["overdue_now"] == 1  # the extended one is not overdue


def test_every_figure_has_a_definition():
    numbers = dashboard_numbers(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    for section in ("requests", "determined_within_10_days", "days_to_determination", "images", "duplicates"):
        for key in numbers[section]:
            assert DEFINITIONS[f"{section}.{key}"].strip(), f"{section}.{key}"
    for _title, tiles in dashboard_tiles(numbers):
        assert all(t.definition for t in tiles)


# ---------------------------------------------------------------- one office, every status


class Office:
    """Requests in every status around today, with the figures each tile must show."""

    def __init__(self):
        self.today = timezone.localdate()
        self.start = self.day(60)
        pd = DepartmentFactory(code="PD", name="Police")
        pw = DepartmentFactory(code="PW", name="Public Works")
        self.departments = (pd, pw)
        d = self.day
        # Open: received (overdue), gathering, deduplicating (extended, still overdue), in review (extended, not).
        self.request("received", received=d(30), due=d(20))
        gathering = self.request("gathering", received=d(5), due=d(-5))
        self.request(
            "deduplicating", received=d(40), due=d(30), extended=(d(31), d(16)), moves=[("gathering", d(39))]
        )
        in_review = self.request(
            "in_review", received=d(20), due=d(10), extended=(d(11), d(-4)), moves=[("gathering", d(19))]
        )
        # Released on time, with a packet and two runs (only the one it was built from counts).
        on_time = self.request("released", received=d(50), due=d(40), moves=[("released", d(42))])
        self.run(on_time, d(44), {"PD": (6, 2, 1, 6000, 3000), "PW": (4, 0, 1, 4000, 1000)})
        self.packet(on_time, 1, requested=d(43), released=d(42), counts=(10, 6, 1, 1, 1))
        self.run(on_time, d(10), {"PD": (60, 50, 0, 1, 1)})
        # Released late by the 10-day date but by its extended date, released twice, then closed.
        twice = self.request(
            "closed",
            received=d(45),
            due=d(35),
            extended=(d(36), d(21)),
            moves=[("released", d(25)), ("closed", d(20))],
        )
        self.run(twice, d(28), {"PD": (3, 9, 0, 300, 300)})
        self.packet(twice, 1, requested=d(27), released=d(26), counts=(99, 99, 0, 0, 0))
        self.run(twice, d(26), {"PW": (5, 1, 2, 5000, 2500)}, hour=9)
        self.packet(twice, 2, requested=d(25), released=d(25), counts=(8, 5, 0, 2, 0))
        self.request("withdrawn", received=d(15), due=d(5), moves=[("withdrawn", d(12))])
        self.request("denied", received=d(35), due=d(25), moves=[("denied", d(20))])
        # Received before the range, released in it (late), a packet without a run.
        before = self.request("released", received=d(70), due=d(60), moves=[("released", d(58))])
        self.packet(before, 1, requested=d(58), released=d(58), counts=(3, 3, 0, 0, 0))
        # Released before the range: nothing of it counts.
        old = self.request("released", received=d(90), due=d(80), moves=[("released", d(80))])
        self.packet(old, 1, requested=d(80), released=d(80), counts=(50, 50, 0, 0, 0))
        # Work on requests not released: a run and a built packet count nowhere.
        self.run(gathering, d(2), {"PD": (100, 100, 0, 1, 1)})
        self.packet(in_review, 1, requested=d(3), released=None, counts=(40, 40, 0, 0, 0))

    def day(self, days_ago: int) -> datetime.date:
        return self.today - datetime.timedelta(days=days_ago)

    def request(self, status, *, received, due, extended=None, moves=()):
        rr = RecordsRequestFactory(
            status=status,
            received_at=at(received, 9),
            due_date=due,
            **(
                {
                    "extension_days": 14,
                    "extended_at": at(extended[0]),
                    "extended_due_date": extended[1],
                    "extension_ground": "voluminous",
                }
                if extended
                else {}
            ),
        )
        previous = "received"
        StatusTransition.objects.create(request=rr, from_status="", to_status="received", at=at(received, 9))
        for to_status, day in moves:
            StatusTransition.objects.create(request=rr, from_status=previous, to_status=to_status, at=at(day))
            previous = to_status
        return rr

    def run(self, rr, finished, departments, hour=12):
        counts = {
            "departments": {
                code: dict(
                    zip(
                        ("gathered", "exact_duplicates", "near_duplicates", "bytes_gathered", "bytes_saved"),
                        row,
                        strict=True,
                    )
                )
                for code, row in departments.items()
            }
        }
        DedupeRun.objects.create(
            request=rr,
            state="completed",
            created_at=at(finished, hour),
            finished_at=at(finished, hour),
            counts=counts,
        )

    def packet(self, rr, version, *, requested, released, counts):
        names = ("gathered", "delivered", "withheld", "redacted", "unreadable")
        Packet.objects.create(
            request=rr,
            version=version,
            state="released" if released else "ready",
            requested_at=at(requested, 10),
            released_at=at(released, 14) if released else None,
            counts=dict(zip(names, counts, strict=True)),
        )


# Every tile of the page (data-stat) with what it must show for the Office above.
EXPECTED_TILES = {
    "received": "8",  # A..H; the one received 70 days ago is before the range
    "released": "3",  # on time, twice (then closed), received before the range
    "denied": "1",
    "withdrawn": "1",
    "closed": "1",  # only the request moved to Closed: Released is not Closed
    "open": "4",  # received, gathering, deduplicating, in review
    "overdue": "2",  # received (past its date) and deduplicating (past its extended date)
    "extensions": "3",
    "on-time": "25%",  # 1 of 4 determined by the 10-day date
    "by-deadline": "50%",  # 2 of 4 by the date in force (one was extended)
    "determined": "4",  # released ×3 and denied; withdrawn is no determination
    "median-days": "13.5",  # days to determination: 8, 12, 15, 20
    "p90-days": "20",
    "packets": "3",
    "gathered": "21",  # 10 + 8 (the second release replaces the first) + 3
    "delivered": "14",
    "withheld": "1",
    "redacted": "3",
    "unreadable": "1",
    "examined": "15",  # from the runs the counted packets were built from only
    "exact": "3",
    "near": "4",
    "bytes-saved": "6.3\xa0KB",  # 6,500 bytes
}


def tile_values(page: str) -> dict[str, str]:
    return {stat: value.strip() for stat, value in re.findall(r'data-stat="([^"]+)">([^<]*)<', page)}


def test_every_tile_counts_its_one_defined_thing_in_the_numbers():
    office = Office()
    n = dashboard_numbers(office.start, office.today)
    assert n["requests"] == {
        "received": 8,
        "released": 3,
        "denied": 1,
        "withdrawn": 1,
        "closed": 1,
        "open_now": 4,
        "overdue_now": 2,
        "extensions_used": 3,
    }
    assert n["determined_within_10_days"] == {
        "determined": 4,
        "on_time": 1,
        "percent": 25.0,
        "by_deadline": 2,
        "percent_by_deadline": 50.0,
    }
    assert n["days_to_determination"] == {"count": 4, "median": 13.5, "p90": 20}
    assert n["images"] == {
        "packets_released": 3,
        "gathered": 21,
        "delivered": 14,
        "withheld": 1,
        "redacted": 3,
        "unreadable": 1,
    }
    assert n["duplicates"] == {
        "files_examined": 15,
        "exact": 3,
        "near": 4,
        "bytes_gathered": 15000,
        "bytes_saved": 6500,
    }
    assert n["by_department"] == [
        {
            "department": "PD",
            "gathered": 6,
            "exact_duplicates": 2,
            "near_duplicates": 1,
            "bytes_gathered": 6000,
            "bytes_saved": 3000,
        },
        {
            "department": "PW",
            "gathered": 9,
            "exact_duplicates": 1,
            "near_duplicates": 3,
            "bytes_gathered": 9000,
            "bytes_saved": 3500,
        },
    ]
    weeks = n["weeks"]
    assert sum(w["received"] for w in weeks) == 8
    assert sum(w["released"] for w in weeks) == 3 and sum(w["closed"] for w in weeks) == 1
    assert sum(w["gathered"] for w in weeks) == 21 and sum(w["delivered"] for w in weeks) == 14
    assert sum(w["exact_duplicates"] for w in weeks) == 3 and sum(w["bytes_saved"] for w in weeks) == 6500
    release_week = next(w for w in weeks if w["week"] == week_start(office.day(25)))
    assert release_week["gathered"] >= 8


def test_every_tile_on_the_page_shows_its_number_with_its_definition(client, django_assert_max_num_queries):
    office = Office()
    client.force_login(make_manager())
    with django_assert_max_num_queries(16):
        response = client.get(reverse("records:dashboard"), {"start": office.start, "end": office.today})
    page = response.content.decode()
    assert tile_values(page) == EXPECTED_TILES
    for stat in EXPECTED_TILES:
        definition = re.search(rf'<dd id="def-{stat}" data-definition="{stat}">([^<]+)</dd>', page)
        assert definition and definition.group(1).strip(), stat
        assert f'aria-describedby="def-{stat}"' in page
    assert "Released requests are not counted here until they are closed." in page
    assert "Public Works" in page  # the department table and chart use names


def test_the_csv_export_carries_each_figure_with_its_definition(client):
    office = Office()
    client.force_login(make_manager())
    response = client.get(reverse("records:dashboard-csv"), {"start": office.start, "end": office.today})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "key", "value", "definition"]
    figures = {(r[0], r[1]): (r[2], r[3]) for r in rows if len(r) == 4}
    assert figures[("requests", "closed")] == ("1", DEFINITIONS["requests.closed"])
    assert figures[("requests", "released")][0] == "3"
    assert figures[("images", "gathered")] == ("21", DEFINITIONS["images.gathered"])
    assert figures[("duplicates", "bytes_saved")][0] == "6500"
    assert all(definition for _value, definition in figures.values())
