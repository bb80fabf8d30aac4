"""dashboard_numbers: the manager's figures from requests, transitions, runs and released packets."""

import datetime

import pytest
from django.utils import timezone

from dedupe.models import DedupeRun
from records.metrics import dashboard_numbers, percentile, week_start
from records.models import Packet, StatusTransition
from tests.factories import RecordsRequestFactory

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()


def at(day: str, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour), TZ)


def released(rr, day: str) -> None:
    StatusTransition.objects.create(request=rr, from_status="in_review", to_status="released", at=at(day))


def test_percentile_is_nearest_rank():
    assert percentile([], 0.9) is None
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([7], 0.9) == 7


def test_weeks_start_on_monday():
    assert week_start(datetime.date(2026, 11, 26)) == datetime.date(2026, 11, 23)


def test_received_closed_on_time_and_days_to_close_are_counted_in_the_range():
    on_time = RecordsRequestFactory(received_at=at("2026-03-02"), due_date=datetime.date(2026, 3, 12))
    late = RecordsRequestFactory(received_at=at("2026-03-03"), due_date=datetime.date(2026, 3, 13))
    RecordsRequestFactory(received_at=at("2026-01-05"), due_date=datetime.date(2026, 1, 15))  # out of range
    released(on_time, "2026-03-06")
    released(late, "2026-03-20")
    numbers = dashboard_numbers(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    assert numbers["requests"]["received"] == 2
    assert numbers["requests"]["closed"] == 2
    assert numbers["determined_within_10_days"] == {"determined": 2, "on_time": 1, "percent": 50.0}
    assert numbers["days_to_close"]["median"] == (4 + 17) / 2
    assert numbers["days_to_close"]["p90"] == 17
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


def test_duplicates_come_from_each_requests_latest_completed_run_only():
    rr = RecordsRequestFactory(received_at=at("2026-03-02"))
    counts = {
        "departments": {
            "PD": {"gathered": 4, "exact_duplicates": 1, "near_duplicates": 1, "bytes_saved": 300},
            "PW": {"gathered": 2, "exact_duplicates": 0, "near_duplicates": 1, "bytes_saved": 100},
        }
    }
    for finished, c in (
        ("2026-03-03", {"departments": {"PD": {"exact_duplicates": 9}}}),
        ("2026-03-04", counts),
    ):
        DedupeRun.objects.create(
            request=rr, state="completed", created_at=at(finished), finished_at=at(finished), counts=c
        )
    numbers = dashboard_numbers(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    assert numbers["duplicates"]["exact"] == 1
    assert numbers["duplicates"]["near"] == 2
    assert numbers["duplicates"]["bytes_saved"] == 400
    assert [d["department"] for d in numbers["by_department"]] == ["PD", "PW"]


def test_images_gathered_and_delivered_come_from_released_packets():
    rr = RecordsRequestFactory(received_at=at("2026-03-02"))
    Packet.objects.create(
        request=rr,
        version=1,
        state="released",
        requested_at=at("2026-03-05"),
        released_at=at("2026-03-05"),
        counts={"gathered": 10, "delivered": 6, "withheld": 1},
    )
    Packet.objects.create(
        request=rr, version=2, state="ready", requested_at=at("2026-03-06"), counts={"gathered": 99}
    )
    numbers = dashboard_numbers(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    assert numbers["images"]["gathered"] == 10 and numbers["images"]["delivered"] == 6
