"""Every test gets a data directory of its own: the journal's default home (importer.journal.home) is
never the real user's, and no test sees another's journal, nor a journal left in the repository's ./reports."""

from __future__ import annotations

import pytest

from importer.journal import home as journalhome


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(journalhome.DATA_DIR_ENV, str(tmp_path_factory.mktemp("data")))
    monkeypatch.setattr(journalhome, "EARLIER_DEFAULT", tmp_path_factory.mktemp("no-reports"))
