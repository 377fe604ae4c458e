"""SQLite journal: what was sent to which store, for resume and repeat runs.

Ecwid's create is not idempotent and returns no id, so the journal is our only
memory of what a run did. Keyed by (store, customer, type, normalized contact):

* `sending` is written and committed *before* a request leaves (the sender writes
  it a few dozen records ahead, so it may also mark rows a stopped run never sent);
  a crash leaves the row in `sending`, and the next run resolves it against the
  store instead of resending blindly;
* the outcome (`created`, `not_created`, `failed`, `absent`) is written after;
* a row whose answer was lost stays `sending`, with `sent_at`, the time its request
  left: the next check waits until that request can no longer commit (guard.py,
  doubt.py). A row a run that died left in `sending` without one was sent, at the
  latest, before the next run could open the journal (`opened_at`): the lock says
  that run was gone.

Commits are grouped: every worker waiting to send awaits one shared commit, so the
journal costs one commit per burst of requests, not one per request.

A journal is never silently replaced. A new one appears complete (built beside its
path, then linked into place), so an existing file that holds no journal (0 bytes,
someone else's database) is refused, never taken for a new one. It runs in rollback
mode (`journal_mode=DELETE`, `synchronous=FULL`): a commit is in the main file once
it returns, and the side file holds only the old pages of a transaction in progress,
so losing it after a crash loses no commit (in WAL mode, commits lived in the `-wal`
file until a checkpoint: deleting it after kill -9 lost them). The cost is a second
fsync per commit (0.39 -> 0.76 ms here; README, "Journal").
`batch` holds the batch key of a row sent through the batch API (`--mode batch`; the batches
themselves are importer.batchjournal's table).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from importer.errors import ImporterError, RunStopped

log = logging.getLogger("importer")

SCHEMA_VERSION = 2  # 2: contacts.sent_at

# Journal states.
SENDING = "sending"
CREATED = "created"
NOT_CREATED = "not_created"
FAILED = "failed"
ABSENT = "absent"  # was in doubt; the store said it isn't there
DELETED = "deleted"  # created, then deleted by `undo` (run_id: the undo's): a later import sends it again

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (
    store_id   INTEGER NOT NULL,
    customer   TEXT    NOT NULL,   -- customer id, or 'email:<address>' before resolution
    type       TEXT    NOT NULL,
    contact    TEXT    NOT NULL,   -- normalized value
    state      TEXT    NOT NULL,
    run_id     TEXT    NOT NULL,   -- the run that last changed the row
    batch      TEXT,               -- batch key when sent through the batch API
    updated_at TEXT    NOT NULL,
    sent_at    REAL,               -- `sending` after a lost answer: when its request left (Unix time)
    PRIMARY KEY (store_id, customer, type, contact)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS customers_by_email (
    store_id    INTEGER NOT NULL,
    email       TEXT    NOT NULL,
    customer_id INTEGER NOT NULL,
    resolved_at TEXT    NOT NULL,
    PRIMARY KEY (store_id, email)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS customers_by_id (
    store_id    INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    email       TEXT    NOT NULL,  -- the customer's email, lower-cased
    emails      TEXT    NOT NULL,  -- its other emails (EMAIL contacts), space-separated
    checked_at  TEXT    NOT NULL,
    PRIMARY KEY (store_id, customer_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS customer_creates (
    store_id    INTEGER NOT NULL,
    email       TEXT    NOT NULL,
    state       TEXT    NOT NULL,  -- 'creating' (committed before POST /customers), 'created'
    customer_id INTEGER,
    run_id      TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    PRIMARY KEY (store_id, email)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    summary     TEXT
);
"""


class JournalError(ImporterError):
    """A journal that can't be used: locked by another run, corrupt, unwritable (exit 2)."""


class JournalWriteError(RunStopped):
    """A commit failed mid-run (a full disk): the run stops, since nothing may be sent that the
    journal cannot record (exit 3)."""


@dataclass(frozen=True, slots=True)
class Entry:
    state: str
    run_id: str
    updated_at: str
    sent_at: float | None = None  # Unix time the request left, when known


Key = tuple[str, str, str]  # (customer, type, contact), as ContactRecord.key


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


def _tables(db: sqlite3.Connection) -> None:
    for stmt in filter(str.strip, _SCHEMA.split(";")):
        db.execute(stmt)


def _create(path: Path) -> None:
    """A new, empty journal at `path`, built beside it and linked into place: never half there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            _configure(db)
            db.execute("BEGIN IMMEDIATE")
            _tables(db)
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            db.execute("COMMIT")
        finally:
            db.close()
        try:
            os.link(tmp, path)  # fails if another run created it meanwhile: then that one is used
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


class Journal:
    """One run's handle on the journal. Holds an exclusive lock while open:
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
            _tables(self._db)
            self._check_version()
            # A damaged page would otherwise surface mid-run; find it before anything is sent.
            problems = [row[0] for row in self._db.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("; ".join(problems))
            self._db.execute(
                "INSERT OR REPLACE INTO runs(run_id, started_at) VALUES (?, ?)", (run_id, _now())
            )
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
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._pending: list[tuple] = []
        self._flushing: asyncio.Future | None = None

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] == "1":  # an earlier version's journal: add the column, keep every row
            self._db.execute("ALTER TABLE contacts ADD COLUMN sent_at REAL")
            self._db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            raise sqlite3.DatabaseError(f"schema version {row[0]}, expected {SCHEMA_VERSION}")

    # -- reads ---------------------------------------------------------------

    def lookup(self, keys: Iterable[Key]) -> dict[Key, Entry]:
        """Journal entries for the given keys (those it has)."""
        found: dict[Key, Entry] = {}
        sql = (
            "SELECT state, run_id, updated_at, sent_at FROM contacts"
            " WHERE store_id=? AND customer=? AND type=? AND contact=?"
        )
        with self._lock:
            for key in keys:
                row = self._db.execute(sql, (self.store_id, *key)).fetchone()
                if row is not None:
                    found[key] = Entry(*row)
        return found

    def run_finished(self, run_id: str) -> bool:
        """Whether that run ended in order (a stop included), rather than dying."""
        with self._lock:
            row = self._db.execute("SELECT finished_at FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return bool(row and row[0])

    def run_started_at(self, run_id: str) -> str:
        with self._lock:
            row = self._db.execute("SELECT started_at FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return row[0] if row else ""

    def customer_for_email(self, email: str) -> int | None:
        with self._lock:
            row = self._db.execute(
                "SELECT customer_id FROM customers_by_email WHERE store_id=? AND email=?",
                (self.store_id, email),
            ).fetchone()
        return row[0] if row else None

    def customer_by_id(self, customer_id: int) -> tuple[str, list[str]] | None:
        """(email, other emails) of a customer an earlier read found; None if never read."""
        with self._lock:
            row = self._db.execute(
                "SELECT email, emails FROM customers_by_id WHERE store_id=? AND customer_id=?",
                (self.store_id, customer_id),
            ).fetchone()
        return (row[0], row[1].split()) if row else None

    def customer_create(self, email: str) -> tuple[str, int | None] | None:
        """(state, customer id) of a customer a run set out to create; None if none did."""
        with self._lock:
            row = self._db.execute(
                "SELECT state, customer_id FROM customer_creates WHERE store_id=? AND email=?",
                (self.store_id, email),
            ).fetchone()
        return (row[0], row[1]) if row else None

    # -- writes --------------------------------------------------------------

    def remember_customer_id(self, customer_id: int, email: str, emails: Iterable[str]) -> None:
        self.remember_customer_ids([(customer_id, email, emails)])

    def remember_customer_ids(self, items: Iterable[tuple[int, str, Iterable[str]]]) -> None:
        """(id, email, other emails) of customers a run read, in one commit."""
        now = _now()
        self._commit("INSERT OR REPLACE INTO customers_by_id VALUES (?, ?, ?, ?, ?)",
                     [(self.store_id, cid, email, " ".join(sorted(set(emails) - {email})), now)
                      for cid, email, emails in items])  # fmt: skip

    def set_customer_create(self, email: str, state: str, customer_id: int | None = None) -> None:
        """Committed before the request leaves ('creating') and after its answer ('created')."""
        self._commit("INSERT OR REPLACE INTO customer_creates VALUES (?, ?, ?, ?, ?, ?)",
                     [(self.store_id, email, state, customer_id, self.run_id, _now())])

    def set_states(self, items: Iterable[tuple[Key, str]], batch: str | None = None) -> None:
        """Write states durably now (synchronous; for small or final writes)."""
        now = _now()
        self._write([self._row(key, state, batch, now) for key, state in items])

    def _row(self, key: Key, state: str, batch: str | None, now: str, sent_at: float | None = None) -> tuple:
        """A `contacts` row, in the column order of `_write`."""
        return (self.store_id, *key, state, self.run_id, batch, now, sent_at)

    def remember_customer(self, email: str, customer_id: int) -> None:
        self.remember_customers([(email, customer_id)])

    def remember_customers(self, items: Iterable[tuple[str, int]]) -> None:
        """(email, id) of customers a run found by email, in one commit."""
        now = _now()
        self._commit("INSERT OR REPLACE INTO customers_by_email VALUES (?, ?, ?, ?)",
                     [(self.store_id, email, cid, now) for email, cid in items])

    def _write(self, rows: list[tuple]) -> None:
        if rows:
            self._commit(
                "INSERT OR REPLACE INTO contacts(store_id, customer, type, contact, state, run_id, batch, updated_at,"
                " sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def _commit(self, sql: str, rows: list[tuple]) -> None:
        with self.transaction() as db:
            db.executemany(sql, rows)

    async def set_state(self, key: Key, state: str, batch: str | None = None) -> None:
        """Write one state durably; concurrent callers share one commit (group commit)."""
        await self.set_states_async([key], state, batch)

    async def set_states_async(self, keys: Iterable[Key], state: str, batch: str | None = None) -> None:
        """Write states durably; concurrent callers share one commit (group commit)."""
        now = _now()
        rows = [self._row(key, state, batch, now) for key in keys]
        if not rows:
            return
        row = rows[-1]  # the rows stay together in `_pending`: the last one out means all are
        self._pending.extend(rows)
        while True:
            flushing = self._flushing
            if flushing is not None and not flushing.done():
                await asyncio.shield(flushing)  # raises if that commit failed
                continue
            if not any(r is row for r in self._pending):
                return  # our rows went out with the commit we waited for
            rows, self._pending = self._pending, []
            self._flushing = asyncio.get_running_loop().run_in_executor(self._executor, self._write, rows)
            await asyncio.shield(self._flushing)
            return

    def note(self, key: Key, state: str, sent_at: float | None = None) -> None:
        """Queue a state for the next commit (outcomes: losing one to a crash only costs a store check)."""
        self._pending.append(self._row(key, state, None, _now(), sent_at))

    def flush(self) -> None:
        """Commit everything queued (call when no set_state is in progress)."""
        rows, self._pending = self._pending, []
        self._write(rows)

    @contextlib.contextmanager
    def transaction(self):
        """One durable transaction on the journal's database (every write goes through here).
        JournalWriteError when it can't be committed (a full disk): the run must stop."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:  # SQLite may have rolled back already (disk full)
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise JournalWriteError(
                    f"the journal {self.path} could not be written ({exc}): stopped, so that nothing is sent that "
                    "it cannot record", error_code="journal-unwritable",
                ) from None

    def finish(self, summary_json: str | None = None) -> None:
        """The run's end, with the outcomes still queued. A journal that can't take them (a full disk)
        is not the report's problem: the rows stay `sending`, which the next run checks in the store."""
        try:
            self.flush()
            self._commit("UPDATE runs SET finished_at=?, summary=? WHERE run_id=?", [(_now(), summary_json, self.run_id)])
        except JournalWriteError as exc:
            log.warning("%s; the next run checks the rows in doubt against the store", exc.message)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._pending:
            try:
                self.flush()
            except JournalWriteError as exc:
                log.warning("%s; the next run checks the rows in doubt against the store", exc.message)
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
