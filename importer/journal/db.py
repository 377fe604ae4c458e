"""The journal's file: opening it (locked, checked, migrated), and the one way anything is written to it.

    db = Database(path, store_id, run_id)   # JournalError: locked, corrupt, not a journal, unwritable
    db._write(("INSERT ...", rows), ...)    # (sql, rows) pairs in one durable commit (the modules beside this one)
    db._read(sql, params)                   # rows of one query; db._locked(): the connection, for many
    db.close()

Package-internal: the modules beside this one (one per group of tables) are the only callers of
`_write`/`_read`/`_transaction`; every other module asks the Journal by name (importer.journal).

A journal is never silently replaced. A new one appears complete (built beside its
path, then linked into place), so an existing file that holds no journal (0 bytes,
someone else's database) is refused, never taken for a new one. It runs in rollback
mode (`journal_mode=DELETE`, `synchronous=FULL`): a commit is in the main file once
it returns, and the side file holds only the old pages of a transaction in progress,
so losing it after a crash loses no commit (in WAL mode, commits lived in the `-wal`
file until a checkpoint: deleting it after kill -9 lost them). The cost is a second
fsync per commit (0.39 -> 0.76 ms here; README, "Journal").

A commit that fails (a full disk) is JournalWriteError, a stop (exit 3), after the transaction
is rolled back only if SQLite has not done so itself: never a second error ('cannot rollback').
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Self

from importer.errors import Code, ImporterError, RunStopped
from importer.journal import schema


class JournalError(ImporterError):
    """A journal that can't be used: locked by another run, corrupt, unwritable (exit 2)."""


class JournalWriteError(RunStopped):
    """A commit failed mid-run (a full disk): the run stops, since nothing may be sent that the
    journal cannot record (exit 3)."""


class _NotAJournal(Exception):
    pass


def _no_journal(path: Path, what: str) -> str:
    return (
        f"journal {path} {what}: it holds no journal, so it would forget what earlier runs created. "
        f"To start a new journal on purpose, move it aside or delete it (contacts the store already has are "
        f"skipped, not sent again), or pass --journal NEW_PATH"
    )


def _configure(db: sqlite3.Connection) -> None:
    # Rollback journal, not WAL: a commit lives in the main file, never only in a side file
    # a user or a crash can lose. FULL: a committed intent survives power loss, not just kill -9.
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA locking_mode=EXCLUSIVE")


def _create(path: Path) -> None:
    """A new, empty journal at `path`, built beside it and linked into place: never half there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            _configure(db)
            db.execute("BEGIN IMMEDIATE")
            schema.migrate(db)
            db.execute("COMMIT")
        finally:
            db.close()
        with contextlib.suppress(FileExistsError):  # another run created it meanwhile: that one is used
            link_into_place(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def link_into_place(tmp: Path, path: Path) -> None:
    """`tmp` at `path` too, never over a file there (FileExistsError): a hard link, else (a file system
    without them) a rename."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        if path.exists():
            raise FileExistsError(f"{path} exists") from None
        os.replace(tmp, path)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


class Database:
    """One run's handle on the journal's file. Holds an exclusive lock while open:
    two runs against one journal would each think the other's rows are theirs."""

    def __init__(self, path: Path, store_id: int, run_id: str):
        self.path = Path(path)
        self.store_id = store_id
        self.run_id = run_id
        self.opened_at = time.time()  # every run before this one had ended (or died) by now
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                _create(self.path)
            if self.path.is_file() and self.path.stat().st_size == 0:
                raise JournalError(_no_journal(self.path, "is empty (0 bytes)"))
            self._db = sqlite3.connect(self.path, timeout=0.5, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"journal {self.path}: cannot open: {exc}") from None
        try:
            # Someone else's database (a wrong --journal path), or an empty one: leave it as it is, even its header.
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "meta" not in tables:
                what = f"has tables {', '.join(sorted(tables))} and no journal's" if tables else "has no tables"
                raise _NotAJournal(_no_journal(self.path, f"is a database that {what}"))
            _configure(self._db)
            self._db.execute("BEGIN IMMEDIATE")
            schema.migrate(self._db)
            # A damaged page would otherwise surface mid-run; find it before anything is sent.
            problems = [row[0] for row in self._db.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("; ".join(problems))
            # The run's start, in the opening transaction: a journal that cannot take it stops the run here (exit 2).
            self._db.execute("INSERT OR REPLACE INTO runs(run_id, started_at) VALUES (?, ?)", (run_id, now()))
            self._db.execute("COMMIT")
        except _NotAJournal as exc:
            self._db.close()
            raise JournalError(str(exc)) from None
        except sqlite3.OperationalError as exc:
            self._db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise JournalError(  # no way round it offered: two runs at once would send the same rows twice
                    f"another run is importing into store {store_id} (its journal {self.path} is locked): "
                    "wait until it has ended, then run this one again"
                ) from None
            raise JournalError(f"journal {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise JournalError(
                f"journal {self.path} is corrupt or not a journal ({exc}); move it aside to start a new one"
            ) from None

    @contextlib.contextmanager
    def _locked(self):
        """The connection, to this thread alone; JournalWriteError if SQLite fails: the run must stop."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise Code.JOURNAL_UNWRITABLE.stop(kind=JournalWriteError, path=self.path, reason=exc) from None

    @contextlib.contextmanager
    def _transaction(self):
        """One durable transaction on the journal's database (every write goes through here).
        JournalWriteError when it can't be committed (a full disk): the run must stop."""
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already (disk full)
                    db.execute("ROLLBACK")
                raise

    def _write(self, *statements: tuple[str, Iterable[tuple]]) -> None:
        """(sql, rows) pairs, each run with executemany, in one durable commit."""
        with self._transaction() as db:
            for sql, rows in statements:
                db.executemany(sql, rows)

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._locked() as db:  # a failing read stops the run like a failing write, never a traceback
            return db.execute(sql, params).fetchall()

    def _read_each(self, sql: str, params: Iterable[tuple]) -> list[tuple[tuple, list[tuple]]]:
        """(params, rows) of one query run for each params, in one transaction (a nightly run asks for all)."""
        with self._transaction() as db:
            return [(p, db.execute(sql, p).fetchall()) for p in params]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
