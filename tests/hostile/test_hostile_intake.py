"""Hostile uploads: every file gets a clear reason, the rest of the batch completes, memory stays bounded.

Bound stated: intake holds at most one 1 MB read buffer per file (bytes stream to a
temporary file), so a ZIP of any size is gathered in well under 32 MB of Python heap.
"""

import io
import tracemalloc
import warnings
import zipfile

import pytest

from records.models import GatheredItem, ItemStatus
from records.services.intake import gather_files, gather_zip
from tests.factories import DepartmentFactory, RecordsRequestFactory, jpeg_bytes, make_clerk, png_bytes
from tests.hostile.zips import duplicate_names, many_entries, with_encrypted_entry, with_raw_name

pytestmark = pytest.mark.django_db
INTAKE_HEAP_BOUND = 32 * 1024 * 1024


@pytest.fixture
def desk():
    DepartmentFactory(code="PD", name="Police")
    return make_clerk(), RecordsRequestFactory()


def outcomes(report):
    return {o.name: (o.result, o.reason) for o in report.outcomes}


def test_an_encrypted_zip_entry_is_refused_and_the_rest_is_gathered(desk):
    clerk, rr = desk
    archive = with_encrypted_entry("PD/secret.jpg", jpeg_bytes(), {"PD/open.jpg": jpeg_bytes((9, 9, 9))})
    report = gather_zip(actor=clerk, records_request=rr, zip_file=io.BytesIO(archive))
    assert outcomes(report)["PD/secret.jpg"] == (
        "refused",
        "the entry is encrypted; send it without a password",
    )
    assert outcomes(report)["open.jpg"][0] == "stored"


def test_a_non_utf8_name_is_gathered_under_a_readable_name(desk):
    clerk, rr = desk
    # "café.jpg" as a cp437 Windows tool writes it (0x82 = é), with no UTF-8 flag.
    archive = with_raw_name({"PD/cafX.jpg": jpeg_bytes()}, "PD/cafX.jpg", b"PD/caf\x82.jpg")
    report = gather_zip(actor=clerk, records_request=rr, zip_file=io.BytesIO(archive))
    assert report.counts["stored"] == 1
    assert GatheredItem.objects.get().original_path == "café.jpg"


def test_two_entries_with_one_name_are_both_kept(desk):
    clerk, rr = desk
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        archive = duplicate_names("PD/same.jpg", jpeg_bytes((1, 1, 1)), jpeg_bytes((200, 1, 1)))
    report = gather_zip(actor=clerk, records_request=rr, zip_file=io.BytesIO(archive))
    assert report.counts["stored"] == 2
    assert GatheredItem.objects.filter(original_path="same.jpg").count() == 2


def test_a_truncated_zip_is_refused_with_a_clear_message(desk):
    clerk, rr = desk
    archive = with_raw_name({"PD/a.jpg": jpeg_bytes()}, "PD/a.jpg", b"PD/a.jpg")
    from records.errors import InvalidInput

    with pytest.raises(InvalidInput, match="not a readable ZIP"):
        gather_zip(actor=clerk, records_request=rr, zip_file=io.BytesIO(archive[: len(archive) // 2]))


def test_a_corrupt_entry_is_refused_and_the_next_one_is_gathered(desk):
    clerk, rr = desk
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("PD/broken.jpg", jpeg_bytes((5, 5, 5)))
        archive.writestr("PD/fine.jpg", jpeg_bytes((6, 6, 6)))
    data = bytearray(buffer.getvalue())
    first = bytes(jpeg_bytes((5, 5, 5)))
    at = bytes(data).index(first)
    data[at + 200] ^= 0xFF  # flip a byte: the CRC no longer matches
    report = gather_zip(actor=clerk, records_request=rr, zip_file=io.BytesIO(bytes(data)))
    result = outcomes(report)
    assert result["PD/broken.jpg"][0] == "refused" and "cannot be read" in result["PD/broken.jpg"][1]
    assert result["fine.jpg"][0] == "stored"


@pytest.mark.slow
def test_ten_thousand_tiny_entries_are_all_accounted_for(desk):
    clerk, rr = desk
    report = gather_zip(
        actor=clerk, records_request=rr, zip_file=io.BytesIO(many_entries(10_000, png_bytes()))
    )
    assert len(report.outcomes) == 10_000
    assert report.counts["stored"] == 10_000
    assert GatheredItem.objects.filter(request=rr).count() == 10_000


def test_the_heap_does_not_grow_with_the_number_of_zip_entries(desk):
    clerk, rr = desk
    peaks = []
    for count in (100, 800):
        archive = many_entries(count, png_bytes((count % 256, 1, 1)))
        tracemalloc.start()
        gather_zip(actor=clerk, records_request=rr, zip_file=io.BytesIO(archive))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert max(peaks) < INTAKE_HEAP_BOUND, peaks
    # 700 more entries add only their outcome records (well under 16 KB each), never their bytes.
    assert (peaks[1] - peaks[0]) / 700 < 16 * 1024, peaks


def test_a_large_upload_streams_through_bounded_memory(desk, settings):
    clerk, rr = desk
    settings.PACKETDESK_MAX_FILE_BYTES = 64 * 1024 * 1024

    class Stream(io.RawIOBase):
        """48 MB of a JPEG-looking file, produced chunk by chunk, never held whole."""

        def __init__(self):
            self.left = 48 * 1024 * 1024
            self.first = True

        def readable(self):
            return True

        def read(self, size=-1):
            size = min(self.left, 1024 * 1024 if size < 0 else size)
            if size <= 0:
                return b""
            self.left -= size
            chunk = (b"\xff\xd8\xff\xe0" if self.first else b"") + b"\x00" * size
            self.first = False
            return chunk[:size]

    tracemalloc.start()
    report = gather_files(
        actor=clerk, records_request=rr, department=rr_department(), files=[("big.jpg", Stream())]
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.counts["stored"] == 1
    assert GatheredItem.objects.get().byte_size == 48 * 1024 * 1024
    assert peak < INTAKE_HEAP_BOUND


def rr_department():
    from records.models import Department

    return Department.objects.get(code="PD")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("<img src=x onerror=alert(1)>.jpg", "<img src=x onerror=alert(1)>.jpg"),
        ("<font size=80>big</font>.jpg", "<font size=80>big</font>.jpg"),
        ("photo\u202egnp.jpg", "photognp.jpg"),  # right-to-left override removed
        ("bell\x07\x1b[31m.jpg", "bell[31m.jpg"),  # control characters removed
    ],
)
def test_hostile_file_names_are_stored_cleaned_but_otherwise_as_given(desk, name, shown):
    clerk, rr = desk
    report = gather_files(
        actor=clerk, records_request=rr, department=rr_department(), files=[(name, io.BytesIO(jpeg_bytes()))]
    )
    assert report.outcomes[0].result == "stored"
    assert GatheredItem.objects.get().original_path == shown


def test_a_zero_byte_file_is_refused_as_empty(desk):
    clerk, rr = desk
    report = gather_files(
        actor=clerk, records_request=rr, department=rr_department(), files=[("empty.jpg", io.BytesIO(b""))]
    )
    assert outcomes(report)["empty.jpg"] == ("refused", "this file is empty")
    assert GatheredItem.objects.get().status == ItemStatus.REFUSED
