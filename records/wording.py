"""The words staff and requesters read for the engine's codes: relations, date sources, rules.

One home, so the review page, the index PDF, the letter, the manifest and the requester's
page say the same thing. Plain Python (no Django), as the packet renderers import it.
Staff see the figures too (hash bits, pixel agreement); requesters see plain words only.
"""

from __future__ import annotations

from dedupe.core.authority import CLERK_OVERRIDE

# dedupe.core.types.Relation values, as a clerk reads them on the review page.
RELATION_WORDS = {
    "exact": "Exact copy: the same file, byte for byte",
    "same_pixels": "Same picture saved as a different file (every pixel identical)",
    "same_image": "Same photo, re-saved, resized, slightly cropped or turned",
    "near_identical_shot": "A separate shot of the same scene, taken at another moment",
    "clerk_merged": "Joined by a clerk as the same record (the pictures do not match)",
}

# The same relations between two document pages (both document-like: forms, letters, scans),
# which are pages, not photos.
DOCUMENT_RELATION_WORDS = {
    "same_pixels": "Same page saved as a different file (every pixel identical)",
    "same_image": "Same page, scanned or saved again (resized, re-encoded, cropped or turned)",
    "near_identical_shot": "Another copy of the same page, slightly different",
    "clerk_merged": "Joined by a clerk as the same record (the pages do not match)",
}

# The same relations in the short form the index and the manifest use.
RELATION_LABELS = {
    "exact": "exact copy (same bytes)",
    "same_pixels": "same pixels in a different file",
    "same_image": "same image, re-encoded, resized or cropped",
    "near_identical_shot": "near-identical shot taken at another moment",
    "clerk_merged": "joined by a clerk as the same record (pictures do not match)",
}

# For the requester: what the copy is, with no engine figures.
RELATION_PLAIN = {
    "exact": "an exact copy of the delivered file",
    "same_pixels": "the same picture saved as another file",
    "same_image": "the same picture, saved again, resized, cropped or turned",
    "near_identical_shot": "another shot of the same scene, taken at another moment",
    "clerk_merged": "a file the office counts as the same record as the delivered file",
}

# dedupe.core.types.CaptureDateSource values: where a capture date came from.
DATE_SOURCE_WORDS = {
    "exif_datetime_original": "camera's original date",
    "exif_datetime_digitized": "camera's digitised date",
    "exif_datetime": "date in the file's EXIF",
    "gps_datetime": "GPS time",
    "tiff_datetime": "TIFF date",
    "xmp": "XMP metadata",
    "png_text": "PNG text",
    "pdf_creation_date": "the PDF's creation date",
    "file_name": "date in the file name",
    "file_modification_time": "file time (weak: copying changes it)",
    "unknown": "unknown",
}

# The index's shorter form of the same sources.
DATE_SOURCE_LABELS = {
    "exif_datetime_original": "camera (EXIF original)",
    "exif_datetime_digitized": "camera (EXIF digitized)",
    "exif_datetime": "EXIF date",
    "gps_datetime": "GPS time",
    "tiff_datetime": "TIFF date",
    "xmp": "XMP metadata",
    "png_text": "PNG text",
    "pdf_creation_date": "PDF creation date",
    "file_name": "file name",
    "file_modification_time": "file time (weak)",
    "unknown": "unknown",
}

# dedupe.core.authority rule names (and the clerk's override) as the sentence staff see.
RULE_SENTENCES = {
    "department_of_record": "held by the department of record",
    "most_pixels": "the most complete original, by pixel count",
    "least_recompressed": "the least re-compressed copy",
    "original_metadata": "the copy that keeps the camera's original metadata",
    "earliest_capture": "the earliest capture",
    "earliest_upload": "the earliest upload",
    "smallest_sha256": "a fixed tie-break, the smallest SHA-256",
    CLERK_OVERRIDE: "chosen by a clerk",
}


def relation_words(relation: str, *, document: bool = False) -> str:
    """The review page's words for a relation; `document` when both copies are document pages."""
    if document and relation in DOCUMENT_RELATION_WORDS:
        return DOCUMENT_RELATION_WORDS[relation]
    return RELATION_WORDS.get(relation, relation)


def relation_label(relation: str) -> str:
    return RELATION_LABELS.get(relation, relation)


def relation_plain(relation: str) -> str:
    return RELATION_PLAIN.get(relation, "a copy of the delivered file")


def date_source_words(source: str) -> str:
    return DATE_SOURCE_WORDS.get(source, source)


def date_source_label(source: str) -> str:
    return DATE_SOURCE_LABELS.get(source, source)


def rule_sentence(rule: str) -> str:
    """A rule name as words ('' stays 'not recorded'); unknown names are shown as they are."""
    if not rule:
        return "not recorded"
    return RULE_SENTENCES.get(rule, rule.replace("_", " "))


def authority_words(rule: str, reason: str) -> str:
    """Why a group's copy is authoritative, in one phrase: the stored reason, with the rule's
    sentence beside it unless the reason already says it (a clerk's choice names the clerk)."""
    sentence = rule_sentence(rule)
    if not reason:
        return sentence
    if rule == CLERK_OVERRIDE or reason.lower().startswith(sentence.lower()):
        return reason
    return f"{reason} (rule: {sentence})"


def hash_words(distance: int | None, *, matched: bool = True) -> str:
    """The perceptual-hash distance in words (0 to 64 bits differ), for staff; `matched`
    False for a copy a clerk joined whose pixels do not match."""
    if distance is None:
        return ""
    if not matched:
        return f"outlines differ ({distance} of 64 fingerprint points)"
    if distance == 0:
        return "outlines identical (0 of 64 fingerprint points differ)"
    if distance <= 6:
        return f"outlines nearly identical ({distance} of 64 fingerprint points differ)"
    if distance <= 14:
        return f"outlines similar ({distance} of 64 fingerprint points differ)"
    return f"outlines differ noticeably ({distance} of 64 points); matched on a closer pixel check"


def score_words(score: float | None) -> str:
    """The pixel verification (correlation of the aligned thumbnails, 1.0 = identical), for staff."""
    if score is None:
        return ""
    if score >= 0.99:
        word = "virtually identical"
    elif score >= 0.95:
        word = "match closely"
    elif score >= 0.90:
        word = "match, with small differences (re-saving, resizing)"
    elif score >= 0.80:
        word = "mostly match: same scene, something moved or changed"
    elif score >= 0.50:
        word = "match only weakly"
    else:
        return f"Pixels do not match (correlation {score:.2f})"
    return f"Pixels {word} ({score:.0%} agreement)"


def capture_label(iso: str) -> str:
    """'2024-03-12T10:15:02-07:00' as '2024-03-12 10:15:02 (UTC-07:00)'; '' as 'unknown'."""
    if not iso:
        return "unknown"
    date, _, rest = iso.partition("T")
    if not rest:
        return date
    for sign in ("+", "-", "Z"):
        if sign in rest:
            clock, _, offset = rest.partition(sign)
            return f"{date} {clock} (UTC{sign}{offset})" if sign != "Z" else f"{date} {clock} (UTC)"
    return f"{date} {rest}"


# records.packet.data.UnreadableFiles (PACKETDESK_UNREADABLE_FILES): what the requester gets
# for a file nobody could open, as the index's explanation page and the requester's page say it.
UNREADABLE_RULE_WORDS = {
    "not_delivered": (
        "A file that could not be opened could not be reviewed for exempt content, so it is not "
        "released. The office keeps the original exactly as it was received; to ask for it, write "
        "to the office quoting the request and the item number."
    ),
    "original_bytes": (
        "A file that could not be opened is delivered as it was received, under a Bates number, "
        "with its bytes unchanged. Because it could not be opened, it could not be reviewed for "
        "exempt content."
    ),
}


def unreadable_rule_words(rule: str) -> str:
    return UNREADABLE_RULE_WORDS.get(rule, UNREADABLE_RULE_WORDS["not_delivered"])


def unreadable_fate(rule: str, *, delivered: bool, original_kept: bool, page_of_file: bool = False) -> str:
    """What the requester gets for one unreadable item under `rule`, naming the rule."""
    named = f'(rule "{rule}")'
    if delivered:
        return f"Delivered as received {named}: bytes unchanged, not reviewed for exempt content."
    if not original_kept:
        return (
            f"Not delivered {named}: the file was refused before its bytes were stored; ask the department."
        )
    if page_of_file:
        return (
            f"Not delivered {named}: a page of a larger file that could not be opened cannot be sent "
            "alone; the office keeps the original file; ask for it quoting the item number."
        )
    return (
        f"Not delivered {named}: it could not be reviewed for exempt content; the office keeps "
        "the original; ask for it quoting the item number."
    )


def requester_fate(
    status: str,
    *,
    relation: str = "",
    duplicate_of: str = "",
    exemptions: tuple[str, ...] = (),
    redactions: int = 0,
    unreadable: str = "",
) -> str:
    """An item's fate for the requester's page: plain words, no engine figures.

    `status` is the manifest's (delivered, duplicate, withheld, unreadable); `unreadable`
    is the packet's own sentence for an unreadable item (its reason and the rule).
    """
    if status == "duplicate":
        target = f"duplicate of {duplicate_of}" if duplicate_of else "a copy of a record listed here"
        return f"{target}: {relation_plain(relation)}"
    if status == "withheld":
        return "withheld: " + ("; ".join(exemptions) or "see the letter")
    if status == "unreadable":
        return unreadable or "could not be opened"
    if redactions:
        s = "s" if redactions != 1 else ""
        return f"delivered with {redactions} part{s} blacked out: " + "; ".join(exemptions)
    return "delivered"
