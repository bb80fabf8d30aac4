"""The dashboard figures pinned in tests/records/test_metrics_aggregates.py, on PostgreSQL.

The figures are counted, grouped by local week and bucketed by local day in the database,
and SQLite and PostgreSQL convert time zones differently (Python functions against AT TIME
ZONE), so the services pass runs the very same pinned desk against the real server.
"""

from __future__ import annotations

import pytest

from tests.records.test_metrics_aggregates import *  # noqa: F403 - the same tests, collected again here

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
