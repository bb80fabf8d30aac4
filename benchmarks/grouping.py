"""Grouping at scale: time and peak memory for 10k / 100k / 1M synthetic fingerprints.

The synthetic collection is made of pictures, not of random numbers. Every item starts
from its own small random scene (48 x 48 grey levels: coarse 8 x 8 structure plus 16 x 16
detail plus pixel noise), and its pHash, rotated pHashes, dHash and 16-px thumbnail are
all computed from those pixels, pHash with the fingerprinter's own recipe
(dedupe.core.fingerprint.phash_of, batched; the batch is checked against phash_of). So an
unrelated item's hashes and thumbnail are unrelated to every other item's, including the
crop-window hashes the engine computes from thumbnails, and a hash collision between two
unrelated items is a chance collision of two real pictures' hashes. 1 % of items start a
planted cluster of three: the original and two real transformed copies of its scene, each
one of: re-encode (noise, brightness and contrast change), an 8 % crop at a random
corner, a quarter turn, a half turn; their hashes and thumbnails are recomputed from the
transformed pixels, so whether the engine finds and verifies them is a real test.

What is unrealistic: thumbnails are 16 px (real ones are 64 px; 1M real thumbnails would
need 4 GB), scenes are random textures rather than photographs (real collections have
more hash structure, hence more near-collisions), and metadata is empty.

Baseline, in the same run: brute-force all-pairs Hamming search (numpy, one row at a
time) of the same hash searches the engine does (pHash, dHash, the three turned pHashes
and the five crop-window pHashes against whole pHashes) at 10k, extrapolated
quadratically; it is hash search only, without any verification. Each size runs in a
fresh process so peak RSS is its own; the load average is printed with every figure
because the machine is shared.

    .venv/bin/python benchmarks/grouping.py [--max 100000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from harness import peak_rss_mb

from dedupe.core.types import CaptureDate, CaptureDateSource, Fingerprint, ImageMetadata

META = ImageMetadata(capture=CaptureDate(None, CaptureDateSource.UNKNOWN))
SCENE = 48  # side of each synthetic scene
CROP = 44  # an 8 % crop keeps 44 of 48 pixels per side
THUMB = 16
CLUSTER_EVERY = 100  # 1 % of items start a cluster of three
COPY_KINDS = ("reencode", "crop", "turn90", "turn180")
_CHUNK = 2_000  # items generated at once (a multiple of CLUSTER_EVERY)


def _resize(n_in: int, n_out: int) -> np.ndarray:
    from dedupe.core.verify import resize_matrix

    return resize_matrix(n_in, n_out).astype(np.float32)


def _phashes(inputs: np.ndarray) -> np.ndarray:
    """phash_of (dedupe.core.fingerprint) of a stack of 32 x 32 arrays, as uint64."""
    from dedupe.core.fingerprint import _DCT_ROWS

    low = (_DCT_ROWS @ inputs.astype(np.float64) @ _DCT_ROWS.T).reshape(len(inputs), 64)
    bits = low > np.median(low, axis=1, keepdims=True)
    return np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)


def _scenes(rng: np.random.Generator, count: int) -> np.ndarray:
    up8, up16 = _resize(8, SCENE), _resize(16, SCENE)
    coarse = rng.uniform(0, 255, (count, 8, 8)).astype(np.float32)
    detail = rng.uniform(-60, 60, (count, 16, 16)).astype(np.float32)
    img = up8 @ coarse @ up8.T + up16 @ detail @ up16.T + rng.normal(0, 4, (count, SCENE, SCENE))
    return np.clip(img, 0, 255).astype(np.float32)


def _copy(scene: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "reencode":
        out = scene * rng.uniform(0.9, 1.1) + rng.uniform(-10, 10) + rng.normal(0, 3, scene.shape)
    elif kind == "crop":
        x, y = (int(v) for v in rng.choice([0, SCENE - CROP], 2))
        back = _resize(CROP, SCENE)
        out = back @ scene[y : y + CROP, x : x + CROP] @ back.T
    elif kind == "turn90":
        out = np.rot90(scene, 1)
    else:
        out = np.rot90(scene, 2)
    return np.clip(out, 0, 255).astype(np.float32)


def _fingerprint(i: int, ph: int, dh: int, rot: tuple[int, int, int], thumb: bytes) -> Fingerprint:
    return Fingerprint(
        key=f"d{i % 40}/{i:07d}.jpg",
        source_key=f"d{i % 40}/{i:07d}.jpg",
        department=f"d{i % 40}",
        sha256=f"{i:064x}",
        pixel_sha256=f"p{i:063x}",
        byte_size=1000,
        format="JPEG",
        mislabelled=False,
        width=SCENE,
        height=SCENE,
        page=None,
        phash=ph,
        dhash=dh,
        rotated_phashes=rot,
        quality=1.0,
        low_information=False,
        document_like=False,
        thumbnail=thumb,
        thumb_size=(THUMB, THUMB),
        jpeg_quality=90,
        metadata=META,
    )


def synthetic(n: int, seed: int = 0) -> tuple[list[Fingerprint], int]:
    """n fingerprints computed from synthetic pictures; and how many items are in planted clusters."""
    from dedupe.core.fingerprint import phash_of

    rng = np.random.default_rng(seed)
    to32, to16 = _resize(SCENE, 32), _resize(SCENE, THUMB)
    rows8, cols9 = _resize(SCENE, 8), _resize(SCENE, 9)
    fps: list[Fingerprint] = []
    planted = 0
    for lo in range(0, n, _CHUNK):
        count = min(_CHUNK, n - lo)
        img = _scenes(rng, count)
        for base in range(0, count - 2, CLUSTER_EVERY):
            number = (lo + base) // CLUSTER_EVERY
            kinds = (COPY_KINDS[number % 4], COPY_KINDS[(number + 1 + number // 4) % 4])
            for j, kind in enumerate(kinds, start=1):
                img[base + j] = _copy(img[base], kind, rng)
            planted += 3
        hash_input = to32 @ img @ to32.T
        ph = _phashes(hash_input)
        turned = [_phashes(np.rot90(hash_input, k, axes=(1, 2))) for k in (1, 2, 3)]
        small = rows8 @ img @ cols9.T
        dh = np.packbits(small[:, :, 1:] > small[:, :, :-1], axis=(1)).reshape(count, 8)
        dh = dh.copy().view(">u8").ravel().astype(np.uint64)
        thumbs = np.clip(np.rint(to16 @ img @ to16.T), 0, 255).astype(np.uint8)
        if lo == 0:  # the batched recipe is the fingerprinter's own
            for k in range(min(count, 20)):
                assert phash_of(hash_input[k].astype(np.float64)) == int(ph[k])
                assert phash_of(np.rot90(hash_input[k].astype(np.float64), 1)) == int(turned[0][k])
        fps.extend(
            _fingerprint(lo + k, int(ph[k]), int(dh[k]), (int(a), int(b), int(c)), thumbs[k].tobytes())
            for k, (a, b, c) in enumerate(zip(*turned, strict=True))
        )
    return fps, planted


def run_one(n: int) -> dict:
    from dedupe.core.grouping import group_fingerprints

    fps, planted = synthetic(n)
    planted_keys = {
        f.key for i, f in enumerate(fps) if i % CLUSTER_EVERY < 3 and i + 2 - i % CLUSTER_EVERY < n
    }
    start = time.perf_counter()
    groups = group_fingerprints(fps)
    seconds = time.perf_counter() - start
    grouped = {k for g in groups for k in g.keys}
    rss_mb = peak_rss_mb()
    return {"n": n, "seconds": seconds, "peak_rss_mb": rss_mb, "groups": len(groups), "grouped": len(grouped),
            "planted": planted, "planted_grouped": len(grouped & planted_keys),
            "load": os.getloadavg()}  # fmt: skip


def brute_force_seconds(n: int) -> float:
    """All-pairs baseline of the engine's hash searches: pHash, dHash, 3 turns, 5 crop windows."""
    from dedupe.core.index import hamming
    from dedupe.core.search import window_hashes
    from dedupe.core.settings import MatchSettings

    s = MatchSettings()
    fps, _ = synthetic(n)
    ph = np.array([f.phash for f in fps], dtype=np.uint64)
    dh = np.array([f.dhash for f in fps], dtype=np.uint64)
    _, windows = window_hashes(fps)
    searches = [(ph, ph, s.phash_radius), (dh, dh, s.dhash_radius)]
    searches += [
        (np.array([f.rotated_phashes[k] for f in fps], np.uint64), ph, s.phash_radius) for k in range(3)
    ]
    searches += [(w, ph, s.crop_window_radius) for w in windows]
    start = time.perf_counter()
    for queries, stored, radius in searches:
        for i in range(n):
            np.nonzero(hamming(stored, queries[i]) <= radius)
    return time.perf_counter() - start


def _load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


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
        load = " ".join(f"{x:.2f}" for x in row["load"])
        print(
            f"n={n:>9,}  {row['seconds']:8.1f} s  peak RSS {row['peak_rss_mb']:7.0f} MB  "
            f"groups {row['groups']:,}; {row['planted_grouped']:,} of {row['planted']:,} planted items grouped, "
            f"{row['grouped'] - row['planted_grouped']:,} others  (load {load})",
            flush=True,
        )
    for a, b in itertools.pairwise(rows):
        k = math.log(b["seconds"] / a["seconds"]) / math.log(b["n"] / a["n"])
        print(f"growth exponent {a['n']:,} -> {b['n']:,}: {k:.2f}  (1 = linear, 2 = all-pairs)")
    base = brute_force_seconds(10_000)
    print(
        f"baseline brute-force all-pairs hash search at 10,000: {base:.1f} s "
        f"(hash search only, no verification)  ({_load()})"
    )
    for row in rows:
        extrapolated = base * (row["n"] / 10_000) ** 2
        print(
            f"  n={row['n']:>9,}: all-pairs ≈ {extrapolated:,.0f} s; engine {row['seconds']:.1f} s; "
            f"ratio all-pairs / engine = {extrapolated / row['seconds']:.1f}x"
        )


if __name__ == "__main__":
    main()
