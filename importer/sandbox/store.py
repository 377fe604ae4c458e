"""The stores' data: each store's customers and their contacts, and the API's operations on them.

    store = CustomerStore(threading.RLock(), default_store_id=1)
    store.add_store(1); store.add_customers([1, 2], store_id=1)
    store.create_contact(1, 1, {"contact": "a@example.com", "type": "email"})
    store.contacts(1, store_id=1)  # copies, never the live dicts

`SandboxState` (importer.sandbox.state) builds on it and adds tokens, limits, faults
and the request log. Every method takes the lock it is given and returns copies. The
operations raise `ApiError` 404s as Ecwid does (an unknown customer, an unknown contact);
the store and token checks come before them (`SandboxState.authorize`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from importer.sandbox.config import Customer, generated_customer
from importer.sandbox.contacts import ecwid_timestamp
from importer.sandbox.errors import contact_not_found, customer_not_found

FIRST_CONTACT_ID = 100_000_001  # Ecwid's contact ids are large integers


@dataclass
class Store:
    id: int
    plan_ok: bool = True
    suspended: bool = False
    customers: dict[int, Customer] = field(default_factory=dict)
    contacts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    updated: dict[int, str] = field(default_factory=dict)

    def next_customer_id(self) -> int:
        return max(self.customers, default=0) + 1


class CustomerStore:
    def __init__(self, lock: threading.RLock, default_store_id: int) -> None:
        self.lock = lock
        self._default_store_id = default_store_id  # the store the set-up methods mean without one
        self._registered = ecwid_timestamp()
        self._stores: dict[int, Store] = {}
        self._next_contact_id = FIRST_CONTACT_ID
        self.creates_committed = 0  # contacts stored by POST (importer.sandbox.state's stats)
        self.customers_created = 0  # customers stored by POST /customers

    # ---- set-up and inspection (tests, CLI) ----

    def add_store(self, store_id: int, *, plan_ok: bool = True, suspended: bool = False) -> None:
        with self.lock:
            self._stores[store_id] = Store(store_id, plan_ok, suspended)

    def find_store(self, store_id: int) -> Store | None:
        """The store itself (live: hold the lock while reading it), None if unknown."""
        return self._stores.get(store_id)

    def set_store(
        self, store_id: int | None = None, *, plan_ok: bool | None = None, suspended: bool | None = None
    ) -> None:
        with self.lock:
            store = self._store_for_admin(store_id)
            if plan_ok is not None:
                store.plan_ok = plan_ok
            if suspended is not None:
                store.suspended = suspended

    def add_customers(
        self,
        ids: Iterable[int] | None = None,
        emails: Sequence[str | None] | None = None,
        names: Sequence[str | None] | None = None,
        *,
        store_id: int | None = None,
    ) -> list[int]:
        """Add (or update) customers; returns their ids.

        `emails` and `names` run parallel to `ids`. Without ids, one customer per
        email gets the next free id. A missing email or name gets the generated
        one (`customer{id}@example.com`, `Customer {id}`).
        """
        with self.lock:
            store = self._store_for_admin(store_id)
            if ids is None:
                if emails is None:
                    raise ValueError("give ids, emails, or both")
                start = store.next_customer_id()
                id_list = list(range(start, start + len(emails)))
            else:
                id_list = [int(i) for i in ids]
            n = len(id_list)
            for extra, label in ((emails, "emails"), (names, "names")):
                if extra is not None and len(extra) != n:
                    raise ValueError(f"{label} must be as long as ids")
            blanks = [None] * n
            self.put_customers(store, [
                Customer(cid, email or generated_customer(cid).email, name or generated_customer(cid).name)
                for cid, email, name in zip(id_list, emails or blanks, names or blanks)])  # fmt: skip
            return id_list

    def put_customers(self, store: Store, customers: Iterable[Customer]) -> None:
        """Store these customers with what they hold at start (--sandbox-customers); the lock is held."""
        for c in customers:
            store.customers[c.id] = c
            held = store.contacts.setdefault(c.id, [])
            for given in c.contacts:
                held.append({"id": self._next_contact_id, "default": False, "orderBy": len(held),
                             "timestamp": ecwid_timestamp(), **given})  # fmt: skip
                self._next_contact_id += 1

    def customers(self, store_id: int | None = None) -> list[Customer]:
        with self.lock:
            return sorted(self._store_for_admin(store_id).customers.values(), key=lambda c: c.id)

    def contacts(self, customer_id: int, store_id: int | None = None) -> list[dict[str, Any]]:
        with self.lock:
            store = self._store_for_admin(store_id)
            return [dict(c) for c in store.contacts.get(customer_id, [])]

    def all_contacts(self, store_id: int | None = None) -> dict[int, list[dict[str, Any]]]:
        with self.lock:
            store = self._store_for_admin(store_id)
            return {cid: [dict(c) for c in cs] for cid, cs in store.contacts.items() if cs}

    # ---- the API's operations ----

    def create_contact(self, store_id: int, customer_id: int, fields: dict[str, Any]) -> None:
        with self.lock:
            store = self._stores[store_id]
            contacts = self._contacts_of(store, customer_id)
            contact = {
                "id": self._next_contact_id,
                "contact": fields["contact"],
                **{k: fields[k] for k in ("handle", "note") if k in fields},
                "type": fields["type"],
                "default": fields.get("default", False),
                # Not documented: a contact sent without orderBy goes last.
                "orderBy": fields.get("orderBy", len(contacts)),
                "timestamp": fields.get("timestamp") or ecwid_timestamp(),
            }
            self._next_contact_id += 1
            if contact["default"]:
                _demote_defaults(contacts, contact["type"])
            contacts.append(contact)
            store.updated[customer_id] = ecwid_timestamp()
            self.creates_committed += 1

    def create_customer(self, store_id: int, email: str, name: str) -> int:
        """POST /customers: a new customer with the next free id."""
        with self.lock:
            store = self._stores[store_id]
            new_id = store.next_customer_id()
            self.put_customers(store, [Customer(new_id, email, name)])
            store.updated[new_id] = ecwid_timestamp()
            self.customers_created += 1
            return new_id

    def list_contacts(self, store_id: int, customer_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self._contacts_of(self._stores[store_id], customer_id)]

    def get_contact(self, store_id: int, customer_id: int, contact_id: int) -> dict[str, Any]:
        with self.lock:
            return dict(self._find_contact(store_id, customer_id, contact_id))

    def update_contact(
        self, store_id: int, customer_id: int, contact_id: int, fields: dict[str, Any]
    ) -> None:
        with self.lock:
            contact = self._find_contact(store_id, customer_id, contact_id)
            contact.update(fields)
            if contact["default"]:
                contacts = self._stores[store_id].contacts[customer_id]
                _demote_defaults(contacts, contact["type"], keep=contact)
            self._stores[store_id].updated[customer_id] = ecwid_timestamp()

    def delete_contact(self, store_id: int, customer_id: int, contact_id: int) -> None:
        with self.lock:
            contact = self._find_contact(store_id, customer_id, contact_id)
            self._stores[store_id].contacts[customer_id].remove(contact)
            self._stores[store_id].updated[customer_id] = ecwid_timestamp()

    def delete_customer(self, store_id: int, customer_id: int) -> None:
        """DELETE /customers/{id}: the customer and its contacts (404 if unknown)."""
        with self.lock:
            store = self._stores[store_id]
            self._contacts_of(store, customer_id)  # 404 if unknown
            del store.customers[customer_id]
            store.contacts.pop(customer_id, None)
            store.updated.pop(customer_id, None)

    def get_customer(self, store_id: int, customer_id: int) -> dict[str, Any]:
        with self.lock:
            store = self._stores[store_id]
            self._contacts_of(store, customer_id)  # 404 if unknown
            return self._customer_json(store, store.customers[customer_id])

    def search_customers(
        self,
        store_id: int,
        *,
        email: str | None = None,
        exact_email: bool = False,
        keyword: str | None = None,
        name: str | None = None,
        sort_by: str = "NAME_ASC",
        offset: int = 0,
        limit: int = 10,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Matching is case-insensitive; `email` matches a part of the address
        unless `exact_email`; `keyword` matches a part of the name or email."""
        with self.lock:
            store = self._stores[store_id]
            found = list(store.customers.values())
            if email is not None:
                want = email.strip().lower()
                found = [
                    c for c in found if (c.email.lower() == want if exact_email else want in c.email.lower())
                ]
            if keyword is not None:
                kw = keyword.strip().lower()
                found = [c for c in found if kw in c.name.lower() or kw in c.email.lower()]
            if name is not None:
                found = [c for c in found if name.strip().lower() in c.name.lower()]
            field_name, _, direction = sort_by.partition("_")
            key = (lambda c: (c.email.lower(), c.id)) if field_name == "EMAIL" else (
                lambda c: (c.name.lower(), c.id)
            )
            found.sort(key=key, reverse=direction == "DESC")
            page = found[offset : offset + limit]
            return len(found), [self._customer_json(store, c) for c in page]

    # ---- internals ----

    def _store_for_admin(self, store_id: int | None) -> Store:
        return self._stores[self._default_store_id if store_id is None else store_id]

    def _contacts_of(self, store: Store, customer_id: int) -> list[dict[str, Any]]:
        if customer_id not in store.customers:
            raise customer_not_found(customer_id)
        return store.contacts.setdefault(customer_id, [])

    def _find_contact(self, store_id: int, customer_id: int, contact_id: int) -> dict[str, Any]:
        for contact in self._contacts_of(self._stores[store_id], customer_id):
            if contact["id"] == contact_id:
                return contact
        raise contact_not_found(contact_id)

    def _customer_json(self, store: Store, c: Customer) -> dict[str, Any]:
        return {
            "id": c.id,
            "name": c.name,
            "email": c.email,
            "registered": self._registered,
            "updated": store.updated.get(c.id, self._registered),
            "totalOrderCount": 0,
            "customerGroupId": 0,
            "customerGroupName": "General",
            "billingPerson": {"name": c.name},
            "shippingAddresses": [],
            "contacts": [dict(x) for x in store.contacts.get(c.id, [])],
            "acceptMarketing": False,
        }


def _demote_defaults(contacts: list[dict[str, Any]], ctype: str, keep: dict | None = None) -> None:
    # ASSUMPTION: the docs say only one contact of a type can be default but not
    # how Ecwid resolves a second one. We let the newest win: the earlier
    # default of that type silently becomes non-default (no 400).
    for other in contacts:
        if other is not keep and other["type"] == ctype:
            other["default"] = False
