"""Small builders shared by the API tests."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.dedupe.images import jpeg_bytes, skimage_photo


def photo(name: str = "astronaut.png", *, half: bool = False, quality: int = 92) -> bytes:
    """A real photograph as JPEG bytes (flat test colours are low-information and never near-match)."""
    image = skimage_photo(name)
    if half:
        image = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    return jpeg_bytes(image, quality=quality)


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def zip_upload(entries: dict[str, bytes]) -> SimpleUploadedFile:
    from tests.factories import zip_bytes

    return SimpleUploadedFile("push.zip", zip_bytes(entries), content_type="application/zip")
