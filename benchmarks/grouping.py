"""Grouping at scale: time and peak memory for 10k / 100k / 1M synthetic fingerprints.

Baseline: brute-force all-pairs Hamming comparison (numpy, vectorised per row) of the same
hashes at 10k, extrapolated quadratically. The fingerprints are synthetic: random 64-bit
pHash/dHash/rotated hashes, plus planted clusters (an original and two copies with 1-6
flipped bits and a lightly noised copy of its thumbnail). Thumbnails are 8 x 8 random
arrays (real ones are up to 64 px), so what this measures is the index, the candidate merge,
the coarse gates and the real verification code on the pairs that reach it; it is not
realistic about hashes (random hashes of unrelated items are independent of their
thumbnails, so hash candidates among them are chance collisions, and crop-window hashes
computed from the thumbnails collide more often than that). Each size runs in a fresh
process so peak RSS is its own.

    .venv/bin/python benchmarks/grouping.py [--max 100000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from dedupe.types import CaptureDate, CaptureDateSource, Fingerprint, ImageMetadata

META = ImageMetadata(capture=CaptureDate(None, CaptureDateSource.UNKNOWN))


def synthetic(n: int, seed: int = 0) -> tuple[list[Fingerprint], int]:
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**64, size=(n, 5), dtype=np.uint64)
    thumbs = rng.integers(0, 256, size=(n, 64), dtype=np.uint8)
    planted = 0
    for base in range(0, n - 2, 100):  # 1 % of items start a cluster of three
        for j in (1, 2):
            for col in range(5):
                flips = rng.choice(64, size=int(rng.integers(1, 7)), replace=False)
                hashes[base + j, col] = hashes[base, col] ^ np.uint64(sum(1 << int(b) for b in flips))
            noisy = thumbs[base].astype(int) + rng.integers(-3, 4, 64)
            thumbs[base + j] = np.clip(noisy, 0, 255).astype(np.uint8)
        planted += 3
    # fmt: off
    fps = [
        Fingerprint(
            key=f"d{i % 40}/{i:07d}.jpg",
            source_key=f"d{i % 40}/{i:07d}.jpg",
            department=f"d{i % 40}",
            sha256=f"{i:064x}",
            pixel_sha256=f"p{i:063x}",
            byte_size=1000,
            format="JPEG",
            mislabelled=False,
            width=64,
            height=64,
            page=None,
            phash=int(h[0]),
            dhash=int(h[1]),
            rotated_phashes=(int(h[2]), int(h[3]), int(h[4])),
            quality=1.0,
            low_information=False,
            document_like=False,
            thumbnail=thumbs[i].tobytes(),
            thumb_size=(8, 8),
            jpeg_quality=90,
            metadata=META,
        )
        for i, h in enumerate(hashes)
    ]
    # fmt: on
    return fps, planted


def run_one(n: int) -> dict:
    from dedupe.grouping import group_fingerprints

    fps, planted = synthetic(n)
    start = time.perf_counter()
    groups = group_fingerprints(fps)
    seconds = time.perf_counter() - start
    grouped = sum(len(g.keys) for g in groups)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "seconds": seconds, "peak_rss_mb": rss_mb, "groups": len(groups), "grouped": grouped,
            "planted": planted}  # fmt: skip


def brute_force_seconds(n: int) -> float:
    """All-pairs baseline on the same four hash searches (pHash, dHash, 3 rotations)."""
    from dedupe.index import hamming

    fps, _ = synthetic(n)
    ph = np.array([f.phash for f in fps], dtype=np.uint64)
    queries = [ph, np.array([f.dhash for f in fps], dtype=np.uint64)]
    queries += [np.array([f.rotated_phashes[k] for f in fps], dtype=np.uint64) for k in range(3)]
    start = time.perf_counter()
    for q in queries:
        stored = ph if q is not queries[1] else queries[1]
        for i in range(n):
            np.nonzero(hamming(stored, q[i]) <= 11)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=int, default=1_000_000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    rows = []
    for n in (10_000, 100_000, 1_000_000):
        if n > args.max:
            break
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True
        )
        row = json.loads(out.stdout)
        rows.append(row)
        print(
            f"n={n:>9,}  {row['seconds']:8.1f} s  peak RSS {row['peak_rss_mb']:7.0f} MB  "
            f"groups {row['groups']:,} ({row['grouped']:,} of {row['planted']:,} planted items grouped)",
            flush=True,
        )
    for a, b in itertools.pairwise(rows):
        k = math.log(b["seconds"] / a["seconds"]) / math.log(b["n"] / a["n"])
        print(f"growth exponent {a['n']:,} -> {b['n']:,}: {k:.2f}  (1 = linear, 2 = all-pairs)")
    base = brute_force_seconds(10_000)
    print(
        f"baseline brute-force all-pairs hash search at 10,000: {base:.1f} s "
        "(hash search only, no verification)"
    )
    for row in rows:
        extrapolated = base * (row["n"] / 10_000) ** 2
        print(
            f"  n={row['n']:>9,}: all-pairs ≈ {extrapolated:,.0f} s; engine {row['seconds']:.1f} s; "
            f"ratio all-pairs / engine = {extrapolated / row['seconds']:.1f}x"
        )


if __name__ == "__main__":
    main()
