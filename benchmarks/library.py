"""The city-wide library at scale: latency and recall of the check at the door.

Loads 1,000,000 fingerprints (uniformly random 64-bit pHashes, plus planted
near-duplicates: copies of some originals with 1..radius bits flipped) into a dedicated
PostgreSQL database with COPY, then times `POST /api/v1/library/check` through the real
API — HTTP on loopback to gunicorn (2 workers), with a department token — at 100k and at
1M, for exact checks (sha256 + pHash of a stored image) and near checks (pHash of a
planted original: its planted copy must come back), timed separately after an untimed
warm-up (--warm checks of each kind, none of them the measured ones). The load average is
printed with every figure: the machine may be shared.

Baseline: the same near search as a sequential scan computing every Hamming distance in
SQL, `bit_count((phash # q)::bit(64)) <= r` (what one writes without an index), timed
in SQL alone, so the ratio flatters the baseline (no HTTP, no Django, no sightings).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/packetdesk_bench \
        .venv/bin/python benchmarks/library.py [--sizes 100000,1000000] [--queries 300]

The database named in DATABASE_URL is dropped and created again: use a dedicated one.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/packetdesk_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "packetdesk.settings")
os.environ.setdefault("PACKETDESK_VAR_DIR", str(ROOT / "var" / "bench-library"))

import psycopg  # noqa: E402
import requests  # noqa: E402

from dedupe.core.types import FINGERPRINT_ALGORITHM_VERSION  # noqa: E402

DEPARTMENTS = 40
REQUESTS = 200
PORT = 8765
PLANT_EVERY = 1000  # one planted near-duplicate pair per this many rows


def recreate_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    import django

    django.setup()


def signed(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def fake_sha(n: int) -> str:
    return hashlib.sha256(f"bench-{n}".encode()).hexdigest()


def flip(value: int, bits: int, rng: random.Random) -> int:
    for position in rng.sample(range(64), bits):
        value ^= 1 << position
    return value


@dataclass
class Planted:
    original: int  # unsigned pHash stored for row `original_n`
    original_n: int
    copy_sha: str  # sha256 of the planted near-duplicate row
    bits: int


def load(conn: psycopg.Connection, start: int, stop: int, radius: int, rng: random.Random) -> list[Planted]:
    """COPY rows start..stop-1 into blobs, items and fingerprints; return the planted pairs."""
    now = datetime.datetime.now(datetime.UTC)
    dept_ids = [r[0] for r in conn.execute("SELECT id FROM records_department ORDER BY id")]
    request_ids = [r[0] for r in conn.execute("SELECT id FROM records_recordsrequest ORDER BY id")]
    phashes: list[int] = []
    planted: list[Planted] = []
    for n in range(start, stop):
        if n % PLANT_EVERY == 1 and n - 1 >= start:
            bits = 1 + (n // PLANT_EVERY) % radius  # 1..radius bits, evenly
            value = flip(phashes[-1], bits, rng)
            planted.append(Planted(phashes[-1], n - 1, fake_sha(n), bits))
        else:
            value = rng.getrandbits(64)
        phashes.append(value)
    with conn.cursor() as cur:
        with cur.copy("COPY records_blob (sha256, byte_size, file, created_at) FROM STDIN") as copy:
            for n in range(start, stop):
                sha = fake_sha(n)
                copy.write_row((sha, 1000, f"blobs/{sha[:2]}/{sha}", now))
        columns = (
            "request_id, department_id, original_path, file_name, blob_id, byte_size, sha256, "
            "detected_format, mislabelled, status, error_reason, uploaded_at"
        )
        with cur.copy(f"COPY records_gathereditem ({columns}) FROM STDIN") as copy:
            for n in range(start, stop):
                sha = fake_sha(n)
                copy.write_row(
                    (
                        request_ids[n % len(request_ids)],
                        dept_ids[n % len(dept_ids)],
                        f"bench/{n}.jpg",
                        f"{n}.jpg",
                        sha,
                        1000,
                        sha,
                        "JPEG",
                        False,
                        "stored",
                        "",
                        now,
                    )
                )
        columns = (
            "blob_id, page, algorithm_version, unreadable_reason, format, pixel_sha256, width, height, "
            "phash, dhash, phash_block0, phash_block1, phash_block2, phash_block3, quality, "
            "low_information, document_like, thumbnail, thumb_width, thumb_height, preview_jpeg, "
            "capture_date, capture_date_source, capture_utc_offset, camera_make, camera_model, parcels, "
            "has_original_metadata, created_at"
        )
        with cur.copy(f"COPY dedupe_imagefingerprint ({columns}) FROM STDIN") as copy:
            for offset, n in enumerate(range(start, stop)):
                value = phashes[offset]
                sha = fake_sha(n)
                blocks = [(value >> s) & 0xFFFF for s in (48, 32, 16, 0)]
                copy.write_row(
                    (
                        sha, 0, FINGERPRINT_ALGORITHM_VERSION, "", "JPEG", hashlib.sha256(sha.encode()).hexdigest(), 4000, 3000,
                        signed(value), signed(rng.getrandbits(64)), *blocks, 0.8,
                        False, False, b"", 0, 0, b"",
                        f"2024-03-{1 + n % 28:02d}T10:00:00", "exif_datetime_original", "", "", "", "[]",
                        True, now,
                    )
                )  # fmt: skip
    conn.commit()
    # What autovacuum does to a table after a bulk insert, done now rather than whenever it
    # gets round to it: statistics, and the visibility map the library's index-only scans need.
    conn.autocommit = True
    for table in ("records_blob", "records_gathereditem", "dedupe_imagefingerprint"):
        conn.execute(f"VACUUM ANALYZE {table}")
    conn.autocommit = False
    return planted


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return at(0.50), at(0.95), at(0.99)


def fmt(samples: list[float]) -> str:
    p50, p95, p99 = percentiles(samples)
    return f"p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   p99 {p99:7.2f} ms   (n={len(samples)})"


def start_server(env: dict[str, str]) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "packetdesk.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ["PACKETDESK_VAR_DIR"] + "/gunicorn.log", "a"),  # noqa: SIM115
        start_new_session=True,
    )
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{PORT}/healthz", timeout=10)
            return server
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def exact_body(conn, n: int) -> dict:
    phash = conn.execute(
        "SELECT phash FROM dedupe_imagefingerprint WHERE blob_id = %s", (fake_sha(n),)
    ).fetchone()[0]
    return {"sha256": fake_sha(n), "phash": f"{phash & 0xFFFFFFFFFFFFFFFF:016x}"}


def warm_up(session: requests.Session, url: str, size: int, conn, rng, checks: int) -> float:
    """Untimed checks before timing: both workers' connections, imports and the database cache.

    Exact checks of random stored images and near checks of random hashes, none of them
    the measured ones; a service that has been up for a while is in this state.
    """
    t = time.perf_counter()
    for _ in range(checks):
        session.post(url, json=exact_body(conn, rng.randrange(size))).raise_for_status()
        session.post(url, json={"phash": f"{rng.getrandbits(64):016x}"}).raise_for_status()
    return time.perf_counter() - t


def measure(
    size: int, planted: list[Planted], queries: int, token: str, conn, radius: int, rng, warm: int
) -> dict:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    url = f"http://127.0.0.1:{PORT}/api/v1/library/check"
    warm_s = warm_up(session, url, size, conn, rng, warm)

    exact_ms: list[float] = []
    load_exact = os.getloadavg()
    for _ in range(queries):
        n = rng.randrange(size)
        body = exact_body(conn, n)
        t = time.perf_counter()
        answer = session.post(url, json=body)
        exact_ms.append((time.perf_counter() - t) * 1000)
        answer.raise_for_status()
        assert any(m["sha256"] == fake_sha(n) for m in answer.json()["exact"]), "exact match missing"

    near_ms: list[float] = []
    load_near = os.getloadavg()
    found = 0
    sample = rng.sample(planted, min(queries, len(planted)))
    for pair in sample:
        t = time.perf_counter()
        answer = session.post(url, json={"phash": f"{pair.original:016x}"})
        near_ms.append((time.perf_counter() - t) * 1000)
        answer.raise_for_status()
        if any(m["sha256"] == pair.copy_sha for m in answer.json()["near"]):
            found += 1

    baseline_ms: list[float] = []
    for pair in sample[:20]:
        t = time.perf_counter()
        conn.execute(
            "SELECT id FROM dedupe_imagefingerprint WHERE bit_count((phash # %s)::bit(64)) <= %s",
            (signed(pair.original), radius),
        ).fetchall()
        baseline_ms.append((time.perf_counter() - t) * 1000)

    return {
        "size": size,
        "exact": exact_ms,
        "near": near_ms,
        "recall": found / len(sample),
        "baseline": baseline_ms,
        "warm": (2 * warm, warm_s),
        "load": (load_exact, load_near, os.getloadavg()),
    }


def report(r: dict) -> None:
    """One size's figures, printed as soon as they are measured."""
    loads = " / ".join(f"({a:.2f}, {b:.2f}, {c:.2f})" for a, b, c in r["load"])
    print(f"\n{r['size']:>9,} fingerprints")
    print(f"  warm-up (not counted)        {r['warm'][0]} checks in {r['warm'][1]:.1f} s")
    print(f"  exact (sha256 + pHash)       {fmt(r['exact'])}")
    print(f"  near  (pHash)                {fmt(r['near'])}")
    print(f"  recall of planted near-dups  {r['recall']:.4f}")
    print(f"  baseline: seq scan bit_count {fmt(r['baseline'])}  [SQL only]")
    ratio = statistics.median(r["baseline"]) / statistics.median(r["near"])
    print(f"  baseline p50 / API near p50  {ratio:.1f}x")
    print(f"  load average (1, 5, 15 min) at exact / near / end: {loads}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--warm", type=int, default=200, help="untimed warm-up checks of each kind")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    url = os.environ["DATABASE_URL"]
    print(f"database: {url} (dropped and created again)")
    recreate_database(url)
    setup_django()
    from django.core.management import call_command
    from django.utils import timezone

    from dedupe.library import default_radius
    from records.models import Department, RecordsRequest, RequestStatus
    from records.services.api_tokens import create_token

    call_command("migrate", verbosity=0)
    departments = [Department.objects.create(name=f"Dept {i}", code=f"B{i}") for i in range(DEPARTMENTS)]
    now = timezone.now()
    for i in range(REQUESTS):
        RecordsRequest.objects.create(
            reference=f"24-{i:05d}",
            requester_name="Bench",
            description="benchmark",
            received_at=now,
            due_date=now.date(),
            status=RequestStatus.GATHERING,
            status_changed_at=now,
        )
    token = create_token(actor=None, department=departments[0], name="benchmark").token
    radius = default_radius()
    rng = random.Random(20240314)

    # Production settings, but plain HTTP on loopback (as behind a TLS-terminating proxy),
    # and a token rate above what the benchmark sends.
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "PACKETDESK_API_TOKEN_RATE": "1000000/min",
    }
    conn = psycopg.connect(url.replace("postgres://", "postgresql://"))
    planted: list[Planted] = []
    loaded = 0
    results = []
    print()
    print(f"Library check through the API (HTTP to gunicorn on loopback, 2 workers), radius {radius} bits")
    print(
        "Each size: after loading, VACUUM ANALYZE; then a warm-up not counted (exact checks of random"
        " stored images and near checks of random hashes, none of them measured); then the timed"
        " checks, one at a time."
    )
    for size in sizes:
        t = time.perf_counter()
        planted += load(conn, loaded, size, radius, rng)
        print(
            f"loaded {size:,} fingerprints ({len(planted)} planted pairs) in {time.perf_counter() - t:.0f} s"
        )
        loaded = size
        server = start_server(env)
        try:
            results.append(measure(size, planted, args.queries, token, conn, radius, rng, args.warm))
            report(results[-1])
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()

    final = results[-1]
    exact_p95 = percentiles(final["exact"])[1]
    near_p95 = percentiles(final["near"])[1]
    met = exact_p95 < 50 and near_p95 < 50
    print(
        f"\ntarget at {final['size']:,}: p95 < 50 ms -> exact {exact_p95:.1f} ms, near {near_p95:.1f} ms "
        f"({'met' if met else 'NOT met'}); recall >= 0.99 -> {final['recall']:.4f} "
        f"({'met' if final['recall'] >= 0.99 else 'NOT met'}); load average {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
