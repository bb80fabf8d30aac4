"""The named thresholds and the authority rule order the matcher uses, in one frozen value.

Every number a grouping decision depends on lives here with the reason for its default, so
the index can print the thresholds that were in force and a re-run with the same settings
gives the same groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

# DESIGN.md section 6: department of record -> most complete original (most pixels, least
# re-compressed, original metadata present) -> earliest capture -> earliest upload ->
# smallest SHA-256.
DEFAULT_AUTHORITY_ORDER: tuple[str, ...] = (
    "department_of_record",
    "most_pixels",
    "least_recompressed",
    "original_metadata",
    "earliest_capture",
    "earliest_upload",
    "smallest_sha256",
)


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds for candidate search, pixel verification, relations and conflicts."""

    # Candidates: pHash Hamming radius. 11 is the largest radius that the 4 x 16-bit
    # multi-index can serve with 2-bit probes per block (pigeonhole: 11 // 4 == 2); above
    # it the index cost jumps ~5x. Re-encodes and resizes sit at 0-6 bits; small crops
    # and re-scans at 6-14, which the dHash and crop-window searches and the cluster
    # re-check pick up. The secondary searches below use 7, the largest radius served by
    # 1-bit probes (7 // 4 == 1): 137 probes per block fall to 17, an eighth of the cost.
    phash_radius: int = 11
    # A second candidate source: dHash reacts differently to tone changes, overlays and
    # bursts. Measured on the accuracy corpus: without it recall falls 0.971 -> 0.949
    # (bursts, timestamps); at radius 7 instead of 11 it loses no pair.
    # A negative radius switches a search off.
    dhash_radius: int = 7
    # Also search hashes of 94 % windows of each thumbnail against whole thumbnails, so a
    # copy cropped by 3-10 % (pHash distance often 15-25) still becomes a candidate.
    search_crops: bool = True
    crop_window_radius: int = 11
    # Also search the pHashes of pixels turned 90/180 degrees (pages scanned upside down
    # or sideways, copies whose EXIF orientation tag was stripped). Measured: a turned
    # re-scan's turned pHash is 2-6 bits from its original's (7 pages of the accuracy
    # corpus), a turned copy 0.
    search_rotations: bool = True
    rotation_radius: int = 7

    # Coarse gate before verification: best plain correlation of 8 x 8 grids (whole
    # pictures at the turns the hashes suggest, and each 94 % window of one against the
    # other whole). Pairs below it are not verified (nor re-checked inside a cluster).
    # Measured on the accuracy corpus: every true (original, variant) pair >= 0.55 (a
    # burst of a brick wall; next lowest 0.67, grass and gravel bursts), while 27 % of
    # pairs from different clusters reach 0.5; on random thumbnails almost none pass.
    # 0.45 keeps a 0.10 margin under the lowest true pair.
    coarse_gate_score: float = 0.45

    # Second, per pair: the same rotation/crop/shift search as verification on a 16-px
    # grid; below this the 48-px search (the costly part) is skipped and the pair fails.
    # Measured on the accuracy corpus: every true pair that verifies scores >= 0.69 here
    # (a brick-wall burst; line-art wallpaper and grass/gravel bursts 0.74-0.77, as 16 px
    # aliases fine texture); 0.60 keeps a 0.09 margin.
    coarse_align_score: float = 0.60

    # Verification: normalised cross-correlation of the aligned thumbnails (1.0 =
    # identical up to brightness and contrast).
    same_image_score: float = 0.96  # at or above: the same picture
    near_identical_score: float = 0.93  # at or above (below same_image): another moment
    # Local check: no tile of the aligned thumbnails may disagree by more than this mean
    # absolute difference (0..1, after matching brightness/contrast). Catches a changed
    # field on a form or a different person in one corner of an otherwise equal scene.
    tile_difference_limit: float = 0.20
    # Photos may differ in a few tiles (an overlaid timestamp, a watermark).
    photo_tiles_allowed_to_differ: int = 3
    # Document-like images: the finer check correlates the 256-px page views area by area
    # (8 x 8 areas, each allowed a 2-px shift after registering the page). Two different forms on one template differ
    # only where somebody wrote; one area whose marks correlate below 1 - this keeps them
    # apart. Measured on generated forms: re-scans (blur, noise, 0.8 degree turn) <= 0.07,
    # one changed word >= 0.14.
    document_ink_difference_limit: float = 0.10
    # ... and whose marks also fail to cancel: the residual (grey levels RMS, after a 1-px
    # blur and the best shift) is above this. JPEG ringing, scanner noise and 4-px type
    # lower the correlation of an area without much residual. Measured: re-scans, q60
    # re-encodes, crops and turned scans of letters and forms <= 12.6; one word changed on
    # a form ("Pass" -> "Fail") 13.9; different forms on one template >= 24. The margin
    # below one changed word is thin; the sharper view below covers it when both pages have one.
    document_residual_floor: float = 13.0
    document_tiles_allowed_to_differ: int = 0
    # ... and when both pages keep a sharper view (document-like, decoded at 480 px or more:
    # PNG, TIFF and other full decodes, and greyscale JPEG scans) and align whole (a crop's
    # overlap is known too coarsely for it), 64-px areas of that 640-px view, each searched
    # within 8 px after registering the page: one area whose marks correlate below 1 - this
    # keeps the pages apart. Measured: re-scans (0.3-0.9 degree turn, 0.8-px blur, noise)
    # <= 0.063; the demo's three forms, differing only in 18-px handwriting, >= 0.131.
    document_view_difference_limit: float = 0.10
    # Documents whose words were read on both pages (a PDF's text layer, or OCR of a scan:
    # dedupe.core.page_text): an entry (a word with a digit: case number, date, address) on
    # one page with no exact counterpart on the other keeps them apart, and so does sharing
    # fewer than this share of their words. OCR misreads a few words of a rescan (measured
    # on generated forms rescanned at 150-300 dpi: >= 0.85 of words in common); a form on
    # the same template with other entries shares its printed words (0.5-0.8).
    document_text_min_agreement: float = 0.80
    # ... and with no entry differing or unconfirmed and at least this share of words in
    # common, the words decide over the sharper view (the 256-px ink check still applies).
    # The sharper view cannot tell a rescan from a changed line: measured on the accuracy
    # corpus, straightened rescans at 150-300 dpi score 0.10-0.39 in their worst areas, one
    # changed line 0.05-0.28 and the demo's handwritten forms 0.13-0.16, while the words kept
    # every one of those hard negatives apart. Rescans share 0.86-0.99 of their words (OCR
    # drops or misreads a few); a form on the same template with other entries 0.5-0.8.
    document_text_decides_agreement: float = 0.85
    # An area of the sharper view that differs in pixels is set aside when at most this
    # share of its ink, on each page, lies outside the words both readings hold at the same
    # place and the ruling lines both pages have there (dedupe.core.agreed_marks): the same
    # words at the same places, blurred differently. Any more is left to the pixels, and so
    # is an area under an entry one reading has and the other does not confirm. Measured on
    # the accuracy corpus's rescans (150-300 dpi, straightened): every differing area of 119
    # of 120 true pairs holds no such ink at all (share 0.000), while the worst differing
    # area of every hard negative (a line or word only one page has) holds 0.14-0.41.
    document_unread_ink_limit: float = 0.02
    # Crop tolerance: when the plain overlay does not verify, one picture is tried as a
    # crop of the other covering down to this share of each side, in steps of crop_step,
    # each scale at every shift at once (masked correlation). 0.86 covers the 8 % crops the
    # accuracy corpus makes with room for rounding at the 48-px grid (1 px = 2 %).
    crop_min_share: float = 0.86
    crop_step: float = 0.02
    # Capture times this far apart (seconds), both known, mark another moment.
    burst_max_seconds: float = 600.0
    # Two pictures whose capture times both come from the camera's own clock
    # (dedupe.core.types.CAMERA_CLOCK_SOURCES) and differ by more than this were taken at
    # different moments: never "the same photo", a near-identical shot at most; and a group
    # whose camera dates differ by more than this has a date conflict. A copy keeps its
    # camera date to the second; an hour leaves room for a clock corrected for daylight
    # saving time (photo tools shift camera dates by whole hours), and a photograph is not
    # taken over more than an hour.
    same_photo_max_seconds_apart: float = 3600.0
    # A cluster larger than this is verified only along candidate edges (keeps the
    # all-against-authority re-check linear in practice).
    recheck_cluster_limit: int = 200

    # Conflicts (DESIGN.md section 7). Capture dates of any source but the camera's clock
    # (file names, EXIF/TIFF DateTime, XMP, PNG text) more than this many days apart: these
    # are coarse (a date-only file name reads as midnight, an editor's save rewrites
    # DateTime), so they get a day; camera dates are held to same_photo_max_seconds_apart.
    conflict_capture_days: float = 1.0
    conflict_place_metres: float = 100.0

    authority_order: tuple[str, ...] = DEFAULT_AUTHORITY_ORDER

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> MatchSettings:
        """Settings as a run stored them (as_dict): keys this version does not know are
        ignored and the ones it lacks take their defaults, so an old run's settings still load."""
        known = {f.name for f in fields(cls)}
        given = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in known}
        # The stored values' types are the fields' own (as_dict wrote them), unknown to mypy.
        return cls(**given)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        """The thresholds as plain JSON-able values, for the index's explanation."""
        values = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
