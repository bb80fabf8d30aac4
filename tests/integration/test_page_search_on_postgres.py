"""The word search of tests/records/test_page_search.py on PostgreSQL's full-text search."""

from __future__ import annotations

import pytest

from tests.records.test_page_search import *  # noqa: F403 - the same tests, collected again here

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
