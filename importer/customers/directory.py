"""The store's customers as one run needs them: each id and each email read once, the cheaper way.

    directory = Directory(reader, journal)
    await directory.load(ids, emails, concurrency=4, cancel=cancel)
    directory.by_id(1001)        -> StoreCustomer | None (None: the store has no such customer)
    directory.by_email("a@b.c")  -> list[StoreCustomer] (empty: none)   or raises StoreReadError
    await directory.load_contacts(customer_ids, concurrency=4, cancel=cancel)

Two ways to learn them: one read per id (`GET /customers/{id}`) and per email (`GET
/customers?email=…`), or the whole customer list a page (100, or the shorter page a
store gives) at a time. The first page is read when more than one thing is asked, and
tells how many pages there are (its total, and its length when shorter than asked):
the list is read whole when that takes fewer requests than reading one by one (when
fewer things are asked than there are pages, one by one it is). The other pages are
then read concurrently, each waiting its turn at the run's pace. Every read goes
through the run's StoreReader (paced with the creates, retried); every customer a read
returns is kept, by id and (from the whole list) by email, in dictionaries, and its
contacts go to the reader (`StoreReader.know_contacts`), so nothing is read twice and
a customer's contacts cost no request of their own. `load_contacts` is for customers
no read gave the contacts of (answered by the journal, a read without `contacts`):
the list if that is cheaper, else nothing here (each is read by `reader.contacts`).
The journal remembers what the run learnt (id -> emails, email -> id), so a nightly
run of the same file reads no customer again.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from importer.deliver.tasks import bounded
from importer.ecwid.store import PAGE_LIMIT, StoreReader, StoreReadError
from importer.errors import Code, RunStopped
from importer.journal import Journal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoreCustomer:
    id: int
    email: str  # lower-cased; "" when the store has none
    emails: frozenset[str]  # the email and the customer's EMAIL contacts, lower-cased
    # The customer's contacts as the read gave them; None when it gave none (no `contacts` field).
    contacts: list[dict] | None = field(default=None, compare=False, repr=False)


def store_customer(item: Any) -> StoreCustomer | None:
    """A customer object of Ecwid's answer, or None if it isn't one."""
    if not isinstance(item, dict) or not str(item.get("id", "")).isdigit():
        return None
    email = str(item.get("email") or "").strip().lower()
    given = item.get("contacts")
    contacts = [c for c in given if isinstance(c, dict)] if isinstance(given, list) else None
    return StoreCustomer(int(item["id"]), email, frozenset({email, *_emails_in(contacts or ())} - {""}), contacts)


def _emails_in(contacts: Iterable[Any]) -> set[str]:
    """The EMAIL contacts' values, lower-cased."""
    return {str(c.get("contact", "")).strip().lower() for c in contacts
            if isinstance(c, dict) and str(c.get("type", "")).upper() == "EMAIL"}  # fmt: skip


@dataclass
class DirectoryStats:
    """What learning the customers cost, for summary.json."""

    ids: int = 0  # distinct customer ids to verify
    emails: int = 0  # distinct customer emails to resolve
    from_journal: int = 0  # answered by the journal of an earlier run
    id_reads: int = 0  # GET /customers/{id}
    email_reads: int = 0  # GET /customers?email=
    pages: int = 0  # pages of the customer list read
    contact_reads: int = 0  # GET /customers/{id}/contacts, for customers no read gave the contacts of (instore)

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
    _everyone: dict[int, StoreCustomer] | None = None  # the whole list, once a run has read it ...
    _by_email: dict[str, list[StoreCustomer]] = field(default_factory=dict)  # ... and by its email
    _first_page: tuple[int, list[StoreCustomer]] | None = None  # (total, customers) once read
    _step: int = PAGE_LIMIT  # the store's page length, from its first page
    # What the journal is to remember, written in one commit when a load ends (not one per customer).
    _to_remember: list[tuple[str, int]] = field(default_factory=list)
    _ids_to_remember: list[tuple[int, str, frozenset[str]]] = field(default_factory=list)

    def by_id(self, customer_id: int) -> StoreCustomer | None:
        if customer_id in self._id_errors:
            raise self._id_errors[customer_id]
        return self._ids[customer_id]

    def by_email(self, email: str) -> list[StoreCustomer]:
        found = self._emails[email]
        if isinstance(found, StoreReadError):
            raise found
        return found

    def learn(self, customer: StoreCustomer) -> None:
        """A customer this run created (or found after a lost answer): known by id and email from now on."""
        self._keep(customer)
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
        try:
            await self._load(ids, emails, concurrency, cancel)
        finally:
            self._remember()

    async def _load(self, ids: list[int], emails: list[str], concurrency: int, cancel: asyncio.Event | None) -> None:
        if self._everyone is not None:  # read whole already (this run): it answers the rest
            self._answer_from(ids, emails)
            return
        if len(ids) + len(emails) > 1 and await self._read_list(len(emails), ids, concurrency, cancel):
            self._answer_from(ids, emails)
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
                self._know_id(item, self._keep(store_customer(found)) if found is not None else None)
            else:
                self.stats.email_reads += 1
                try:
                    found = [self._keep(c) for c in map(store_customer, await self.reader.customers_by_email(item)) if c]
                except StoreReadError as exc:
                    self._emails[item] = exc
                    return
                self._know_email(item, found)

        await bounded([*ids, *emails], read, concurrency, cancel)

    async def load_contacts(self, customer_ids: Iterable[int], *, concurrency: int = 4,
                            cancel: asyncio.Event | None = None) -> None:
        """Customers whose contacts no read gave: the whole list, if that takes fewer requests than one
        read each (then the reader knows them); else nothing (each is read by `reader.contacts`)."""
        todo = [i for i in dict.fromkeys(customer_ids) if not self.reader.knows_contacts(i)]
        if len(todo) > 1 and self._everyone is None:
            try:
                await self._read_list(0, todo, concurrency, cancel)
            finally:
                self._remember()

    async def check_emails(self, named: Iterable[tuple[int, Iterable[str]]], *, limit: int | None = None,
                           concurrency: int = 4, cancel: asyncio.Event | None = None) -> None:
        """(customer id, a row's emails) pairs whose emails are none of the customer's as far as its read told:
        when that read gave no contacts (a customer list without `contacts`, the journal), the customer's
        contacts are read (once a run: the store check uses them) and their emails join its own, so a row
        naming the customer by one of its contact emails is not taken for another customer's. `limit`: read
        at most so many (a sample, where only a majority counts)."""
        todo = set()
        for cid, emails in named:
            customer = self._ids.get(cid)
            if customer is not None and customer.contacts is None and (wanted := set(emails)) \
                    and not wanted & customer.emails:  # fmt: skip
                todo.add(cid)

        async def read(cid: int) -> None:
            try:
                items = await self.reader.contacts(cid)
            except StoreReadError:  # the row is judged on what is known; the store check reports the read
                return
            customer = self._ids[cid]
            self._ids[cid] = StoreCustomer(cid, customer.email, customer.emails | (_emails_in(items) - {""}), items)

        todo = sorted(todo)[:limit]
        self.stats.contact_reads += len(todo)
        await bounded(todo, read, concurrency, cancel)

    def _remember(self) -> None:
        if self.journal is not None and self._to_remember:
            self.journal.remember_customers(self._to_remember)
        if self.journal is not None and self._ids_to_remember:
            self.journal.remember_customer_ids(self._ids_to_remember)
        self._to_remember, self._ids_to_remember = [], []

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

    async def _read_list(self, n_emails: int, ids: list[int], concurrency: int, cancel: asyncio.Event | None) -> bool:
        """Read the whole customer list if that is cheaper than one read each; whether it was read.
        Ids on the first page are answered (and dropped from `ids`) whichever way the rest go."""
        if self._first_page is None:
            total, first = await self._page(0)
            self.stats.pages += 1
            # The pages are as long as the store makes them: one shorter than asked (and than the list)
            # sets the step, else the customers past each page's end would be missed, and created again.
            self._step = len(first) if 0 < len(first) < min(total, PAGE_LIMIT) else PAGE_LIMIT
            self._first_page = total, [self._keep(c) for c in map(store_customer, first) if c]
        total, first = self._first_page
        step = self._step
        on_first = {c.id: c for c in first}
        ids[:] = [i for i in ids if i not in on_first or self._know_id(i, on_first[i])]
        pages = math.ceil(total / step)
        if pages - 1 >= len(ids) + n_emails:
            return False
        log.info("reading the store's customer list (%d customers, %d pages) instead of %d reads", total, pages,
                 len(ids) + n_emails)  # fmt: skip
        everyone = dict(on_first)

        async def page(offset: int) -> None:  # kept as each page comes: no page is held once read
            _, items = await self._page(offset)
            self.stats.pages += 1
            for c in map(store_customer, items):
                if c:
                    everyone[c.id] = self._keep(c)

        await bounded(range(step, pages * step, step), page, concurrency, cancel)
        self._everyone = everyone
        for c in sorted(everyone.values(), key=lambda c: c.id):
            self._by_email.setdefault(c.email, []).append(c)
        return True

    async def _page(self, offset: int) -> tuple[int, list[dict]]:
        """A page of the customer list. One that cannot be read (after the reads' retries) stops the run:
        without it no row's customer can be told, and every other read would meet the same trouble."""
        try:
            return await self.reader.customers_page(offset)
        except StoreReadError as exc:
            raise RunStopped(f"the store's customer list could not be read (offset {offset}): {exc}",
                             error_code=Code.CUSTOMER_LOOKUP_FAILED, http_status=exc.status) from None

    def _answer_from(self, ids: list[int], emails: list[str]) -> None:
        """The whole list is read: every id and email is a dictionary lookup."""
        for i in ids:
            if i not in self._ids:
                self._know_id(i, self._everyone.get(i))
        for e in emails:
            self._know_email(e, self._by_email.get(e, []))

    def _keep(self, customer: StoreCustomer | None) -> StoreCustomer | None:
        """A customer a read returned: its contacts go to the reader, so none is read again."""
        if customer is not None and customer.contacts is not None:
            self.reader.know_contacts(customer.id, customer.contacts)
        return customer

    def _know_id(self, customer_id: int, customer: StoreCustomer | None) -> bool:
        """Remember what the store said of an id; False (so a filter drops the id: it is answered)."""
        self._ids[customer_id] = customer
        if customer is not None and self.journal is not None:
            self._ids_to_remember.append((customer_id, customer.email, customer.emails))
        return False

    def _know_email(self, email: str, found: list[StoreCustomer]) -> None:
        self._emails[email] = found
        if len(found) == 1 and self.journal is not None:
            self._to_remember.append((email, found[0].id))
