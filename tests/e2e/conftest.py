"""Chromium driven by Playwright against a live server, with a real Celery worker beside it.

Debian's Chromium is used (`make unit` installs it when missing); Playwright's own browser
download is never needed. The worker fixtures are the integration tests' (a real
`celery worker` process sharing the test database and media folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.conftest import celery_worker_process, worker_factory  # noqa: F401

CHROMIUM = os.environ.get("PACKETDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def _orm_beside_playwright(monkeypatch):
    """Playwright's sync API runs an asyncio loop in this thread; Django's async-safety check
    would otherwise refuse the ORM calls the tests make between browser steps. Set per test,
    so no other test (or `check --deploy` subprocess) inherits it."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(_orm_beside_playwright):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}; `make unit` installs Debian's chromium package."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(settings) -> Path:
    """Where the browser tests leave their screenshots for a person to look at."""
    folder = Path(settings.VAR_DIR) / "e2e-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
