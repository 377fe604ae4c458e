"""What was sent, the ids Ecwid gave it, and what each undo did: tables beside the journal's own.

The journal's `contacts` table says *that* a contact was created, by which run. Undo and
`--update` need more: the fields as sent (to tell a contact someone changed since from one
still as we left it, and a changed row from an unchanged one) and the contact's id in Ecwid
(create answers none; a read of the customer's contacts learns it). Both live in `sent`,
keyed like `contacts`, in tables of their own (`CREATE TABLE IF NOT EXISTS`), so a journal
written before them opens as it is and the `contacts` rows keep their meaning:

* a create's body is written, in one commit for the whole run, *before* anything is sent
  (origin `create`), so whatever a run created, or may have, has its fields on record;
* an `--update` writes the body the store now holds after its PUT landed (origin `update`);
* every read of a customer's contacts fills in the ids of the contacts on record.

`undo_rows` is one undo's work list, one row per contact the undone run created (or may
have): written before the first DELETE, then `deleting` (committed before each request)
and the outcome, so an undo interrupted by anything resumes where it stopped and reports
every row, and a contact is deleted once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from importer import journal as states
from importer.contactfields import dumps, item_key, loads, match_key, pick
from importer.journal import Journal, Key
from importer.records import ContactRecord

__all__ = ["History", "Sent", "UndoRow", "CREATE", "UPDATE"]

CREATE, UPDATE = "create", "update"  # origins of a `sent` body

# undo_rows states: `pending` (listed), `deleting` (DELETE may have left), then final `deleted`
# (by this undo) or `gone` (the store no longer had it), or `kept` / `failed` (a rerun tries again).
PENDING, DELETING, DELETED, GONE, KEPT, FAILED = "pending", "deleting", "deleted", "gone", "kept", "failed"
FINAL = frozenset({DELETED, GONE})

_SCHEMA = (
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
)


@dataclass(frozen=True)
class Sent:
    body: dict[str, Any] | None
    origin: str | None
    contact_id: int | None
    run_id: str | None


@dataclass(frozen=True)
class UndoRow:
    key: Key
    position: int
    state: str
    contact_id: int | None
    body: dict[str, Any] | None
    file: str
    sheet: str
    row: int | None
    undo_run: str
    detail: str = ""

    @property
    def customer_id(self) -> int | None:
        return int(self.key[0]) if self.key[0].isdigit() else None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


class History:
    def __init__(self, journal: Journal):
        self.journal = journal
        self.store_id = journal.store_id
        self._write(*((sql, [()]) for sql in _SCHEMA))

    def _query(self, sql: str, params: tuple) -> list[tuple]:
        with self.journal.transaction() as db:
            return db.execute(sql, params).fetchall()

    def _write(self, *statements: tuple[str, Iterable[tuple]]) -> None:
        """(sql, rows) pairs, each run with executemany, in one durable commit."""
        with self.journal.transaction() as db:
            for sql, rows in statements:
                db.executemany(sql, rows)

    # -- what was sent ------------------------------------------------------------

    def record_intents(self, records: Iterable[ContactRecord]) -> None:
        """The bodies a run is about to create, in one commit before any of them is sent. A body an
        update wrote for a contact the store had from elsewhere is kept: it is that contact's baseline."""
        now, run = _now(), self.journal.run_id
        rows = [(self.store_id, *r.key, dumps(r.body()), CREATE, run, r.source.file, r.source.sheet, r.source.row, now)
                for r in records]  # fmt: skip
        self._write((
            "INSERT INTO sent(store_id, customer, type, contact, body, origin, run_id, file, sheet, row, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET body=excluded.body, origin=excluded.origin,"
            " run_id=excluded.run_id, file=excluded.file, sheet=excluded.sheet, row=excluded.row,"
            " updated_at=excluded.updated_at WHERE sent.origin IS NOT 'update'", rows))  # fmt: skip

    def record_updates(self, items: Iterable[tuple[Key, dict[str, Any], int | None]]) -> None:
        """(key, body the store now holds, contact id) after each PUT landed."""
        now, run = _now(), self.journal.run_id
        rows = [(self.store_id, *key, dumps(body), UPDATE, contact_id, run, now) for key, body, contact_id in items]
        self._write((
            "INSERT INTO sent(store_id, customer, type, contact, body, origin, contact_id, run_id, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET body=excluded.body, origin=excluded.origin,"
            " contact_id=coalesce(excluded.contact_id, sent.contact_id), run_id=excluded.run_id,"
            " updated_at=excluded.updated_at", rows))  # fmt: skip

    def demote_defaults(self, key: Key) -> None:
        """`key`'s contact became its customer's default of its type: the store demoted the others of that
        type (what the sandbox does; Ecwid does not say), so their bodies on record say so too."""
        customer, ctype, contact = key
        self._write((
            "UPDATE sent SET body=json_set(body, '$.default', json('false')) WHERE store_id=? AND customer=?"
            " AND type=? AND contact<>? AND json_extract(body, '$.default') = 1",
            [(self.store_id, customer, ctype, contact)]))  # fmt: skip

    def sent(self, keys: Iterable[Key]) -> dict[Key, Sent]:
        found: dict[Key, Sent] = {}
        sql = ("SELECT body, origin, contact_id, run_id FROM sent"
               " WHERE store_id=? AND customer=? AND type=? AND contact=?")  # fmt: skip
        with self.journal.transaction() as db:  # one transaction for every key: a nightly run asks for all of them
            for key in keys:
                for body, origin, contact_id, run_id in db.execute(sql, (self.store_id, *key)):
                    found[key] = Sent(loads(body), origin, contact_id, run_id)
        return found

    def learn_ids(self, customer_id: int, items: list[dict]) -> None:
        """A read of a customer's contacts: the id of each contact on record that the store holds
        (the one it had, if still there; else the best match of its type and value)."""
        customer = str(customer_id)
        rows = self._query(
            "SELECT type, contact, body, contact_id FROM sent WHERE store_id=? AND customer=?", (self.store_id, customer))
        if not rows:
            return
        ids = {item.get("id") for item in items if isinstance(item, dict)}
        mine = {match_key(t, c) for t, c, _, _ in rows}
        ours = [i for i in items if isinstance(i, dict) and item_key(i) in mine]
        learnt = []
        for ctype, contact, body, known in rows:
            if known in ids:
                continue
            item = pick(ours, ctype, contact, sent=loads(body))
            if item is not None and isinstance(item.get("id"), int):
                learnt.append((item["id"], self.store_id, customer, ctype, contact))
        if learnt:
            self._write((
                "UPDATE sent SET contact_id=? WHERE store_id=? AND customer=? AND type=? AND contact=?", learnt))

    # -- undo -----------------------------------------------------------------------

    def undo_rows(self, run_id: str) -> list[UndoRow]:
        """The undo's work list for `run_id`: rows an earlier undo of it listed, then (positions after
        theirs) what the run created or may have (journal `created`, or `sending`: its answer lost)."""
        listed = [UndoRow((c, t, v), pos, st, cid, loads(body), f or "", sh or "", row, ur, detail)
                  for c, t, v, pos, st, cid, body, f, sh, row, ur, detail in self._query(
                      "SELECT customer, type, contact, position, state, contact_id, body, file, sheet, row, undo_run,"
                      " detail FROM undo_rows WHERE store_id=? AND undone_run=? ORDER BY position",
                      (self.store_id, run_id))]  # fmt: skip
        known = {r.key for r in listed}
        fresh = self._query(
            "SELECT c.customer, c.type, c.contact, s.contact_id, s.body, s.file, s.sheet, s.row FROM contacts c"
            " LEFT JOIN sent s USING (store_id, customer, type, contact)"
            " WHERE c.store_id=? AND c.run_id=? AND c.state IN (?, ?)"
            " ORDER BY s.file, s.sheet, s.row, c.customer, c.type, c.contact",
            (self.store_id, run_id, states.CREATED, states.SENDING))  # fmt: skip
        start = len(listed)
        for c, t, v, cid, body, f, sh, row in fresh:
            if (c, t, v) not in known:
                listed.append(UndoRow((c, t, v), start, PENDING, cid, loads(body), f or "", sh or "", row, ""))
                start += 1
        return listed

    def list_undo(self, run_id: str, rows: list[UndoRow]) -> None:
        """Write the work list (new rows as `pending`) before the first DELETE."""
        now, undo = _now(), self.journal.run_id
        self._write((
            "INSERT OR IGNORE INTO undo_rows(store_id, undone_run, customer, type, contact, position, state, contact_id,"
            " body, file, sheet, row, undo_run, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(self.store_id, run_id, *r.key, r.position, r.state, r.contact_id,
              None if r.body is None else dumps(r.body), r.file, r.sheet, r.row, undo, now) for r in rows]))  # fmt: skip

    def set_undo(self, run_id: str, rows: Iterable[tuple[Key, str, int | None, str]]) -> None:
        """(key, state, contact id, detail) of undo rows, in one commit; a row that ends `deleted` or `gone`
        becomes `deleted` in the journal's contacts too, so a later import of the same file sends it again."""
        now, undo = _now(), self.journal.run_id
        rows = list(rows)
        self._write((
            "UPDATE undo_rows SET state=?, contact_id=coalesce(?, contact_id), detail=?, undo_run=?, updated_at=?"
            " WHERE store_id=? AND undone_run=? AND customer=? AND type=? AND contact=?",
            [(state, cid, detail, undo, now, self.store_id, run_id, *key) for key, state, cid, detail in rows]))
        done = [(key, states.DELETED) for key, state, _, _ in rows if state in FINAL]
        if done:
            self.journal.set_states(done)

    def journaled(self, customer_id: int) -> set[tuple[str, str]]:
        """(type, contact) of every contact the journal has for a customer: any run's, in any state."""
        return set(self._query("SELECT type, contact FROM contacts WHERE store_id=? AND customer=?",
                               (self.store_id, str(customer_id))))  # fmt: skip

    def latest_runs(self, limit: int = 5) -> list[str]:
        return [run for (run,) in self._query("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT ?", (limit,))]

    # -- customers a run created ----------------------------------------------------

    def created_customers(self, run_id: str) -> list[tuple[str, int]]:
        """(email, id) of the customers `run_id` created with --create-customers (whose create landed)."""
        return [(email, cid) for email, cid in self._query(
            "SELECT email, customer_id FROM customer_creates WHERE store_id=? AND run_id=? AND state='created'"
            " AND customer_id IS NOT NULL ORDER BY email", (self.store_id, run_id))]  # fmt: skip

    def forget_customer(self, email: str, customer_id: int) -> None:
        """A customer undo deleted: no later run may take its id from the journal."""
        key = (self.store_id, customer_id)
        self._write(
            ("UPDATE customer_creates SET state='deleted', updated_at=? WHERE store_id=? AND email=?",
             [(_now(), self.store_id, email)]),
            ("DELETE FROM customers_by_email WHERE store_id=? AND customer_id=?", [key]),
            ("DELETE FROM customers_by_id WHERE store_id=? AND customer_id=?", [key]),
        )  # fmt: skip
