"""Gathering files: single files, many files, ZIPs of department folders, hostile ZIPs."""

import io
import stat
import zipfile

import pytest
from django.core.files.storage import default_storage

from records.blobstore import blob_name
from records.errors import NotPermitted, RequestClosedForGathering
from records.models import Blob, GatheredItem, ItemStatus, RequestStatus
from records.services.intake import gather_files, gather_zip
from tests.factories import (
    DepartmentFactory,
    RecordsRequestFactory,
    jpeg_bytes,
    make_clerk,
    make_uploader,
    png_bytes,
    zip_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def police():
    return DepartmentFactory(name="Police Department", code="PD")


@pytest.fixture
def works():
    return DepartmentFactory(name="Public Works", code="PW")


def test_a_stored_file_is_content_addressed_and_moves_the_request_to_gathering(police):
    clerk = make_clerk()
    rr = RecordsRequestFactory()
    data = jpeg_bytes()
    report = gather_files(
        actor=clerk, records_request=rr, department=police, files=[("IMG_1.jpg", io.BytesIO(data))]
    )
    assert report.counts == {"stored": 1, "already_in_request": 0, "refused": 0}
    item = GatheredItem.objects.get()
    assert item.detected_format == "JPEG" and item.byte_size == len(data)
    assert item.blob.file.name == blob_name(item.sha256)
    with default_storage.open(item.blob.file.name, "rb") as fh:
        assert fh.read() == data
    rr.refresh_from_db()
    assert rr.status == RequestStatus.GATHERING


def test_the_same_bytes_gathered_twice_are_stored_once(police, works):
    clerk = make_clerk()
    rr = RecordsRequestFactory()
    data = jpeg_bytes()
    gather_files(actor=clerk, records_request=rr, department=police, files=[("a.jpg", io.BytesIO(data))])
    gather_files(actor=clerk, records_request=rr, department=works, files=[("copy.jpg", io.BytesIO(data))])
    again = gather_files(
        actor=clerk, records_request=rr, department=works, files=[("copy.jpg", io.BytesIO(data))]
    )
    assert again.outcomes[0].result == "already_in_request"
    assert GatheredItem.objects.count() == 2
    assert Blob.objects.count() == 1


def test_a_png_named_jpg_is_stored_and_noted_as_mislabelled(police):
    report = gather_files(
        actor=make_clerk(),
        records_request=RecordsRequestFactory(),
        department=police,
        files=[("photo.jpg", io.BytesIO(png_bytes()))],
    )
    assert report.outcomes[0].result == "stored"
    assert "PNG" in report.outcomes[0].reason
    assert GatheredItem.objects.get().mislabelled


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"<!DOCTYPE html><html><body>404</body></html>", "not an image: this is an HTML page"),
        (b"MZ\x90\x00" + b"\x00" * 60, "not an image: this is an executable program"),
        (b"", "this file is empty"),
    ],
)
def test_a_file_that_is_not_an_image_is_kept_as_refused_with_a_reason(police, data, why):
    report = gather_files(
        actor=make_clerk(),
        records_request=RecordsRequestFactory(),
        department=police,
        files=[("scan.jpg", io.BytesIO(data))],
    )
    assert report.outcomes[0].result == "refused"
    assert report.outcomes[0].reason == why
    item = GatheredItem.objects.get()
    assert item.status == ItemStatus.REFUSED and item.error_reason == why
    assert item.blob is not None  # the original bytes are never lost


def test_a_zip_of_department_folders_accounts_for_every_file(police, works):
    archive = zip_bytes(
        {
            "PD/2024/march/IMG_1.jpg": jpeg_bytes((10, 10, 10)),
            "PD/IMG_2.jpg": jpeg_bytes((20, 20, 20)),
            "Public Works/scan.png": png_bytes(),
            "PW/notes.txt": b"meeting notes",
            "Parks/IMG_3.jpg": jpeg_bytes((30, 30, 30)),
            "loose.jpg": jpeg_bytes((40, 40, 40)),
            "../../etc/evil.jpg": jpeg_bytes((50, 50, 50)),
            "/abs/evil.jpg": jpeg_bytes((60, 60, 60)),
        }
    )
    report = gather_zip(
        actor=make_clerk(), records_request=RecordsRequestFactory(), zip_file=io.BytesIO(archive)
    )
    by_name = {o.name: o for o in report.outcomes}
    assert len(report.outcomes) == 8  # files in = items + refusals reported
    assert by_name["2024/march/IMG_1.jpg"].result == "stored"
    assert by_name["2024/march/IMG_1.jpg"].department == "PD"
    assert by_name["scan.png"].department == "PW"  # a folder may use the department's name
    assert by_name["notes.txt"].reason == "not an image: this is not a recognised image format"
    assert by_name["Parks/IMG_3.jpg"].reason == "no department is named 'Parks'"
    assert by_name["loose.jpg"].reason == "not inside a department folder"
    assert "unsafe path" in by_name["../../etc/evil.jpg"].reason
    assert "unsafe path" in by_name["/abs/evil.jpg"].reason
    assert report.counts == {"stored": 3, "already_in_request": 0, "refused": 5}
    assert GatheredItem.objects.count() == 8
    assert not any(".." in name for name in default_storage.listdir("")[0])


def test_zip_slip_entries_never_write_outside_storage(police, tmp_path, settings):
    archive = zip_bytes({"PD/../../../../outside.jpg": jpeg_bytes()})
    gather_zip(actor=make_clerk(), records_request=RecordsRequestFactory(), zip_file=io.BytesIO(archive))
    assert not (tmp_path / "outside.jpg").exists()
    assert GatheredItem.objects.get().status == ItemStatus.REFUSED


def test_symlinks_and_encrypted_entries_in_a_zip_are_refused(police):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("PD/link.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("PD/ok.jpg", jpeg_bytes())
    report = gather_zip(
        actor=make_clerk(), records_request=RecordsRequestFactory(), zip_file=io.BytesIO(buffer.getvalue())
    )
    reasons = {o.name: o.reason for o in report.outcomes}
    assert reasons["PD/link.jpg"] == "a symbolic link, not a file"
    assert report.counts["stored"] == 1


def test_a_zip_bomb_entry_is_refused_without_being_expanded(police):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("PD/bomb.jpg", b"\xff\xd8\xff" + b"\x00" * (50 * 1024 * 1024))
        archive.writestr("PD/ok.jpg", jpeg_bytes())
    report = gather_zip(
        actor=make_clerk(), records_request=RecordsRequestFactory(), zip_file=io.BytesIO(buffer.getvalue())
    )
    reasons = {o.name: o.reason for o in report.outcomes}
    assert "ZIP bomb" in reasons["PD/bomb.jpg"]
    assert report.counts["stored"] == 1


def test_a_department_uploader_can_only_gather_for_its_own_department(police, works):
    uploader = make_uploader(police)
    rr = RecordsRequestFactory()
    with pytest.raises(NotPermitted):
        gather_files(
            actor=uploader, records_request=rr, department=works, files=[("a.jpg", io.BytesIO(jpeg_bytes()))]
        )
    archive = zip_bytes({"PD/mine.jpg": jpeg_bytes((1, 2, 3)), "PW/theirs.jpg": jpeg_bytes((3, 2, 1))})
    report = gather_zip(actor=uploader, records_request=rr, zip_file=io.BytesIO(archive))
    reasons = {o.name: o.reason for o in report.outcomes}
    assert reasons["mine.jpg"] == ""
    assert reasons["PW/theirs.jpg"] == "you upload for PD only, not PW"
    assert not GatheredItem.objects.filter(department=works).exists()


def test_a_released_request_takes_no_more_files(police):
    rr = RecordsRequestFactory(status=RequestStatus.RELEASED)
    with pytest.raises(RequestClosedForGathering, match="released"):
        gather_files(
            actor=make_clerk(), records_request=rr, department=police, files=[("a.jpg", io.BytesIO(b"x"))]
        )


def test_file_names_with_control_and_bidi_characters_are_cleaned(police):
    report = gather_files(
        actor=make_clerk(),
        records_request=RecordsRequestFactory(),
        department=police,
        files=[("evil\u202egpj.exe\x07.jpg", io.BytesIO(jpeg_bytes()))],
    )
    assert report.outcomes[0].name == "evilgpj.exe.jpg"


def test_a_pdf_is_stored_for_its_pages_and_one_carrying_javascript_says_so(police):
    from tests.dedupe.pdfs import document_pdf, rewritten

    plain = document_pdf([["Case 24-118", "Address: 1200 Harbor Blvd"]])
    scripted = rewritten(plain, script="app.alert('x');")
    report = gather_files(
        actor=make_clerk(),
        records_request=RecordsRequestFactory(),
        department=police,
        files=[
            ("case.pdf", io.BytesIO(plain)),
            ("scripted.pdf", io.BytesIO(scripted)),
            ("scan.jpg", io.BytesIO(plain)),
        ],
    )
    first, second, third = report.outcomes
    assert (first.result, first.reason) == ("stored", "")
    assert second.result == "stored"
    assert (
        second.reason == "stored; the PDF carries JavaScript, which is never run: its pages go out as images"
    )
    assert third.reason == "stored; the name says otherwise but it is a PDF document"
    assert GatheredItem.objects.get(original_path="case.pdf").detected_format == "PDF"
