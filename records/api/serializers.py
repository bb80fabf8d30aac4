"""Shapes of the API: model output, validated input, and the library's answers.

Serializers parse and render only; every write goes through a service.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dedupe.models import DedupeRun, DuplicateGroup, GroupMembership, ImageFingerprint

from ..models import (
    Department,
    Exemption,
    ExtensionGround,
    GatheredItem,
    Packet,
    RecordsRequest,
    Redaction,
    RequesterKind,
    RequesterLink,
    RequestStatus,
    Withholding,
)

HEX64 = r"^[0-9a-fA-F]{64}$"
HEX16 = r"^[0-9a-fA-F]{16}$"


# --------------------------------------------------------------------------- requests


class RecordsRequestSerializer(serializers.ModelSerializer):
    current_due_date = serializers.DateField(read_only=True)
    office_of_record = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = RecordsRequest
        fields = [
            "id",
            "reference",
            "requester_name",
            "requester_organisation",
            "requester_kind",
            "description",
            "received_at",
            "due_date",
            "extension_days",
            "extended_due_date",
            "extension_ground",
            "current_due_date",
            "status",
            "status_changed_at",
            "office_of_record",
            "bates_prefix",
        ]


class RecordsRequestCreateSerializer(serializers.Serializer):
    requester_name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20_000)
    requester_email = serializers.EmailField(required=False, allow_blank=True, default="")
    requester_organisation = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    requester_kind = serializers.ChoiceField(choices=RequesterKind.choices, default=RequesterKind.RESIDENT)
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    office_of_record = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), required=False, allow_null=True, default=None
    )


class ExtendSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=14)
    ground = serializers.ChoiceField(choices=ExtensionGround.choices)
    reason = serializers.CharField(max_length=5000)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


# ------------------------------------------------------------------------------ items


class FingerprintSerializer(serializers.ModelSerializer):
    phash = serializers.SerializerMethodField()
    dhash = serializers.SerializerMethodField()

    class Meta:
        model = ImageFingerprint
        fields = [
            "page",
            "algorithm_version",
            "unreadable_reason",
            "format",
            "pixel_sha256",
            "width",
            "height",
            "phash",
            "dhash",
            "quality",
            "low_information",
            "document_like",
            "text",
            "text_source",
            "upright_turn",
            "jpeg_quality",
            "capture_date",
            "capture_date_source",
            "capture_utc_offset",
            "camera_make",
            "camera_model",
            "gps_latitude",
            "gps_longitude",
            "parcels",
        ]

    @staticmethod
    def _hex(value: int | None) -> str | None:
        return None if value is None else f"{value & 0xFFFFFFFFFFFFFFFF:016x}"

    def get_phash(self, fp: ImageFingerprint) -> str | None:
        return self._hex(fp.phash)

    def get_dhash(self, fp: ImageFingerprint) -> str | None:
        return self._hex(fp.dhash)


class GatheredItemSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    request = serializers.PrimaryKeyRelatedField(read_only=True)
    request_reference = serializers.CharField(source="request.reference", read_only=True)

    class Meta:
        model = GatheredItem
        fields = [
            "id",
            "request",
            "request_reference",
            "department",
            "original_path",
            "file_name",
            "byte_size",
            "sha256",
            "detected_format",
            "mislabelled",
            "status",
            "error_reason",
            "uploaded_at",
        ]


class GatheredItemDetailSerializer(GatheredItemSerializer):
    fingerprints = serializers.SerializerMethodField()

    class Meta(GatheredItemSerializer.Meta):
        fields = [*GatheredItemSerializer.Meta.fields, "fingerprints"]

    @extend_schema_field(FingerprintSerializer(many=True))
    def get_fingerprints(self, item: GatheredItem) -> list[dict]:
        if not item.blob_id:
            return []
        rows = ImageFingerprint.objects.filter(blob_id=item.blob_id).defer(
            "thumbnail", "preview_jpeg", "document_view", "entry_marks"
        )
        return FingerprintSerializer(rows.order_by("page"), many=True).data


class UploadSerializer(serializers.Serializer):
    department = serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.all())
    # Empty files pass: intake refuses each with "this file is empty" and gathers the others.
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), required=False, allow_empty=True
    )
    paths = serializers.ListField(
        child=serializers.CharField(max_length=1000),
        required=False,
        help_text="Relative paths for `files`, in the same order (multipart drops folders from names).",
    )
    zip = serializers.FileField(required=False, help_text="A ZIP of images, all for `department`.")

    def validate(self, attrs: dict) -> dict:
        if attrs.get("paths") and len(attrs["paths"]) != len(attrs.get("files") or []):
            raise serializers.ValidationError("Give one path per file, in the same order, or none.")
        if not attrs.get("files") and not attrs.get("zip"):
            raise serializers.ValidationError("Send one or more `files`, or one `zip`.")
        if attrs.get("files") and attrs.get("zip"):
            raise serializers.ValidationError("Send `files` or a `zip`, not both.")
        return attrs


# ---------------------------------------------------------------------------- library


class SightingSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    request_id = serializers.IntegerField()
    request_reference = serializers.CharField()
    department_code = serializers.CharField(allow_null=True)
    department_name = serializers.CharField(allow_null=True)
    uploaded_at = serializers.DateTimeField()


class LibraryMatchSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    page = serializers.IntegerField()
    relation = serializers.CharField(
        help_text="exact, same_pixels, same_image, near_identical_shot, or near_duplicate (hashes only)."
    )
    phash_distance = serializers.IntegerField(allow_null=True)
    dhash_distance = serializers.IntegerField(allow_null=True)
    verification_score = serializers.FloatField(allow_null=True)
    explanation = serializers.CharField()
    capture_date = serializers.CharField(allow_null=True)
    capture_date_source = serializers.CharField()
    sightings = SightingSerializer(many=True)


class LibraryAnswerSerializer(serializers.Serializer):
    exact = LibraryMatchSerializer(many=True)
    near = LibraryMatchSerializer(many=True)
    radius = serializers.IntegerField()
    candidates_examined = serializers.IntegerField()


class LibraryCheckSerializer(serializers.Serializer):
    image = serializers.FileField(
        required=False, help_text="The image itself: hashed and verified on pixels."
    )
    sha256 = serializers.RegexField(HEX64, required=False, help_text="SHA-256 of the file's bytes.")
    phash = serializers.RegexField(HEX16, required=False, help_text="64-bit pHash as 16 hex digits.")
    dhash = serializers.RegexField(HEX16, required=False, help_text="64-bit dHash as 16 hex digits.")
    radius = serializers.IntegerField(
        required=False, min_value=0, max_value=15, help_text="pHash radius in bits (default: the engine's)."
    )

    def validate(self, attrs: dict) -> dict:
        if not (attrs.get("image") or attrs.get("sha256") or attrs.get("phash")):
            raise serializers.ValidationError("Send an `image`, or a `sha256` and/or a `phash`.")
        return attrs


class DoorOutcomeSerializer(serializers.Serializer):
    name = serializers.CharField()
    result = serializers.ChoiceField(
        choices=["stored", "already_in_request", "refused", "rejected_duplicate"]
    )
    reason = serializers.CharField(allow_blank=True)
    item_id = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField(allow_null=True)
    matches = LibraryAnswerSerializer(allow_null=True)


class DoorReportSerializer(serializers.Serializer):
    request = serializers.CharField()
    department = serializers.CharField()
    policy = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField())
    flagged = serializers.IntegerField()
    outcomes = DoorOutcomeSerializer(many=True)


# ----------------------------------------------------------------------------- dedupe


class DedupeRunSerializer(serializers.ModelSerializer):
    request = serializers.PrimaryKeyRelatedField(read_only=True)
    percent = serializers.SerializerMethodField()
    phase_label = serializers.SerializerMethodField()
    remaining_seconds = serializers.SerializerMethodField()

    class Meta:
        model = DedupeRun
        fields = [
            "id",
            "request",
            "state",
            "phase",
            "phase_label",
            "items_total",
            "blobs_total",
            "blobs_done",
            "pairs_total",
            "pairs_done",
            "percent",
            "remaining_seconds",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "counts",
        ]

    def _progress(self, run: DedupeRun):
        from dedupe.runs.progress import run_progress

        return run_progress(run)

    def get_percent(self, run: DedupeRun) -> int:
        return self._progress(run).percent

    def get_phase_label(self, run: DedupeRun) -> str:
        return self._progress(run).phase_label

    def get_remaining_seconds(self, run: DedupeRun) -> float | None:
        return self._progress(run).remaining_seconds


class StartRunSerializer(serializers.Serializer):
    request = serializers.PrimaryKeyRelatedField(queryset=RecordsRequest.objects.all())


class MembershipSerializer(serializers.ModelSerializer):
    image = serializers.IntegerField(source="image_id")
    key = serializers.CharField(source="image.key")
    item = serializers.IntegerField(source="image.item_id")
    department = serializers.SerializerMethodField()

    class Meta:
        model = GroupMembership
        fields = [
            "image",
            "item",
            "key",
            "department",
            "is_authoritative",
            "relation",
            "phash_distance",
            "dhash_distance",
            "verification_score",
            "rotation",
            "explanation",
        ]

    def get_department(self, membership: GroupMembership) -> str | None:
        item = membership.image.item
        return item.department.code if item.department_id else None


class DuplicateGroupSerializer(serializers.ModelSerializer):
    members = MembershipSerializer(source="memberships", many=True, read_only=True)
    authoritative_key = serializers.CharField(source="authoritative.key", read_only=True)

    class Meta:
        model = DuplicateGroup
        fields = [
            "id",
            "engine_id",
            "request",
            "run",
            "authoritative",
            "authoritative_key",
            "rule",
            "reason",
            "conflicts",
            "members",
        ]


class OverrideSerializer(serializers.Serializer):
    image = serializers.IntegerField(help_text="The member image to make authoritative.")
    reason = serializers.CharField(max_length=2000)


class SplitSerializer(serializers.Serializer):
    image = serializers.IntegerField(help_text="The member image to take out of the group.")
    reason = serializers.CharField(max_length=2000)


class MergeSerializer(serializers.Serializer):
    other = serializers.IntegerField(required=False, help_text="The group to merge into this one.")
    image = serializers.IntegerField(
        required=False, help_text="Or: an image of the request that is in no group, to put into this one."
    )
    reason = serializers.CharField(max_length=2000)

    def validate(self, attrs: dict) -> dict:
        if ("other" in attrs) == ("image" in attrs):
            raise serializers.ValidationError(
                "Give either `other` (a group) or `image` (an image in no group)."
            )
        return attrs


# ------------------------------------------------------------------ withholding, packets


class ExemptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Exemption
        fields = ["id", "label", "code_section", "description"]


class WithholdingSerializer(serializers.ModelSerializer):
    exemption = ExemptionSerializer(read_only=True)
    request = serializers.IntegerField(source="item.request_id", read_only=True)

    class Meta:
        model = Withholding
        fields = ["id", "item", "request", "exemption", "note", "withheld_at"]


class WithholdSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    exemption = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReleaseWithholdingSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RedactionSerializer(serializers.ModelSerializer):
    exemption = ExemptionSerializer(read_only=True)

    class Meta:
        model = Redaction
        fields = [
            "id",
            "item",
            "page",
            "x",
            "y",
            "width",
            "height",
            "exemption",
            "confirmed",
            "mapped_from",
            "created_at",
        ]


class RedactionCreateSerializer(serializers.Serializer):
    """A box in the upright image's pixels (EXIF orientation applied), as the review screen shows it."""

    page = serializers.IntegerField(
        min_value=0, default=0, help_text="0 for a single image; 1.. for the pages of a multi-page file."
    )
    x = serializers.IntegerField(min_value=0, max_value=1_000_000)
    y = serializers.IntegerField(min_value=0, max_value=1_000_000)
    width = serializers.IntegerField(min_value=1, max_value=1_000_000)
    height = serializers.IntegerField(min_value=1, max_value=1_000_000)
    exemption = serializers.IntegerField(help_text="An exemption id from /api/v1/exemptions/.")
    apply_to_group = serializers.BooleanField(
        default=False,
        help_text="Also map the box onto the item's duplicate-group copies, awaiting confirmation.",
    )


class RedactionCreatedSerializer(serializers.Serializer):
    redaction = RedactionSerializer()
    mapped = RedactionSerializer(many=True, help_text="Boxes mapped onto the group's other copies.")


class RequesterLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequesterLink
        fields = ["id", "created_at", "expires_at", "revoked_at", "downloads", "last_used_at"]


class PacketSerializer(serializers.ModelSerializer):
    links = RequesterLinkSerializer(many=True, read_only=True)

    class Meta:
        model = Packet
        fields = [
            "id",
            "request",
            "version",
            "state",
            "every_copy",
            "load_files",
            "requested_at",
            "built_at",
            "zip_sha256",
            "zip_bytes",
            "counts",
            "bates_first",
            "bates_last",
            "error",
            "released_at",
            "links",
        ]


class BuildPacketSerializer(serializers.Serializer):
    request = serializers.IntegerField()
    every_copy = serializers.BooleanField(default=False)
    load_files = serializers.BooleanField(default=False)


class ReleaseSerializer(serializers.Serializer):
    valid_days = serializers.IntegerField(min_value=1, max_value=365, default=30)


class IssuedLinkSerializer(serializers.Serializer):
    link = RequesterLinkSerializer()
    token = serializers.CharField(
        help_text="The requester's link token; shown once, only its hash is stored."
    )


# ----------------------------------------------------------------------------- metrics


class MetricsQuerySerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()

    def validate(self, attrs: dict) -> dict:
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError("`start` must not be after `end`.")
        return attrs
