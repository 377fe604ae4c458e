"""What each customer already has: a row whose contact the store holds is `skipped` (`exists-in-store`).

    to_send = await skip_in_store(records, directory, results, update=False, dry_run=False,
                                  concurrency=8, cancel=cancel)

Always on (`--skip-existing` is accepted and does nothing more). The contacts come with the
customer reads the run made already (importer.customers.directory: the list's pages, GET /customers/{id},
a search by email); a customer no read gave the contacts of (answered by the journal, a
customer read without `contacts`) costs the whole list if that takes fewer requests, else one
read of its contacts. The same contact is the same type and value as sent, emails in any case
(importer.checks.contactfields.match_key). Where the store's note, handle, default or order differ from
what the row gives, the row's line says which; `--update` changes them afterwards
(importer.runs.update); a dry run with `--update` leaves such a row `valid`, saying what it would
update. A customer whose contacts could not be read fails its rows `store-check-failed`:
sending them could create a contact the customer has. An earlier run's rows in doubt are not
among `records`: the engine settles them (importer.deliver.engine).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from importer.checks.contactfields import differences, item_key, match_key, pick, said, store_fields, value_of
from importer.customers.directory import Directory
from importer.deliver.tasks import bounded
from importer.ecwid.store import StoreReadError
from importer.errors import Code
from importer.records import ContactRecord

__all__ = ["skip_in_store"]

HAS_IT = "the store already has this contact"


async def skip_in_store(records: list[ContactRecord], directory: Directory, results: dict[int, ContactRecord], *,
                        update: bool, dry_run: bool, concurrency: int,
                        cancel: asyncio.Event | None = None) -> list[ContactRecord]:  # fmt: skip
    """The records to send; the others' outcomes go into `results`. RunStopped (auth, scope, `cancel`)."""
    reader = directory.reader
    customers = list(dict.fromkeys(r.customer_id for r in records if r.customer_id is not None))
    await directory.load_contacts(customers, concurrency=concurrency, cancel=cancel)
    todo = [c for c in customers if not reader.knows_contacts(c)]
    failed: dict[int, StoreReadError] = {}

    async def read(customer_id: int) -> None:
        try:
            await reader.contacts(customer_id)
        except StoreReadError as exc:
            failed[customer_id] = exc

    directory.stats.contact_reads += len(todo)
    await bounded(todo, read, concurrency, cancel)

    held: dict[int, dict[tuple[str, str], list[dict]]] = {}  # customer -> match key -> the store's contacts
    kept = []
    for record in records:
        cid = record.customer_id
        if cid is None:
            kept.append(record)
            continue
        if cid in failed:
            results[record.index] = replace(record, outcome=Code.STORE_CHECK_FAILED.outcome(
                context="could not read the customer's contacts, so not sent (it may have this one)",
                reason=failed[cid]))
            continue
        if cid not in held:
            held[cid] = {}
            for item in reader.known_contacts(cid) or ():
                held[cid].setdefault(item_key(item), []).append(item)
        same = held[cid].get(match_key(record.type, record.contact))
        if not same:
            kept.append(record)
            continue
        item = pick(same, record.type, record.contact, sent=record.body())
        have = store_fields(item)
        changes = differences(record.body(), have)
        if changes and dry_run and update:
            results[record.index] = replace(record, outcome=replace(
                record.outcome, error=f"{HAS_IT}: --update would update {said(changes, have)}"))
            continue
        results[record.index] = replace(record, outcome=Code.EXISTS_IN_STORE.outcome(
            detail=_why(record, item, changes, have)))
    return kept


def _why(record: ContactRecord, item: dict, changes: dict, have: dict) -> str:
    """The line of a skipped row: the store's contact, as written there, and which fields differ."""
    written = str(item.get("contact", ""))
    why = HAS_IT + (f" (written {written!r} there)" if written != record.contact else "")
    if changes:
        fields = "; ".join(f"{name} {value_of(have, name)!r} in the store, {value!r} in the file"
                           for name, value in changes.items())  # fmt: skip
        why += f"; differs: {fields} (--update changes it)"
    return why
