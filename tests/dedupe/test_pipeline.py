"""The folder pipeline: departments from sub-folders, every file accounted for, parallel or not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dedupe.core.pipeline import run_dedupe, sources_from_folder
from dedupe.core.types import Relation
from tests.dedupe.builders import scene

pytest.importorskip("dedupe.core.fingerprint")


@pytest.fixture
def gathered(tmp_path: Path) -> Path:
    picture = scene(4, (640, 480))
    (tmp_path / "police").mkdir()
    (tmp_path / "parks" / "2024").mkdir(parents=True)
    picture.save(tmp_path / "police" / "IMG_1.jpg", quality=95)
    (tmp_path / "parks" / "2024" / "copy.jpg").write_bytes((tmp_path / "police" / "IMG_1.jpg").read_bytes())
    picture.resize((320, 240)).save(tmp_path / "parks" / "small.jpg", quality=60)
    scene(5, (640, 480)).save(tmp_path / "other.png")
    (tmp_path / "parks" / "notes.txt").write_text("not an image")
    return tmp_path


def test_first_level_folders_name_departments_and_nothing_is_skipped(gathered: Path) -> None:
    sources = sources_from_folder(gathered)
    assert [(s.key, s.department) for s in sources] == [
        ("other.png", "unassigned"),
        ("parks/2024/copy.jpg", "parks"),
        ("parks/notes.txt", "parks"),
        ("parks/small.jpg", "parks"),
        ("police/IMG_1.jpg", "police"),
    ]
    assert [s.uploaded_order for s in sources] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("jobs", [1, 2])
def test_run_dedupe_groups_copies_and_reports_unreadable_files(gathered: Path, jobs: int) -> None:
    result = run_dedupe(sources_from_folder(gathered), jobs=jobs, departments_of_record=["police"])
    assert [u.key for u in result.unreadable] == ["parks/notes.txt"]
    (group,) = result.groups
    assert group.authoritative == "police/IMG_1.jpg" and group.rule == "department_of_record"
    relations = {m.key: m.relation for m in group.members}
    assert relations == {"parks/2024/copy.jpg": Relation.EXACT, "parks/small.jpg": Relation.SAME_IMAGE}


def test_pairs_compared_in_the_process_pool_give_the_same_groups(
    gathered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dedupe.core import pipeline

    for n in range(3):  # more copies, so there are several pairs to share out
        scene(4, (640, 480)).rotate(90, expand=True).resize((240 + 40 * n, 320 + 53 * n)).save(
            gathered / "police" / f"turned{n}.jpg", quality=80
        )
    monkeypatch.setattr(pipeline, "_PAIRS_PER_TASK", 1)  # one pair per pool task
    shared = run_dedupe(sources_from_folder(gathered), jobs=2, departments_of_record=["police"])
    alone = run_dedupe(sources_from_folder(gathered), jobs=1, departments_of_record=["police"])
    assert shared.groups == alone.groups
    (group,) = shared.groups
    assert len(group.members) == 5


def test_dedupe_folder_writes_both_manifests(
    gathered: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pytest.importorskip("django")
    from records.management.commands.dedupe_folder import dedupe_folder

    out = tmp_path_factory.mktemp("out")
    dedupe_folder(gathered, out, jobs=1, request="R-1", generated_at=datetime(2024, 1, 1, tzinfo=UTC))
    manifest = json.loads((out / "manifest.json").read_text())
    assert [i["path"] for i in manifest["items"]] == [s.key for s in sources_from_folder(gathered)]
    assert (out / "manifest.csv").read_text().count("\n") == 1 + len(manifest["items"])
