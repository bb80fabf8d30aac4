"""The Django edge of the engine: stored fingerprints, runs, groups and clerk decisions.

A fingerprint belongs to stored bytes (a Blob, by SHA-256) and one page of them, so a
file seen in any request is never decoded again: this table is the city-wide library.
What depends on the file's name (a date in the name, a parcel number in the path) and
on the request (groups, decisions) belongs to the item, per request.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dedupe.core.types import FINGERPRINT_ALGORITHM_VERSION, CaptureDateSource, Relation


def signed64(value: int) -> int:
    """A 64-bit hash as the signed integer a BigIntegerField can hold."""
    return value - (1 << 64) if value >= (1 << 63) else value


def unsigned64(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


class ImageFingerprint(models.Model):
    """One page of one stored blob, fingerprinted once, reused by every request."""

    blob = models.ForeignKey("records.Blob", on_delete=models.CASCADE, related_name="fingerprints")
    page = models.PositiveIntegerField(default=0, help_text="0 for a single image; 1.. for pages.")
    algorithm_version = models.CharField(max_length=20, default=FINGERPRINT_ALGORITHM_VERSION)
    unreadable_reason = models.TextField(blank=True)
    format = models.CharField(max_length=12, blank=True)
    pixel_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    phash = models.BigIntegerField(null=True)
    dhash = models.BigIntegerField(null=True)
    phash_rot90 = models.BigIntegerField(null=True)
    phash_rot180 = models.BigIntegerField(null=True)
    phash_rot270 = models.BigIntegerField(null=True)
    # The pHash split into four 16-bit blocks: the library's multi-index (any image within
    # r bits is within r // 4 bits of the query in at least one block, by the pigeonhole
    # principle). Indexed in Meta.indexes together with the pHash and id, so a probe is an
    # index-only scan that never touches the wide rows.
    phash_block0 = models.PositiveIntegerField(null=True)
    phash_block1 = models.PositiveIntegerField(null=True)
    phash_block2 = models.PositiveIntegerField(null=True)
    phash_block3 = models.PositiveIntegerField(null=True)
    quality = models.FloatField(default=0.0)
    low_information = models.BooleanField(default=False)
    document_like = models.BooleanField(default=False)
    thumbnail = models.BinaryField(default=b"")
    thumb_width = models.PositiveSmallIntegerField(default=0)
    thumb_height = models.PositiveSmallIntegerField(default=0)
    preview_jpeg = models.BinaryField(default=b"")
    # Document-like pages only (Fingerprint.document_view): the sharper check's grey view.
    document_view = models.BinaryField(default=b"")
    # The page's words: a PDF page's text layer, else what OCR read on a document-like page.
    text = models.TextField(blank=True, default="")
    text_source = models.CharField(
        max_length=12, blank=True, help_text='"text_layer", "scan_layer", "ocr" or "".'
    )
    ocr_guesses = models.TextField(
        blank=True, default="", help_text="Words OCR read with low confidence, space-separated."
    )
    ocr_alternatives = models.TextField(
        blank=True,
        default="",
        help_text='Entries OCR doubted a character of, e.g. "2[53]-[06]76", space-separated.',
    )
    word_places = models.TextField(
        blank=True,
        default="",
        help_text='Where the page\'s words are: "x0 y0 x1 y1 word" a line, in thousandths.',
    )
    # Document-like pages only (Fingerprint.entry_marks): what is printed at each entry.
    entry_marks = models.BinaryField(default=b"")
    upright_turn = models.PositiveSmallIntegerField(
        default=0, help_text="Degrees clockwise OCR turned a scanned page to read it upright."
    )
    jpeg_quality = models.PositiveSmallIntegerField(null=True)
    # Metadata embedded in the bytes (not in the name): the same for every copy of the blob.
    capture_date = models.CharField(max_length=32, blank=True, help_text="ISO 8601 wall-clock time.")
    capture_date_source = models.CharField(max_length=32, default=CaptureDateSource.UNKNOWN)
    capture_utc_offset = models.CharField(max_length=8, blank=True)
    camera_make = models.CharField(max_length=100, blank=True)
    camera_model = models.CharField(max_length=100, blank=True)
    gps_latitude = models.FloatField(null=True)
    gps_longitude = models.FloatField(null=True)
    parcels = models.JSONField(default=list)
    has_original_metadata = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["blob", "page", "algorithm_version"], name="one_fingerprint_per_page"
            )
        ]
        # The library's near search (dedupe/library.py): per block, (block, phash, id) so the
        # Hamming filter runs on index entries alone; partial, as only rows that can be
        # near-duplicates (readable, hashed, not flat) are ever probed. Composite keys rather
        # than INCLUDE, so SQLite builds the same indexes.
        indexes = [
            models.Index(
                fields=[f"phash_block{n}", "phash", "id"],
                condition=models.Q(low_information=False, phash__isnull=False),
                name=f"library_phash_block{n}",
            )
            for n in range(4)
        ]

    def __str__(self) -> str:
        return f"{self.blob_id}#{self.page}"

    @property
    def is_readable(self) -> bool:
        return not self.unreadable_reason


class ItemImage(models.Model):
    """One image of a gathered item (one page of a multi-page file), as dedupe sees it."""

    item = models.ForeignKey("records.GatheredItem", on_delete=models.CASCADE, related_name="images")
    page = models.PositiveIntegerField(default=0)
    fingerprint = models.ForeignKey(
        ImageFingerprint, null=True, on_delete=models.PROTECT, related_name="images"
    )
    key = models.CharField(max_length=1100, help_text="The gathered path, with #page=N for pages.")
    capture_date = models.CharField(max_length=32, blank=True)
    capture_date_source = models.CharField(max_length=32, default=CaptureDateSource.UNKNOWN)
    capture_utc_offset = models.CharField(max_length=8, blank=True)
    parcels = models.JSONField(default=list)
    unreadable_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["item", "page"], name="one_image_per_item_page")]

    def __str__(self) -> str:
        return self.key


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class RunPhase(models.TextChoices):
    WAITING = "waiting", "Waiting for a worker"
    FINGERPRINTING = "fingerprinting", "Fingerprinting images"
    VERIFYING = "verifying", "Comparing candidate pairs"
    GROUPING = "grouping", "Grouping duplicates"
    DONE = "done", "Done"


ACTIVE_RUN_STATES = (RunState.QUEUED, RunState.RUNNING)


class DedupeRun(models.Model):
    request = models.ForeignKey(
        "records.RecordsRequest", on_delete=models.CASCADE, related_name="dedupe_runs"
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    state = models.CharField(max_length=10, choices=RunState, default=RunState.QUEUED)
    phase = models.CharField(max_length=16, choices=RunPhase, default=RunPhase.WAITING)
    items_total = models.PositiveIntegerField(default=0)
    blobs_total = models.PositiveIntegerField(default=0, help_text="Stored files needing a fingerprint.")
    blobs_done = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    pairs_total = models.PositiveIntegerField(default=0, help_text="Candidate pairs to compare on pixels.")
    pairs_done = models.PositiveIntegerField(default=0)
    plan_digest = models.CharField(
        max_length=64, blank=True, help_text="Which fingerprints the candidate pairs were found among."
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True)
    fingerprinted_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    progress_at = models.DateTimeField(null=True, help_text="Last time a worker reported progress.")
    error = models.TextField(blank=True)
    counts = models.JSONField(default=dict, help_text="Metrics inputs: gathered, unique, duplicates, bytes.")
    settings_used = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The database, not a process's memory, refuses a second active run on a request.
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(state__in=["queued", "running"]),
                name="one_active_run_per_request",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.request_id} ({self.state})"


class DedupeChunk(models.Model):
    """A slice of a run's fingerprinting, done by one task; `done` makes re-delivery harmless."""

    run = models.ForeignKey(DedupeRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    blob_shas = models.JSONField(default=list)
    done = models.BooleanField(default=False)
    dispatched_at = models.DateTimeField(null=True)
    claimed_at = models.DateTimeField(null=True, help_text="Heartbeat of the worker fingerprinting it.")
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="one_chunk_per_index")]

    def __str__(self) -> str:
        return f"chunk {self.index} of run {self.run_id}"


class PairChunk(models.Model):
    """A slice of a run's candidate pairs, compared on pixels by one task.

    `checks` holds dedupe.core.grouping.PairCheck values as lists; `results` the Verification of
    each, in order, once `done`. Pairs that failed the coarse search need no comparison:
    they sit in a chunk created done, so grouping finds every candidate in these rows.
    """

    run = models.ForeignKey(DedupeRun, on_delete=models.CASCADE, related_name="pair_chunks")
    index = models.PositiveIntegerField()
    checks = models.JSONField(default=list)
    results = models.JSONField(default=list)
    done = models.BooleanField(default=False)
    dispatched_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="one_pair_chunk_per_index")]

    def __str__(self) -> str:
        return f"pair chunk {self.index} of run {self.run_id}"


class DuplicateGroup(models.Model):
    run = models.ForeignKey(DedupeRun, on_delete=models.CASCADE, related_name="groups")
    request = models.ForeignKey(
        "records.RecordsRequest", on_delete=models.CASCADE, related_name="duplicate_groups"
    )
    engine_id = models.CharField(
        max_length=40, help_text="Stable id the engine derives from the authoritative copy."
    )
    authoritative = models.ForeignKey(ItemImage, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=40)
    reason = models.TextField()
    conflicts = models.JSONField(default=list)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set when a clerk's decision chose the authoritative copy.",
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The clerk who reviewed the group and accepted it as it stands.",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["authoritative__key"]

    def __str__(self) -> str:
        return f"group {self.engine_id}"


class GroupMembership(models.Model):
    group = models.ForeignKey(DuplicateGroup, on_delete=models.CASCADE, related_name="memberships")
    image = models.ForeignKey(ItemImage, on_delete=models.CASCADE, related_name="memberships")
    is_authoritative = models.BooleanField(default=False)
    relation = models.CharField(max_length=24, choices=[(r.value, r.value) for r in Relation], blank=True)
    phash_distance = models.PositiveSmallIntegerField(null=True)
    dhash_distance = models.PositiveSmallIntegerField(null=True)
    verification_score = models.FloatField(null=True)
    rotation = models.SmallIntegerField(default=0)
    explanation = models.TextField(blank=True)

    class Meta:
        ordering = ["-is_authoritative", "image__key"]
        constraints = [models.UniqueConstraint(fields=["group", "image"], name="one_membership_per_image")]

    def __str__(self) -> str:
        return f"{self.image_id} in {self.group_id}"


class ClerkDecision(models.Model):
    """A clerk's ruling on grouping, applied again on every re-run of the request."""

    class Kind(models.TextChoices):
        AUTHORITY = "authority", "Chose the authoritative copy"
        SPLIT = "split", "Not a duplicate (split out)"
        MERGE = "merge", "Same record (merged)"

    request = models.ForeignKey(
        "records.RecordsRequest", on_delete=models.CASCADE, related_name="clerk_decisions"
    )
    kind = models.CharField(max_length=10, choices=Kind)
    # Items by key (gathered path[#page=N]) so the decision outlives any one run's rows.
    first_key = models.CharField(max_length=1100)
    second_key = models.CharField(max_length=1100)
    reason = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.first_key} / {self.second_key}"
