"""The journal: durable states across runs, exclusive use, clear errors, group commit."""

import asyncio
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from importer.journal import CREATED, FAILED, SENDING, Journal, JournalError

KEY = ("1001", "EMAIL", "a@example.com")


def test_states_survive_reopen_and_remember_the_run(tmp_path):
    path = tmp_path / "journal-1003.sqlite"
    with Journal(path, 1003, "run-1") as j:
        j.set_states([(KEY, SENDING)])
        j.set_states([(KEY, CREATED)])
    with Journal(path, 1003, "run-2") as j:
        entry = j.lookup([KEY, ("1001", "EMAIL", "b@example.com")])
        assert list(entry) == [KEY]
        assert entry[KEY].state == CREATED and entry[KEY].run_id == "run-1"
        assert j.run_started_at("run-1")


def test_journal_is_per_store(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path, 1, "r") as j:
        j.set_states([(KEY, CREATED)])
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
        await asyncio.gather(*(j.set_state(k, SENDING) for k in keys))
        await asyncio.gather(*(j.set_state(k, CREATED if i % 3 else FAILED) for i, k in enumerate(keys)))

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
                asyncio.run(j.set_state(KEY, s))
        with Journal(path, 1, "r2") as j:
            assert j.lookup([KEY])[KEY].state == states[-1]


def test_group_commit_makes_progress_whatever_order_waiters_wake_in(tmp_path):
    """Waiters that wake before the committer must not spin on the finished commit."""
    keys = [("c%d" % i, "PHONE", f"+1415555{i:04d}") for i in range(50)]

    async def writer(j, k, delay):
        for _ in range(delay):
            await asyncio.sleep(0)
        await j.set_state(k, SENDING)

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
        j.set_states([(b, CREATED)])
        mode = j._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "delete"
    assert not (tmp_path / "j.sqlite-wal").exists()
    with Journal(path, 1003, "again") as j:
        assert j.lookup([b])[b].state == CREATED
