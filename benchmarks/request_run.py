"""A records request deduplicated end to end through Redis and real Celery worker processes.

N phone-like 12-MP JPEGs (default 2,000) spread over five departments, with duplicates
across them (byte-identical copies and resized re-encodes), are generated once into a
cache folder and gathered into a request in a dedicated PostgreSQL database (created and
migrated here). Then, on the same files:

  baseline  the engine alone: `dedupe_folder --jobs 2 --manifest-only` (in this process)
  (1)       start_run -> COMPLETED with one worker process (`celery worker --concurrency 1`)
  (2)       start_run -> COMPLETED with two (`--concurrency 2`)

Fingerprints are cleared between runs (a known blob is never decoded again). Prints each
wall time with the machine's load, the speed-up (target >= 1.7) and the overhead of the
database and the broker against the baseline (target <= 1.25x).

    .venv/bin/python benchmarks/request_run.py [--images 2000] [--cache DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from harness import ensure_database, heading, load_line, stop_process_group
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VAR = ROOT / "var" / "bench-request-run"
DEPARTMENTS = ("PD", "PW", "PLN", "CE", "PRK")
PHONE_SIZE = (4032, 3024)  # a 12-MP phone sensor
JPEG_QUALITY = 90
# Luminance grain, 2x2 as demosaicing leaves it; sigma 4.5 gives ~2 MB files at q90, the
# size of a real phone photo of a street scene (lighter noise gives ~1.2 MB).
NOISE_SIGMA = 4.5
EXACT_SHARE = 0.15  # byte-identical copies in another department
RESIZED_SHARE = 0.15  # resized, re-encoded copies in another department
CACHE_VERSION = 1
_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "coins.png",
    "camera.png",
    "grass.png",
    "gravel.png",
    "brick.png",
    "hubble_deep_field.jpg",
    "retina.jpg",
    "moon.png",
    "ihc.png",
    "cell.png",
)


# ------------------------------------------------------------------------ the images


def dataset_plan(count: int) -> dict[int, list[tuple[str, str]]]:
    """For each original index: the (kind, relative path) files made from it."""
    exact = round(count * EXACT_SHARE)
    resized = round(count * RESIZED_SHARE)
    originals = count - exact - resized
    plan: dict[int, list[tuple[str, str]]] = {}
    for index in range(originals):
        dept = DEPARTMENTS[index % len(DEPARTMENTS)]
        minute, second = divmod(index, 60)
        name = f"{dept}/photos/PXL_20240312_{10 + minute // 60:02d}{minute % 60:02d}{second:02d}{index % 1000:03d}.jpg"
        plan[index] = [("original", name)]
    for k in range(exact):
        base = (k * 7) % originals
        dept = DEPARTMENTS[(base + 1 + k % 4) % len(DEPARTMENTS)]
        plan[base].append(("exact", f"{dept}/shared/IMG_{k:05d}.jpg"))
    for k in range(resized):
        base = (k * 11 + 3) % originals
        dept = DEPARTMENTS[(base + 2 + k % 3) % len(DEPARTMENTS)]
        plan[base].append(("resized", f"{dept}/web/photo_{k:05d}.jpg"))
    return plan


GRAIN_MARGIN = 128


@functools.cache
def _grain() -> np.ndarray:
    """One field of 2x2 luminance grain per process; each image takes its own window of it."""
    rng = np.random.default_rng(42)
    h, w = PHONE_SIZE[1] // 2 + GRAIN_MARGIN, PHONE_SIZE[0] // 2 + GRAIN_MARGIN
    grain = rng.normal(0.0, NOISE_SIGMA, size=(h, w, 1)).astype(np.int16)
    return np.repeat(np.repeat(grain, 2, axis=0), 2, axis=1)


def make_set(index: int, files: list[tuple[str, str]], root: str) -> int:
    """Write one original (a crop of a real photo, upscaled, grained) and its copies."""
    rng = np.random.default_rng(1_000_003 + index)
    data = Path(__import__("skimage").__file__).parent / "data"
    photo = Image.open(data / _PHOTOS[int(rng.integers(len(_PHOTOS)))]).convert("RGB")
    if rng.random() < 0.5:
        photo = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    w, h = photo.size
    crop_w = int(w * rng.uniform(0.45, 0.9))
    crop_h = min(h, crop_w * 3 // 4)
    left, top = int(rng.integers(0, w - crop_w + 1)), int(rng.integers(0, h - crop_h + 1))
    big = photo.crop((left, top, left + crop_w, top + crop_h)).resize(PHONE_SIZE, Image.Resampling.BICUBIC)
    pixels = np.asarray(big, dtype=np.int16)
    dy, dx = int(rng.integers(0, GRAIN_MARGIN)), int(rng.integers(0, GRAIN_MARGIN))
    pixels = pixels + _grain()[2 * dy : 2 * dy + PHONE_SIZE[1], 2 * dx : 2 * dx + PHONE_SIZE[0]]
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Google", "Pixel 8", 1
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = f"2024:03:{12 + index // 1440:02d} {10 + (index // 60) % 12:02d}:{index % 60:02d}:00"
    exif_ifd[0x9011] = "-07:00"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, exif=exif)
    original = buffer.getvalue()
    for kind, name in files:
        target = Path(root) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind in ("original", "exact"):
            target.write_bytes(original)
        else:  # a department's web copy: smaller, re-compressed, EXIF sometimes dropped
            size = (3024, 2268) if rng.random() < 0.5 else (2016, 1512)
            smaller = image.resize(size, Image.Resampling.LANCZOS)
            keep_exif = rng.random() < 0.5
            smaller.save(
                target, "JPEG", quality=int(rng.integers(78, 88)), **({"exif": exif} if keep_exif else {})
            )
    return len(files)


def ensure_images(count: int, cache: Path) -> Path:
    """Generate the set once; a manifest marks a finished set so an interrupted one is redone."""
    root = cache / f"images-{count}-v{CACHE_VERSION}"
    manifest = root / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("files") == count:
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    plan = dataset_plan(count)
    start = time.perf_counter()
    with mp.get_context("spawn").Pool(2) as pool:
        written = sum(
            pool.starmap(make_set, [(i, files, str(root)) for i, files in plan.items()], chunksize=4)
        )
    sizes = [p.stat().st_size for p in root.rglob("*.jpg")]
    manifest.write_text(json.dumps({"files": written, "bytes": sum(sizes)}))
    print(
        f"generated {written} JPEGs in {time.perf_counter() - start:.0f} s "
        f"({sum(sizes) / 1e9:.2f} GB, originals {PHONE_SIZE[0]}x{PHONE_SIZE[1]} q{JPEG_QUALITY})"
    )
    return root


def image_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.jpg"))


# ---------------------------------------------------------------- database and broker


def environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
            "CELERY_BROKER_URL": args.broker,
            "CELERY_RESULT_BACKEND": "django-db",
            "MEDIA_ROOT": str(VAR / "media"),
            "PACKETDESK_VAR_DIR": str(VAR),
            "DJANGO_DEBUG": "false",  # as in production: no query log kept in the workers
            "DJANGO_SETTINGS_MODULE": "packetdesk.settings",
        }
    )
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )


class Worker:
    """A real `celery -A packetdesk worker` process group, stopped on any exit."""

    def __init__(self, concurrency: int, env: dict[str, str]):
        self.concurrency = concurrency
        self.env = env
        self.log_path = VAR / f"worker-c{concurrency}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        from packetdesk.celery import worker_command

        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            worker_command(self.concurrency, f"bench-c{self.concurrency}-{os.getpid()}@%h"),
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while b" ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start; see {self.log_path}")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        stop_process_group(self.process, grace=30)
        if hasattr(self, "log"):
            self.log.close()


# ------------------------------------------------------------------- the request side


def gathered_request(root: Path, count: int):
    """The benchmark's request with every cached file gathered (reused when complete)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from records.models import Department, GatheredItem, RecordsRequest
    from records.roles import Role, ensure_role_groups
    from records.services.intake import gather_files
    from records.services.requests import open_request

    ensure_role_groups()
    clerk, _ = get_user_model().objects.get_or_create(username="bench-clerk")
    clerk.groups.add(Group.objects.get(name=Role.CLERK.value))
    departments = {}
    for rank, code in enumerate(DEPARTMENTS, start=1):
        departments[code], _ = Department.objects.update_or_create(
            code=code, defaults={"name": f"Benchmark {code}", "authority_rank": rank * 10}
        )
    description = f"request_run benchmark: {root.name}"
    existing = RecordsRequest.objects.filter(description=description).first()
    if existing is not None:
        stored = GatheredItem.objects.filter(request=existing, status="stored").count()
        if stored == count:
            print(f"reusing request {existing.reference} ({stored} items gathered earlier)")
            return clerk, existing
        existing.delete()
    rr = open_request(
        actor=clerk, requester_name="Benchmark", description=description, office_of_record=departments["PLN"]
    )
    start = time.perf_counter()
    files = image_files(root)
    for code in DEPARTMENTS:
        mine = [p for p in files if p.relative_to(root).parts[0] == code]
        for offset in range(0, len(mine), 100):
            with contextlib.ExitStack() as stack:
                batch = [
                    (str(p.relative_to(root / code)), stack.enter_context(open(p, "rb")))
                    for p in mine[offset : offset + 100]
                ]
                report = gather_files(
                    actor=clerk, records_request=rr, department=departments[code], files=batch
                )
                if report.counts["stored"] != len(batch):
                    raise RuntimeError(f"gathering refused files: {report.counts}")
    print(f"gathered {len(files)} files into {rr.reference} in {time.perf_counter() - start:.0f} s")
    return clerk, rr


def clear_fingerprints(rr) -> None:
    """Forget every fingerprint of the request's blobs so the next run decodes them all."""
    from dedupe.models import ImageFingerprint, ItemImage
    from records.models import GatheredItem

    shas = GatheredItem.objects.filter(request=rr).values("sha256")
    # Items of any request showing these blobs (the benchmark database's own), with groups.
    ItemImage.objects.filter(fingerprint__blob_id__in=shas).delete()
    ItemImage.objects.filter(item__request=rr).delete()
    ImageFingerprint.objects.filter(blob_id__in=shas).delete()


def timed_run(
    clerk, rr, concurrency: int, env: dict[str, str], timeout: float, profile: Path | None = None
) -> tuple[float, object]:
    """Wall seconds from start_run to COMPLETED with one worker process of `concurrency`."""
    from dedupe.models import DedupeRun, RunState
    from packetdesk.celery import app
    from records.services.dedupe_runs import start_run

    clear_fingerprints(rr)
    profiler = None
    migrate(env)  # the code may have moved on since this script started (a shared tree)
    worker = Worker(concurrency, env)
    try:
        worker.start()
        app.control.purge()
        print(f"worker ready (concurrency {concurrency}); {load_line()}", flush=True)
        if profile is not None:  # sampled stacks of the worker and its pool processes
            profile.mkdir(parents=True, exist_ok=True)
            command = [
                str(Path(sys.executable).with_name("py-spy")),
                *("record", "--subprocesses", "--idle", "--format", "raw", "--rate", "50"),
                *("--pid", str(worker.process.pid), "--output", str(profile / f"worker-c{concurrency}.txt")),
            ]
            profiler = subprocess.Popen(
                command,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        start = time.perf_counter()
        run = start_run(actor=clerk, records_request=rr)
        while True:
            time.sleep(0.05)
            run = DedupeRun.objects.get(pk=run.pk)
            if run.state in (RunState.COMPLETED, RunState.FAILED):
                break
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"run {run.pk} did not finish in {timeout:.0f} s; see {worker.log_path}")
        wall = time.perf_counter() - start
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            profiler.wait(timeout=60)
        worker.stop()
    if run.state != RunState.COMPLETED:
        raise RuntimeError(f"run {run.pk} failed: {run.error}")
    return wall, run


def timing_after_fingerprints() -> list[float]:
    """Time what dedupe_folder does once every file is fingerprinted: plan the candidate
    pairs, compare them on pixels in its pool, group. The run's compare+group+persist phase
    does the same three steps (plus persisting), so the two figures compare."""
    from dedupe.core import pipeline

    seconds: list[float] = []

    def timed(step):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return step(*args, **kwargs)
            finally:
                seconds.append(time.perf_counter() - start)

        return run

    for name in ("plan_candidates", "verify_in_pool", "group_fingerprints"):
        setattr(pipeline, name, timed(getattr(pipeline, name)))
    return seconds


def phases(run) -> str:
    plan = (run.started_at - run.created_at).total_seconds()
    fingerprint = (run.fingerprinted_at - run.started_at).total_seconds()
    group = (run.finished_at - run.fingerprinted_at).total_seconds()
    # After fingerprinting: find candidates, compare them on every worker, group, persist.
    return f"queue+plan {plan:.1f} s, fingerprint {fingerprint:.1f} s, compare+group+persist {group:.1f} s"


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--cache", type=Path, default=VAR / "cache", help="where the generated images live")
    parser.add_argument("--database", default="packetdesk_bench_run")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13", help="a Redis database of its own")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per run")
    parser.add_argument(
        "--skip-baseline", action="store_true", help="no dedupe_folder run (and so no overhead ratio)"
    )
    parser.add_argument("--profile", type=Path, help="record the workers with py-spy (raw stacks) into DIR")
    args = parser.parse_args()

    heading(f"request_run: {args.images} gathered 12-MP JPEGs, PostgreSQL + Redis + real workers")
    print(load_line())
    root = ensure_images(args.images, args.cache)
    env = environment(args)
    os.environ.update(env)
    ensure_database(args.database)
    migrate(env)

    import django

    django.setup()
    import redis

    redis.Redis.from_url(args.broker).flushdb()  # this benchmark's own Redis database
    clerk, rr = gathered_request(root, args.images)

    from dedupe.models import DuplicateGroup, GroupMembership
    from records.management.commands.dedupe_folder import dedupe_folder

    baseline = float("nan")
    if not args.skip_baseline:
        heading("baseline: the engine alone, dedupe_folder --jobs 2 --manifest-only (no database, no broker)")
        print(load_line())
        after_fingerprints = timing_after_fingerprints()
        start = time.perf_counter()
        result = dedupe_folder(root, VAR / "folder-out", jobs=2, packet=False)
        baseline = time.perf_counter() - start
        engine_members = sum(len(g.members) for g in result.groups)
        compare = sum(after_fingerprints)
        print(
            f"baseline  {baseline:7.1f} s   {len(result.groups)} groups, {engine_members} duplicates; "
            f"fingerprint {baseline - compare:.1f} s, compare+group {compare:.1f} s"
        )
        print(load_line())

    walls = {}
    for concurrency in (1, 2):
        heading(f"({concurrency}) start_run -> COMPLETED, 1 worker process, --concurrency {concurrency}")
        wall, run = timed_run(clerk, rr, concurrency, env, args.timeout, args.profile)
        walls[concurrency] = wall
        groups = DuplicateGroup.objects.filter(run=run).count()
        members = GroupMembership.objects.filter(group__run=run, is_authoritative=False).count()
        print(f"({concurrency})       {wall:7.1f} s   {groups} groups, {members} duplicates; {phases(run)}")
        print(load_line())

    heading("figures")
    print(f"files {args.images}, baseline dedupe_folder --jobs 2: {baseline:.1f} s")
    print(f"1 worker process  (concurrency 1): {walls[1]:7.1f} s  {args.images / walls[1]:5.1f} images/s")
    print(f"2 worker processes (concurrency 2): {walls[2]:7.1f} s  {args.images / walls[2]:5.1f} images/s")
    print(f"speed-up 2 vs 1             = {walls[1] / walls[2]:.2f}x  (target >= 1.7)")
    print(f"overhead 2 workers / folder = {walls[2] / baseline:.2f}x  (target <= 1.25)")
    print(load_line())


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt  # unwinds through every `finally`, which stops the workers


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupted)
    main()
