import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(request, tmp_path, settings):
    """Every test stores gathered files in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
