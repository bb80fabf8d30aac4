"""Shared test set-up: reference data every database test may rely on."""

import pytest


@pytest.fixture(autouse=True)
def _reference_data(request):
    """The seeded exemptions, restored for every database test.

    A transactional test (live server, real worker) empties every table when it ends,
    including rows the migrations seeded; the tests after it still expect them.
    """
    if request.node.get_closest_marker("django_db") is None and not {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames):
        return
    request.getfixturevalue("_django_db_helper")
    from records.services.withholding import ensure_default_exemptions

    ensure_default_exemptions()
