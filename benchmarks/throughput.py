"""Fingerprinting throughput against a bare draft decode and the naive imagehash baseline.

Generates N phone-like 12-MP JPEGs once (skimage photos upscaled to 4032x3024 with light
sensor noise and camera EXIF, quality 90), then times on one core, in two interleaved
passes ((a) with (b), then (b) with (c), so the 12-MP naive decode never sits between (a)
and (b) and cools their caches):
(a) a bare draft-mode decode, (b) the engine's `fingerprint_file`, (c) the naive
`imagehash.phash(Image.open(path))`, and (d) the engine and the bare decode on 2
processes (the bare decode's speed-up is the most this machine gives). Peak RSS of a
fresh process fingerprinting 1/4, 1/2 and all of the images shows memory is flat.

    .venv/bin/python benchmarks/throughput.py [--images 40] [--keep DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import imagehash
import numpy as np
from harness import load_line, peak_rss_mb
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dedupe.core.fingerprint import fingerprint_file
from dedupe.core.types import SourceFile

PHONE_SIZE = (4032, 3024)  # a 12-MP phone sensor
JPEG_QUALITY = 90
# Light sensor noise. Phone pipelines denoise, so their JPEGs hold little noise: heavy
# noise (sigma 5.5, as before) made the entropy decoder the cost (a bare 1/8 draft decode
# took 22 ms against ~7 ms for real phone photos) and hid the fingerprinting cost.
NOISE_SIGMA = 1.5
_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "coins.png")
_SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"


def make_phone_jpeg(index: int, directory: str) -> str:
    """A different 12-MP photo for each index: a crop of a skimage photo, upscaled, noised."""
    rng = np.random.default_rng(index)
    photo = Image.open(_SKIMAGE_DATA / _PHOTOS[index % len(_PHOTOS)]).convert("RGB")
    w, h = photo.size
    left, top = int(rng.integers(0, w // 8 + 1)), int(rng.integers(0, h // 8 + 1))
    crop = photo.crop((left, top, left + w * 7 // 8, top + h * 7 // 8))
    big = np.asarray(crop.resize(PHONE_SIZE, Image.Resampling.BICUBIC), dtype=np.int16)
    noise = rng.normal(0.0, NOISE_SIGMA, size=(PHONE_SIZE[1] // 2, PHONE_SIZE[0] // 2, 3)).astype(np.int16)
    big = big + np.repeat(np.repeat(noise, 2, axis=0), 2, axis=1)  # 2x2 grain, as demosaicing leaves
    image = Image.fromarray(np.clip(big, 0, 255).astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Google", "Pixel 8", 1
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = f"2024:03:12 10:{index // 60:02d}:{index % 60:02d}"
    exif_ifd[0x9011] = "-07:00"
    path = os.path.join(directory, f"PXL_20240312_10{index:04d}000.jpg")
    image.save(path, "JPEG", quality=JPEG_QUALITY, exif=exif)
    return path


def bare_draft_decode(path: str) -> None:
    im = Image.open(path)
    w, h = im.size
    im.draft("RGB", (w // 8, h // 8))
    im.load()


def engine(path: str) -> int:
    return len(fingerprint_file(SourceFile(key=os.path.basename(path), department="bench", disk_path=path)))


def naive(path: str) -> None:
    imagehash.phash(Image.open(path))


def time_per_image(functions: list, paths: list[str]) -> list[float]:
    """Median milliseconds per image for each function, after one warm-up call each.

    The functions take turns on each image, so a busy machine slows all of them alike and
    the ratios stay fair; the order of the turns reverses from one image to the next, so
    neither always runs first on a file (measured: 1.26 engine after the bare decode, 1.24
    before it, same code).
    """
    for function in functions:
        function(paths[0])
    times: list[list[float]] = [[] for _ in functions]
    turns = list(enumerate(functions))
    for number, path in enumerate(paths):
        for index, function in turns if number % 2 == 0 else turns[::-1]:
            start = time.perf_counter()
            function(path)
            times[index].append((time.perf_counter() - start) * 1000)
    return [statistics.median(series) for series in times]


def rss_probe(paths: list[str], queue: mp.Queue) -> None:
    """In a fresh process: peak RSS after 1/4, 1/2 and all of the images."""
    marks = {max(1, len(paths) // 4), max(1, len(paths) // 2), len(paths)}
    for count, path in enumerate(paths, start=1):
        engine(path)
        if count in marks:
            queue.put((count, peak_rss_mb()))
    queue.put(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--keep", help="generate into (or reuse) this directory instead of a temp dir")
    args = parser.parse_args()
    context = mp.get_context("spawn")  # fresh workers: no inherited memory in the RSS figures

    with tempfile.TemporaryDirectory() as temp:
        directory = args.keep or temp
        os.makedirs(directory, exist_ok=True)
        start = time.perf_counter()
        with context.Pool(2) as pool:
            paths = pool.starmap(make_phone_jpeg, [(i, directory) for i in range(args.images)])
        sizes = [os.path.getsize(p) for p in paths]
        print(
            f"generated {len(paths)} JPEGs {PHONE_SIZE[0]}x{PHONE_SIZE[1]} q{JPEG_QUALITY}, "
            f"mean {statistics.mean(sizes) / 1e6:.2f} MB, in {time.perf_counter() - start:.1f} s"
        )

        print(load_line())
        # Two interleaved passes, each comparing a pair of like cost: the naive baseline
        # decodes 12 MP and evicts every cache, so timing it between the bare decode and the
        # engine would charge the engine (which runs more code) a cold start per image.
        bare, ours = time_per_image([bare_draft_decode, engine], paths)
        ours_beside_naive, baseline = time_per_image([engine, naive], paths)
        print(f"(a) bare draft decode (1/8)       {bare:7.2f} ms/image  {1000 / bare:6.1f} images/s per core")
        print(f"(b) engine fingerprint_file       {ours:7.2f} ms/image  {1000 / ours:6.1f} images/s per core")
        per_core = f"{1000 / baseline:6.1f} images/s per core"
        print(f"(c) naive imagehash.phash(open)   {baseline:7.2f} ms/image  {per_core}")
        print(f"    engine / bare draft  = {ours / bare:.2f}  (target <= 1.3)")
        print(
            f"    naive / engine       = {baseline / ours_beside_naive:.2f}  (target >= 4; engine timed beside "
            f"naive: {ours_beside_naive:.2f} ms)"
        )

        # Scaling: the same work on one process and on two, for the engine and for the bare
        # decode; the bare decode's own speed-up is what this machine allows (shared cache,
        # memory bus, clock boost), so the engine's is judged against it.
        rounds = paths * 3  # ~2 s per measurement: long enough that pool start-up is noise
        with context.Pool(2) as pool:
            pool.map(engine, paths[:2])  # start-up and imports are not throughput
            speed_ups = {}
            for function in (bare_draft_decode, engine):
                one_start = time.perf_counter()
                for path in rounds:
                    function(path)
                one_core = time.perf_counter() - one_start
                two_start = time.perf_counter()
                pool.map(function, rounds, chunksize=4)
                two_procs = time.perf_counter() - two_start
                speed_ups[function] = one_core / two_procs
        print(
            f"(d) engine, 2 processes           {two_procs * 1000 / len(rounds):7.2f} ms/image  "
            f"{len(rounds) / two_procs:6.1f} images/s  speed-up {speed_ups[engine]:.2f}x "
            f"over 1 process ({len(rounds) / one_core:.1f} images/s)"
        )
        print(
            f"    bare draft decode, 2 processes: speed-up {speed_ups[bare_draft_decode]:.2f}x; "
            f"engine's share of it = {speed_ups[engine] / speed_ups[bare_draft_decode]:.2f}"
        )

        print(load_line())
        queue: mp.Queue = context.Queue()
        probe = context.Process(target=rss_probe, args=(paths, queue))
        probe.start()
        figures = []
        while (item := queue.get()) is not None:
            figures.append(item)
        probe.join()
        print(
            "    peak RSS of a fresh engine process: "
            + ", ".join(f"{mb:.0f} MB after {n}" for n, mb in figures)
        )


if __name__ == "__main__":
    main()
