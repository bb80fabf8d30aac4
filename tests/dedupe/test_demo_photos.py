"""The demo office's stereo pair: the two lenses of one camera, photographed a day apart.

Found in the demo packet: motorcycle_left and motorcycle_right were grouped as "same
photo, slightly cropped" (pixels agree 0.96) with no word about their camera dates, 1 day
7 min apart. Two moments are never one photo: they are near-identical shots, and the
group's camera dates are a conflict.
"""

from dedupe.core.fingerprint import fingerprint_bytes
from dedupe.core.grouping import group_fingerprints
from dedupe.core.types import Relation
from records.demo import _demo_files


def _demo_groups():
    fingerprints = []
    for code, files in _demo_files().items():
        for name, data in files:
            fingerprints += fingerprint_bytes(data, f"{code}/{name}", code)
    return group_fingerprints(fingerprints, departments_of_record=["PLN"])


def test_the_demo_stereo_pair_is_grouped_as_near_identical_shots_with_a_date_conflict():
    (group,) = [g for g in _demo_groups() if "PW/field/motorcycle_a_small.jpg" in g.keys]
    assert "CE/complaints/motorcycle_b_phone.jpg" in group.keys  # both lenses, one group
    relations = {m.key: m for m in group.members}
    other_lens = [m for k, m in relations.items() if k.startswith("PLN/")]
    (right,) = other_lens
    for member in (right, relations["CE/complaints/motorcycle_b_phone.jpg"]):
        assert member.relation is Relation.NEAR_IDENTICAL_SHOT
        assert member.explanation.startswith("another shot: camera dates 1 day 7 min apart")
    assert relations["PW/field/motorcycle_a_small.jpg"].relation is Relation.SAME_IMAGE
    assert [c.field for c in group.conflicts] == ["capture_date"]


def test_the_two_lenses_alone_conflict_on_their_camera_dates():
    files = dict(_demo_files()["PLN"])
    lenses = [name for name in files if name.endswith(("IMG_20240316_104302.jpg", "IMG_20240317_105002.jpg"))]
    pair = [fp for name in lenses for fp in fingerprint_bytes(files[name], f"PLN/{name}", "PLN")]
    (group,) = group_fingerprints(pair)
    (conflict,) = group.conflicts
    assert conflict.description.startswith("camera dates differ by 1 day 7 min: 2024-03-16 10:43 (PLN)")
