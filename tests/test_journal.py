"""The journal: durable states across runs, exclusive use, clear errors, group commit."""

import asyncio
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from importer.journal import CREATED, FAILED, SENDING, Journal, JournalError

KEY = ("1001", "EMAIL", "a@example.com")


async def _set(j, key, state):
    """A state written as the sender writes an intent: queued, then committed with whoever else is waiting."""
    j.note([key], state)
    await j.commit()


def test_states_survive_reopen_and_remember_the_run(tmp_path):
    path = tmp_path / "journal-1003.sqlite"
    with Journal(path, 1003, "run-1") as j:
        j.note([KEY], SENDING)
        j.flush()
        j.note([KEY], CREATED)
    with Journal(path, 1003, "run-2") as j:
        entry = j.lookup([KEY, ("1001", "EMAIL", "b@example.com")])
        assert list(entry) == [KEY]
        assert entry[KEY].state == CREATED and entry[KEY].run_id == "run-1"
        assert j.run_started_at("run-1")


def test_journal_is_per_store(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path, 1, "r") as j:
        j.note([KEY], CREATED)
    with Journal(path, 2, "r2") as j:
        assert j.lookup([KEY]) == {}


def test_second_run_on_same_journal_is_refused(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path, 1003, "run-1"):
        with pytest.raises(JournalError, match="another run is importing into store 1003") as refused:
            Journal(path, 1003, "run-2")
    assert "--" not in str(refused.value)  # no flag offered: following one would send the same rows twice
    Journal(path, 1003, "run-3").close()  # free again once the first run closed it


def test_corrupt_journal_is_a_clear_error_and_left_alone(tmp_path):
    path = tmp_path / "j.sqlite"
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    with pytest.raises(JournalError, match="corrupt"):
        Journal(path, 1003, "run-1")
    assert path.read_bytes() == garbage  # never overwritten


def test_concurrent_writers_share_commits_and_lose_nothing(tmp_path):
    path = tmp_path / "j.sqlite"
    keys = [("c%d" % i, "EMAIL", f"u{i}@example.com") for i in range(300)]

    async def main(j):
        await asyncio.gather(*(_set(j, k, SENDING) for k in keys))
        await asyncio.gather(*(_set(j, k, CREATED if i % 3 else FAILED) for i, k in enumerate(keys)))

    with Journal(path, 7, "r") as j:
        asyncio.run(main(j))
    # read with a plain connection: what is on disk is what was promised
    db = sqlite3.connect(path)
    states = dict(((c, t, v), s) for c, t, v, s in db.execute("SELECT customer, type, contact, state FROM contacts"))
    assert len(states) == 300
    assert all(states[k] == (CREATED if i % 3 else FAILED) for i, k in enumerate(keys))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([SENDING, CREATED, FAILED, "not_created", "absent"]), min_size=1, max_size=6))
def test_last_written_state_wins(tmp_path_factory, states):
    # In memory-backed files where there are some: this is about logic, not fsyncs.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path_factory.getbasetemp()) as folder:
        path = Path(folder) / "j.sqlite"
        with Journal(path, 1, "r") as j:
            for s in states:
                asyncio.run(_set(j, KEY, s))
        with Journal(path, 1, "r2") as j:
            assert j.lookup([KEY])[KEY].state == states[-1]


def test_group_commit_makes_progress_whatever_order_waiters_wake_in(tmp_path):
    """Waiters that wake before the committer must not spin on the finished commit."""
    keys = [("c%d" % i, "PHONE", f"+1415555{i:04d}") for i in range(50)]

    async def writer(j, k, delay):
        for _ in range(delay):
            await asyncio.sleep(0)
        await _set(j, k, SENDING)

    async def main(j):
        await asyncio.wait_for(asyncio.gather(*(writer(j, k, i % 7) for i, k in enumerate(keys))), timeout=20)

    with Journal(tmp_path / "j.sqlite", 1, "r") as j:
        asyncio.run(main(j))
        assert len(j.lookup(keys)) == 50


def test_a_journal_of_the_previous_version_keeps_its_rows_and_leaves_wal_mode(tmp_path):
    path = tmp_path / "j.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema', '1');
        CREATE TABLE contacts (store_id INTEGER NOT NULL, customer TEXT NOT NULL, type TEXT NOT NULL,
            contact TEXT NOT NULL, state TEXT NOT NULL, run_id TEXT NOT NULL, batch TEXT, updated_at TEXT NOT NULL,
            PRIMARY KEY (store_id, customer, type, contact)) WITHOUT ROWID;
        INSERT INTO contacts VALUES (1003, '1001', 'EMAIL', 'a@example.com', 'created', 'old', NULL, 'then');
        INSERT INTO contacts VALUES (1003, '1001', 'EMAIL', 'b@example.com', 'sending', 'old', NULL, 'then');
        """
    )
    db.close()
    b = ("1001", "EMAIL", "b@example.com")
    with Journal(path, 1003, "new") as j:
        entries = j.lookup([KEY, b])
        assert entries[KEY].state == CREATED and entries[b] == entries[b].__class__(SENDING, "old", "then", None)
        j.note([b], CREATED)
        j.flush()
        mode = j._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "delete"
    assert not (tmp_path / "j.sqlite-wal").exists()
    with Journal(path, 1003, "again") as j:
        assert j.lookup([b])[b].state == CREATED


# The tables as the previous release wrote them: journal.py's own at open, then history.py's and
# batchjournal.py's each created by its module at first use (outside the schema version).
_EARLIER_JOURNAL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema', '2');
CREATE TABLE contacts (store_id INTEGER NOT NULL, customer TEXT NOT NULL, type TEXT NOT NULL,
    contact TEXT NOT NULL, state TEXT NOT NULL, run_id TEXT NOT NULL, batch TEXT, updated_at TEXT NOT NULL,
    sent_at REAL, PRIMARY KEY (store_id, customer, type, contact)) WITHOUT ROWID;
CREATE TABLE customers_by_email (store_id INTEGER NOT NULL, email TEXT NOT NULL, customer_id INTEGER NOT NULL,
    resolved_at TEXT NOT NULL, PRIMARY KEY (store_id, email)) WITHOUT ROWID;
CREATE TABLE customers_by_id (store_id INTEGER NOT NULL, customer_id INTEGER NOT NULL, email TEXT NOT NULL,
    emails TEXT NOT NULL, checked_at TEXT NOT NULL, PRIMARY KEY (store_id, customer_id)) WITHOUT ROWID;
CREATE TABLE customer_creates (store_id INTEGER NOT NULL, email TEXT NOT NULL, state TEXT NOT NULL,
    customer_id INTEGER, run_id TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (store_id, email)) WITHOUT ROWID;
CREATE TABLE runs (run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, summary TEXT);
INSERT INTO runs VALUES ('old', '2026-01-01 00:00:00 +0000', '2026-01-01 00:01:00 +0000', '{}');
INSERT INTO contacts VALUES (1003, '1001', 'EMAIL', 'a@example.com', 'created', 'old', NULL, 'then', NULL);
INSERT INTO contacts VALUES (1003, '1001', 'PHONE', '+14155550100', 'sending', 'old', 'k1', 'then', NULL);
INSERT INTO customers_by_email VALUES (1003, 'ann@example.com', 1001, 'then');
"""
_EARLIER_SIDE_TABLES = """
CREATE TABLE sent (store_id INTEGER NOT NULL, customer TEXT NOT NULL, type TEXT NOT NULL, contact TEXT NOT NULL,
    body TEXT, origin TEXT, contact_id INTEGER, run_id TEXT, file TEXT, sheet TEXT, row INTEGER,
    updated_at TEXT NOT NULL, PRIMARY KEY (store_id, customer, type, contact)) WITHOUT ROWID;
CREATE TABLE undo_rows (store_id INTEGER NOT NULL, undone_run TEXT NOT NULL, customer TEXT NOT NULL,
    type TEXT NOT NULL, contact TEXT NOT NULL, position INTEGER NOT NULL, state TEXT NOT NULL, contact_id INTEGER,
    body TEXT, file TEXT, sheet TEXT, row INTEGER, undo_run TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL, PRIMARY KEY (store_id, undone_run, customer, type, contact)) WITHOUT ROWID;
CREATE TABLE batches (store_id INTEGER NOT NULL, key TEXT NOT NULL, ticket TEXT, state TEXT NOT NULL,
    created_at REAL NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (store_id, key)) WITHOUT ROWID;
INSERT INTO sent VALUES (1003, '1001', 'EMAIL', 'a@example.com', '{"type": "EMAIL", "contact": "a@example.com"}',
    'create', 77, 'old', 'a.csv', '', 2, 'then');
INSERT INTO batches VALUES (1003, 'k1', 'T-1', 'submitted', 1.0, 'old');
"""


def _layout(path) -> dict:
    """Every table's columns, and the schema version: what a journal is, whatever wrote it."""
    db = sqlite3.connect(path)
    try:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        layout = {t: [col[1:] for col in db.execute(f"PRAGMA table_info({t})")] for t in tables}
        layout["version"] = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    finally:
        db.close()
    return layout


@pytest.mark.parametrize("side_tables", [False, True], ids=["before-its-first-undo-or-batch", "after"])
def test_a_journal_the_previous_release_wrote_opens_as_it_is_and_keeps_every_row(tmp_path, side_tables):
    path = tmp_path / "journal-1003.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(_EARLIER_JOURNAL + (_EARLIER_SIDE_TABLES if side_tables else ""))
    db.close()
    with Journal(path, 1003, "new") as j:
        assert j.lookup([KEY])[KEY].state == CREATED and j.run_finished("old")
        assert j.customer_for_email("ann@example.com") == 1001
        assert sorted((r.key, r.contact_id) for r in j.undo_rows("old")) == [
            (KEY, 77 if side_tables else None), (("1001", "PHONE", "+14155550100"), None)]
        batches = j.open_batches()
        assert [(b.key, b.ticket, b.rows) for b in batches] == (
            [("k1", "T-1", (("1001", "PHONE", "+14155550100"),))] if side_tables else [])
    fresh = tmp_path / "fresh.sqlite"
    Journal(fresh, 1003, "fresh").close()
    assert _layout(path) == _layout(fresh) and _layout(path)["version"] == ("2",)


def test_a_journal_a_newer_release_wrote_is_refused_and_left_as_it_is(tmp_path):
    path = tmp_path / "j.sqlite"
    Journal(path, 1, "r").close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("UPDATE meta SET value='3' WHERE key='schema'")
    db.close()
    before = path.read_bytes()
    with pytest.raises(JournalError, match="schema version 3, expected 2"):
        Journal(path, 1, "r2")
    assert path.read_bytes() == before
