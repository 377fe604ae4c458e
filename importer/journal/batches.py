"""The journal's memory of batches (`batches`, issue 13): which batch each row went in, its key, its ticket.

    await journal.begin_batch(key, rows, created_at)   # before the submit: the batch, then its rows `sending`
    journal.batch_submitted(key, ticket);  journal.batch_done(key)
    journal.open_batches() -> [OpenBatch]              # what an earlier run began and did not finish

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

from importer.journal.contacts import SENDING, ContactStates, Key


@dataclass(frozen=True)
class OpenBatch:
    key: str
    ticket: str | None
    created_at: float
    rows: tuple[Key, ...]  # its rows still `sending`


class Batches(ContactStates):
    def open_batches(self) -> list[OpenBatch]:
        """Batches a run began and did not finish, oldest first."""
        found = self._read("SELECT key, ticket, created_at FROM batches WHERE store_id=? AND state != 'done' "
                           "ORDER BY created_at", (self.store_id,))  # fmt: skip
        rows = dict(self._read_each(
            "SELECT customer, type, contact FROM contacts WHERE store_id=? AND batch=? AND state=?",
            [(self.store_id, key, SENDING) for key, _, _ in found]))  # fmt: skip
        return [OpenBatch(key, ticket, created, tuple(rows[(self.store_id, key, SENDING)]))
                for key, ticket, created in found]  # fmt: skip

    async def begin_batch(self, key: str, rows: list[Key], created_at: float) -> None:
        """Before the submit: the batch, then its rows `sending` under its key (both committed)."""
        self._write(("INSERT OR REPLACE INTO batches VALUES (?, ?, NULL, 'submitting', ?, ?)",
                     [(self.store_id, key, created_at, self.run_id)]))  # fmt: skip
        self.note(rows, SENDING, batch=key)
        await self.commit()

    def batch_submitted(self, key: str, ticket: str) -> None:
        self._write(("UPDATE batches SET ticket=?, state='submitted' WHERE store_id=? AND key=?",
                     [(ticket, self.store_id, key)]))  # fmt: skip

    def batch_done(self, key: str) -> None:
        self._write(("UPDATE batches SET state='done' WHERE store_id=? AND key=?", [(self.store_id, key)]))
