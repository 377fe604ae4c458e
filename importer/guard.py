"""Exactly once: the journal before and after each create, the store when in doubt.

Ecwid's create is not idempotent and returns no id. The guard sits around the
sender (as its hooks): it skips what the journal says was created, writes each
intent before its request leaves, records each outcome after, and resolves doubt
(a lost answer, a row a crashed run left in `sending`) by reading the customer's
contacts instead of resending blindly.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from importer import journal as journal_states
from importer.journal import Journal
from importer.records import Code, ContactRecord, Outcome, Status
from importer.send import SendHooks
from importer.store import StoreReadError, StoreReader

log = logging.getLogger("importer")

# Intents are committed this many records ahead of the sender, in one commit, so no
# request waits for an fsync; a crash leaves at most this many unsent rows in
# `sending`, which the next run checks against the store (one read per customer).
LEASE = 32


class Guard:
    """Exactly once: the journal before and after each create, the store when in doubt."""

    def __init__(self, journal: Journal | None, reader: StoreReader, *, skip_existing: bool):
        self.journal = journal
        self.reader = reader
        self.skip_existing = skip_existing
        self.in_doubt: set = set()  # keys a crashed or cut-off run left in `sending`
        # Records sent without a store check, in the order the sender takes them: their
        # intents are leased ahead. Records checked first write their intent on their own.
        self._ahead: list[ContactRecord] = []
        self._position: dict = {}
        self._planned = 0  # intents up to here are on their way to the journal ...
        self._durable = 0  # ... and up to here committed
        self._leases: list[tuple[int, asyncio.Future]] = []

    def classify(self, records: list[ContactRecord], results: dict) -> list[ContactRecord]:
        """Finish what the journal says was created; note what is in doubt; return the rest."""
        if self.journal is None:
            return records
        entries = self.journal.lookup(r.key for r in records)
        started: dict[str, str] = {}
        rest = []
        for record in records:
            entry = entries.get(record.key)
            if entry is not None and entry.state == journal_states.CREATED:
                when = started.setdefault(entry.run_id, self.journal.run_started_at(entry.run_id))
                results[record.index] = replace(record, outcome=Outcome(
                    Status.SKIPPED, error_code=Code.ALREADY_IMPORTED,
                    error=f"already imported: created by run {entry.run_id} on {when or entry.updated_at}",
                ))  # fmt: skip
                continue
            if entry is not None and entry.state == journal_states.SENDING:
                self.in_doubt.add(record.key)
            rest.append(record)
        if not self.skip_existing:
            self._ahead = [r for r in rest if r.key not in self.in_doubt]
            self._position = {r.key: i for i, r in enumerate(self._ahead)}
        return rest

    def hooks(self) -> SendHooks:
        return SendHooks(
            before_send=self._before_send if self.journal else None,
            ambiguity_resolver=self._resolve,
            precheck=self._precheck if (self.in_doubt or self.skip_existing) else None,
        )

    async def _precheck(self, record: ContactRecord) -> Outcome | None:
        doubt = record.key in self.in_doubt
        if not (doubt or self.skip_existing) or record.customer_id is None:
            return None
        try:
            present = await self.reader.has_contact(record)
        except StoreReadError as exc:
            if doubt:  # never resend what may exist
                return Outcome(Status.FAILED, error_code=Code.AMBIGUOUS, error=f"in doubt since an earlier run, and the store could not be checked: {exc}")
            return Outcome(Status.FAILED, error_code=Code.STORE_CHECK_FAILED, error=f"--skip-existing could not check the store: {exc}")
        if not present:
            return None
        if doubt:
            if self.journal:
                self.journal.note(record.key, journal_states.CREATED)
            return Outcome(Status.CREATED, error="confirmed in the store: an earlier run created it but its answer was lost")
        return Outcome(Status.SKIPPED, error_code=Code.EXISTS_IN_STORE, error="the store already has this contact")

    async def _before_send(self, record: ContactRecord) -> None:
        pos = self._position.get(record.key)
        if pos is None:
            await self.journal.set_state(record.key, journal_states.SENDING)
            return
        while self._planned <= pos + LEASE // 2 and self._planned < len(self._ahead):
            self._lease()  # keep the intents well ahead of the sender
        if pos < self._durable:
            return
        for end, commit in self._leases:
            if pos < end:
                await asyncio.shield(commit)  # raises if the commit failed: nothing is sent
                return

    def _leased(self, record: ContactRecord) -> bool:
        return self._position.get(record.key, self._planned) < self._planned

    def _lease(self) -> None:
        start, end = self._planned, min(self._planned + LEASE, len(self._ahead))
        self._planned = end
        keys = [r.key for r in self._ahead[start:end]]
        commit = asyncio.ensure_future(self.journal.set_states_async(keys, journal_states.SENDING))

        def committed(done: asyncio.Future) -> None:  # commits finish in order
            if not done.cancelled() and done.exception() is None:
                self._durable = max(self._durable, end)
                self._leases = [(e, c) for e, c in self._leases if e > self._durable]

        commit.add_done_callback(committed)
        self._leases.append((end, commit))

    async def _resolve(self, record: ContactRecord):
        try:
            return "created" if await self.reader.has_contact(record, fresh=True) else "absent"
        except StoreReadError as exc:
            log.warning("row %s: could not check the store after a lost answer: %s", record.source.row, exc)
            return None

    def on_result(self, results: dict):
        journal = self.journal

        def done(record: ContactRecord) -> None:
            results[record.index] = record
            state = _JOURNAL_STATE.get(record.outcome.status)
            if record.outcome.status == Status.NOT_SENT and self._leased(record):
                state = journal_states.ABSENT  # its intent was written, but it never left: nothing to check
            if journal is not None and state and record.outcome.error_code != Code.AMBIGUOUS:
                journal.note(record.key, state)  # an ambiguous row stays `sending`: checked next run

        return done


_JOURNAL_STATE = {
    Status.CREATED: journal_states.CREATED,
    Status.NOT_CREATED: journal_states.NOT_CREATED,
    Status.FAILED: journal_states.FAILED,
}
