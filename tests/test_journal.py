"""The journal: durable states across runs, exclusive use, clear errors, group commit."""

import asyncio
import sqlite3

import pytest
from hypothesis import given, settings, strategies as st

from importer.journal import CREATED, FAILED, SENDING, Journal, JournalError, default_path

KEY = ("1001", "EMAIL", "a@example.com")


def test_states_survive_reopen_and_remember_the_run(tmp_path):
    path = default_path(tmp_path, 1003)
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
        with pytest.raises(JournalError, match="locked"):
            Journal(path, 1003, "run-2")
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
    path = tmp_path_factory.mktemp("j") / "j.sqlite"
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
