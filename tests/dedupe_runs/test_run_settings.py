"""A run's settings are resolved once, when it starts, and every step uses the stored ones."""

import dataclasses
import importlib

import pytest

from dedupe.core.settings import MatchSettings
from dedupe.models import DedupeRun, DuplicateGroup, ItemImage, RunState
from dedupe.runs import grouping, verification
from dedupe.runs.run_settings import RunSettings, run_settings
from records.models import Department
from records.services import decisions
from records.services.dedupe_runs import start_run
from tests.dedupe_runs.helpers import InProcessQueue, gathered_request

pytestmark = pytest.mark.django_db

NON_DEFAULT = MatchSettings(same_image_score=0.95, burst_max_seconds=300.0, conflict_place_metres=50.0)


@pytest.fixture
def queue(monkeypatch):
    return InProcessQueue().install(monkeypatch)


def spy_on(monkeypatch, module, name: str, settings_at: int, seen: list) -> None:
    """Record the settings (and departments of record) each call of `module.name` is given."""
    real = getattr(module, name)

    def spying(*args, **kwargs):
        seen.append((name, args[settings_at], kwargs.get("departments_of_record")))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spying)


def test_a_run_started_with_non_default_settings_uses_them_in_every_step(
    queue, django_capture_on_commit_callbacks, monkeypatch
):
    assert MatchSettings() != NON_DEFAULT
    seen: list = []
    spy_on(monkeypatch, verification, "plan_candidates", 1, seen)
    spy_on(monkeypatch, verification, "verify_checks", 2, seen)
    spy_on(monkeypatch, grouping, "group_fingerprints", 1, seen)
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(actor=clerk, records_request=rr, match_settings=NON_DEFAULT)
    queue.drain()

    run.refresh_from_db()
    assert run.state == RunState.COMPLETED, run.error
    assert run_settings(run) == RunSettings(match=NON_DEFAULT, departments_of_record=("PLN",))
    assert {name for name, _, _ in seen} == {"plan_candidates", "verify_checks", "group_fingerprints"}
    assert all(settings == NON_DEFAULT for _, settings, _ in seen)
    assert all(departments in (None, ["PLN"]) for _, _, departments in seen)


def test_the_office_of_record_changed_mid_run_does_not_change_the_runs_authority(
    queue, django_capture_on_commit_callbacks
):
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(actor=clerk, records_request=rr)
    queue.deliver_next()  # plan_run: the run is under way
    # Public Works holds copies of both pictures: as office of record it would hold the authority.
    rr.office_of_record = Department.objects.get(code="PW")
    rr.save(update_fields=["office_of_record"])
    queue.drain()

    run.refresh_from_db()
    assert run.state == RunState.COMPLETED, run.error
    astronaut = DuplicateGroup.objects.get(run=run, authoritative__key="PLN/IMG_20240312_101502.jpg")
    assert astronaut.rule == "department_of_record"
    assert run_settings(run).departments_of_record == ("PLN",)


def test_a_clerks_decision_re_forms_groups_with_the_runs_stored_settings(
    queue, django_capture_on_commit_callbacks, monkeypatch
):
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        start_run(actor=clerk, records_request=rr, match_settings=NON_DEFAULT)
    queue.drain()
    seen: list = []
    spy_on(monkeypatch, decisions, "regroup", 1, seen)
    group = DuplicateGroup.objects.get(authoritative__key="PLN/IMG_20240312_101502.jpg")
    exact = ItemImage.objects.get(key="PD/case/astronaut.jpg")
    decisions.choose_authoritative(actor=clerk, group=group, image=exact, reason="The case file")
    assert seen == [("regroup", NON_DEFAULT, ["PLN"])]
    assert dataclasses.asdict(seen[0][1]) != dataclasses.asdict(MatchSettings())


def test_a_run_made_before_runs_kept_their_departments_gets_its_request_office_stored(
    queue, django_capture_on_commit_callbacks
):
    from django.apps import apps

    migration = importlib.import_module("dedupe.migrations.0007_runs_keep_departments_of_record")
    clerk, rr = gathered_request()
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(actor=clerk, records_request=rr)
    DedupeRun.objects.filter(pk=run.pk).update(settings_used=MatchSettings().as_dict())  # as stored before
    migration.store_departments_of_record(apps, None)
    run.refresh_from_db()
    assert run_settings(run) == RunSettings(match=MatchSettings(), departments_of_record=("PLN",))
