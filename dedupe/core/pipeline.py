"""The engine end to end: gathered files -> fingerprints (in parallel) -> groups.

Decoding is the cost (DESIGN.md, lessons from the field), so fingerprinting fans out over
a process pool. Grouping finds its candidate pairs here, over all fingerprints at once,
then compares the pairs on pixels (most of its work) in the same pool, and groups here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from multiprocessing import Pool
from pathlib import Path

from dedupe.core.decisions import ClerkDecisions
from dedupe.core.grouping import group_fingerprints
from dedupe.core.plan import CandidatePlan, PairCheck, plan_candidates, verify_checks
from dedupe.core.settings import MatchSettings
from dedupe.core.types import DedupeResult, Fingerprint, SourceFile, Unreadable
from dedupe.core.verify import Verification

UNASSIGNED_DEPARTMENT = "unassigned"


def sources_from_folder(root: str | os.PathLike[str]) -> list[SourceFile]:
    """Every file under `root`; the first level of sub-folders names the departments.

    Files directly in `root` belong to department "unassigned". Keys are paths relative
    to `root` with forward slashes. Nothing is skipped (hidden files, non-images): the
    fingerprinter reports what it cannot read, so every gathered file reaches the index.
    """
    base = Path(root)
    if not base.is_dir():
        raise NotADirectoryError(f"{base} is not a folder")
    paths: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames.sort()
        for name in filenames:
            path = Path(dirpath) / name
            paths.append((path.relative_to(base).as_posix(), path))
    paths.sort()
    sources = []
    for order, (key, path) in enumerate(paths):
        parts = key.split("/")
        department = parts[0] if len(parts) > 1 else UNASSIGNED_DEPARTMENT
        try:
            mtime: float | None = path.stat().st_mtime
        except OSError:
            mtime = None  # a dangling link: the fingerprinter will say why it is unreadable
        sources.append(SourceFile(key, department, str(path), uploaded_order=order, mtime=mtime))
    return sources


def _fingerprint_one(source: SourceFile) -> list[Fingerprint | Unreadable]:
    # Imported here so the engine (and its tests) load before the fingerprinter exists,
    # and so each worker process imports it once.
    from dedupe.core.fingerprint import fingerprint_file

    try:
        return list(fingerprint_file(source))
    except Exception as exc:  # one bad file must never take down a batch
        return [
            Unreadable(
                key=source.key,
                source_key=source.key,
                department=source.department,
                sha256="",
                byte_size=0,
                reason=f"could not be read: {type(exc).__name__}: {exc}",
            )
        ]


def fingerprint_sources(
    sources: Sequence[SourceFile],
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Fingerprint], list[Unreadable]]:
    """Fingerprint every source, in a process pool when jobs > 1, keeping input order."""
    jobs = _job_count(jobs)
    fingerprints: list[Fingerprint] = []
    unreadable: list[Unreadable] = []
    results: Iterable[list[Fingerprint | Unreadable]]
    if jobs == 1 or len(sources) < 2:
        results = map(_fingerprint_one, sources)
        pool = None
    else:
        pool = Pool(processes=min(jobs, len(sources)))
        # Small chunks keep all workers busy when a few files are huge.
        chunksize = max(1, min(16, len(sources) // (jobs * 8)))
        results = pool.imap(_fingerprint_one, sources, chunksize=chunksize)
    try:
        for done, outcome in enumerate(results, start=1):
            for item in outcome:
                if isinstance(item, Fingerprint):
                    fingerprints.append(item)
                else:
                    unreadable.append(item)
            if progress:
                progress(done, len(sources))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return fingerprints, unreadable


def run_dedupe(
    sources: Sequence[SourceFile],
    settings: MatchSettings | None = None,
    jobs: int | None = None,
    *,
    departments_of_record: Iterable[str] = (),
    decisions: ClerkDecisions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DedupeResult:
    """Fingerprint `sources` (jobs processes; default one per CPU) and group the copies."""
    s = settings or MatchSettings()
    fingerprints, unreadable = fingerprint_sources(sources, jobs, progress)
    plan, verified = None, None
    if _job_count(jobs) > 1:
        plan = plan_candidates(fingerprints, s, departments_of_record=departments_of_record)
        verified = verify_in_pool(plan, fingerprints, s, jobs)
    groups = group_fingerprints(
        fingerprints,
        s,
        departments_of_record=departments_of_record,
        decisions=decisions,
        plan=plan,
        verified=verified,
    )
    return DedupeResult(
        fingerprints=tuple(sorted(fingerprints, key=lambda f: f.key)),
        unreadable=tuple(sorted(unreadable, key=lambda u: u.key)),
        groups=groups,
        settings=s.as_dict(),
    )


# Candidate pairs per pool task: each carries only the fingerprints its pairs need.
_PAIRS_PER_TASK = 64


def _verify_share(args: tuple[list[PairCheck], dict[str, Fingerprint], MatchSettings]) -> list[Verification]:
    checks, by_key, s = args
    return verify_checks(checks, by_key, s)


def verify_in_pool(
    plan: CandidatePlan, fingerprints: Sequence[Fingerprint], settings: MatchSettings, jobs: int | None = None
) -> dict[PairCheck, Verification]:
    """Compare a plan's pairs to verify on pixels in a process pool."""
    checks = plan.to_verify
    jobs = _job_count(jobs)
    if jobs == 1 or len(checks) < 2 * _PAIRS_PER_TASK:
        return {
            c: v for c, v in zip(checks, verify_checks(checks, _by_key(fingerprints), settings), strict=True)
        }
    by_key = _by_key(fingerprints)
    shares = [checks[lo : lo + _PAIRS_PER_TASK] for lo in range(0, len(checks), _PAIRS_PER_TASK)]
    tasks = [(share, {k: by_key[k] for c in share for k in (c.ref, c.other)}, settings) for share in shares]
    with Pool(processes=jobs) as pool:
        results = pool.map(_verify_share, tasks)
    return {
        c: v for share, found in zip(shares, results, strict=True) for c, v in zip(share, found, strict=True)
    }


def _job_count(jobs: int | None) -> int:
    """Processes to use: as asked, else one per CPU."""
    return max(1, jobs or os.cpu_count() or 1)


def _by_key(fingerprints: Sequence[Fingerprint]) -> dict[str, Fingerprint]:
    return {f.key: f for f in fingerprints}
