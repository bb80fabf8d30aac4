"""Values that cross module lines inside the dedupe engine and out to its callers.

The engine is plain Python: these dataclasses are what `records/` maps to models and
what `dedupe_folder` writes to `manifest.json`. Keep them framework-free and frozen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# Bump when the fingerprint recipe changes, so stored fingerprints can be recomputed: a
# dedupe run re-fingerprints every blob without a fingerprint of this version.
# pd-fp-2: document-like pages also keep a sharper view (`Fingerprint.document_view`).
# pd-fp-3: PDF pages; document-like pages are read (text layer or OCR) and turned upright
# by their text before hashing.
# pd-fp-4: OCR reads a page with its ruling lines removed; document-like pages are
# straightened (dedupe.core.deskew) before hashing; PDF pages date from CreationDate.
# pd-fp-5: document-like pages keep where their words are (`Fingerprint.word_places`).
# pd-fp-6: pages are read through Tesseract's hOCR, keeping each doubted character's
# alternatives (`Fingerprint.ocr_alternatives`).
# pd-fp-7: document-like pages keep the marks of their entries (`Fingerprint.entry_marks`);
# OCR enlarges small print before reading it.
FINGERPRINT_ALGORITHM_VERSION = "pd-fp-7"

# A page of a multi-page file is an item of its own, keyed "path#page=N" (N from 1).
_PAGE_MARK = "#page="


def page_key(path: str, page: int | None) -> str:
    """The item key of one page of the file at `path` (the path itself for a single image)."""
    return f"{path}{_PAGE_MARK}{page}" if page else path


def page_of_key(key: str) -> int:
    """The 1-based page an item key names; 0 for a single-page file."""
    return int(key.rsplit(_PAGE_MARK, 1)[1]) if _PAGE_MARK in key else 0


def file_of_key(key: str) -> str:
    """The gathered file an item key names, without its page."""
    return key.split(_PAGE_MARK, 1)[0]


class Relation(StrEnum):
    """How a group member relates to the group's authoritative copy."""

    EXACT = "exact"  # the same bytes (same SHA-256)
    SAME_PIXELS = "same_pixels"  # different bytes, identical decoded pixels
    SAME_IMAGE = "same_image"  # re-encoded, resized, cropped a little, recoloured, rotated
    NEAR_IDENTICAL_SHOT = "near_identical_shot"  # another moment, e.g. a burst seconds apart
    # The pixels do not verify against the authoritative copy; a clerk said it is the same record.
    CLERK_MERGED = "clerk_merged"


class CaptureDateSource(StrEnum):
    """Where a capture date came from, strongest first."""

    EXIF_ORIGINAL = "exif_datetime_original"
    EXIF_DIGITIZED = "exif_datetime_digitized"
    EXIF_DATETIME = "exif_datetime"
    GPS = "gps_datetime"
    TIFF_DATETIME = "tiff_datetime"
    XMP = "xmp"
    PNG_TEXT = "png_text"
    PDF_CREATION = "pdf_creation_date"  # the PDF's own CreationDate: when it was scanned or made
    FILE_NAME = "file_name"
    FILE_TIME = "file_modification_time"  # weak: copying a file changes it
    UNKNOWN = "unknown"


# Dates the camera's own clock wrote when the picture was taken, which copies keep: EXIF
# DateTimeOriginal and DateTimeDigitized are set at capture and carried over unchanged by
# editors and converters (they copy them), and GPS time comes from the satellites. Not
# the plain EXIF/TIFF DateTime (IFD0), which editing software rewrites on every save;
# not XMP dates (written by editing software) nor PNG text (free text); not file names
# (renamed at will, often a date alone) nor file times (changed by every copy). Two
# pictures whose camera dates differ were taken at different moments, whatever the pixels say.
CAMERA_CLOCK_SOURCES = frozenset(
    {CaptureDateSource.EXIF_ORIGINAL, CaptureDateSource.EXIF_DIGITIZED, CaptureDateSource.GPS}
)


@dataclass(frozen=True)
class CaptureDate:
    value: datetime | None  # naive local time unless utc_offset is known
    source: CaptureDateSource
    utc_offset: str | None = None  # e.g. "-07:00", when the file says so
    weak: bool = False

    @property
    def is_known(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class ImageMetadata:
    capture: CaptureDate
    camera_make: str | None = None
    camera_model: str | None = None
    gps: GeoPoint | None = None
    parcels: tuple[str, ...] = ()  # LA County APNs, "####-###-###"
    has_original_metadata: bool = False  # camera EXIF present (an authority hint)


@dataclass(frozen=True)
class SourceFile:
    """One gathered file as the engine sees it: where its bytes are and what it was called."""

    key: str  # path as gathered, relative to the gathered root, e.g. "police/IMG_1.jpg"
    department: str  # short code or name of the uploading department
    disk_path: str  # where the bytes can be read now
    uploaded_order: int = 0  # earlier uploads have smaller numbers (authority tie-break)
    mtime: float | None = None  # file modification time, a weak capture-date hint


@dataclass(frozen=True)
class Fingerprint:
    """Everything the engine needs about one image (one page of a file), from one decode."""

    key: str  # SourceFile.key, or "key#page=N" (N from 1) for pages of a multi-page file
    source_key: str  # SourceFile.key of the file it came from
    department: str
    sha256: str  # of the file's bytes (shared by all pages of one file)
    pixel_sha256: str  # of the normalised decoded pixels (this page)
    byte_size: int
    format: str  # detected from the bytes: "JPEG", "PNG", "TIFF", "WEBP", "HEIF", "GIF", "BMP"
    mislabelled: bool  # the file name's extension says another format
    width: int  # full resolution, after EXIF orientation
    height: int
    page: int | None  # 1-based page for multi-page files, else None
    phash: int  # 64-bit DCT perceptual hash of the oriented image
    dhash: int  # 64-bit gradient hash of the oriented image
    rotated_phashes: tuple[int, int, int]  # pHash of the pixels turned 90, 180, 270 degrees
    quality: float  # 0..1 information score; low means near-blank / flat / smooth gradient
    low_information: bool  # only ever matched exactly or pixel-identically
    document_like: bool  # mostly dark marks on a light background (forms, letters)
    thumbnail: bytes  # grayscale uint8, row-major, longest side 64 px, aspect kept: verification input
    thumb_size: tuple[int, int]  # (width, height) of `thumbnail`
    jpeg_quality: int | None  # estimated from quantisation tables; None when not JPEG
    metadata: ImageMetadata
    uploaded_order: int = 0
    preview_jpeg: bytes = b""  # a 256-px (longest side) JPEG for the index and review pages
    # Document-like pages only: a grey JPEG, longest side up to 640 px (the decode's own
    # size when smaller), for the sharper check that keeps forms on one template apart.
    document_view: bytes = b""
    # The page's words: a PDF page's text layer, else for a document-like page what OCR read.
    text: str = ""
    # "text_layer" (a PDF's own words), "scan_layer" (a scanned PDF page's OCR layer, made by
    # the scanner or OCRmyPDF), "ocr" (Tesseract's, here), or "" (none).
    text_source: str = ""
    # Words OCR read with too little confidence to count as the page's text (dedupe.core.ocr),
    # space-separated: they may confirm a word of another page, never tell two pages apart.
    ocr_guesses: str = ""
    # The entries (guesses too) OCR doubted a character of, with what else it took it for
    # (dedupe.core.ocr.alternatives_pattern: "2[53]-[06]76"), space-separated.
    ocr_alternatives: str = ""
    # Where the page's words are (dedupe.core.word_places.encode): the text layer's, or the
    # words OCR read with confidence; document-like pages only.
    word_places: str = ""
    # What is printed at the page's entries (dedupe.core.entry_marks.encode), where two
    # readings that disagree about an entry are settled; document-like pages only.
    entry_marks: bytes = b""
    # Degrees clockwise the engine turned a scanned page to read it upright (dedupe.core.ocr);
    # the hashes, thumbnail and preview are of the upright page, width and height are not.
    upright_turn: int = 0
    algorithm_version: str = FINGERPRINT_ALGORITHM_VERSION

    @property
    def text_was_read(self) -> bool:
        """The page's words are a reading of its pixels (OCR's), which may miss or misread some."""
        return self.text_source in ("ocr", "scan_layer")


@dataclass(frozen=True)
class Unreadable:
    """A gathered file the engine could not read, and why, in words a clerk understands."""

    key: str
    source_key: str
    department: str
    sha256: str
    byte_size: int
    reason: str
    format: str | None = None


@dataclass(frozen=True)
class MemberEvidence:
    """Why one item belongs to its group, measured against the authoritative copy."""

    key: str
    relation: Relation
    phash_distance: int | None
    dhash_distance: int | None
    verification_score: float | None  # 1.0 = identical pixels after alignment
    rotation: int = 0  # degrees the pixels are turned relative to the authoritative copy
    explanation: str = ""


@dataclass(frozen=True)
class Conflict:
    field: str  # "capture_date", "parcel", "place"
    description: str  # e.g. "capture dates differ by 3 days: 2024-03-12 (police) vs ..."


@dataclass(frozen=True)
class Group:
    id: str  # stable: derived from the authoritative copy's sha256 and key
    authoritative: str  # key
    rule: str  # the name of the authority rule that decided
    reason: str  # one line a clerk can read
    members: tuple[MemberEvidence, ...]  # every member except the authoritative copy
    conflicts: tuple[Conflict, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.authoritative, *(m.key for m in self.members))


@dataclass(frozen=True)
class DedupeResult:
    fingerprints: tuple[Fingerprint, ...]
    unreadable: tuple[Unreadable, ...]
    groups: tuple[Group, ...]
    settings: dict[str, object] = field(default_factory=dict)  # thresholds used, for the index's explanation
