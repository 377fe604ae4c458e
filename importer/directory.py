"""The store's customers as one run needs them: each id and each email read once, the cheaper way.

    directory = Directory(reader, journal)
    await directory.load(ids, emails, concurrency=4, cancel=cancel)
    directory.by_id(1001)        -> StoreCustomer | None (None: the store has no such customer)
    directory.by_email("a@b.c")  -> list[StoreCustomer] (empty: none)   or raises StoreReadError

Two ways to learn them: one read per id (`GET /customers/{id}`) and per email (`GET
/customers?email=…`), or the whole customer list a page (100) at a time. The first
page is read when more than one thing is asked, and tells how many pages there are:
the list is read whole when that takes fewer requests than reading one by one. Every
read goes through the run's StoreReader (paced with the creates, retried). The
journal remembers what the run learnt (id -> emails, email -> id), so a nightly run
of the same file reads nothing again.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from importer.journal import Journal
from importer.store import PAGE_LIMIT, StoreReader, StoreReadError
from importer.tasks import bounded

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoreCustomer:
    id: int
    email: str  # lower-cased; "" when the store has none
    emails: frozenset[str]  # the email and the customer's EMAIL contacts, lower-cased


def store_customer(item: Any) -> StoreCustomer | None:
    """A customer object of Ecwid's answer, or None if it isn't one."""
    if not isinstance(item, dict) or not str(item.get("id", "")).isdigit():
        return None
    email = str(item.get("email") or "").strip().lower()
    contacts = item.get("contacts") if isinstance(item.get("contacts"), list) else []
    emails = {str(c.get("contact", "")).strip().lower() for c in contacts
              if isinstance(c, dict) and str(c.get("type", "")).upper() == "EMAIL"}  # fmt: skip
    return StoreCustomer(int(item["id"]), email, frozenset({email, *emails} - {""}))


@dataclass
class DirectoryStats:
    """What learning the customers cost, for summary.json."""

    ids: int = 0  # distinct customer ids to verify
    emails: int = 0  # distinct customer emails to resolve
    from_journal: int = 0  # answered by the journal of an earlier run
    id_reads: int = 0  # GET /customers/{id}
    email_reads: int = 0  # GET /customers?email=
    pages: int = 0  # pages of the customer list read

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class Directory:
    reader: StoreReader
    journal: Journal | None = None
    stats: DirectoryStats = field(default_factory=DirectoryStats)
    _ids: dict[int, StoreCustomer | None] = field(default_factory=dict)
    _emails: dict[str, list[StoreCustomer] | StoreReadError] = field(default_factory=dict)
    _id_errors: dict[int, StoreReadError] = field(default_factory=dict)
    _everyone: dict[int, StoreCustomer] | None = None  # the whole list, once a run has read it

    def by_id(self, customer_id: int) -> StoreCustomer | None:
        if customer_id in self._id_errors:
            raise self._id_errors[customer_id]
        return self._ids[customer_id]

    def by_email(self, email: str) -> list[StoreCustomer]:
        found = self._emails[email]
        if isinstance(found, StoreReadError):
            raise found
        return found

    def knows_email(self, email: str) -> bool:
        return email in self._emails

    def learn(self, customer: StoreCustomer) -> None:
        """A customer this run created: known by id and email from now on."""
        self._ids[customer.id] = customer
        self._emails[customer.email] = [customer]
        if self.journal is not None:
            self.journal.remember_customer(customer.email, customer.id)
            self.journal.remember_customer_id(customer.id, customer.email, customer.emails)

    async def load(self, ids: Iterable[int], emails: Iterable[str], *, concurrency: int = 4,
                   cancel: asyncio.Event | None = None) -> None:
        """Learn every id and email not known yet. RunStopped on auth/scope/plan/store errors or `cancel`."""
        ids = [i for i in dict.fromkeys(ids) if i not in self._ids]
        emails = [e for e in dict.fromkeys(emails) if e not in self._emails]
        self.stats.ids += len(ids)
        self.stats.emails += len(emails)
        ids, emails = self._from_journal(ids, emails)
        if self._everyone is not None:  # read whole already (this run): it answers the rest
            self._answer_from(self._everyone, ids, emails)
            return
        if len(ids) + len(emails) > 1 and await self._read_list(ids, emails):
            return
        log.info("reading %d customer(s) by id and %d by email", len(ids), len(emails))

        async def read(item: int | str) -> None:
            if isinstance(item, int):
                self.stats.id_reads += 1
                try:
                    found = await self.reader.customer(item)
                except StoreReadError as exc:
                    self._id_errors[item] = exc
                    return
                self._know_id(item, store_customer(found) if found is not None else None)
            else:
                self.stats.email_reads += 1
                try:
                    found = [c for c in map(store_customer, await self.reader.customers_by_email(item)) if c]
                except StoreReadError as exc:
                    self._emails[item] = exc
                    return
                self._know_email(item, found)

        await bounded([*ids, *emails], read, concurrency, cancel)

    def _from_journal(self, ids: list[int], emails: list[str]) -> tuple[list[int], list[str]]:
        if self.journal is None:
            return ids, emails
        todo_ids, todo_emails = [], []
        for i in ids:
            known = self.journal.customer_by_id(i)
            if known is None:
                todo_ids.append(i)
            else:
                email, others = known
                self._ids[i] = StoreCustomer(i, email, frozenset({email, *others} - {""}))
        for e in emails:
            cid = self.journal.customer_for_email(e)
            if cid is None:
                todo_emails.append(e)
            else:
                self._emails[e] = [StoreCustomer(cid, e, frozenset({e}))]
        self.stats.from_journal += len(ids) - len(todo_ids) + len(emails) - len(todo_emails)
        return todo_ids, todo_emails

    async def _read_list(self, ids: list[int], emails: list[str]) -> bool:
        """Read the whole customer list if that is cheaper than one read each; whether it was read."""
        total, first = await self.reader.customers_page(0)
        self.stats.pages += 1
        pages = math.ceil(total / PAGE_LIMIT)
        on_first = {c.id: c for c in map(store_customer, first) if c}
        for i in ids:  # an id on the first page needs no read of its own, whichever way the rest go
            if i in on_first:
                self._know_id(i, on_first[i])
        left = sum(i not in self._ids for i in ids) + len(emails)
        if pages - 1 >= left:
            ids[:] = [i for i in ids if i not in self._ids]
            return False
        log.info("reading the store's customer list (%d customers, %d pages) instead of %d reads", total, pages, left)
        everyone = list(on_first.values())
        for offset in range(PAGE_LIMIT, pages * PAGE_LIMIT, PAGE_LIMIT):
            _, items = await self.reader.customers_page(offset)
            self.stats.pages += 1
            everyone += [c for c in map(store_customer, items) if c]
        self._everyone = {c.id: c for c in everyone}
        self._answer_from(self._everyone, ids, emails)
        return True

    def _answer_from(self, by_id: dict[int, StoreCustomer], ids: list[int], emails: list[str]) -> None:
        for i in ids:
            if i not in self._ids:
                self._know_id(i, by_id.get(i))
        for e in emails:
            self._know_email(e, [c for c in by_id.values() if c.email == e])

    def _know_id(self, customer_id: int, customer: StoreCustomer | None) -> None:
        self._ids[customer_id] = customer
        if customer is not None and self.journal is not None:
            self.journal.remember_customer_id(customer_id, customer.email, customer.emails)

    def _know_email(self, email: str, found: list[StoreCustomer]) -> None:
        self._emails[email] = found
        if len(found) == 1 and self.journal is not None:
            self.journal.remember_customer(email, found[0].id)
