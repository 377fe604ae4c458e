"""--update: bring contacts the customer already has up to date with the file (PUT).

After the creates, every row that was `skipped` because the customer has its contact
(`already-imported` by the journal, `exists-in-store` by a read) is compared with a baseline:

* the fields last sent, when the journal has them (what a run created, or an update
  wrote), so a nightly run of an unchanged export compares in memory and reads nothing,
  and a change made by hand in Ecwid is not overwritten by a source that did not change;
* else (a contact made elsewhere, or a journal older than this) the store's contact.

Only `note`, `handle`, `default` and `orderBy` count, and only where the row gives a value
(a blank cell clears nothing). A row that differs is sent as a PUT of the fields that
differ (with the contact's type and value, and its other fields when just read: whether Ecwid's
PUT keeps fields it is not sent is not documented), to the contact's id (on record, or learnt from
the customer's contacts, read once per run): status `updated`; the store's new fields become its baseline, so a second run
updates nothing. Unchanged rows stay `skipped`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from importer.checks.contactfields import differences, item_key, match_key, pick, said, store_fields
from importer.deliver.edits import DONE, GONE, ContactEditor
from importer.deliver.tasks import bounded
from importer.ecwid.store import StoreReadError, StoreReader
from importer.errors import Code, RunStopped, not_sent
from importer.journal import UPDATE, Journal, Sent
from importer.records import ContactRecord, Outcome, Status

log = logging.getLogger("importer")

__all__ = ["update_changed"]

_SKIPPED_HAVING = frozenset({Code.ALREADY_IMPORTED, Code.EXISTS_IN_STORE})


async def update_changed(results: dict[int, ContactRecord], reader: StoreReader, history: Journal | None, *,
                         concurrency: int, cancel: asyncio.Event | None) -> RunStopped | None:
    """Update, in `results`, the skipped records whose fields changed; returns why it stopped early, if it did."""
    having = [r for r in results.values() if r.outcome.status == Status.SKIPPED
              and r.outcome.error_code in _SKIPPED_HAVING and r.customer_id is not None]  # fmt: skip
    sent = history.sent(r.key for r in having) if history is not None else {}
    updater = _Updater(reader, history)
    todo = [r for r in having if updater.needs_work(r, sent.get(r.key))]
    done: set[int] = set()

    async def work(record: ContactRecord) -> None:
        results[record.index] = await updater.one(record, sent.get(record.key))
        done.add(record.index)

    try:
        await bounded(todo, work, concurrency, cancel, cancelled="the run was cancelled while updating contacts")
    except RunStopped as stopped:
        why = not_sent(stopped.message, lead="--update did not get to this row: ")
        for r in todo:
            if r.index not in done:
                results[r.index] = replace(r, outcome=why)
        return stopped
    return None


class _Updater:
    def __init__(self, reader: StoreReader, history: Journal | None):
        self.reader = reader
        self.editor = ContactEditor(reader)
        self.history = history

    @staticmethod
    def _baseline(record: ContactRecord, sent: Sent | None) -> dict | None:
        """The fields last sent, when they are the contact's baseline (see the module docstring)."""
        if sent is None or sent.body is None:
            return None
        if record.outcome.error_code == Code.ALREADY_IMPORTED or sent.origin == UPDATE:
            return sent.body
        return None

    def needs_work(self, record: ContactRecord, sent: Sent | None) -> bool:
        """False when the baseline on record says the row is unchanged (no request needed)."""
        baseline = self._baseline(record, sent)
        return baseline is None or bool(differences(record.body(), baseline))

    async def _find(self, record: ContactRecord, contact_id: int | None, *, fresh: bool = False) -> dict | None:
        items = await self.reader.contacts(record.customer_id, fresh=fresh)
        item = pick(items, record.type, record.contact, contact_id=contact_id)
        if item is not None and item_key(item) != match_key(record.type, record.contact):
            item = pick(items, record.type, record.contact)  # our id now holds another value: not ours
        return item

    async def one(self, record: ContactRecord, sent: Sent | None) -> ContactRecord:
        wanted = record.body()
        baseline = self._baseline(record, sent)
        contact_id = sent.contact_id if sent is not None else None
        item = None
        try:
            if baseline is None or contact_id is None:
                item = await self._find(record, contact_id)
                if item is None:
                    return self._skip(record, "the store no longer has this contact: not updated")
                contact_id = item.get("id")
                if baseline is None:
                    baseline = {"type": record.type, "contact": record.contact, **store_fields(item)}
            changes = differences(wanted, baseline)
            if not changes:
                return self._skip(record, "unchanged")
            edit = await self.editor.update(record.customer_id, contact_id, _whole(record, item, baseline, changes))
            if edit.result == GONE and item is None:  # the id on record is stale: find it once more
                item = await self._find(record, None, fresh=True)
                if item is not None:
                    contact_id = item.get("id")
                    edit = await self.editor.update(record.customer_id, contact_id,
                                                    _whole(record, item, baseline, changes))  # fmt: skip
        except StoreReadError as exc:
            return replace(record, outcome=Code.STORE_CHECK_FAILED.outcome(
                context="--update could not read the customer's contacts", reason=exc))
        if edit.result == GONE:
            return self._skip(record, "the store no longer has this contact: not updated")
        if edit.result != DONE:
            return replace(record, outcome=Code.UPDATE_FAILED.outcome(http_status=edit.http_status,
                                                                      attempts=edit.attempts, detail=edit.detail))
        if self.history is not None:
            self.history.record_updates([(record.key, {**baseline, **changes}, contact_id)])
            if changes.get("default") is True:
                self.history.demote_defaults(record.key)
        return replace(record, outcome=Outcome(
            Status.UPDATED, edit.http_status, attempts=edit.attempts,
            error=f"updated {said(changes, baseline)} (contact id {contact_id})"))  # fmt: skip

    @staticmethod
    def _skip(record: ContactRecord, why: str) -> ContactRecord:
        error = f"{record.outcome.error}; --update: {why}" if record.outcome.error else f"--update: {why}"
        return replace(record, outcome=replace(record.outcome, error=error))


def _whole(record: ContactRecord, item: dict | None, baseline: dict, changes: dict) -> dict:
    """The PUT's body: the changes, with the contact's type and value (as the store keeps it) and, when the
    store's contact was read just now, its other fields. The API facts don't say whether a PUT changes only
    the fields sent or replaces the contact: a body of the note alone could leave a replacing store without
    the contact's value. Fields known only from the journal are not sent: a hand edit since then stays."""
    body = {"type": record.type, "contact": (item or {}).get("contact") or baseline.get("contact") or record.contact}
    if item is not None:
        body.update({name: value for name, value in store_fields(item).items() if value is not None})
    return {**body, **changes}
