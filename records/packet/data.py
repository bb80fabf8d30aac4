"""The prepared packet: frozen values a service builds from the database, and Bates numbering.

Everything the renderers need is here as plain data, so `index.pdf`, `letter.pdf`, the
manifests and the ZIP are pure functions of a `Packet` and can be tested without a database.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from dedupe.core.types import file_of_key
from records.errors import InvalidInput
from records.group_numbering import group_sort_key, number_groups
from records.wording import date_source_label, relation_label, unreadable_fate


class UnreadableFiles(StrEnum):
    """What the requester gets for a file nobody could open (PACKETDESK_UNREADABLE_FILES).

    NOT_DELIVERED (the default): a file that could not be opened could not be reviewed for
    exempt content, so it is not released; the index says the office keeps the original.
    ORIGINAL_BYTES: it goes out as received under a Bates number, bytes unchanged, the index
    saying it was not reviewed. A page of a multi-page file is never delivered this way (its
    file holds other pages, each an item of its own), nor a file whose bytes were not kept.
    """

    NOT_DELIVERED = "not_delivered"
    ORIGINAL_BYTES = "original_bytes"


class Fate(StrEnum):
    """What became of a gathered file in the packet (the index's "fate" column).

    Not the item's intake status (records.models.ItemStatus): a stored item is delivered,
    a duplicate, withheld or unreadable here.
    """

    DELIVERED = "delivered"
    DUPLICATE = "duplicate"
    WITHHELD = "withheld"
    UNREADABLE = "unreadable"
    REFUSED = "refused"  # refused at intake (not an image); DESIGN.md calls it unreadable


# Relations the engine writes (dedupe.core.types.Relation); "exact" is the only one with equal bytes.
EXACT_RELATIONS = frozenset({"exact"})
BATES_PREFIX_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
BATES_DIGITS = 6


@dataclass(frozen=True, kw_only=True)
class Citation:
    """One legal basis for withholding or redacting, with who answers for it (Gov. Code § 7922.540)."""

    exemption: str  # plain label, e.g. "Personnel, medical or similar files"
    section: str  # e.g. "Gov. Code § 7927.700"
    responsible_name: str
    responsible_title: str

    @property
    def label(self) -> str:
        return f"{self.exemption} ({self.section})"

    @property
    def responsible(self) -> str:
        return f"{self.responsible_name}, {self.responsible_title}"


@dataclass(frozen=True, kw_only=True)
class PacketRequest:
    city: str
    office: str
    reference: str
    requester_name: str
    requester_organisation: str = ""
    requester_kind: str = ""  # resident, journalist, attorney ...
    requester_email: str = ""
    received: date
    due: date
    extended_due: date | None = None
    released: date | None = None
    remainder_expected: date | None = None  # when records still to come will follow (§ 7922.535(a))
    clerk_name: str
    clerk_title: str
    bates_prefix: str
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class PacketItem:
    """One gathered file and its fate; every gathered file is exactly one item."""

    path: str  # as gathered, relative to the gathered root
    department_code: str
    department_name: str
    sha256: str
    byte_size: int
    status: Fate
    bates: str | None = None
    capture_date: datetime | None = None  # wall-clock time as recorded
    capture_date_source: str = "unknown"
    capture_utc_offset: str | None = None  # "+HH:MM" when known
    parcels: tuple[str, ...] = ()
    camera: str = ""
    duplicate_of_bates: str | None = None
    group_id: str | None = None
    is_authoritative: bool = False
    authority_rule: str = ""
    authority_reason: str = ""
    relation: str = ""
    relation_explanation: str = ""
    withholding: Citation | None = None
    redaction_count: int = 0
    redaction_exemptions: tuple[Citation, ...] = ()
    unreadable_reason: str = ""
    thumbnail_jpeg: bytes | None = field(default=None, repr=False)
    extension: str = ""  # of the delivered file, e.g. ".jpg"
    description: str = ""  # for the withholding log; never the file name by default
    delivered_sha256: str | None = None  # of the copy that goes out (a page alone, or redacted)
    # Unreadable or refused: the rule in force (UnreadableFiles), whether the item went out
    # as received under it, and whether the office holds its bytes at all.
    unreadable_rule: str = ""
    delivered_as_received: bool = False
    original_kept: bool = True

    @property
    def is_redacted(self) -> bool:
        """Delivered with parts blacked out (a withheld item with redactions goes out redacted)."""
        return self.redaction_count > 0 and self.status in (Fate.DELIVERED, Fate.WITHHELD)

    @property
    def is_withheld_in_full(self) -> bool:
        return self.status == Fate.WITHHELD and not self.is_redacted

    @property
    def is_unreadable(self) -> bool:
        """Could not be opened (refused at intake included)."""
        return self.status in (Fate.UNREADABLE, Fate.REFUSED)

    @property
    def is_produced(self) -> bool:
        """Goes out as a file with a Bates number by default."""
        return (
            self.status == Fate.DELIVERED
            or self.is_redacted
            or (self.is_unreadable and self.delivered_as_received)
        )

    @property
    def citations(self) -> tuple[Citation, ...]:
        cited = ((self.withholding,) if self.withholding else ()) + self.redaction_exemptions
        return tuple(dict.fromkeys(cited))

    @property
    def capture_date_text(self) -> str | None:
        """ISO 8601 with the UTC offset when known, else None."""
        if self.capture_date is None:
            return None
        return self.capture_date.isoformat() + (self.capture_utc_offset or "")


@dataclass(frozen=True, kw_only=True)
class PacketGroup:
    id: str
    authoritative_path: str
    rule: str
    reason: str
    member_paths: tuple[str, ...]  # all members, the authoritative one included
    conflicts: tuple[str, ...] = ()


DEFAULT_RULES = (
    "The department of record for the request holds the copy.",
    "The most complete original: most pixels, least re-compressed, original metadata present.",
    "The earliest capture date.",
    "The earliest upload.",
    "The smallest SHA-256 (a fixed tie-break, so the choice never depends on chance).",
)


@dataclass(frozen=True, kw_only=True)
class MatchExplanation:
    """The 'how duplicates were found' page: rules in order and the thresholds in force."""

    rules: tuple[str, ...] = DEFAULT_RULES
    thresholds: tuple[tuple[str, str], ...] = ()  # (what, value in words)

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, object], rules: Sequence[str] = DEFAULT_RULES
    ) -> MatchExplanation:
        """Thresholds in words from dedupe's `MatchSettings.as_dict()` (unknown keys are listed raw)."""
        words = {
            "phash_radius": "Candidate search: perceptual hashes differ in at most {} of 64 bits",
            "dhash_radius": "Second candidate search (difference hash): at most {} of 64 bits",
            "crop_window_radius": "Cropped copies: a window of the picture within {} of 64 bits",
            "rotation_radius": "Pages turned a quarter or half: the turned hash within {} of 64 bits",
            "same_image_score": "Same picture: pixel correlation of at least {}",
            "near_identical_score": "Near-identical shot: pixel correlation of at least {}",
            "tile_difference_limit": "No area of the picture may differ by more than {} (0 to 1)",
            "document_ink_difference_limit": "Documents: what is written in each page area must correlate "
            "to within {} of 1 (page seen at 256 px)",
            "document_view_difference_limit": "Documents kept sharp (scans at 640 px): each 64-px area "
            "must correlate to within {} of 1, so forms on one template stay apart",
            "document_text_min_agreement": "Documents whose words were read: an entry with a digit "
            "(case number, date, address) read with another value on the other page keeps them apart, "
            "and at least {} of the words must agree",
            "document_text_decides_agreement": "Documents whose words agree this closely ({} of them or more, "
            "no entry differing or left unconfirmed by OCR) are compared by their words rather than their "
            "sharper view",
            "document_unread_ink_limit": "Documents kept sharp: an area that differs is set aside when at most {} "
            "of its ink lies outside the words both readings hold at the same place and the lines both pages have",
            "burst_max_seconds": "Shots at most {} seconds apart count as one moment's burst",
            "same_photo_max_seconds_apart": "Camera dates more than {} seconds apart are never the same "
            "photo (near-identical shots at most) and are flagged as a conflict",
            "conflict_capture_days": "Capture dates of any kind more than {} day(s) apart are flagged as a conflict",
            "conflict_place_metres": "Places more than {} metres apart are flagged as a conflict",
        }
        rows = [(words[k].format(settings[k]), str(settings[k])) for k in words if k in settings]
        return cls(rules=tuple(rules), thresholds=tuple(rows))


@dataclass(frozen=True, kw_only=True)
class PacketCounts:
    gathered: int
    delivered: int  # files that go out, redacted ones included
    exact_duplicates: int
    near_duplicates: int
    withheld: int  # in full
    redacted: int  # items delivered with redactions
    redactions: int  # redaction boxes across all items
    unreadable: int  # refused at intake included
    bytes_gathered: int
    bytes_saved: int  # duplicates not delivered
    exemptions: tuple[Citation, ...]  # distinct exemption + section, sorted

    @classmethod
    def from_items(cls, items: Iterable[PacketItem]) -> PacketCounts:
        items = list(items)
        dups = [i for i in items if i.status == Fate.DUPLICATE]
        exemptions: dict[tuple[str, str], Citation] = {}
        for item in items:
            if item.is_withheld_in_full or item.is_redacted:
                for c in item.citations:
                    exemptions.setdefault((c.section, c.exemption), c)
        return cls(
            gathered=len(items),
            delivered=sum(1 for i in items if i.is_produced or (i.bates and i.status == Fate.DUPLICATE)),
            exact_duplicates=sum(1 for i in dups if i.relation in EXACT_RELATIONS),
            near_duplicates=sum(1 for i in dups if i.relation not in EXACT_RELATIONS),
            withheld=sum(1 for i in items if i.is_withheld_in_full),
            redacted=sum(1 for i in items if i.is_redacted),
            redactions=sum(i.redaction_count for i in items if i.is_redacted),
            unreadable=sum(1 for i in items if i.status in (Fate.UNREADABLE, Fate.REFUSED)),
            bytes_gathered=sum(i.byte_size for i in items),
            bytes_saved=sum(i.byte_size for i in dups if not i.bates),
            exemptions=tuple(exemptions[k] for k in sorted(exemptions)),
        )


@dataclass(frozen=True, kw_only=True)
class Packet:
    request: PacketRequest
    items: tuple[PacketItem, ...]
    groups: tuple[PacketGroup, ...] = ()
    explanation: MatchExplanation = MatchExplanation()
    generated_at: datetime  # fixed by the caller: the same packet gives the same bytes
    media: str = "one ZIP archive (BagIt layout) through an expiring download link"
    unreadable_files: UnreadableFiles = UnreadableFiles.NOT_DELIVERED  # the rule in force

    @property
    def counts(self) -> PacketCounts:
        return PacketCounts.from_items(self.items)

    def ordered_items(self) -> list[PacketItem]:
        return index_order(self.items)

    def group_numbers(self) -> dict[str, int]:
        return group_numbers(self.items)

    def bates_range(self) -> tuple[str, str] | None:
        numbers = sorted(i.bates for i in self.items if i.bates)
        return (numbers[0], numbers[-1]) if numbers else None


def _group_rank(items: Sequence[PacketItem]) -> dict[str, tuple[str, str, str]]:
    """Each group sorts by its authoritative copy's department and path, then its id."""
    lead: dict[str, PacketItem] = {}
    for item in items:
        if item.group_id is None:
            continue
        best = lead.get(item.group_id)
        if best is None or (item.is_authoritative, best.path) > (best.is_authoritative, item.path):
            lead[item.group_id] = item
    return {gid: group_sort_key(it.department_code, it.path, gid) for gid, it in lead.items()}


def group_numbers(items: Iterable[PacketItem]) -> dict[str, int]:
    """Each group's number (1, 2, ...) in the order the index lists the groups."""
    return number_groups(_group_rank(list(items)))


def grouped_fields(
    *,
    group_id: str,
    is_authoritative: bool,
    rule: str,
    reason: str,
    relation: str | None = None,
    explanation: str | None = None,
) -> tuple[Fate, dict[str, object]]:
    """How a member of a duplicate group shows in the packet: its fate and its group fields.

    Both routes to a packet use it: a web packet from the stored groups (prepare.py) and a
    folder run from the engine's result (from_engine.py). The authoritative copy is
    delivered, every other member is a duplicate of it; `relation` is left out when the
    caller has none (the engine gives the authoritative copy no relation to itself).
    """
    fields: dict[str, object] = {
        "group_id": group_id,
        "is_authoritative": is_authoritative,
        "authority_rule": rule,
        "authority_reason": reason,
    }
    if relation is not None:
        fields["relation"] = relation
        fields["relation_explanation"] = explanation or ""
    return (Fate.DELIVERED if is_authoritative else Fate.DUPLICATE), fields


def unreadable_fields(rule: UnreadableFiles | str, *, page: int, original_kept: bool) -> dict[str, object]:
    """The PacketItem fields of an unreadable or refused item under `rule`.

    Only a whole file whose bytes the office holds can go out as received: a page of a
    multi-page file would carry its neighbours along.
    """
    rule = UnreadableFiles(rule)
    return {
        "unreadable_rule": str(rule),
        "delivered_as_received": rule == UnreadableFiles.ORIGINAL_BYTES and page == 0 and original_kept,
        "original_kept": original_kept,
    }


def index_order(items: Iterable[PacketItem]) -> list[PacketItem]:
    """The one stable order of the index and of Bates numbers.

    Duplicate groups first (by their authoritative copy's department and path; inside a
    group the authoritative copy first, then by path), then the items without duplicates by
    department and path. Input order never matters.
    """
    items = list(items)
    rank = _group_rank(items)

    def key(item: PacketItem) -> tuple:
        if item.group_id is not None:
            return (0, rank[item.group_id], not item.is_authoritative, item.path, item.sha256)
        return (1, (item.department_code, "", ""), False, item.path, item.sha256)

    return sorted(items, key=key)


def bates_number(prefix: str, n: int) -> str:
    return f"{prefix}-{n:0{BATES_DIGITS}d}"


def assign_bates(
    items: Iterable[PacketItem], prefix: str, start: int = 1, *, every_copy: bool = False
) -> tuple[PacketItem, ...]:
    """Number the files that go out `<PREFIX>-<NNNNNN>`, in `index_order`; returns new items.

    By default the authoritative copy of each group, every item without duplicates and every
    item delivered redacted get a number; with `every_copy` the duplicates do as well. A
    duplicate always records the Bates number of its group's authoritative copy (if it has
    one). Withheld-in-full items never get a number; unreadable ones only when delivered as
    received (`UnreadableFiles.ORIGINAL_BYTES`).
    """
    if not BATES_PREFIX_PATTERN.match(prefix):
        raise InvalidInput(
            f"Bates prefix {prefix!r} must be 1-20 capital letters, digits, '-' or '_'.", code="bates_prefix"
        )
    if start < 1:
        raise InvalidInput("Bates numbers start at 1 or above.", code="bates_start")
    numbered: list[PacketItem] = []
    n = start
    for item in index_order(items):
        gets_number = item.is_produced or (every_copy and item.status == Fate.DUPLICATE)
        numbered.append(dataclasses.replace(item, bates=bates_number(prefix, n) if gets_number else None))
        n += gets_number
    authoritative_bates = {i.group_id: i.bates for i in numbered if i.group_id and i.is_authoritative}
    return tuple(
        dataclasses.replace(i, duplicate_of_bates=authoritative_bates.get(i.group_id))
        if i.status == Fate.DUPLICATE
        else i
        for i in numbered
    )


def relation_text(item: PacketItem) -> str:
    return item.relation_explanation or relation_label(item.relation)


def capture_source_text(source: str) -> str:
    return date_source_label(source)


def citations_text(citations: Iterable[Citation]) -> str:
    return "; ".join(c.label for c in citations)


def item_fate(item: PacketItem, item_numbers: Mapping[str, int] | None = None) -> str:
    """What happened to an item, in the words the index, the manifest and the CSV all use.

    `item_numbers` maps group ids to the authoritative copy's item number, for a duplicate of
    an item that has no Bates number (it was withheld or could not be read).
    """
    if item.status == Fate.DUPLICATE:
        if item.duplicate_of_bates:
            target = item.duplicate_of_bates
        elif item_numbers and item.group_id in item_numbers:
            target = f"item {item_numbers[item.group_id]} (not delivered)"
        else:
            target = "its group's authoritative copy"
        return f"duplicate of {target}: {relation_text(item)}"
    if item.is_redacted:
        s = "s" if item.redaction_count != 1 else ""
        return f"delivered with {item.redaction_count} redaction{s}: {citations_text(item.citations)}"
    if item.status == Fate.WITHHELD:
        return f"withheld: {citations_text(item.citations) or 'no citation recorded'}"
    if item.is_unreadable:
        what = "unreadable" if item.status == Fate.UNREADABLE else "unreadable (refused at intake)"
        return f"{what}: {item.unreadable_reason or 'no reason recorded'}. {unreadable_outcome(item)}"
    return "delivered"


def unreadable_outcome(item: PacketItem) -> str:
    """What the requester gets for an unreadable or refused item, naming the rule that decided."""
    return unreadable_fate(
        item.unreadable_rule or UnreadableFiles.NOT_DELIVERED,
        delivered=item.delivered_as_received,
        original_kept=item.original_kept,
        page_of_file=item.status == Fate.UNREADABLE and file_of_key(item.path) != item.path,
    )
