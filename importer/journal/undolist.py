"""An undo's work list in the journal (`undo_rows`): one row per contact the undone run created (or may have).

    rows = journal.undo_rows(run_id)         # an earlier undo's list of it, then what the run created
    journal.list_undo(run_id, rows)          # written before the first DELETE
    journal.set_undo(run_id, [(key, state, contact_id, detail)])

Written before the first DELETE, then `deleting` (committed before each request) and the
outcome, so an undo interrupted by anything resumes where it stopped and reports every row,
and a contact is deleted once. A row that ends `deleted` or `gone` is `deleted` in `contacts`
too, so a later import of the same file sends it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from importer.checks.contactfields import dumps, loads
from importer.journal import contacts as states
from importer.journal.contacts import ContactStates, Key
from importer.journal.db import now

# undo_rows states: `pending` (listed), `deleting` (DELETE may have left), then final `deleted`
# (by this undo) or `gone` (the store no longer had it), or `kept` / `failed` (a rerun tries again).
PENDING, DELETING, DELETED, GONE, KEPT, FAILED = "pending", "deleting", "deleted", "gone", "kept", "failed"
FINAL = frozenset({DELETED, GONE})


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


class UndoLists(ContactStates):
    def undo_rows(self, run_id: str) -> list[UndoRow]:
        """The undo's work list for `run_id`: rows an earlier undo of it listed, then (positions after
        theirs) what the run created or may have (journal `created`, or `sending`: its answer lost)."""
        listed = [UndoRow((c, t, v), pos, st, cid, loads(body), f or "", sh or "", row, ur, detail)
                  for c, t, v, pos, st, cid, body, f, sh, row, ur, detail in self._read(
                      "SELECT customer, type, contact, position, state, contact_id, body, file, sheet, row, undo_run,"
                      " detail FROM undo_rows WHERE store_id=? AND undone_run=? ORDER BY position",
                      (self.store_id, run_id))]  # fmt: skip
        known = {r.key for r in listed}
        fresh = self._read(
            "SELECT c.customer, c.type, c.contact, s.contact_id, s.body, s.file, s.sheet, s.row FROM contacts c"
            " LEFT JOIN sent s USING (store_id, customer, type, contact)"
            " WHERE c.store_id=? AND c.run_id=? AND c.state IN (?, ?)"
            " ORDER BY s.file, s.sheet, s.row, c.customer, c.type, c.contact",
            (self.store_id, run_id, states.CREATED, states.SENDING))  # fmt: skip
        for c, t, v, cid, body, f, sh, row in fresh:
            if (c, t, v) not in known:  # numbered on from the listed ones
                listed.append(UndoRow((c, t, v), len(listed), PENDING, cid, loads(body), f or "", sh or "", row, ""))
        return listed

    def list_undo(self, run_id: str, rows: list[UndoRow]) -> None:
        """Write the work list (new rows as `pending`) before the first DELETE."""
        at, undo = now(), self.run_id
        self._write((
            "INSERT OR IGNORE INTO undo_rows(store_id, undone_run, customer, type, contact, position, state, contact_id,"
            " body, file, sheet, row, undo_run, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(self.store_id, run_id, *r.key, r.position, r.state, r.contact_id,
              None if r.body is None else dumps(r.body), r.file, r.sheet, r.row, undo, at) for r in rows]))  # fmt: skip

    def set_undo(self, run_id: str, rows: Iterable[tuple[Key, str, int | None, str]]) -> None:
        """(key, state, contact id, detail) of undo rows, in one commit; a row that ends `deleted` or `gone`
        becomes `deleted` in the journal's contacts too, so a later import of the same file sends it again."""
        at, undo = now(), self.run_id
        rows = list(rows)
        self._write((
            "UPDATE undo_rows SET state=?, contact_id=coalesce(?, contact_id), detail=?, undo_run=?, updated_at=?"
            " WHERE store_id=? AND undone_run=? AND customer=? AND type=? AND contact=?",
            [(state, cid, detail, undo, at, self.store_id, run_id, *key) for key, state, cid, detail in rows]))
        done = [key for key, state, _, _ in rows if state in FINAL]
        if done:
            self.note(done, states.DELETED)
            self.flush()
