import csv
import io
import json

from records.packet.manifests import (
    DAT_DELIMITER,
    DAT_QUOTE,
    load_file_dat,
    load_file_opt,
    manifest_csv,
    manifest_json,
    withholding_log_csv,
)
from tests.records.packet.builders import demo_packet

DESIGN_ITEM_KEYS = {
    "path",
    "department",
    "sha256",
    "bates",
    "capture_date",
    "capture_date_source",
    "status",
    "group",
    "reason",
}


def test_manifest_lists_every_gathered_file_exactly_once(demo):
    _, packet = demo
    manifest = json.loads(manifest_json(packet))
    paths = [i["path"] for i in manifest["items"]]
    assert sorted(paths) == sorted(i.path for i in packet.items)
    assert len(set(paths)) == len(paths)
    assert paths == sorted(paths)


def test_manifest_keys_are_designs_interchange_format(demo):
    _, packet = demo
    manifest = json.loads(manifest_json(packet))
    assert set(manifest) == {"request", "generated_at", "items", "groups"}
    assert manifest["request"] == "CPRA-2025-0142"
    assert manifest["generated_at"] == "2025-03-14T17:00:00"
    extra_item_keys = {"department_name", "relation", "delivered_sha256", "redactions", "withholding"}
    for item in manifest["items"]:
        assert DESIGN_ITEM_KEYS <= set(item) <= DESIGN_ITEM_KEYS | extra_item_keys
        assert item["status"] in {"delivered", "duplicate", "withheld", "unreadable"}
    for group in manifest["groups"]:
        assert set(group) == {"id", "number", "authoritative", "rule", "reason", "members"}
        assert group["authoritative"] in group["members"]


def test_refused_intake_items_are_unreadable_with_their_reason(demo):
    _, packet = demo
    items = {i["path"]: i for i in json.loads(manifest_json(packet))["items"]}
    refused = items["SAN/cleanup/notes.docx"]
    assert refused["status"] == "unreadable" and "a Word document" in refused["reason"]


def test_withheld_and_redacted_items_carry_their_citations(demo):
    _, packet = demo
    items = {i["path"]: i for i in json.loads(manifest_json(packet))["items"]}
    withheld = items["PD/field/victim_face.jpg"]
    assert withheld["status"] == "withheld" and withheld["bates"] is None
    assert withheld["withholding"][0]["section"] == "Gov. Code § 7923.600"
    redacted = items["PD/field/plates.jpg"]
    assert redacted["status"] == "delivered" and redacted["bates"]
    assert redacted["redactions"]["count"] == 2


def test_manifest_csv_has_one_row_per_file_and_defuses_formulas(builder):
    builder.item("=HYPERLINK(1).jpg")
    builder.item("PW/plain.jpg")
    packet = builder.build()
    rows = list(csv.DictReader(io.StringIO(manifest_csv(packet).decode("utf-8-sig"))))
    assert [r["path"] for r in rows] == ["'=HYPERLINK(1).jpg", "PW/plain.jpg"]


def test_withholding_log_has_one_row_per_withheld_or_redacted_item_without_file_names(demo):
    _, packet = demo
    rows = list(csv.DictReader(io.StringIO(withholding_log_csv(packet).decode("utf-8-sig"))))
    assert [(r["bates_or_item"], r["treatment"]) for r in rows] == [
        ("Item 1", "withheld in full"),
        ("LACC-000005", "redacted (2)"),
    ]
    assert rows[0]["code_section"] == "Gov. Code § 7923.600"
    assert rows[0]["responsible"] == "Lee Park, Police Records Supervisor"
    assert all("victim" not in r["description"] for r in rows)


def test_load_files_cross_reference_every_delivered_file(demo):
    _, packet = demo
    dat = load_file_dat(packet).decode("utf-8-sig").split("\r\n")[:-1]
    fields = [f.strip(DAT_QUOTE) for f in dat[0].split(DAT_DELIMITER)]
    assert fields[:2] == ["BEGDOC", "ENDDOC"]
    records = [
        dict(zip(fields, (v.strip(DAT_QUOTE) for v in line.split(DAT_DELIMITER)), strict=True))
        for line in dat[1:]
    ]
    produced = sorted(i.bates for i in packet.items if i.bates)
    assert [r["BEGDOC"] for r in records] == produced
    assert all(r["BEGDOC"] == r["ENDDOC"] for r in records)
    opt = load_file_opt(packet).decode().split("\r\n")[:-1]
    assert [line.split(",")[0] for line in opt] == produced
    assert opt[0] == "LACC-000001,VOL001,files\\LACC-000001.jpg,Y,,,1"


def test_same_packet_gives_identical_manifests():
    first, second = demo_packet()[1], demo_packet()[1]
    for render in (manifest_json, manifest_csv, withholding_log_csv, load_file_dat, load_file_opt):
        assert render(first) == render(second)


def test_each_group_keeps_its_engine_id_and_carries_the_number_the_index_prints(demo):
    _, packet = demo
    groups = {g["id"]: g for g in json.loads(manifest_json(packet))["groups"]}
    assert set(groups) == {"G-0001", "G-0002", "G-0003"}
    assert {gid: g["number"] for gid, g in groups.items()} == packet.group_numbers()
    assert groups["G-0003"]["number"] == 1  # Police's group comes first in the index


def test_items_carry_their_department_name_beside_its_code(demo):
    _, packet = demo
    items = {i["path"]: i for i in json.loads(manifest_json(packet))["items"]}
    assert items["PW/encampment/IMG_0412.jpg"]["department"] == "PW"
    assert items["PW/encampment/IMG_0412.jpg"]["department_name"] == "Public Works"


def test_the_authoritative_copys_reason_names_its_rule_in_words(demo):
    _, packet = demo
    items = {i["path"]: i for i in json.loads(manifest_json(packet))["items"]}
    reason = items["PW/encampment/IMG_0413.jpg"]["reason"]
    assert (
        "4032 x 3024 pixels against 1024 x 768. (rule: the most complete original, by pixel count)" in reason
    )
    assert "most_pixels" not in reason


def test_unreadable_items_say_what_the_requester_gets_under_each_rule():
    from records.packet.data import UnreadableFiles

    for rule, bates, given in (
        (UnreadableFiles.NOT_DELIVERED, None, 'Not delivered (rule "not_delivered")'),
        (UnreadableFiles.ORIGINAL_BYTES, "LACC-000007", 'Delivered as received (rule "original_bytes")'),
    ):
        packet = demo_packet(unreadable_files=rule)[1]
        items = {i["path"]: i for i in json.loads(manifest_json(packet))["items"]}
        broken = items["SAN/cleanup/broken.jpg"]
        assert (broken["status"], broken["bates"]) == ("unreadable", bates)
        assert broken["reason"].startswith("unreadable: JPEG data ends early. " + given)
        rows = {r["path"]: r for r in csv.DictReader(io.StringIO(manifest_csv(packet).decode("utf-8-sig")))}
        assert rows["SAN/cleanup/broken.jpg"]["reason"] == broken["reason"]
        assert given in rows["SAN/cleanup/notes.docx"]["reason"]
