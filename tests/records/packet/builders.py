"""Small prepared packets for the packet tests: real JPEG thumbnails, real bytes on disk."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from PIL import Image, ImageDraw

from dedupe.core.types import page_of_key
from records.packet.data import (
    Citation,
    Fate,
    MatchExplanation,
    Packet,
    PacketGroup,
    PacketItem,
    PacketRequest,
    UnreadableFiles,
    assign_bates,
    unreadable_fields,
)

DEPARTMENTS = {"PW": "Public Works", "BLD": "Building and Safety", "SAN": "Sanitation", "PD": "Police"}
GENERATED_AT = datetime(2025, 3, 14, 17, 0, 0)
PRIVACY = Citation(
    exemption="Personal privacy (personnel, medical or similar files)",
    section="Gov. Code § 7927.700",
    responsible_name="Dana Ortiz",
    responsible_title="Deputy City Attorney",
)
INVESTIGATION = Citation(
    exemption="Records of law-enforcement investigations",
    section="Gov. Code § 7923.600",
    responsible_name="Lee Park",
    responsible_title="Police Records Supervisor",
)


def thumbnail(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small JPEG that looks like something: a coloured scene with a shape placed by seed."""
    image = Image.new("RGB", size, ((seed * 53) % 200 + 30, (seed * 97) % 200 + 30, (seed * 31) % 200 + 30))
    draw = ImageDraw.Draw(image)
    x = seed * 7 % (size[0] - 16)
    draw.rectangle((x, 10, x + 16, 30), fill=(250, 250, 240))
    draw.ellipse((size[0] - 22, 4, size[0] - 6, 20), fill=(255, 210, 0))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def make_request(**overrides: object) -> PacketRequest:
    values: dict = dict(
        city="City of Los Angeles",
        office="Office of the City Clerk",
        reference="CPRA-2025-0142",
        requester_name="Maria Esposito",
        requester_organisation="Esposito & Vance LLP",
        requester_kind="attorney",
        requester_email="m.esposito@example.org",
        received=date(2025, 3, 3),
        due=date(2025, 3, 13),
        extended_due=date(2025, 3, 27),
        released=date(2025, 3, 14),
        remainder_expected=date(2025, 3, 27),
        clerk_name="Sam Whitfield",
        clerk_title="Senior Clerk Analyst",
        bates_prefix="LACC",
        description="Photos of the encampment at 5th and San Pedro, January 2025.",
    )
    values.update(overrides)
    return PacketRequest(**values)


class PacketBuilder:
    """Collects items (with their file bytes) and groups, then numbers them into a Packet."""

    def __init__(self, **request: object) -> None:
        self.request = make_request(**request)
        self.items: list[PacketItem] = []
        self.groups: list[PacketGroup] = []
        self.contents: dict[str, bytes] = {}

    def item(
        self, path: str, department: str = "PW", status: Fate = Fate.DELIVERED, **fields: object
    ) -> PacketItem:
        seed = len(self.items) + 1
        content = fields.pop("content", None) or f"image bytes of {path}".encode() * 40
        fields.setdefault("thumbnail_jpeg", thumbnail(seed))
        fields.setdefault("capture_date", datetime(2025, 1, 10, 9, seed % 60, 0))
        fields.setdefault("capture_date_source", "exif_datetime_original")
        fields.setdefault("capture_utc_offset", "-08:00")
        fields.setdefault("extension", Path(path).suffix.lower() or ".jpg")
        item = PacketItem(
            path=path,
            department_code=department,
            department_name=DEPARTMENTS.get(department, department),
            sha256=hashlib.sha256(content).hexdigest(),
            byte_size=len(content),
            status=status,
            **fields,
        )
        self.items.append(item)
        self.contents[path] = content
        return item

    def group(
        self,
        gid: str,
        members: list[tuple[str, str]],
        rule: str = "department_of_record",
        reason: str = "Public Works is the department of record for this request.",
        conflicts: tuple[str, ...] = (),
    ) -> None:
        """`members` is [(path, relation)], the authoritative copy first (its relation is ignored)."""
        by_path = {i.path: n for n, i in enumerate(self.items)}
        for k, (path, relation) in enumerate(members):
            n = by_path[path]
            self.items[n] = replace(
                self.items[n],
                group_id=gid,
                is_authoritative=k == 0,
                status=self.items[n].status if k == 0 else Fate.DUPLICATE,
                relation="" if k == 0 else relation,
                authority_rule=rule,
                authority_reason=reason,
            )
        self.groups.append(
            PacketGroup(
                id=gid,
                authoritative_path=members[0][0],
                rule=rule,
                reason=reason,
                member_paths=tuple(p for p, _ in members),
                conflicts=conflicts,
            )
        )

    def build(
        self, every_copy: bool = False, unreadable_files: UnreadableFiles = UnreadableFiles.NOT_DELIVERED
    ) -> Packet:
        """Numbered as prepare_packet numbers them; unreadable items follow `unreadable_files`."""
        items = [
            replace(i, **unreadable_fields(unreadable_files, page=page_of_key(i.path), original_kept=True))
            if i.is_unreadable
            else i
            for i in self.items
        ]
        items = assign_bates(items, self.request.bates_prefix, every_copy=every_copy)
        return Packet(
            request=self.request,
            items=items,
            groups=tuple(self.groups),
            explanation=MatchExplanation.from_settings(
                {"phash_radius": 11, "same_image_score": 0.9, "near_identical_score": 0.8}
            ),
            generated_at=GENERATED_AT,
            unreadable_files=unreadable_files,
        )

    def write_delivered(self, packet: Packet, folder: Path) -> list[tuple[str, Path]]:
        """The delivered files on disk, as a service would pass them to `write_packet_zip`."""
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for n, item in enumerate(i for i in packet.items if i.bates):
            source = folder / f"source-{n}{item.extension}"
            source.write_bytes(self.contents[item.path])
            files.append((f"{item.bates}{item.extension}", source))
        return files


def demo_packet(
    every_copy: bool = False, unreadable_files: UnreadableFiles = UnreadableFiles.NOT_DELIVERED
) -> tuple[PacketBuilder, Packet]:
    """Every fate the index must show: groups with a conflict, withheld, redacted, unreadable."""
    b = PacketBuilder()
    b.item("PW/encampment/IMG_0412.jpg", "PW", parcels=("5161-012-004",), camera="Apple iPhone 13")
    b.item("SAN/cleanup/2025-01-10 0412.jpg", "SAN", parcels=("5161-012-004",))
    b.item(
        "PD/field/IMG_0412 (1).jpg", "PD", capture_date=datetime(2025, 1, 11, 9, 1), parcels=("5161-012-005",)
    )
    b.item("PW/encampment/IMG_0413.jpg", "PW", camera="Apple iPhone 13")
    b.item("SAN/cleanup/IMG_0413_small.jpg", "SAN")
    b.item("BLD/permits/scan_2211.png", "BLD", capture_date=None, capture_date_source="unknown")
    b.item("BLD/permits/<b>x</b><font size=80>big</font>.jpg", "BLD")
    b.item("PW/rtl/\u05e6\u05d9\u05dc\u05d5\u05dd \u202egpj.exe\x07bell.jpg", "PW")
    b.item("PD/field/victim_face.jpg", "PD", Fate.WITHHELD, withholding=INVESTIGATION)
    b.item("PD/field/victim_face_copy.jpg", "PD")
    b.item(
        "PD/field/plates.jpg",
        "PD",
        Fate.WITHHELD,
        withholding=PRIVACY,
        redaction_count=2,
        redaction_exemptions=(PRIVACY,),
    )
    b.item(
        "SAN/cleanup/broken.jpg",
        "SAN",
        Fate.UNREADABLE,
        unreadable_reason="JPEG data ends early",
        thumbnail_jpeg=None,
        capture_date=None,
        capture_date_source="unknown",
    )
    b.item(
        "SAN/cleanup/notes.docx",
        "SAN",
        Fate.REFUSED,
        unreadable_reason="a Word document, not an image",
        thumbnail_jpeg=None,
        capture_date=None,
        capture_date_source="unknown",
    )
    b.group(
        "G-0001",
        [
            ("PW/encampment/IMG_0412.jpg", ""),
            ("SAN/cleanup/2025-01-10 0412.jpg", "exact"),
            ("PD/field/IMG_0412 (1).jpg", "same_image"),
        ],
        conflicts=(
            "Capture dates differ: 2025-01-10 (PW, SAN) and 2025-01-11 (PD)",
            "Parcels differ: 5161-012-004 (PW, SAN) and 5161-012-005 (PD)",
        ),
    )
    b.group(
        "G-0002",
        [("PW/encampment/IMG_0413.jpg", ""), ("SAN/cleanup/IMG_0413_small.jpg", "same_image")],
        rule="most_pixels",
        reason="4032 x 3024 pixels against 1024 x 768.",
    )
    b.group(
        "G-0003",
        [("PD/field/victim_face.jpg", ""), ("PD/field/victim_face_copy.jpg", "exact")],
        rule="smallest_sha256",
        reason="Identical copies; the smallest SHA-256 breaks the tie.",
    )
    return b, b.build(every_copy=every_copy, unreadable_files=unreadable_files)
