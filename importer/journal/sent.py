"""What was sent and the ids Ecwid gave it (`sent`), for undo and --update.

    journal.record_intents(records)                  # the bodies about to be created, one commit before any leaves
    journal.record_updates([(key, body, contact_id)]) # the body the store holds after a PUT landed
    journal.demote_defaults(key)                     # key became its type's default: the others' bodies say so
    journal.sent(keys) -> {key: Sent};  journal.learn_ids(customer_id, items)   # a read of the customer's contacts

The journal's `contacts` table says *that* a contact was created, by which run. Undo and
`--update` need more: the fields as sent (to tell a contact someone changed since from one
still as we left it, and a changed row from an unchanged one) and the contact's id in Ecwid
(create answers none; a read of the customer's contacts learns it). Both live in `sent`,
keyed like `contacts`:

* a create's body is written, in one commit for the whole run, *before* anything is sent
  (origin `create`), so whatever a run created, or may have, has its fields on record;
* an `--update` writes the body the store now holds after its PUT landed (origin `update`);
* every read of a customer's contacts fills in the ids of the contacts on record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from importer.checks.contactfields import dumps, item_key, loads, match_key, pick
from importer.journal.contacts import Key
from importer.journal.db import Database, now
from importer.records import ContactRecord

CREATE, UPDATE = "create", "update"  # origins of a `sent` body


@dataclass(frozen=True)
class Sent:
    body: dict[str, Any] | None
    origin: str | None
    contact_id: int | None
    run_id: str | None


class SentBodies(Database):
    def record_intents(self, records: Iterable[ContactRecord]) -> None:
        """The bodies a run is about to create, in one commit before any of them is sent. A body an
        update wrote for a contact the store had from elsewhere is kept: it is that contact's baseline.
        An id on record goes, whatever wrote it: it named a contact an earlier run created or updated (since
        undone or deleted: the store lacks it, or this row would not be sent); the next read learns the new one's."""
        at, run = now(), self.run_id
        records = list(records)
        rows = [(self.store_id, *r.key, dumps(r.body()), CREATE, run, r.source.file, r.source.sheet, r.source.row, at)
                for r in records]  # fmt: skip
        self._write((
            "INSERT INTO sent(store_id, customer, type, contact, body, origin, run_id, file, sheet, row, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET body=excluded.body, origin=excluded.origin,"
            " run_id=excluded.run_id, file=excluded.file, sheet=excluded.sheet, row=excluded.row,"
            " updated_at=excluded.updated_at WHERE sent.origin IS NOT 'update'", rows), (
            "UPDATE sent SET contact_id=NULL WHERE store_id=? AND customer=? AND type=? AND contact=?",
            [(self.store_id, *r.key) for r in records]))  # fmt: skip

    def record_updates(self, items: Iterable[tuple[Key, dict[str, Any], int | None]]) -> None:
        """(key, body the store now holds, contact id) after each PUT landed."""
        at, run = now(), self.run_id
        rows = [(self.store_id, *key, dumps(body), UPDATE, contact_id, run, at) for key, body, contact_id in items]
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
        sql = ("SELECT body, origin, contact_id, run_id FROM sent"
               " WHERE store_id=? AND customer=? AND type=? AND contact=?")  # fmt: skip
        return {tuple(params[1:]): Sent(loads(body), origin, contact_id, run_id)
                for params, rows in self._read_each(sql, ((self.store_id, *key) for key in keys))
                for body, origin, contact_id, run_id in rows}  # fmt: skip

    def learn_ids(self, customer_id: int, items: list[dict]) -> None:
        """A read of a customer's contacts: the id of each contact on record that the store holds
        (the one it had, if still there; else the best match of its type and value)."""
        customer = str(customer_id)
        rows = self._read("SELECT type, contact, body, contact_id FROM sent WHERE store_id=? AND customer=?",
                          (self.store_id, customer))  # fmt: skip
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
            self._write(("UPDATE sent SET contact_id=? WHERE store_id=? AND customer=? AND type=? AND contact=?",
                         learnt))  # fmt: skip
