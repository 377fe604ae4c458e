"""Reads from the store: a customer's contacts, customers by id, by email, a page at a time.

Used to resolve doubt (was an unanswered create applied?), to skip contacts the
store already has, and to find customers. Every read waits its turn at the same
Pacer as the creates, so reads and writes together stay inside Ecwid's limit.
Reads are idempotent: any transient failure is retried.

A customer's contacts are read at most once a run: the customer reads carry them
(`know_contacts`, importer.customers.directory), and `contacts(id)` answers from those before
it reads `/customers/{id}/contacts`.
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
from collections.abc import Callable
from typing import Any

import httpx

from importer.checks.contactfields import item_key, match_key
from importer.ecwid import READ_SCOPE, policy
from importer.ecwid.client import EcwidClient
from importer.ecwid.liveness import Liveness
from importer.ecwid.pacer import Pacer
from importer.ecwid.policy import Action
from importer.records import ContactRecord

log = logging.getLogger(__name__)

PAGE_LIMIT = 100  # Ecwid's maximum for /customers search


class StoreReadError(Exception):
    """A read that failed for good (after retries); the caller decides what it means for the row."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the final HTTP status, if there was one (404: no such customer)


class StoreReader:
    # Called with (customer id, items) after every read of a customer's contacts.
    on_contacts: Callable[[int, list[dict]], None] | None = None

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_url: str,
        store_id: int,
        token: str,
        pacer: Pacer,
        retries: int = policy.DEFAULT_RETRIES,
        sleep: Callable[[float], Any] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        liveness: Liveness | None = None,
    ):
        # The run's client of the API (importer.ecwid.client): the edits, the customer creates and the
        # batches go through it too.
        self._begin(EcwidClient(http, api_url=api_url, store_id=store_id, token=token, pacer=pacer, retries=retries,
                                sleep=sleep, random=random, liveness=liveness))  # fmt: skip

    @classmethod
    def through(cls, api: EcwidClient) -> StoreReader:
        """A reader whose reads go through `api` (its pacer, retries, waits and counts)."""
        reader = cls.__new__(cls)
        reader._begin(api)
        return reader

    def _begin(self, api: EcwidClient) -> None:
        self.api = api
        self._contacts: dict[int, asyncio.Task] = {}  # one read per customer per run
        self._known: dict[int, list[dict]] = {}  # contacts a customer read carried, not asked for yet

    @classmethod
    def of(cls, http: httpx.AsyncClient, config: Any, liveness: Liveness | None, pacer: Pacer | None = None):
        """The run's reader for `config` (an importer.deliver.send.SendConfig), paced by `pacer` (else its own)."""
        return cls(http, api_url=config.api_url, store_id=config.store_id, token=config.token,
                   pacer=pacer or Pacer(config.rate_per_minute), retries=config.retries, liveness=liveness)  # fmt: skip

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document, paced and retried; RunStopped on auth/scope/plan/store errors."""
        reply = await self.api.call("GET", path, params=params, scope=READ_SCOPE)
        if reply.action is Action.SUCCESS:
            return reply.value
        raise StoreReadError(self.api.scrub(f"GET {path}: {reply.detail}"), reply.status)

    # -- contacts ---------------------------------------------------------------

    def know_contacts(self, customer_id: int, items: list[dict]) -> None:
        """The contacts a customer read carried (the list, GET /customers/{id}, a search): no read of their own."""
        if customer_id not in self._contacts:
            self._known[customer_id] = items

    def knows_contacts(self, customer_id: int) -> bool:
        return customer_id in self._known or customer_id in self._contacts

    def known_contacts(self, customer_id: int) -> list[dict] | None:
        """The customer's contacts if a read gave them (and it succeeded), without reading; else None."""
        if customer_id in self._known:
            return self._known[customer_id]
        task = self._contacts.get(customer_id)
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return None
        return task.result()

    async def contacts(self, customer_id: int, *, fresh: bool = False) -> list[dict]:
        """The customer's contacts; read once per run unless `fresh` (after a create in doubt)."""
        if not fresh and customer_id in self._known:  # carried by a customer read: served as if read now
            items = self._known.pop(customer_id)
            done = asyncio.get_running_loop().create_future()
            done.set_result(items)
            self._contacts[customer_id] = done
            if self.on_contacts is not None:
                self.on_contacts(customer_id, items)
            return items
        task = self._contacts.get(customer_id)
        if task is None or fresh:
            self._known.pop(customer_id, None)
            task = asyncio.ensure_future(self._read_contacts(customer_id))
            self._contacts[customer_id] = task
        try:
            return await asyncio.shield(task)
        except BaseException:
            if self._contacts.get(customer_id) is task and task.done():
                del self._contacts[customer_id]  # don't cache a failure
            raise

    async def _read_contacts(self, customer_id: int) -> list[dict]:
        body = await self.get(f"/customers/{customer_id}/contacts")
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise StoreReadError(f"GET /customers/{customer_id}/contacts: no items in the answer")
        if self.on_contacts is not None:  # the journal learns the contacts' ids (importer.journal.sent)
            self.on_contacts(customer_id, items)
        return items

    async def has_contact(self, record: ContactRecord) -> bool:
        """Whether the store holds this record's contact (compared normalized)."""
        assert record.customer_id is not None
        return any(_same_contact(record, item) for item in await self.contacts(record.customer_id))

    # -- customers ----------------------------------------------------------------

    async def customer(self, customer_id: int) -> dict | None:
        """GET /customers/{id}; None when the store has no such customer (404)."""
        try:
            body = await self.get(f"/customers/{customer_id}")
        except StoreReadError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(body, dict) or str(body.get("id", "")) != str(customer_id):
            raise StoreReadError(f"GET /customers/{customer_id}: the answer is not that customer")
        return body

    async def customers_page(self, offset: int) -> tuple[int, list[dict]]:
        """One page of the customer list (PAGE_LIMIT a page): (total, items)."""
        body = await self.get("/customers", {"limit": PAGE_LIMIT, "offset": offset})
        items = body.get("items") if isinstance(body, dict) else None
        total = body.get("total") if isinstance(body, dict) else None
        if not isinstance(items, list) or not isinstance(total, int):
            raise StoreReadError("GET /customers: no total and items in the answer")
        return total, [c for c in items if isinstance(c, dict)]

    async def customers_by_email(self, email: str) -> list[dict]:
        body = await self.get(
            "/customers", {"email": email, "useExactEmailMatch": "true", "limit": PAGE_LIMIT}
        )
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise StoreReadError("GET /customers: no items in the answer")
        # Ecwid matches emails case-insensitively; keep only exact matches in case a server doesn't.
        return [c for c in items if isinstance(c, dict) and str(c.get("email", "")).lower() == email.lower()]


def _same_contact(record: ContactRecord, item: Any) -> bool:
    return isinstance(item, dict) and item_key(item) == match_key(record.type, record.contact)
