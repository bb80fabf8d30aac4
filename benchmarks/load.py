"""Load on the web app: department systems pushing images over the REST API while clerks read pages.

Starts the app under gunicorn on loopback (gunicorn.conf.py, as the Procfile runs it: 2
sync workers; DEBUG off, PostgreSQL in a dedicated database migrated here, Redis as
the broker), loads the demo office, issues one API token per client and sets every
department's upload policy to "flag" (each upload is fingerprinted and checked against the
city's library, then stored). Then:

  baseline  one department client uploading serially (--baseline-seconds)
  load      20 department clients uploading concurrently plus 3 clerks (session login,
            then GET / and the request's page in turn), for --seconds (default 60)

Every upload is a 12-MP phone JPEG made unique by a JPEG comment carrying the client and
sequence number (unique bytes and SHA-256; the pixels repeat per client, so the library
check finds and flags them, which is its most expensive answer). Prints throughput, p50
and p95 latency per kind and errors, then checks in the database that every acknowledged
upload is stored exactly once with the SHA-256 the client computed, and its bytes on disk.

    .venv/bin/python benchmarks/load.py [--seconds 60] [--clients 20] [--clerks 3]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing as mp
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests
from harness import heading, load_line, recreate_database, stop_process_group
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VAR = ROOT / "var" / "bench-load"
PHONE_SIZE = (4032, 3024)
NOISE_SIGMA = 4.5
_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "coins.png")
DEPARTMENT_CODES = ("PLN", "PW", "PD", "PRK", "CE")  # the demo office's departments
CLIENT_TIMEOUT = 300  # seconds; a slower answer is an error, not a hang


# ------------------------------------------------------------------------ the images


def make_base(index: int, directory: str) -> str:
    """A 12-MP phone-like JPEG: a crop of a real skimage photo, upscaled, with light grain."""
    path = Path(directory) / f"base-{index:02d}.jpg"
    if path.exists():
        return str(path)
    rng = np.random.default_rng(7_000 + index)
    data = Path(__import__("skimage").__file__).parent / "data"
    photo = Image.open(data / _PHOTOS[index % len(_PHOTOS)]).convert("RGB")
    w, h = photo.size
    crop_w = int(w * rng.uniform(0.5, 0.9))
    crop_h = min(h, crop_w * 3 // 4)
    left, top = int(rng.integers(0, w - crop_w + 1)), int(rng.integers(0, h - crop_h + 1))
    big = photo.crop((left, top, left + crop_w, top + crop_h)).resize(PHONE_SIZE, Image.Resampling.BICUBIC)
    grain = rng.normal(0.0, NOISE_SIGMA, size=(PHONE_SIZE[1] // 2, PHONE_SIZE[0] // 2, 1)).astype(np.int16)
    pixels = np.asarray(big, dtype=np.int16) + np.repeat(np.repeat(grain, 2, axis=0), 2, axis=1)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Google", "Pixel 8", 1
    exif.get_ifd(0x8769)[0x9003] = f"2024:05:{1 + index:02d} 09:30:00"
    tmp = path.with_suffix(".tmp")
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(tmp, "JPEG", quality=90, exif=exif)
    tmp.rename(path)
    return str(path)


def with_comment(jpeg: bytes, text: str) -> bytes:
    """The same JPEG with a COM segment after its APPn segments: new bytes, same pixels."""
    offset = 2
    while jpeg[offset] == 0xFF and 0xE0 <= jpeg[offset + 1] <= 0xEF:
        offset += 2 + struct.unpack(">H", jpeg[offset + 2 : offset + 4])[0]
    payload = text.encode()
    return jpeg[:offset] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + jpeg[offset:]


# ---------------------------------------------------------------- database and server


def environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
            "CELERY_BROKER_URL": args.broker,
            "CELERY_RESULT_BACKEND": "django-db",
            "MEDIA_ROOT": str(VAR / "media"),
            "PACKETDESK_VAR_DIR": str(VAR),
            # Production settings; TLS would end at a proxy, which says so in X-Forwarded-Proto.
            "DJANGO_DEBUG": "false",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            # The politeness limits are not what is measured here.
            "PACKETDESK_API_TOKEN_RATE": "100000/min",
            "PACKETDESK_API_USER_RATE": "100000/min",
            "DJANGO_SETTINGS_MODULE": "packetdesk.settings",
        }
    )
    return env


def manage(env: dict[str, str], *command: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`gunicorn packetdesk.wsgi` (gunicorn.conf.py) on loopback, its process group stopped on exit."""

    def __init__(self, env: dict[str, str], port: int, workers: int):
        self.env, self.port, self.workers = env, port, workers
        self.log_path = VAR / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "packetdesk.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                # Everything else (threads, timeouts, backlog, access log) from
                # gunicorn.conf.py, as the Procfile runs it.
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {self.log_path}")
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{self.base}/login/", timeout=5).status_code == 200:
                    return self
            time.sleep(0.2)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_process_group(self.process, grace=20)
        if hasattr(self, "log"):
            self.log.close()


# ------------------------------------------------------------------------ the clients


@dataclass
class Acked:
    department: str
    path: str
    sha256: str
    item_id: int


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    acked: list[Acked] = field(default_factory=list)
    attempted: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] += 1


PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def uploader(
    base: str,
    request_id: int,
    token: str,
    department: str,
    label: str,
    jpeg: bytes,
    stop_at: float,
    tally: Tally,
) -> None:
    session = requests.Session()
    session.headers.update({"Authorization": f"Token {token}", **PROXY_HEADERS})
    url = f"{base}/api/v1/requests/{request_id}/items/"
    sequence = 0
    while time.monotonic() < stop_at:
        sequence += 1
        path = f"load/{label}/IMG_{sequence:06d}.jpg"
        body = with_comment(jpeg, f"packetdesk load {label} {sequence} {time.time_ns()}")
        sha256 = hashlib.sha256(body).hexdigest()
        with tally.lock:
            tally.attempted += 1
        start = time.perf_counter()
        try:
            response = session.post(
                url,
                data={"department": department, "paths": [path]},
                files=[("files", (path.rsplit("/", 1)[1], body, "image/jpeg"))],
                timeout=CLIENT_TIMEOUT,
            )
        except requests.RequestException as exc:
            tally.error(f"upload {type(exc).__name__}")
            continue
        seconds = time.perf_counter() - start
        if response.status_code not in (200, 201):
            tally.error(f"upload HTTP {response.status_code}")
            continue
        outcome = response.json()["outcomes"][0]
        if outcome["result"] != "stored" or outcome["sha256"] != sha256 or not outcome["item_id"]:
            tally.error(f"upload outcome {outcome['result']}")
            continue
        tally.ok("upload", seconds)
        with tally.lock:
            tally.acked.append(Acked(department, path, sha256, outcome["item_id"]))


def _insecure_cookies(session: requests.Session) -> None:
    # Production cookies are Secure; TLS ends at the (absent) proxy, so send them over loopback.
    for cookie in session.cookies:
        cookie.secure = False


def clerk(base: str, username: str, password: str, request_path: str, stop_at: float, tally: Tally) -> None:
    session = requests.Session()
    session.headers.update(PROXY_HEADERS)
    origin = base.replace("http://", "https://")
    try:
        form = session.get(f"{base}/login/", timeout=CLIENT_TIMEOUT)
        _insecure_cookies(session)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        login = session.post(
            f"{base}/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{origin}/login/", "Origin": origin},
            allow_redirects=False,
            timeout=CLIENT_TIMEOUT,
        )
        _insecure_cookies(session)
        if login.status_code != 302:
            tally.error(f"clerk login HTTP {login.status_code}")
            return
    except requests.RequestException as exc:
        tally.error(f"clerk login {type(exc).__name__}")
        return
    pages = [("page /", "/"), ("page request", request_path)]
    turn = 0
    while time.monotonic() < stop_at:
        kind, path = pages[turn % 2]
        turn += 1
        start = time.perf_counter()
        try:
            response = session.get(f"{base}{path}", allow_redirects=False, timeout=CLIENT_TIMEOUT)
        except requests.RequestException as exc:
            tally.error(f"{kind} {type(exc).__name__}")
            continue
        if response.status_code != 200:
            tally.error(f"{kind} HTTP {response.status_code}")
            continue
        tally.ok(kind, time.perf_counter() - start)


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(tally: Tally, seconds: float) -> dict[str, float]:
    rates = {}
    for kind in sorted(tally.latencies):
        values = tally.latencies[kind]
        rates[kind] = len(values) / seconds
        print(
            f"  {kind:<13} {len(values):6d} ok  {rates[kind]:7.2f}/s   "
            f"p50 {percentile(values, 50) * 1000:7.0f} ms   p95 {percentile(values, 95) * 1000:7.0f} ms"
        )
    errors = sum(tally.errors.values())
    print(f"  errors        {errors}" + (f"  {dict(tally.errors)}" if errors else ""))
    return rates


# --------------------------------------------------------------------------- checking


def check_stored(records_request, acked: list[Acked]) -> bool:
    """Every acknowledged upload stored exactly once, with the client's SHA-256, bytes intact."""
    from django.db.models import Count

    from records.models import GatheredItem

    items = GatheredItem.objects.filter(request=records_request).select_related("department", "blob")
    rows = {(i.department.code, i.original_path): i for i in items}
    duplicated = items.values("department", "original_path").annotate(n=Count("id")).filter(n__gt=1).count()
    lost = wrong_sha = wrong_bytes = 0
    for ack in acked:
        item = rows.get((ack.department, ack.path))
        if item is None or item.status != "stored":
            lost += 1
            continue
        if item.sha256 != ack.sha256 or item.pk != ack.item_id:
            wrong_sha += 1
            continue
        digest = hashlib.sha256()
        with item.blob.file.open("rb") as stored:
            while chunk := stored.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != ack.sha256:
            wrong_bytes += 1
    unacknowledged = len(rows) - len({(a.department, a.path) for a in acked})
    print(
        f"  acknowledged {len(acked)}, items in the database {items.count()}: "
        f"lost {lost}, duplicated {duplicated}, SHA-256 or id mismatch {wrong_sha}, "
        f"bytes on disk differ {wrong_bytes}, stored but not acknowledged {unacknowledged}"
    )
    return lost == duplicated == wrong_sha == wrong_bytes == 0


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the concurrent load")
    parser.add_argument("--baseline-seconds", type=float, default=20, help="length of the serial baseline")
    parser.add_argument("--clients", type=int, default=20, help="concurrent department clients")
    parser.add_argument("--clerks", type=int, default=3, help="concurrent clerks reading pages")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--database", default="packetdesk_bench_load")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/12", help="a Redis database of its own")
    args = parser.parse_args()

    heading(
        f"load: gunicorn ({args.workers} workers) on loopback, {args.clients} department clients "
        f"+ {args.clerks} clerks for {args.seconds:.0f} s"
    )
    print(load_line())
    VAR.mkdir(parents=True, exist_ok=True)
    bases_dir = VAR / "bases-v1"
    bases_dir.mkdir(exist_ok=True)
    with mp.get_context("spawn").Pool(2) as pool:
        bases = pool.starmap(make_base, [(i, str(bases_dir)) for i in range(args.clients + 1)])
    jpegs = [Path(p).read_bytes() for p in bases]
    print(
        f"{len(jpegs)} base photos {PHONE_SIZE[0]}x{PHONE_SIZE[1]}, mean {statistics.mean(map(len, jpegs)) / 1e6:.2f} MB"
    )

    env = environment(args)
    os.environ.update(env)
    recreate_database(args.database)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "load_demo")

    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from records.demo import _passwords
    from records.models import Department
    from records.roles import Role
    from records.services.api_tokens import create_token
    from records.services.requests import open_request

    clerk_user = get_user_model().objects.get(username="clerk")
    clerk_password = _passwords()["clerk"]
    if not clerk_user.groups.filter(name=Role.CLERK.value).exists():
        raise RuntimeError("the demo clerk is not a clerk")
    Department.objects.filter(code__in=DEPARTMENT_CODES).update(upload_policy=Department.UploadPolicy.FLAG)
    departments = {d.code: d for d in Department.objects.filter(code__in=DEPARTMENT_CODES)}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    records_request = open_request(
        actor=clerk_user, requester_name="Load benchmark", description=f"load benchmark {stamp}"
    )
    request_path = f"/requests/{records_request.reference}/"
    tokens = [
        create_token(
            actor=None, department=departments[DEPARTMENT_CODES[i % 5]], name=f"load client {i} {stamp}"
        ).token
        for i in range(args.clients + 1)
    ]
    print(f"request {records_request.reference}; {len(tokens)} department tokens; upload policy 'flag'")

    server = Gunicorn(env, free_port(), args.workers)
    try:
        server.start()
        print(f"gunicorn up at {server.base} (log {server.log_path})")

        heading(f"baseline: 1 department client uploading serially for {args.baseline_seconds:.0f} s")
        print(load_line())
        baseline = Tally()
        start = time.monotonic()
        uploader(
            server.base,
            records_request.pk,
            tokens[-1],
            DEPARTMENT_CODES[args.clients % 5],
            "baseline",
            jpegs[-1],
            start + args.baseline_seconds,
            baseline,
        )
        baseline_rates = report(baseline, time.monotonic() - start)
        print(load_line())

        heading(f"load: {args.clients} department clients + {args.clerks} clerks for {args.seconds:.0f} s")
        print(load_line())
        tally = Tally()
        start = time.monotonic()
        stop_at = start + args.seconds
        threads = [
            threading.Thread(
                target=uploader,
                args=(
                    server.base,
                    records_request.pk,
                    tokens[i],
                    DEPARTMENT_CODES[i % 5],
                    f"client{i:02d}",
                    jpegs[i],
                    stop_at,
                    tally,
                ),
                daemon=True,
            )
            for i in range(args.clients)
        ] + [
            threading.Thread(
                target=clerk,
                args=(server.base, "clerk", clerk_password, request_path, stop_at, tally),
                daemon=True,
            )
            for _ in range(args.clerks)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start  # includes the requests in flight at the deadline
        rates = report(tally, elapsed)
        print(f"  wall {elapsed:.1f} s (requests in flight at {args.seconds:.0f} s were let finish)")
        print(load_line())
    finally:
        server.stop()

    heading("stored exactly once? (database and disk)")
    intact = check_stored(records_request, baseline.acked + tally.acked)

    heading("figures")
    upload_rate = rates.get("upload", 0.0)
    base_rate = baseline_rates.get("upload", 0.0)
    p95 = percentile(tally.latencies["upload"], 95)
    base_p95 = percentile(baseline.latencies["upload"], 95)
    print(
        f"uploads/s  {upload_rate:.2f} under load vs {base_rate:.2f} serial baseline = {upload_rate / base_rate:.2f}x"
    )
    print(
        f"upload p95 {p95 * 1000:.0f} ms under load vs {base_p95 * 1000:.0f} ms serial = {p95 / base_p95:.1f}x"
    )
    pages = sum(v for k, v in rates.items() if k.startswith("page"))
    print(f"pages/s    {pages:.2f} ({args.clerks} clerks)")
    errors = sum(tally.errors.values()) + sum(baseline.errors.values())
    print(f"errors {errors} (target 0); stored exactly once: {'yes' if intact else 'NO'} (target yes)")
    print(load_line())
    if errors or not intact:
        sys.exit(1)


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt  # unwinds through `finally`, which stops gunicorn


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupted)
    main()
