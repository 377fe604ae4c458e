"""Every test gets a data directory of its own: the journal's default home (importer.journalhome) is
never the real user's, and no test sees another's journal."""

from __future__ import annotations

import pytest

from importer.journalhome import DATA_DIR_ENV


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path_factory.mktemp("data")))
