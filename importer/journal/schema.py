"""The journal's one schema: every table, its one version, and the migrations that bring an older file to it.

    SCHEMA_VERSION       # the version every journal is brought to when it opens
    migrate(db)          # a journal brought to SCHEMA_VERSION, every row kept; a new one made (in the caller's transaction)

Every CREATE TABLE of the journal is here; the modules beside this one read and write the tables,
grouped by what they remember: contacts (a contact's state), runs, customers, sent (bodies and
Ecwid's ids), batches, undolist (an undo's work list).

Versions:
* 1: meta, contacts, customers_by_email, customers_by_id, customer_creates, runs.
* 2: `contacts.sent_at`. While 2 was current, `sent` and `undo_rows` (undo, --update) and `batches`
  (--mode batch) were each created by the module that used them, at first use: a version-2 file may
  lack any of them. They are version 2's tables; a file without them gets them, empty, when it opens
  (which is what their first use did), so the version stays 2 and an earlier release still opens the file.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 2

# Each statement creates a table only if missing: run on every open, it adds what an older file lacks.
TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS contacts (
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
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS customers_by_email (
        store_id    INTEGER NOT NULL,
        email       TEXT    NOT NULL,
        customer_id INTEGER NOT NULL,
        resolved_at TEXT    NOT NULL,
        PRIMARY KEY (store_id, email)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS customers_by_id (
        store_id    INTEGER NOT NULL,
        customer_id INTEGER NOT NULL,
        email       TEXT    NOT NULL,  -- the customer's email, lower-cased
        emails      TEXT    NOT NULL,  -- its other emails (EMAIL contacts), space-separated
        checked_at  TEXT    NOT NULL,
        PRIMARY KEY (store_id, customer_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS customer_creates (
        store_id    INTEGER NOT NULL,
        email       TEXT    NOT NULL,
        state       TEXT    NOT NULL,  -- 'creating' (committed before POST /customers), 'created', 'deleted'
        customer_id INTEGER,
        run_id      TEXT    NOT NULL,
        updated_at  TEXT    NOT NULL,
        PRIMARY KEY (store_id, email)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id      TEXT PRIMARY KEY,
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        summary     TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS sent (
        store_id   INTEGER NOT NULL,
        customer   TEXT    NOT NULL,   -- keyed like `contacts`
        type       TEXT    NOT NULL,
        contact    TEXT    NOT NULL,
        body       TEXT,               -- JSON: the fields as last sent (create, or update after it landed)
        origin     TEXT,               -- 'create' | 'update'
        contact_id INTEGER,            -- Ecwid's id, once a read learnt it
        run_id     TEXT,               -- the run that wrote body
        file       TEXT, sheet TEXT, row INTEGER,  -- the row it came from
        updated_at TEXT    NOT NULL,
        PRIMARY KEY (store_id, customer, type, contact)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS undo_rows (
        store_id   INTEGER NOT NULL,
        undone_run TEXT    NOT NULL,
        customer   TEXT    NOT NULL,
        type       TEXT    NOT NULL,
        contact    TEXT    NOT NULL,
        position   INTEGER NOT NULL,   -- the report's order
        state      TEXT    NOT NULL,   -- pending | deleting | deleted | gone | kept | failed
        contact_id INTEGER,
        body       TEXT,               -- the fields as sent, when the undo started
        file       TEXT, sheet TEXT, row INTEGER,
        undo_run   TEXT    NOT NULL,   -- the undo run that last changed the row
        detail     TEXT    NOT NULL DEFAULT '',
        updated_at TEXT    NOT NULL,
        PRIMARY KEY (store_id, undone_run, customer, type, contact)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS batches (
        store_id   INTEGER NOT NULL,
        key        TEXT    NOT NULL,   -- the deduplicationKey, also the contacts' `batch`
        ticket     TEXT,               -- Ecwid's ticket, once a submit was answered
        state      TEXT    NOT NULL,   -- 'submitting', 'submitted', 'done'
        created_at REAL    NOT NULL,   -- unix time of the first submit: Ecwid keeps the key an hour from it
        run_id     TEXT    NOT NULL,
        PRIMARY KEY (store_id, key)
    ) WITHOUT ROWID""",
)

# version found -> what brings it to the next one
_STEPS = {
    "1": ("ALTER TABLE contacts ADD COLUMN sent_at REAL",),
}


def migrate(db: sqlite3.Connection) -> None:
    """Bring an open journal to SCHEMA_VERSION (an empty database: every table, and the version); sqlite3.DatabaseError
    for a version this code doesn't know (a newer release's: refused, never written over)."""
    for statement in TABLES:
        db.execute(statement)
    row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    if row is None:
        db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        return
    version = row[0]
    while version in _STEPS:
        for statement in _STEPS[version]:
            db.execute(statement)
        version = str(int(version) + 1)
    if version != str(SCHEMA_VERSION):
        raise sqlite3.DatabaseError(f"schema version {row[0]}, expected {SCHEMA_VERSION}")
    if version != row[0]:
        db.execute("UPDATE meta SET value=? WHERE key='schema'", (version,))
