"""--create-customers: create a customer the file names by email and the store lacks, exactly once.

`POST /customers` is not idempotent and may be refused for an email in use (undocumented),
so each create is:

* written to the journal as `creating` (committed) before the request leaves, and as
  `created` with its id after the answer; a later run finds the customer by the
  store lookup that precedes every create, so it never creates again;
* retried like any request, but after an answer that may have been lost (a cut
  connection, a timeout, a 5xx) the store is searched by email before any resend;
* refused (4xx): the store is searched once, in case the email is in use; found, the
  customer is used; else the rows fail `customer-create-failed` with Ecwid's message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from importer import ecwid, policy
from importer.directory import StoreCustomer, store_customer
from importer.journal import Journal
from importer.policy import Action
from importer.store import StoreReader

log = logging.getLogger(__name__)

CREATE_SCOPE = "create_customers"


@dataclass(frozen=True)
class _Made:
    """One attempt at creating a customer."""

    action: Action
    customer: StoreCustomer | None = None
    detail: str = ""
    retry_after: float | None = None
    status: int | None = None


class CustomerCreateError(Exception):
    """The customer could not be created (or found after a lost answer); the message says why."""


class CustomerCreator:
    def __init__(self, reader: StoreReader, journal: Journal | None):
        self._reader = reader  # its client, pacer, token and retry policy: one of each per run
        self._journal = journal
        self.created = 0

    async def create(self, email: str, name: str = "") -> StoreCustomer:
        """The new (or, after a lost answer, found) customer; CustomerCreateError if neither; RunStopped."""
        body: dict[str, Any] = {"email": email}
        if name:
            body["billingPerson"] = {"name": name}
        doubt = [False]  # an earlier attempt may have created the customer
        made = await self._reader.retry_loop()(self._attempt, email, body, doubt)
        if made.action is Action.SUCCESS and made.customer is not None:
            if self._journal is not None:
                self._journal.set_customer_create(email, "created", made.customer.id)
            return made.customer
        if doubt[0]:
            raise CustomerCreateError(f"creating the customer {email}: {made.detail}; it may exist now: "
                                      "a rerun looks it up before creating it")
        raise CustomerCreateError(f"could not create the customer {email}: {made.detail}")

    async def _attempt(self, email: str, body: dict, doubt: list[bool]) -> _Made:
        if doubt[0]:
            found = await self._find(email)
            if found is not None:
                return found
        if self._journal is not None:
            self._journal.set_customer_create(email, "creating")
        try:
            response, sent_at = await self._reader.post("/customers", body)
        except httpx.TransportError as exc:
            doubt[0] = doubt[0] or policy.may_have_been_sent(exc)
            return _Made(Action.RETRY, detail=self._reader.scrub(f"{type(exc).__name__}: {exc}"))
        status = response.status_code
        if 200 <= status < 300:
            new_id = _new_id(response)
            if new_id is None:
                doubt[0] = True  # it answered, so it may well have created someone
                return _Made(Action.RETRY, detail=f"a {status} answer without the new customer's id", status=status)
            self.created += 1
            log.info("created customer %s for %s", new_id, email)
            # Created with no contacts: the store check needs no read of them.
            return _Made(Action.SUCCESS, StoreCustomer(new_id, email, frozenset({email}), []), status=status)
        code, message = ecwid.parse_error(response)
        retry_after = policy.parse_retry_after(response.headers.get("Retry-After"))
        detail = self._reader.scrub(f"HTTP {status} {code} {message}".strip())
        if status == 429:
            self._reader.rate_limited(retry_after, sent_at)
            return _Made(Action.RETRY, detail=detail, retry_after=retry_after, status=status)
        action = policy.classify_status(status, code, message)
        if action is Action.STOP:
            raise self._reader.stop_error(status, code, message, CREATE_SCOPE)
        if action is Action.RETRY:  # a 5xx or 408: the create may have gone through
            doubt[0] = True
            return _Made(Action.RETRY, detail=detail, retry_after=retry_after, status=status)
        found = await self._find(email)  # refused: perhaps because the email is in use
        return found if found is not None else _Made(Action.FAIL, detail=detail, status=status)

    async def _find(self, email: str) -> _Made | None:
        found = [c for c in map(store_customer, await self._reader.customers_by_email(email)) if c]
        if len(found) == 1:
            log.info("customer %s for %s found in the store after an unclear create", found[0].id, email)
            return _Made(Action.SUCCESS, found[0])
        if found:
            ids = ", ".join(str(c.id) for c in found)
            return _Made(Action.FAIL, detail=f"{len(found)} customers now have this email (ids {ids})")
        return None


def _new_id(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    new_id = body.get("id") if isinstance(body, dict) else None
    return new_id if type(new_id) is int and new_id > 0 else None  # noqa: E721 - bool is not an id
