"""Demo data for the single-machine run: departments, staff, and one request with real photographs.

The photographs are the real ones scikit-image ships inside its wheel (no download);
the departments hold them the way city departments do: the original, a copy resized
and re-compressed by another department, a byte-identical copy, a copy stored rotated
with an EXIF orientation tag, and scanned forms printed on one template.
"""

from __future__ import annotations

import datetime
import io
import secrets
import zoneinfo
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from .models import Department, DepartmentUploader, RecordsRequest, RequesterKind
from .roles import Role, ensure_role_groups
from .services.intake import gather_files
from .services.requests import open_request

DEMO_REQUEST_DESCRIPTION = (
    "All photographs and scanned inspection forms concerning parcel 5123-004-017, 2024."
)
LA = zoneinfo.ZoneInfo("America/Los_Angeles")

DEPARTMENTS = [
    ("Planning and Building", "PLN", "parcel photos and inspection forms", 10),
    ("Public Works", "PW", "street and right-of-way photos", 20),
    ("Police Department", "PD", "", 30),
    ("Parks and Recreation", "PRK", "", 40),
    ("Code Enforcement", "CE", "", 50),
]

# (file in skimage/data, title) — real photographs only.
PHOTOS = [
    ("astronaut.png", "astronaut"),
    ("chelsea.png", "cat"),
    ("coffee.png", "coffee"),
    ("rocket.jpg", "rocket"),
    ("motorcycle_left.png", "motorcycle_a"),
    ("motorcycle_right.png", "motorcycle_b"),
    ("hubble_deep_field.jpg", "hubble"),
    ("retina.jpg", "retina"),
    ("coins.png", "coins"),
    ("camera.png", "cameraman"),
    ("ihc.png", "ihc"),
    ("grass.png", "grass"),
    ("moon.png", "moon"),
    ("brick.png", "brick"),
    ("gravel.png", "gravel"),
    ("cell.png", "cell"),
]


@dataclass(frozen=True)
class DemoCredentials:
    username: str
    password: str
    role: str


def _photo(name: str) -> Image.Image:
    path = resources.files("skimage") / "data" / name
    with path.open("rb") as fh:
        image = Image.open(fh)
        image.load()
    return image.convert("RGB")


def _jpeg(
    image: Image.Image,
    *,
    when: datetime.datetime | None,
    quality: int = 92,
    orientation: int = 1,
    camera: bool = True,
) -> bytes:
    exif = Image.Exif()
    if camera:
        exif[0x010F] = "Canon"
        exif[0x0110] = "Canon EOS 80D"
    if when is not None:
        stamp = when.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x0132] = stamp
        exif_ifd = exif.get_ifd(0x8769)
        exif_ifd[0x9003] = stamp
        exif_ifd[0x9011] = "-07:00"
    if orientation != 1:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def _form(inspector: str, finding: str, date: str, parcel: str) -> Image.Image:
    """A scanned inspection form: the city's template filled in by hand."""
    page = Image.new("L", (850, 1100), 250)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=22)
    small = ImageFont.load_default(size=18)
    draw.text((60, 50), "CITY INSPECTION REPORT", fill=10, font=font)
    for y, label in [(140, "Parcel (APN)"), (220, "Inspector"), (300, "Date"), (380, "Finding")]:
        draw.text((60, y), label, fill=20, font=small)
        draw.rectangle((250, y - 10, 790, y + 40), outline=30, width=2)
    draw.text((265, 140), parcel, fill=0, font=font)
    draw.text((265, 220), inspector, fill=0, font=font)
    draw.text((265, 300), date, fill=0, font=font)
    y = 380
    for line in finding.split("\n"):
        draw.text((265, y), line, fill=0, font=small)
        y += 30
    draw.line((60, 1000, 400, 1000), fill=30, width=2)
    draw.text((60, 1010), "Signature", fill=40, font=small)
    return page.convert("RGB")


def _demo_files() -> dict[str, list[tuple[str, bytes]]]:
    """Files per department code, with duplicates spread across departments."""
    files: dict[str, list[tuple[str, bytes]]] = {code: [] for _, code, _, _ in DEPARTMENTS}
    base = datetime.datetime(2024, 3, 12, 10, 15, 2, tzinfo=LA)  # camera clocks are local
    for index, (name, title) in enumerate(PHOTOS):
        image = _photo(name)
        when = base + datetime.timedelta(days=index, minutes=7 * index)
        original = _jpeg(image, when=when)
        stamp = when.strftime("%Y%m%d_%H%M%S")
        files["PLN"].append((f"parcel-5123-004-017/IMG_{stamp}.jpg", original))
        if index % 2 == 0:
            # Public Works saved a half-size, re-compressed copy under another name.
            half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
            files["PW"].append((f"field/{title}_small.jpg", _jpeg(half, when=when, quality=70)))
        if index % 3 == 0:
            files["PD"].append((f"case-24-1187/{title}.jpg", original))  # byte-identical copy
        if index % 4 == 1:
            # Stored turned on its side with an orientation tag saying how to show it.
            turned = image.transpose(Image.Transpose.ROTATE_90)
            files["CE"].append((f"complaints/{title}_phone.jpg", _jpeg(turned, when=when, orientation=6)))
        if index == 5:
            # A copy whose date another department typed in wrong: a conflict to flag.
            files["PRK"].append(
                (f"{title}.jpg", _jpeg(image, when=when + datetime.timedelta(days=40), quality=85))
            )
    forms = [
        ("J. Ortiz", "Retaining wall cracked\nalong east property line.", "03/14/2024"),
        ("M. Chen", "No violation observed.\nSite clean.", "03/21/2024"),
        ("J. Ortiz", "Unpermitted shed at rear\nof lot; notice issued.", "04/02/2024"),
    ]
    for number, (inspector, finding, date) in enumerate(forms, start=1):
        page = _form(inspector, finding, date, "5123-004-017")
        buffer = io.BytesIO()
        page.save(buffer, "PNG")
        files["PLN"].append((f"forms/inspection-{number}.png", buffer.getvalue()))
        if number == 1:
            rescanned = io.BytesIO()
            page.convert("L").save(rescanned, "JPEG", quality=75)
            files["CE"].append((f"scans/scan{number:04d}.jpg", rescanned.getvalue()))
    return files


STAFF_NAMES = {"clerk": ("Maria", "Alvarez"), "manager": ("Robert", "Chen")}


def _ensure_user(username: str, role: Role, password: str, department: Department | None = None):
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=username, defaults={"email": f"{username}@city.example"}
    )
    user.first_name, user.last_name = STAFF_NAMES.get(username, ("", ""))
    user.set_password(password)
    user.is_staff = role == Role.MANAGER
    user.save()
    user.groups.add(Group.objects.get(name=role.value))
    if department is not None:
        DepartmentUploader.objects.update_or_create(user=user, defaults={"department": department})
    return user


def _credentials_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-credentials.txt"


def _passwords() -> dict[str, str]:
    """Random passwords made once per installation and kept beside the database."""
    path = _credentials_file()
    known: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            user, _, password = line.partition(" ")
            known[user] = password
    for user in ("clerk", "manager", "pd-uploader", "pw-uploader"):
        known.setdefault(user, secrets.token_urlsafe(9))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{user} {password}\n" for user, password in known.items()))
    path.chmod(0o600)
    return known


@transaction.atomic
def load_demo() -> tuple[list[DemoCredentials], RecordsRequest]:
    """Create (or refresh) the demo office. Safe to run again: nothing is duplicated."""
    ensure_role_groups()
    departments = {}
    for name, code, of_record, rank in DEPARTMENTS:
        departments[code], _ = Department.objects.update_or_create(
            code=code, defaults={"name": name, "office_of_record_for": of_record, "authority_rank": rank}
        )
    passwords = _passwords()
    clerk = _ensure_user("clerk", Role.CLERK, passwords["clerk"])
    _ensure_user("manager", Role.MANAGER, passwords["manager"])
    _ensure_user("pd-uploader", Role.DEPARTMENT_UPLOADER, passwords["pd-uploader"], departments["PD"])
    _ensure_user("pw-uploader", Role.DEPARTMENT_UPLOADER, passwords["pw-uploader"], departments["PW"])
    credentials = [
        DemoCredentials("clerk", passwords["clerk"], "clerk"),
        DemoCredentials("manager", passwords["manager"], "manager"),
        DemoCredentials("pd-uploader", passwords["pd-uploader"], "uploader for Police Department"),
        DemoCredentials("pw-uploader", passwords["pw-uploader"], "uploader for Public Works"),
    ]
    demo = RecordsRequest.objects.filter(description=DEMO_REQUEST_DESCRIPTION).first()
    if demo is None:
        demo = open_request(
            actor=clerk,
            requester_name="Dana Whitfield",
            requester_email="dwhitfield@whitfield-law.example",
            requester_organisation="Whitfield & Park LLP",
            requester_kind=RequesterKind.ATTORNEY,
            description=DEMO_REQUEST_DESCRIPTION,
            received_at=datetime.datetime.now(LA) - datetime.timedelta(days=6),
            office_of_record=departments["PLN"],
        )
        for code, files in _demo_files().items():
            gather_files(
                actor=clerk,
                records_request=demo,
                department=departments[code],
                files=[(name, io.BytesIO(data)) for name, data in files],
            )
    return credentials, demo
