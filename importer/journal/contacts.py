"""A contact's state in the journal (`contacts`): what was sent to which store, for resume and repeat runs.

    journal.note(keys, SENDING, batch=None, sent_at=None)   # the one way a state is written: queued ...
    await journal.commit()                                  # ... committed now, one commit shared by every waiter
    journal.flush()                                         # ... or committed now, from synchronous code
    journal.lookup(keys) -> {key: Entry}; journal.journaled(customer_id) -> {(type, contact)}

Ecwid's create is not idempotent and returns no id, so the journal is our only
memory of what a run did. Keyed by (store, customer, type, normalized contact):

* `sending` is written and committed *before* a request leaves (the sender writes
  it a few dozen records ahead, so it may also mark rows a stopped run never sent);
  a crash leaves the row in `sending`, and the next run resolves it against the
  store instead of resending blindly;
* the outcome (`created`, `not_created`, `failed`, `absent`) is written after, queued:
  losing it to a crash only costs a store check;
* a row whose answer was lost stays `sending`, with `sent_at`, the time its request
  left: the next check waits until that request can no longer commit
  (importer.deliver.engine, importer.deliver.doubt). A row a run that died left in
  `sending` without one was sent, at the latest, before the next run could open
  the journal (`opened_at`): the lock says that run was gone.
* `batch` holds the batch key of a row sent through the batch API (importer.journal.batches).

Commits are grouped: every worker waiting to send awaits one shared commit, so the
journal costs one commit per burst of requests, not one per request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from importer.journal.db import Database, JournalWriteError, now

log = logging.getLogger("importer")

# Journal states.
SENDING = "sending"
CREATED = "created"
NOT_CREATED = "not_created"
FAILED = "failed"
ABSENT = "absent"  # was in doubt; the store said it isn't there
DELETED = "deleted"  # created, then deleted by `undo` (run_id: the undo's): a later import sends it again

Key = tuple[str, str, str]  # (customer, type, contact), as ContactRecord.key

_WRITE = ("INSERT OR REPLACE INTO contacts(store_id, customer, type, contact, state, run_id, batch, updated_at,"
          " sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Entry:
    state: str
    run_id: str
    updated_at: str
    sent_at: float | None = None  # Unix time the request left, when known


class ContactStates(Database):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._pending: list[tuple] = []  # `contacts` rows queued for the next commit
        self._flushing: asyncio.Future | None = None

    # -- reads ---------------------------------------------------------------

    def lookup(self, keys: Iterable[Key]) -> dict[Key, Entry]:
        """Journal entries for the given keys (those it has)."""
        sql = "SELECT state, run_id, updated_at, sent_at FROM contacts WHERE store_id=? AND customer=? AND type=? AND contact=?"
        return {params[1:]: Entry(*rows[0])
                for params, rows in self._read_each(sql, ((self.store_id, *key) for key in keys)) if rows}  # fmt: skip

    def journaled(self, customer_id: int) -> set[tuple[str, str]]:
        """(type, contact) of every contact the journal has for a customer: any run's, in any state."""
        return set(self._read("SELECT type, contact FROM contacts WHERE store_id=? AND customer=?",
                              (self.store_id, str(customer_id))))  # fmt: skip

    # -- the one write -------------------------------------------------------

    def note(self, keys: Iterable[Key], state: str, *, batch: str | None = None, sent_at: float | None = None) -> None:
        """Queue `state` for each key, for the next commit (flush, commit, finish or close)."""
        at = now()
        self._pending.extend((self.store_id, *key, state, self.run_id, batch, at, sent_at) for key in keys)

    async def commit(self) -> None:
        """Commit what is queued; concurrent callers share one commit (group commit). Returns once
        everything queued before the call is committed; JournalWriteError if it could not be."""
        if not self._pending and self._flushing is None:
            return
        mark = self._pending[-1] if self._pending else None  # the rows stay together: the last one out means all are
        while True:
            flushing = self._flushing
            if flushing is not None and not flushing.done():
                await asyncio.shield(flushing)  # raises if that commit failed
                continue
            if mark is None or not any(r is mark for r in self._pending):
                return  # our rows went out with the commit we waited for
            rows, self._pending = self._pending, []
            self._flushing = asyncio.get_running_loop().run_in_executor(self._executor, self._write_rows, rows)
            await asyncio.shield(self._flushing)
            return

    def flush(self) -> None:
        """Commit everything queued (call when no commit() is in progress)."""
        rows, self._pending = self._pending, []
        self._write_rows(rows)

    def _write_rows(self, rows: list[tuple]) -> None:
        if rows:
            self._write((_WRITE, rows))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._pending:
            try:
                self.flush()
            except JournalWriteError as exc:
                log.warning("%s; the next run checks the rows in doubt against the store", exc.message)
        super().close()
