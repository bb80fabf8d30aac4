import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(request, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
