"""Every octopus.cost test gets its own profile and plan cache."""

import pytest


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Point the disk cache ($XDG_CACHE_HOME/octopus/cost) at the test's temporary folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

