"""Exactly once across crashes: the importer as a real process, killed mid-run, then rerun.

The sandbox lives in the test process, so it outlives every importer it serves.
"""

from __future__ import annotations

import contextlib
import random
import signal
import sqlite3

import pytest

from exactly_once_helpers import cli_args, run_main, start_cli, stored, wait_for, write_csv
from importer.journal import CREATED, Journal
from importer.journal import default_path
from importer.sandbox import Sandbox, SandboxConfig

ROWS = 400


def _sandbox() -> Sandbox:
    # Latency, so a kill lands while requests are in flight.
    return Sandbox(SandboxConfig(rate_per_minute=None, customers=20, latency_ms=15, latency_dist="uniform"))


def _assert_exactly_once(sb: Sandbox, expected: dict) -> None:
    store = stored(sb)
    assert set(store) == set(expected), "a contact is missing from the store, or one nobody asked for is there"
    assert max(store.values()) == 1, f"stored twice: {[k for k, n in store.items() if n > 1]}"


def test_kill_9_at_random_points_then_a_plain_rerun_creates_each_contact_once(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(ROWS))
    reports = tmp_path / "reports"
    rng = random.Random(5)
    with _sandbox() as sb:
        args = cli_args(sb, csv, reports, "--quiet", "--rate", "60000", "--concurrency", "6")
        kills = 0
        for _ in range(3):
            target = sb.stats.creates_committed + rng.randint(0, 70)
            proc = start_cli(sb, args)
            wait_for(lambda: sb.stats.creates_committed >= target or proc.poll() is not None)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.communicate(timeout=20)
            assert max(stored(sb).values(), default=0) <= 1  # never doubled, even before the end
        assert kills >= 2, "the importer finished before it could be killed: the test proved nothing"
        partial = len(stored(sb))
        assert 0 < partial < ROWS

        reads_before = sum(1 for r in sb.requests if r.method == "GET")
        code, summary, err = run_main(sb, args, monkeypatch, capsys)
        assert code == 0, err
        _assert_exactly_once(sb, expected)
        assert sum(1 for r in sb.requests if r.method == "GET") > reads_before  # doubt resolved by reading
    # The default journal path, one per store, was used by every run.
    # The journal is the store's, in the data directory, not in the report folder.
    assert default_path(sb.store_id).exists() and not list(reports.glob("*.sqlite"))
    counts = summary["counts"]
    assert sum(counts.values()) == summary["total"] == ROWS
    assert set(counts) <= {"created", "skipped"}
    # What the killed runs had confirmed is skipped; what they left in doubt was checked, not resent.
    assert counts.get("skipped", 0) == summary["skipped_by_reason"].get("already-imported", 0) > 0
    assert counts["created"] >= ROWS - partial


def test_ctrl_c_stops_with_a_report_and_the_same_command_continues(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(ROWS))
    journal = tmp_path / "my-journal.sqlite"
    with _sandbox() as sb:
        args = cli_args(sb, csv, tmp_path / "r", "--rate", "60000", "--concurrency", "4",
                        "--journal", str(journal))  # fmt: skip
        proc = start_cli(sb, args)
        wait_for(lambda: sb.stats.creates_committed >= 60 or proc.poll() is not None)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 3, err
        assert "run the same command again" in err
        first = stored(sb)
        assert 60 <= len(first) < ROWS and max(first.values()) == 1

        code, summary, err = run_main(sb, args, monkeypatch, capsys)
        assert code == 0, err
        _assert_exactly_once(sb, expected)
    assert summary["counts"] == {"created": ROWS - len(first), "skipped": len(first)}
    assert summary["skipped_by_reason"] == {"already-imported": len(first)}
    assert "already-imported" in err  # the terminal summary says why rows were skipped


def _damaged_journal(path, store_id: int) -> None:
    """A real journal with a page in the middle overwritten: its header still looks fine."""
    with Journal(path, store_id, "earlier") as j:
        j.note([(str(i), "EMAIL", f"p{i}@example.com") for i in range(3000)], CREATED)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\xff" * 8192)


@pytest.mark.parametrize("kind", ["locked", "not-a-journal", "damaged", "another-database", "empty"])
def test_a_journal_that_cannot_be_used_stops_before_sending(tmp_path, kind, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(10))
    journal = tmp_path / "j.sqlite"
    with _sandbox() as sb:
        args = cli_args(sb, csv, tmp_path / "r", "--journal", str(journal))
        if kind == "locked":
            with Journal(journal, sb.store_id, "someone-else"):
                code, _, err = run_main(sb, args, monkeypatch, capsys)
        else:
            if kind == "damaged":
                _damaged_journal(journal, sb.store_id)
            elif kind == "another-database":
                with contextlib.closing(sqlite3.connect(journal)) as db, db:
                    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total TEXT)")
            elif kind == "empty":  # truncated to 0 bytes: not a new journal
                journal.write_bytes(b"")
            else:
                journal.write_bytes(b"not a journal at all " * 300)
            before = journal.read_bytes()
            code, _, err = run_main(sb, args, monkeypatch, capsys)
            assert journal.read_bytes() == before  # never overwritten
        assert sb.stats.requests == 0
    assert code == 2
    said = {"locked": "locked", "another-database": "holds no journal", "empty": "is empty (0 bytes)"}
    assert said.get(kind, "corrupt") in err and "Traceback" not in err
    if kind in ("another-database", "empty"):  # and how to start afresh on purpose
        assert "move it aside or delete it" in err and "--journal NEW_PATH" in err


def test_kill_9_then_the_journals_side_files_lost_still_nothing_twice(tmp_path, monkeypatch, capsys):
    """Commits live in the journal's main file: a side file deleted after kill -9 loses none."""
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(200))
    reports = tmp_path / "reports"
    with _sandbox() as sb:
        args = cli_args(sb, csv, reports, "--quiet", "--rate", "60000", "--concurrency", "6")
        proc = start_cli(sb, args)
        wait_for(lambda: sb.stats.creates_committed >= 100 or proc.poll() is not None)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
        assert proc.returncode == -signal.SIGKILL, "finished before the kill: the test proved nothing"
        created = len(stored(sb))
        main = default_path(sb.store_id)
        lost = [p for p in main.parent.glob(main.name + "-*") if _holds_no_transaction(p)]
        for side in lost:  # what `rm journal-*.sqlite-*` or a crash of the file system leaves
            side.unlink()
        code, summary, err = run_main(sb, args, monkeypatch, capsys)
        assert code == 0, err
        _assert_exactly_once(sb, expected)
    # What the killed run recorded is still known: only the rows it had in flight were checked again.
    assert summary["counts"]["skipped"] >= created - 40


def _holds_no_transaction(side) -> bool:
    """A -wal or -shm file, or a rollback journal whose header is zeroed (no transaction in progress):
    SQLite's docs say a hot rollback journal is part of the database, so that one is kept."""
    return not side.name.endswith("-journal") or side.read_bytes()[:8] == bytes(8)
