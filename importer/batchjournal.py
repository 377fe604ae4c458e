"""The journal's memory of batches (issue 13): which batch each row went in, its key, its ticket.

A batch is written here, and its rows set `sending` with the batch's key in the journal's
`contacts.batch` column, **before** it is submitted; its ticket when Ecwid answers; `done` once
every row has its outcome. So a run that died mid-batch leaves enough for the next one:

* a batch with a ticket: poll the ticket (never resubmit);
* a batch without one, younger than Ecwid's deduplication window: submit it again with the
  same `deduplicationKey` (Ecwid answers the first submit's ticket if it had it);
* an older one: its rows are in doubt, checked against the store like any row in doubt.
"""

from __future__ import annotations

from dataclasses import dataclass

from importer.journal import SENDING, Journal, Key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    store_id   INTEGER NOT NULL,
    key        TEXT    NOT NULL,   -- the deduplicationKey, also the contacts' `batch`
    ticket     TEXT,               -- Ecwid's ticket, once a submit was answered
    state      TEXT    NOT NULL,   -- 'submitting', 'submitted', 'done'
    created_at REAL    NOT NULL,   -- unix time of the first submit: Ecwid keeps the key an hour from it
    run_id     TEXT    NOT NULL,
    PRIMARY KEY (store_id, key)
) WITHOUT ROWID
"""


@dataclass(frozen=True)
class OpenBatch:
    key: str
    ticket: str | None
    created_at: float
    rows: tuple[Key, ...]  # its rows still `sending`


class BatchJournal:
    def __init__(self, journal: Journal):
        self.journal = journal
        with journal.transaction() as db:
            db.execute(_SCHEMA)

    def open_batches(self) -> list[OpenBatch]:
        """Batches a run began and did not finish, oldest first."""
        store = self.journal.store_id
        with self.journal.transaction() as db:
            found = db.execute("SELECT key, ticket, created_at FROM batches WHERE store_id=? AND state != 'done' "
                               "ORDER BY created_at", (store,)).fetchall()  # fmt: skip
            return [OpenBatch(key, ticket, created, tuple(db.execute(
                "SELECT customer, type, contact FROM contacts WHERE store_id=? AND batch=? AND state=?",
                (store, key, SENDING)).fetchall())) for key, ticket, created in found]  # fmt: skip

    async def begin(self, key: str, rows: list[Key], created_at: float) -> None:
        """Before the submit: the batch, then its rows `sending` under its key (both committed)."""
        self._set("INSERT OR REPLACE INTO batches VALUES (?, ?, NULL, 'submitting', ?, ?)",
                  (self.journal.store_id, key, created_at, self.journal.run_id))  # fmt: skip
        await self.journal.set_states_async(rows, SENDING, batch=key)

    def submitted(self, key: str, ticket: str) -> None:
        self._set("UPDATE batches SET ticket=?, state='submitted' WHERE store_id=? AND key=?",
                  (ticket, self.journal.store_id, key))  # fmt: skip

    def done(self, key: str) -> None:
        self._set("UPDATE batches SET state='done' WHERE store_id=? AND key=?", (self.journal.store_id, key))

    def _set(self, sql: str, params: tuple) -> None:
        with self.journal.transaction() as db:
            db.execute(sql, params)
