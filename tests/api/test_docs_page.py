"""The API docs page loads nothing from another origin and runs no inline code (the CSP forbids both)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_docs_page_loads_its_assets_from_our_static_files_only(clerk_client):
    response = clerk_client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(url.startswith("/") for url in assets), assets
    assert any(url.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/") for url in assets)
    assert not re.search(r"<script>|<style>|\sstyle=", page)  # no inline script or style
    script = clerk_client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
