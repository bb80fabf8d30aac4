import hashlib
import zipfile

import bagit
import pytest

from records.errors import InvalidInput
from records.packet.bag import packet_documents, write_packet_zip
from tests.records.packet.builders import demo_packet


@pytest.fixture
def written(tmp_path, demo):
    builder, packet = demo
    files = builder.write_delivered(packet, tmp_path / "sources")
    out = tmp_path / "packet.zip"
    digest = write_packet_zip(out, packet, files, packet_documents(packet))
    return builder, packet, files, out, digest


def test_the_zip_is_a_valid_bag_after_extraction(written, tmp_path):
    _, packet, _, out, _ = written
    with zipfile.ZipFile(out) as zf:
        zf.extractall(tmp_path / "unpacked")
    bag = bagit.Bag(str(tmp_path / "unpacked" / "CPRA-2025-0142"))
    bag.validate()
    assert bag.info["External-Identifier"] == "CPRA-2025-0142"
    payload = set(bag.payload_files())
    for name in (
        "index.pdf",
        "letter.pdf",
        "manifest.json",
        "manifest.csv",
        "withholding_log.csv",
    ):
        assert f"data/{name}" in payload
    assert {f"data/files/{i.bates}{i.extension}" for i in packet.items if i.bates} <= payload


def test_delivered_files_keep_their_bytes_under_their_bates_names(written):
    _, packet, _, out, _ = written
    with zipfile.ZipFile(out) as zf:
        for item in packet.items:
            if item.bates:
                data = zf.read(f"CPRA-2025-0142/data/files/{item.bates}{item.extension}")
                assert hashlib.sha256(data).hexdigest() == item.sha256


def test_the_returned_digest_is_the_zips_sha256(written):
    *_, out, digest = written
    assert digest == hashlib.sha256(out.read_bytes()).hexdigest()


def test_entries_are_sorted_with_fixed_timestamps(written):
    *_, out, _ = written
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_building_twice_gives_the_same_zip(written, tmp_path):
    *_, digest = written
    builder, packet = demo_packet()
    files = builder.write_delivered(packet, tmp_path / "again")
    assert write_packet_zip(tmp_path / "again.zip", packet, files, packet_documents(packet)) == digest


@pytest.mark.parametrize("name", ["../evil.jpg", "/abs.jpg", "a\\b.jpg", ""])
def test_a_member_name_that_escapes_the_bag_is_refused(tmp_path, demo, name):
    _, packet = demo
    source = tmp_path / "f.jpg"
    source.write_bytes(b"x")
    with pytest.raises(InvalidInput):
        write_packet_zip(tmp_path / "p.zip", packet, [(name, source)], {})
    assert not (tmp_path / "p.zip").exists()


def test_load_files_are_written_once_and_only_when_asked_for(demo):
    _, packet = demo
    plain = packet_documents(packet)
    assert not [n for n in plain if n.endswith((".dat", ".opt"))]
    asked = packet_documents(packet, load_files=True)
    assert sorted(n for n in asked if n.endswith((".dat", ".opt"))) == ["LACC.dat", "LACC.opt"]
    assert set(asked) - set(plain) == {"LACC.dat", "LACC.opt"}  # beside files/, which they point into
