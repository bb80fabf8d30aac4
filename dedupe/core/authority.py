"""The ordered, written rules that choose a group's authoritative copy (DESIGN.md section 6).

Each rule looks at the copies still in the running and either narrows them (keeping the
best) with a one-line reason a clerk can read, or passes. The rule that leaves a single
copy decided; the group stores its name and reason. The last rule always decides, so the
choice is deterministic whatever order the copies arrive in.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from dedupe.core.settings import DEFAULT_AUTHORITY_ORDER
from dedupe.core.types import Fingerprint

# The rule name a group carries when a clerk chose its authoritative copy over the rules.
CLERK_OVERRIDE = "clerk_override"

# Formats that store pixels without loss: a copy in one of these was not re-compressed.
LOSSLESS_FORMATS = frozenset({"PNG", "TIFF", "BMP", "GIF"})


@dataclass(frozen=True)
class AuthorityContext:
    """What the rules need besides the copies: the request's department(s) of record."""

    departments_of_record: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Narrowing:
    """A rule's outcome: the copies it kept and why."""

    kept: tuple[Fingerprint, ...]
    reason: str


@dataclass(frozen=True)
class AuthorityDecision:
    key: str
    rule: str
    reason: str


Rule = Callable[[Sequence[Fingerprint], AuthorityContext], Narrowing | None]


def _keep_best(candidates: Sequence[Fingerprint], score: Callable[[Fingerprint], int]) -> list[Fingerprint]:
    best = max(score(c) for c in candidates)
    return [c for c in candidates if score(c) == best]


def _others(losers: Sequence[Fingerprint], describe: Callable[[Fingerprint], str]) -> str:
    values = sorted({describe(f) for f in losers})
    shown = ", ".join(values[:3])
    return shown + (f" and {len(values) - 3} more" if len(values) > 3 else "")


def department_of_record(candidates: Sequence[Fingerprint], ctx: AuthorityContext) -> Narrowing | None:
    """Copies held by the department of record for the request win."""
    kept = [c for c in candidates if c.department in ctx.departments_of_record]
    if not kept or len(kept) == len(candidates):
        return None
    losers = [c for c in candidates if c not in kept]
    depts = ", ".join(sorted({c.department for c in kept}))
    return Narrowing(
        tuple(kept),
        f"held by the department of record ({depts}) against {_others(losers, lambda f: f.department)}",
    )


def _born_digital(f: Fingerprint) -> bool:
    """A PDF page with its own text: made by a computer, never scanned, so never recompressed."""
    return f.format == "PDF" and f.text_source == "text_layer"


def most_pixels(candidates: Sequence[Fingerprint], ctx: AuthorityContext) -> Narrowing | None:
    """The most complete original has the most pixels; a born-digital PDF page is more
    complete than any scan of it, however fine (its pixels are a rendering, its text exact)."""
    born_digital = [c for c in candidates if _born_digital(c)]
    if born_digital and len(born_digital) < len(candidates):
        scans = [c for c in candidates if not _born_digital(c)]
        what = _others(scans, lambda f: f"{f.format} {f.width}×{f.height}")
        return Narrowing(
            tuple(born_digital), f"the born-digital PDF page, against scans or copies of it: {what}"
        )
    kept = _keep_best(candidates, lambda f: f.width * f.height)
    if len(kept) == len(candidates):
        return None
    losers = [c for c in candidates if c not in kept]
    w, h = kept[0].width, kept[0].height
    return Narrowing(
        tuple(kept),
        f"highest resolution: {w}×{h} against {_others(losers, lambda f: f'{f.width}×{f.height}')}",
    )


def _compression_rank(f: Fingerprint) -> int:
    # A born-digital PDF page above everything (no scan lost anything of it); lossless above
    # any JPEG; a JPEG by its estimated quality; formats whose quality we cannot estimate
    # (HEIF, WebP, a scanned PDF's page) rank last rather than being guessed.
    if _born_digital(f):
        return 102
    if f.format in LOSSLESS_FORMATS:
        return 101
    if f.jpeg_quality is not None:
        return f.jpeg_quality
    return -1


def _describe_compression(f: Fingerprint) -> str:
    if _born_digital(f):
        return "a born-digital PDF page"
    if f.format in LOSSLESS_FORMATS:
        return f"lossless {f.format}"
    if f.jpeg_quality is not None:
        return f"JPEG quality {f.jpeg_quality}"
    return f"{f.format} (quality unknown)"


def least_recompressed(candidates: Sequence[Fingerprint], ctx: AuthorityContext) -> Narrowing | None:
    """Among equally large copies, the one compressed least."""
    kept = _keep_best(candidates, _compression_rank)
    if len(kept) == len(candidates):
        return None
    losers = [c for c in candidates if c not in kept]
    best = _describe_compression(kept[0])
    worse = _others(losers, _describe_compression)
    return Narrowing(tuple(kept), f"least re-compressed: {best} against {worse}")


def original_metadata(candidates: Sequence[Fingerprint], ctx: AuthorityContext) -> Narrowing | None:
    """A copy that still carries the camera's metadata is closer to the original."""
    kept = [c for c in candidates if c.metadata.has_original_metadata]
    if not kept or len(kept) == len(candidates):
        return None
    return Narrowing(tuple(kept), "carries the camera's original metadata; the other copies lost it")


def _known_capture(f: Fingerprint) -> datetime | None:
    capture = f.metadata.capture
    return capture.value if capture.is_known and not capture.weak else None


def earliest_capture(candidates: Sequence[Fingerprint], ctx: AuthorityContext) -> Narrowing | None:
    """The earliest known capture date (weak or unknown dates do not compete)."""
    known = [(c, when) for c in candidates if (when := _known_capture(c)) is not None]
    if not known:
        return None
    # A date pinned to UTC beside local wall-clock dates: compare wall clocks (as
    # dedupe.core.conflicts does), as aware and naive datetimes cannot be ordered.
    mixed = len({value.tzinfo is None for _, value in known}) > 1

    def comparable(value: datetime) -> datetime:
        return value.replace(tzinfo=None) if mixed else value

    first = min(comparable(value) for _, value in known)
    kept = [c for c, value in known if comparable(value) == first]
    if len(kept) == len(candidates):
        return None
    losers = [c for c in candidates if c not in kept]

    def describe(f: Fingerprint) -> str:
        value = _known_capture(f)
        return value.isoformat(sep=" ") if value else "unknown"

    return Narrowing(
        tuple(kept), f"earliest capture: {first.isoformat(sep=' ')} against {_others(losers, describe)}"
    )


def earliest_upload(candidates: Sequence[Fingerprint], ctx: AuthorityContext) -> Narrowing | None:
    """The copy gathered first."""
    kept = _keep_best(candidates, lambda f: -f.uploaded_order)
    if len(kept) == len(candidates):
        return None
    return Narrowing(tuple(kept), f"uploaded first (upload #{kept[0].uploaded_order})")


def smallest_sha256(candidates: Sequence[Fingerprint], ctx: AuthorityContext) -> Narrowing | None:
    """Deterministic tie-break: smallest SHA-256, then smallest key."""
    winner = min(candidates, key=lambda f: (f.sha256, f.key))
    if all(c.sha256 == winner.sha256 for c in candidates):
        reason = f"identical copies; the first by path ({winner.key}) was kept"
    else:
        reason = f"no rule told the copies apart; smallest SHA-256 ({winner.sha256[:12]}…) breaks the tie"
    return Narrowing((winner,), reason)


RULES: dict[str, Rule] = {
    "department_of_record": department_of_record,
    "most_pixels": most_pixels,
    "least_recompressed": least_recompressed,
    "original_metadata": original_metadata,
    "earliest_capture": earliest_capture,
    "earliest_upload": earliest_upload,
    "smallest_sha256": smallest_sha256,
}


def choose_authoritative(
    candidates: Collection[Fingerprint],
    departments_of_record: Collection[str] = (),
    order: Sequence[str] = DEFAULT_AUTHORITY_ORDER,
) -> AuthorityDecision:
    """Apply the rules in order to the copies of one group; say which rule decided and why."""
    unknown = [name for name in order if name not in RULES]
    if unknown:
        raise ValueError(f"unknown authority rule(s): {', '.join(unknown)}")
    ctx = AuthorityContext(frozenset(departments_of_record))
    remaining = sorted(candidates, key=lambda f: (f.sha256, f.key))
    if not remaining:
        raise ValueError("a group needs at least one copy")
    earlier: list[str] = []
    # smallest_sha256 is always applied last so the outcome never depends on input order.
    for name in (*order, "smallest_sha256"):
        if len(remaining) == 1:
            break
        outcome = RULES[name](remaining, ctx)
        if outcome is None:
            continue
        remaining = list(outcome.kept)
        if len(remaining) == 1:
            reason = outcome.reason + (f" (after: {'; '.join(earlier)})" if earlier else "")
            return AuthorityDecision(remaining[0].key, name, reason)
        earlier.append(outcome.reason)
    only = remaining[0]
    return AuthorityDecision(only.key, "only_copy", "the only copy")


def rank_key(f: Fingerprint) -> tuple[int, int, bool, bool, str, int, str, str]:
    """A total order consistent with the default rules (no department of record), for sorting."""
    capture = _known_capture(f)
    return (
        -(f.width * f.height),
        -_compression_rank(f),
        not f.metadata.has_original_metadata,
        capture is None,
        capture.isoformat() if capture else "",
        f.uploaded_order,
        f.sha256,
        f.key,
    )
