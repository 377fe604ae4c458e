"""SQLite journal: what was sent to which store, for resume and repeat runs.

Ecwid's create is not idempotent and returns no id, so the journal is our only
memory of what a run did. Keyed by (store, customer, type, normalized contact):

* `sending` is written and committed *before* a request leaves (the sender writes
  it a few dozen records ahead, so it may also mark rows a stopped run never sent);
  a crash leaves the row in `sending`, and the next run resolves it against the
  store instead of resending blindly;
* the outcome (`created`, `not_created`, `failed`, `absent`) is written after.

Commits are grouped: every worker waiting to send awaits one shared commit, so the
journal costs one fsync per burst of requests, not one per request.
`batch` holds the batch key of a row sent through the batch API (`--mode batch`; the batches
themselves are importer.batchjournal's table).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from importer.errors import ImporterError

SCHEMA_VERSION = 1

# Journal states.
SENDING = "sending"
CREATED = "created"
NOT_CREATED = "not_created"
FAILED = "failed"
ABSENT = "absent"  # was in doubt; the store said it isn't there

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


@dataclass(frozen=True, slots=True)
class Entry:
    state: str
    run_id: str
    updated_at: str


Key = tuple[str, str, str]  # (customer, type, contact), as ContactRecord.key


def default_path(report_dir: Path, store_id: int) -> Path:
    """One journal per store, at a path that does not depend on the run."""
    return Path(report_dir) / f"journal-{store_id}.sqlite"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


class Journal:
    """One run's handle on the journal. Holds an exclusive lock while open:
    two runs against one journal would each think the other's rows are theirs."""

    def __init__(self, path: Path, store_id: int, run_id: str):
        self.path = Path(path)
        self.store_id = store_id
        self.run_id = run_id
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=0.5, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"journal {self.path}: cannot open: {exc}") from None
        try:
            # Someone else's database (a wrong --journal path): leave it as it is, even its header.
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "meta" not in tables:
                raise sqlite3.DatabaseError(f"it has tables {', '.join(sorted(tables))} and no journal's")
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed intent survives power loss, not just kill -9.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("BEGIN IMMEDIATE")
            for stmt in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(stmt)
            self._check_version()
            # A damaged page would otherwise surface mid-run; find it before anything is sent.
            problems = [row[0] for row in self._db.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("; ".join(problems))
            self._db.execute(
                "INSERT OR REPLACE INTO runs(run_id, started_at) VALUES (?, ?)", (run_id, _now())
            )
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise JournalError(
                    f"journal {self.path} is locked: another import into store {store_id} is running "
                    "(or use --journal PATH / --no-journal)"
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
        elif row[0] != str(SCHEMA_VERSION):
            raise sqlite3.DatabaseError(f"schema version {row[0]}, expected {SCHEMA_VERSION}")

    # -- reads ---------------------------------------------------------------

    def lookup(self, keys: Iterable[Key]) -> dict[Key, Entry]:
        """Journal entries for the given keys (those it has)."""
        found: dict[Key, Entry] = {}
        sql = "SELECT state, run_id, updated_at FROM contacts WHERE store_id=? AND customer=? AND type=? AND contact=?"
        with self._lock:
            for key in keys:
                row = self._db.execute(sql, (self.store_id, *key)).fetchone()
                if row is not None:
                    found[key] = Entry(*row)
        return found

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
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO customers_by_id VALUES (?, ?, ?, ?, ?)",
                (self.store_id, customer_id, email, " ".join(sorted(set(emails) - {email})), _now()),
            )

    def set_customer_create(self, email: str, state: str, customer_id: int | None = None) -> None:
        """Committed before the request leaves ('creating') and after its answer ('created')."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO customer_creates VALUES (?, ?, ?, ?, ?, ?)",
                (self.store_id, email, state, customer_id, self.run_id, _now()),
            )

    def set_states(self, items: Iterable[tuple[Key, str]], batch: str | None = None) -> None:
        """Write states durably now (synchronous; for small or final writes)."""
        now = _now()
        self._write([self._row(key, state, batch, now) for key, state in items])

    def _row(self, key: Key, state: str, batch: str | None, now: str) -> tuple:
        """A `contacts` row, in the column order of `_write`."""
        return (self.store_id, *key, state, self.run_id, batch, now)

    def remember_customer(self, email: str, customer_id: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO customers_by_email VALUES (?, ?, ?, ?)",
                (self.store_id, email, customer_id, _now()),
            )

    def _write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO contacts(store_id, customer, type, contact, state, run_id, batch, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

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

    def note(self, key: Key, state: str) -> None:
        """Queue a state for the next commit (outcomes: losing one to a crash only costs a store check)."""
        self._pending.append(self._row(key, state, None, _now()))

    def flush(self) -> None:
        """Commit everything queued (call when no set_state is in progress)."""
        rows, self._pending = self._pending, []
        self._write(rows)

    @contextlib.contextmanager
    def transaction(self):
        """One durable transaction on the journal's database, for the tables of importer.batchjournal."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def finish(self, summary_json: str | None = None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE runs SET finished_at=?, summary=? WHERE run_id=?", (_now(), summary_json, self.run_id)
            )

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._pending:
            self.flush()
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
