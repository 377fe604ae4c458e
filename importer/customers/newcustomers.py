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
from typing import Any

from importer.customers.directory import StoreCustomer, store_customer
from importer.ecwid import CREATE_SCOPE
from importer.ecwid.answers import NEW_ID, Reply
from importer.ecwid.policy import Action
from importer.ecwid.store import StoreReader
from importer.journal import Journal

log = logging.getLogger(__name__)


class CustomerCreateError(Exception):
    """The customer could not be created (or found after a lost answer); the message says why."""


class CustomerCreator:
    def __init__(self, reader: StoreReader, journal: Journal | None):
        self._reader = reader  # its client (pacer, token, retry policy): one of each per run
        self._journal = journal
        self.created = 0

    async def create(self, email: str, name: str = "") -> StoreCustomer:
        """The new (or, after a lost answer, found) customer; CustomerCreateError if neither; RunStopped."""
        body: dict[str, Any] = {"email": email}
        if name:
            body["billingPerson"] = {"name": name}

        async def first(lost: bool) -> Reply | None:
            # After an answer that may have been lost, the store is searched before any resend.
            found = await self._find(email) if lost else None
            if found is None and self._journal is not None:
                self._journal.set_customer_create(email, "creating")
            return found

        # Made safe to resend by the search before it (`first`), so a lost answer is retried, not in doubt.
        reply = await self._reader.api.call("POST", "/customers", body, scope=CREATE_SCOPE, meaning=NEW_ID,
                                            resend=True, first=first)  # fmt: skip
        if reply.action is Action.FAIL and reply.value is None and not reply.lost:
            reply = await self._find(email) or reply  # refused: perhaps because the email is in use
        if reply.action is Action.SUCCESS:
            customer = reply.value
            if isinstance(reply.value, int):
                self.created += 1
                log.info("created customer %s for %s", reply.value, email)
                # Its contacts unknown (None), not none: a store may give a new customer its email as a
                # contact, and the store check must see it before the file's EMAIL row is sent.
                customer = StoreCustomer(reply.value, email, frozenset({email}), None)
            if self._journal is not None:
                self._journal.set_customer_create(email, "created", customer.id)
            return customer
        if reply.lost:
            raise CustomerCreateError(f"creating the customer {email}: {reply.detail}; it may exist now: "
                                      "a rerun looks it up before creating it")
        raise CustomerCreateError(f"could not create the customer {email}: {reply.detail}")

    async def _find(self, email: str) -> Reply | None:
        found = [c for c in map(store_customer, await self._reader.customers_by_email(email)) if c]
        if len(found) == 1:
            log.info("customer %s for %s found in the store after an unclear create", found[0].id, email)
            return Reply(Action.SUCCESS, value=found[0])
        if found:
            ids = ", ".join(str(c.id) for c in found)
            return Reply(Action.FAIL, detail=f"{len(found)} customers now have this email (ids {ids})")
        return None
