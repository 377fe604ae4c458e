"""Reads from the store: a customer's contacts, customers by id, by email, a page at a time.

Used to resolve doubt (was an unanswered create applied?), to skip contacts the
store already has, and to find customers. Every read waits its turn at the same
Pacer as the creates, so reads and writes together stay inside Ecwid's limit.
Reads are idempotent: any transient failure is retried.

A customer's contacts are read at most once a run: the customer reads carry them
(`know_contacts`, importer.directory), and `contacts(id)` answers from those before
it reads `/customers/{id}/contacts`.
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import RetryCallState

from importer import ecwid, policy
from importer.errors import RunStopped
from importer.contactfields import item_key, match_key
from importer.liveness import Liveness
from importer.pacer import Pacer
from importer.policy import Action
from importer.records import ContactRecord
from importer.retry import retrying

log = logging.getLogger(__name__)

READ_SCOPE = "read_customers"
PAGE_LIMIT = 100  # Ecwid's maximum for /customers search


@dataclass(frozen=True)
class _Read:
    """One attempt at a read: what to do next, and what we learnt."""

    action: Action
    status: int | None
    retry_after: float | None
    detail: str
    response: httpx.Response | None = None


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
        self._http = http
        self._liveness = liveness  # the client's (send.new_client): a read gives up on an API not there
        self._base = f"{api_url.rstrip('/')}/{store_id}"
        self._store_id = store_id
        self._token = token
        self._headers = ecwid.headers(token)
        self._pacer = pacer
        self._retries = retries
        self._sleep = sleep
        self._random = random
        self._contacts: dict[int, asyncio.Task] = {}  # one read per customer per run
        self._known: dict[int, list[dict]] = {}  # contacts a customer read carried, not asked for yet
        self.requests = 0
        self.reads = 0  # GETs (retries included): what learning the store cost
        self.limited = 0  # 429s answered to reads

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document, paced and retried; RunStopped on auth/scope/plan/store errors."""
        answer = await self.retry_loop()(self._attempt, self._base + path, params)
        if answer.action is Action.SUCCESS:
            return answer.response.json()
        self.check_reach(at_start=True)
        raise StoreReadError(ecwid.scrub(f"GET {path}: {answer.detail}", self._token), answer.status)

    def check_reach(self, *, at_start: bool = False) -> None:
        """RunStopped when the API has not been heard for the liveness window, or (`at_start`, after a
        request gave up) ever: an API that is not there stops the run, once, instead of failing every row."""
        if self._liveness is None:
            return
        stop = self._liveness.gone() or (self._liveness.unreachable() if at_start else None)
        if stop is not None:
            raise stop

    async def _attempt(self, url: str, params: dict[str, Any] | None) -> _Read:
        self.check_reach()
        sent_at = await self._pacer.acquire()
        self.requests += 1
        self.reads += 1
        try:
            response = await self._http.get(url, params=params, headers=self._headers)
        except httpx.TransportError as exc:
            # A read changes nothing: retry whether or not it reached the server.
            return _Read(Action.RETRY, None, None, f"{type(exc).__name__}: {exc}")
        status = response.status_code
        if 200 <= status < 300:
            if ecwid.is_json(response):
                return _Read(Action.SUCCESS, status, None, "", response)
            # not the API's answer (a proxy's page, a captive portal): a read changes nothing, so try again
            return _Read(Action.RETRY, status, None, "the answer is not JSON")
        code, message = ecwid.parse_error(response)
        retry_after = policy.parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            self.limited += 1
            self._pacer.rate_limited(policy.rate_limit_pause(retry_after), sent_at)
        action = policy.classify_status(status, code, message)
        if action is Action.STOP:
            raise self._stop(status, code, message)
        return _Read(action, status, retry_after, f"HTTP {status} {code} {message}".strip())

    def _wait(self, state: RetryCallState) -> float:
        answer: _Read = state.outcome.result()
        retry_after = answer.retry_after if answer.status != 429 else 0.0  # the pacer already paused for a 429
        return policy.retry_wait(state.attempt_number, retry_after, random=self._random)

    def _stop(self, status: int, code: str, message: str, scope: str = READ_SCOPE) -> RunStopped:
        code, message = ecwid.scrub(code, self._token, limit=60), self.scrub(message)  # the server's words
        answer = ecwid.Answer(Action.STOP, status, error_code=code or "HTTP_ERROR", error=message)
        return ecwid.stop_reason(answer, self._store_id, scope)  # reads need their own scope

    # -- the one write besides the contacts: POST /customers (importer.newcustomers) ----

    async def post(self, path: str, body: dict) -> tuple[httpx.Response, float]:
        """One paced POST, not retried (the caller decides what a lost answer means): (response, sent_at)."""
        return await self.request("POST", path, body)

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[httpx.Response, float]:
        """One paced request (POST /customers; PUT and DELETE of a contact, importer.edits), not retried."""
        self.check_reach()
        sent_at = await self._pacer.acquire()
        self.requests += 1
        return await self._http.request(method, self._base + path, json=body, headers=self._headers), sent_at

    def rate_limited(self, retry_after: float | None, sent_at: float) -> None:
        self._pacer.rate_limited(policy.rate_limit_pause(retry_after), sent_at)

    def stop_error(self, status: int, code: str, message: str, scope: str) -> RunStopped:
        return self._stop(status, code, message, scope)

    def scrub(self, text: str) -> str:
        return ecwid.scrub(text, self._token)

    def retry_loop(self):
        """The reads' retry loop, for an attempt whose answer has `action`, `status` and `retry_after`."""
        return retrying(retries=self._retries, wait=self._wait, sleep=self._sleep)

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

    async def has_contact(self, record: ContactRecord, *, fresh: bool = False) -> bool:
        """Whether the store holds this record's contact (compared normalized)."""
        assert record.customer_id is not None
        for item in await self.contacts(record.customer_id, fresh=fresh):
            if _same_contact(record, item):
                return True
        return False

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
