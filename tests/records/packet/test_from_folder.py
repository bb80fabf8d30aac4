"""`dedupe_folder` writes the packet too: index.pdf and the delivered files, with no database."""

import hashlib
import io
import json

from PIL import Image
from pypdf import PdfReader

from records.management.commands.dedupe_folder import dedupe_folder
from tests.dedupe.images import jpeg_bytes, letter_page, multipage_tiff, skimage_photo


def test_a_folder_becomes_a_packet_with_bates_named_files_and_an_index(tmp_path):
    root = tmp_path / "gathered"
    (root / "PW").mkdir(parents=True)
    (root / "PD").mkdir()
    photo = jpeg_bytes(skimage_photo("coffee.png"))
    (root / "PW" / "coffee.jpg").write_bytes(photo)
    (root / "PD" / "coffee-copy.jpg").write_bytes(photo)
    (root / "PD" / "cat.jpg").write_bytes(jpeg_bytes(skimage_photo("chelsea.png")))
    (root / "PD" / "<font size=80>notes.txt").write_bytes(b"not an image")
    out = tmp_path / "out"
    dedupe_folder(root, out, jobs=1, office_of_record=["PW"], bates_prefix="CITY")
    manifest = json.loads((out / "manifest.json").read_text())
    bates = {item["path"]: item["bates"] for item in manifest["items"]}
    assert bates["PW/coffee.jpg"] == "CITY-000001"  # groups come first in the index
    assert bates["PD/coffee-copy.jpg"] is None  # a duplicate is listed, not delivered again
    assert bates["PD/<font size=80>notes.txt"] is None
    delivered = sorted(p.name for p in (out / "files").iterdir())
    assert delivered == ["CITY-000001.jpg", "CITY-000002.jpg"]
    digest = hashlib.sha256((out / "files" / "CITY-000001.jpg").read_bytes()).hexdigest()
    assert digest == hashlib.sha256(photo).hexdigest()  # bytes unchanged
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO((out / "index.pdf").read_bytes())).pages)
    assert "CITY-000002" in text and "<font size=80>notes.txt" in text
    assert Image.open(out / "files" / "CITY-000002.jpg").size == (451, 300)  # the cat, unchanged


def test_each_page_of_a_multi_page_file_goes_out_alone_under_its_own_bates_number(tmp_path):
    root = tmp_path / "gathered"
    (root / "PLN").mkdir(parents=True)
    pages = [letter_page(lines=30).convert("L"), letter_page(lines=8).convert("L")]
    (root / "PLN" / "permit.tif").write_bytes(multipage_tiff(pages))
    out = tmp_path / "out"
    dedupe_folder(root, out, jobs=1, bates_prefix="CITY")
    delivered = sorted((out / "files").iterdir())
    assert [p.name for p in delivered] == ["CITY-000001.png", "CITY-000002.png"]
    for page, path in zip(pages, delivered, strict=True):
        with Image.open(path) as im:
            assert getattr(im, "n_frames", 1) == 1
            assert im.tobytes() == page.tobytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO((out / "index.pdf").read_bytes())).pages)
    own = hashlib.sha256(delivered[1].read_bytes()).hexdigest()
    assert own[:16] in text.replace("\n", "")  # the index cites the copy that went out


def test_an_unreadable_file_in_a_folder_run_follows_the_unreadable_files_setting(tmp_path, settings):
    root = tmp_path / "gathered"
    (root / "PW").mkdir(parents=True)
    photo = jpeg_bytes(skimage_photo("coffee.png"))
    (root / "PW" / "coffee.jpg").write_bytes(photo)
    (root / "PW" / "broken.jpg").write_bytes(photo[:1500])
    for rule, delivered in (("not_delivered", ["CITY-000001.jpg"]), ("original_bytes", None)):
        settings.PACKETDESK_UNREADABLE_FILES = rule
        out = tmp_path / rule
        dedupe_folder(root, out, jobs=1, bates_prefix="CITY")
        items = {i["path"]: i for i in json.loads((out / "manifest.json").read_text())["items"]}
        broken = items["PW/broken.jpg"]
        assert broken["status"] == "unreadable" and f'(rule "{rule}")' in broken["reason"]
        names = sorted(p.name for p in (out / "files").iterdir())
        if delivered:
            assert broken["bates"] is None and names == delivered
        else:
            assert (out / "files" / f"{broken['bates']}.jpg").read_bytes() == photo[:1500]  # as received
            assert len(names) == 2
        text = "".join(
            p.extract_text() for p in PdfReader(io.BytesIO((out / "index.pdf").read_bytes())).pages
        )
        assert f"Rule {rule}:" in text
