"""The manager's dashboard at the city's scale: 100,000 requests, timed, with memory and queries.

Builds a desk of --requests requests received over four years (2023-2026), each moved
through the workflow with its transitions (received, gathering, deduplicating, review,
then released, denied or withdrawn, most released ones closed later; some extended, some
determined late, a few released twice), a completed duplicate search with per-department
figures behind every packet, and the released packets with their stored counts.

Then computes dashboard_numbers for three ranges (the dashboard's default quarter, a year,
the whole four years) with records.metrics (the database counts, sums and groups) and with
the baseline in the same run: benchmarks/dashboard_loop.py, the implementation before
issue 14 verbatim, which reads every request, first transition and packet of the range
into Python. Prints, per range: best-of-N time, the ratio, the number of queries, the rows
they returned, and the peak of Python memory allocated during one call (tracemalloc).
Both must give the same dict; the script stops if they do not.

Each database runs in its own process (Django's settings read DATABASE_URL once):

    .venv/bin/python benchmarks/dashboard.py [--requests 100000] [--database sqlite|postgres|both]

PostgreSQL: this machine's server, database packetdesk_bench_dashboard (dropped and
created again). SQLite: var/bench-dashboard/db.sqlite3 (deleted first).
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench-dashboard"
POSTGRES_NAME = "packetdesk_bench_dashboard"
DEPARTMENTS = ("POL", "PW", "FIRE", "PARK", "CLERK", "PLAN", "HR", "IT")
RANGES = {
    "quarter (2026-07-01..2026-09-30)": (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30)),
    "year (2025)": (datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)),
    "four years (2023..2026)": (datetime.date(2023, 1, 1), datetime.date(2026, 12, 31)),
}


def build_desk(count: int, seed: int = 14) -> None:
    """Bulk-insert `count` requests with transitions, runs and packets (see the module docstring)."""
    from django.db import transaction
    from django.utils import timezone

    from dedupe.models import DedupeRun, RunPhase, RunState
    from records.models import Packet, PacketState, RecordsRequest, RequestStatus, StatusTransition

    S = RequestStatus
    rng = random.Random(seed)
    tz = timezone.get_current_timezone()
    first = datetime.datetime(2023, 1, 1, tzinfo=tz)
    span = (datetime.datetime(2026, 11, 30, tzinfo=tz) - first).total_seconds()
    hours = datetime.timedelta(hours=1)
    requests, plans = [], []
    for n in range(count):
        received = first + datetime.timedelta(seconds=rng.uniform(0, span))
        due = timezone.localdate(received) + datetime.timedelta(days=10)
        extended = rng.random() < 0.15
        fate = rng.choices(["released", "denied", "withdrawn", "open"], [0.62, 0.12, 0.08, 0.18])[0]
        days = rng.choice([2, 4, 6, 8, 9, 10, 11, 13, 18, 25, 40])
        requests.append(
            RecordsRequest(
                reference=f"B-{n:06d}",
                requester_name="Bench Resident",
                description="benchmark request",
                received_at=received,
                due_date=due,
                extension_days=14 if extended else None,
                extended_due_date=due + datetime.timedelta(days=14) if extended else None,
                extended_at=received + datetime.timedelta(days=8) if extended else None,
                status=S.RECEIVED,
                status_changed_at=received,
            )
        )
        plans.append((received, fate, days))
    with transaction.atomic():
        RecordsRequest.objects.bulk_create(requests, batch_size=5000)
        requests = list(RecordsRequest.objects.order_by("pk"))
        transitions, runs, packets = [], [], []
        for request, (received, fate, days) in zip(requests, plans, strict=True):
            path = [
                (S.RECEIVED, S.GATHERING, received + hours),
                (S.GATHERING, S.DEDUPLICATING, received + 30 * hours),
            ]
            path.append((S.DEDUPLICATING, S.IN_REVIEW, received + 31 * hours))
            decided = received + datetime.timedelta(days=days)
            status = S.IN_REVIEW
            if fate in ("released", "denied", "withdrawn"):
                status = S(fate)
                path.append((S.IN_REVIEW, status, decided))
                if fate == "released" and rng.random() < 0.03:  # reopened and released again
                    path += [
                        (S.RELEASED, S.IN_REVIEW, decided + hours),
                        (S.IN_REVIEW, S.RELEASED, decided + 5 * hours),
                    ]
                if fate != "withdrawn" and rng.random() < 0.7:
                    status = S.CLOSED
                    path.append((S(fate), S.CLOSED, decided + datetime.timedelta(days=3)))
            request.status = status
            for before, after, at in path:
                transitions.append(
                    StatusTransition(request=request, from_status=before, to_status=after, at=at)
                )
            if fate != "released":
                continue
            figures = {}
            for code in rng.sample(DEPARTMENTS, rng.randint(1, 4)):
                gathered = rng.randint(5, 120)
                exact, near = rng.randint(0, gathered // 4), rng.randint(0, gathered // 5)
                size = gathered * rng.randint(800_000, 3_000_000)
                figures[code] = {
                    "gathered": gathered,
                    "exact_duplicates": exact,
                    "near_duplicates": near,
                    "bytes_gathered": size,
                    "bytes_saved": size * (exact + near) // gathered,
                }
            runs.append(
                DedupeRun(
                    request=request,
                    state=RunState.COMPLETED,
                    phase=RunPhase.DONE,
                    created_at=decided - 3 * hours,
                    finished_at=decided - 2 * hours,
                    counts={"departments": figures},
                )
            )
            gathered = sum(f["gathered"] for f in figures.values())
            withheld = rng.randint(0, gathered // 10)
            packets.append(
                Packet(
                    request=request,
                    version=1,
                    state=PacketState.RELEASED,
                    requested_at=decided - hours,
                    released_at=decided,
                    counts={
                        "gathered": gathered,
                        "delivered": gathered - withheld,
                        "withheld": withheld,
                        "redacted": rng.randint(0, 3),
                        "unreadable": rng.randint(0, 2),
                    },
                )
            )
        RecordsRequest.objects.bulk_update(requests, ["status"], batch_size=5000)
        StatusTransition.objects.bulk_create(transitions, batch_size=5000)
        DedupeRun.objects.bulk_create(runs, batch_size=5000)
        Packet.objects.bulk_create(packets, batch_size=5000)
    print(
        f"desk: {len(requests):,} requests, {len(transitions):,} transitions, "
        f"{len(runs):,} runs, {len(packets):,} released packets"
    )


def measure(function, start: datetime.date, end: datetime.date, repeats: int) -> dict:
    """Best-of-`repeats` time, the queries and rows of one call, and its peak Python memory."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        result = function(start, end)
        times.append(time.perf_counter() - began)
    with CaptureQueriesContext(connection) as queries:
        function(start, end)
    tracemalloc.start()
    function(start, end)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": min(times), "queries": len(queries), "peak_mb": peak / 2**20, "result": result}


def run_one(database: str, count: int, repeats: int) -> None:
    from harness import heading, load_line, recreate_database

    if database == "postgres":
        recreate_database(POSTGRES_NAME)
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{POSTGRES_NAME}"
    else:
        VAR.mkdir(parents=True, exist_ok=True)
        (VAR / "db.sqlite3").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{VAR / 'db.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "packetdesk.settings")
    os.environ.setdefault("PACKETDESK_VAR_DIR", str(VAR))
    import django

    django.setup()
    import dashboard_loop
    from django.core.management import call_command
    from django.db import connection

    from records.metrics import dashboard_numbers

    call_command("migrate", verbosity=0)
    heading(f"dashboard on {connection.vendor}, {count:,} requests")
    began = time.perf_counter()
    build_desk(count)
    print(f"built in {time.perf_counter() - began:.1f} s; {load_line()}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"{'range':<34} {'aggregates':>11} {'loop':>9} {'loop/agg':>9} {'queries':>9} {'peak MB agg/loop':>17}"
    )
    for label, (start, end) in RANGES.items():
        new = measure(dashboard_numbers, start, end, repeats)
        old = measure(dashboard_loop.dashboard_numbers, start, end, repeats)
        if new["result"] != old["result"]:
            sys.exit(f"FAILED: the two implementations disagree on {label}")
        print(
            f"{label:<34} {new['seconds']:>10.3f}s {old['seconds']:>8.3f}s {old['seconds'] / new['seconds']:>8.1f}x "
            f"{new['queries']:>4}/{old['queries']:<4} {new['peak_mb']:>8.1f}/{old['peak_mb']:<8.1f}"
        )
    print(load_line())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    if args.database != "both":
        run_one(args.database, args.requests, args.repeats)
        return
    for database in ("sqlite", "postgres"):
        argv = [sys.executable, __file__, "--requests", str(args.requests), "--repeats", str(args.repeats)]
        subprocess.run([*argv, "--database", database], check=True)


if __name__ == "__main__":
    main()
