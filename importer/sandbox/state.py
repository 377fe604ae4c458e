"""The sandbox's memory: stores, tokens, customers, contacts, limits, stats, log.

One lock guards everything: the server's event loop thread writes, tests read
from the main thread. Every method returns copies, never live objects.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from importer.sandbox.batch import BatchQueue
from importer.sandbox.config import (
    Customer,
    SandboxConfig,
    customers_from_spec,
    generated_customer,
    limit_per_window,
)
from importer.sandbox.contacts import ecwid_timestamp
from importer.sandbox.errors import ApiError, contact_not_found, customer_not_found
from importer.sandbox.faults import FaultDraw, FaultSettings, draw
from importer.sandbox.ratelimit import Refusal, SlidingWindowLimiter

FIRST_CONTACT_ID = 100_000_001  # Ecwid's contact ids are large integers


def token_hash(token: str) -> str:
    """How the log names a token: enough to tell tokens apart, useless to replay."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class TokenInfo:
    store_id: int
    scopes: frozenset[str]


@dataclass
class _Store:
    id: int
    plan_ok: bool = True
    suspended: bool = False
    customers: dict[int, Customer] = field(default_factory=dict)
    contacts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    updated: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SandboxStats:
    requests: int  # answered or cut (not counting those still in flight)
    by_status: Counter  # HTTP status -> count; cut requests have none
    rate_limited: int  # 429s, blocked ones included
    blocked: int  # 429s answered during a long block
    faults: int  # injected 5xx answers
    cuts: int  # writes committed (a create, update or delete), then their connection dropped
    creates_committed: int  # contacts stored by POST (cut ones included)
    in_flight: int
    max_in_flight: int
    customers_created: int = 0  # by POST /customers (cut ones included)


@dataclass(frozen=True)
class LoggedRequest:
    seq: int
    method: str
    path: str
    query: str  # a `token` parameter's value is replaced by ***
    status: int | None  # None: the connection was cut
    token_hash: str | None  # never the token itself
    time: float  # arrival, seconds since the sandbox started
    duration_s: float
    body: str  # request body as text, truncated
    fault: str | None  # rate_limited | blocked | fail | cut


class SandboxState:
    def __init__(self, config: SandboxConfig, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.started_at = clock()
        self._registered = ecwid_timestamp()
        self._stores: dict[int, _Store] = {}
        self._tokens: dict[str, TokenInfo] = {}
        self._next_contact_id = FIRST_CONTACT_ID
        # The config's fault fields carry the same names as FaultSettings'.
        self._faults = FaultSettings(**{f.name: getattr(config, f.name) for f in fields(FaultSettings)})
        self._limiter: SlidingWindowLimiter | None = None
        self._bad_tokens: SlidingWindowLimiter | None = None
        self.set_rate(config.rate_per_minute, config.window_s)
        self._seq = 0
        self._log: deque[LoggedRequest] = deque(maxlen=config.log_limit)
        self._reset_counters()

        self.add_store(config.store_id, plan_ok=config.plan_ok, suspended=config.suspended)
        self.add_token(config.token, config.scopes)
        for token, scopes in config.extra_tokens.items():
            self.add_token(token, scopes)
        self._put_customers(self._stores[config.store_id], customers_from_spec(config.customers))
        self.batches = BatchQueue(self, config.batch)  # the batch API's tickets (importer.sandbox.batch)

    # ---- set-up and inspection (tests, CLI) ----

    def add_store(self, store_id: int, *, plan_ok: bool = True, suspended: bool = False) -> None:
        with self.lock:
            self._stores[store_id] = _Store(store_id, plan_ok, suspended)

    def set_store(
        self, store_id: int | None = None, *, plan_ok: bool | None = None, suspended: bool | None = None
    ) -> None:
        with self.lock:
            store = self._store_for_admin(store_id)
            if plan_ok is not None:
                store.plan_ok = plan_ok
            if suspended is not None:
                store.suspended = suspended

    def add_token(self, token: str, scopes: Iterable[str], store_id: int | None = None) -> None:
        with self.lock:
            sid = self.config.store_id if store_id is None else store_id
            self._tokens[token] = TokenInfo(sid, frozenset(scopes))

    def remove_token(self, token: str) -> None:
        with self.lock:
            self._tokens.pop(token, None)

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
                start = max(store.customers, default=0) + 1
                id_list = list(range(start, start + len(emails)))
            else:
                id_list = [int(i) for i in ids]
            for extra, label in ((emails, "emails"), (names, "names")):
                if extra is not None and len(extra) != len(id_list):
                    raise ValueError(f"{label} must be as long as ids")
            built = []
            for i, cid in enumerate(id_list):
                base = generated_customer(cid)
                email = (emails[i] if emails is not None else None) or base.email
                name = (names[i] if names is not None else None) or base.name
                built.append(Customer(cid, email, name))
            self._put_customers(store, built)
            return id_list

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

    def set_fault(self, **changes: Any) -> None:
        """Change fault settings at run time: fail_rate, cut_rate, latency_ms, …"""
        with self.lock:
            self._faults = replace(self._faults, **changes)

    @property
    def faults(self) -> FaultSettings:
        with self.lock:
            return self._faults

    def set_rate(self, rate_per_minute: int | None, window_s: float | None = None) -> None:
        """Change the rate limit; forgets what each token has sent so far."""
        with self.lock:
            cfg = self.config
            window = cfg.window_s if window_s is None else window_s
            self._limiter = None
            if rate_per_minute is not None:
                limit = limit_per_window(rate_per_minute, window)
                self._limiter = SlidingWindowLimiter(
                    limit, window, cfg.block_after, cfg.block_seconds
                )
            self._bad_tokens = None
            if cfg.bad_token_limit is not None:
                self._bad_tokens = SlidingWindowLimiter(
                    cfg.bad_token_limit, window, 0, cfg.block_seconds
                )

    @property
    def stats(self) -> SandboxStats:
        with self.lock:
            return SandboxStats(
                requests=self._requests,
                by_status=Counter(self._by_status),
                rate_limited=self._rate_limited,
                blocked=self._blocked,
                faults=self._fault_count,
                cuts=self._cuts,
                creates_committed=self._creates,
                in_flight=self._in_flight,
                max_in_flight=self._max_in_flight,
                customers_created=self._customers_created,
            )

    @property
    def requests(self) -> list[LoggedRequest]:
        with self.lock:
            return list(self._log)

    def reset_stats(self) -> None:
        """Clear counters and the request log (not contacts, not rate-limit history)."""
        with self.lock:
            in_flight = getattr(self, "_in_flight", 0)
            self._reset_counters()
            self._in_flight = self._max_in_flight = in_flight
            self._log.clear()

    # ---- request lifecycle (the app's middleware) ----

    def begin(self) -> tuple[int, float, FaultDraw]:
        """A request arrived: its sequence number, arrival time and faults."""
        with self.lock:
            self._seq += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            now = self.clock()
            return self._seq, now, draw(self._faults, self._seq, now - self.started_at)

    def admit(self, token: str | None, client: str, now: float) -> Refusal | None:
        """Rate limit: per working token; per client address for the rest."""
        with self.lock:
            if token is not None and token in self._tokens:
                return self._limiter.hit(token_hash(token), now) if self._limiter else None
            return self._bad_tokens.count_only(client, now) if self._bad_tokens else None

    def charge(self, token: str) -> float:
        """A batch's inner request, counted against its token's limit: 0.0 when counted now, else seconds to wait.
        ASSUMPTION: it leaves 1 % of the window (at least one request) to the token's own requests, so a
        client can still poll while its batches fill the window."""
        with self.lock:
            if self._limiter is None:
                return 0.0
            return self._limiter.take(token_hash(token), self.clock(), reserve=max(1, self._limiter.limit // 100))

    def finish(self, entry: LoggedRequest) -> None:
        with self.lock:
            self._in_flight -= 1
            self._requests += 1
            if entry.status is not None:
                self._by_status[entry.status] += 1
            if entry.fault in ("rate_limited", "blocked"):
                self._rate_limited += 1
            self._blocked += entry.fault == "blocked"
            self._fault_count += entry.fault == "fail"
            self._cuts += entry.fault == "cut"
            self._log.append(replace(entry, time=entry.time - self.started_at))

    # ---- the API's operations ----

    def authorize(self, store_id: int, token: str | None, scope: str | None) -> None:
        """Ecwid's order of checks: store, token, plan, scope (None: any)."""
        with self.lock:
            store = self._stores.get(store_id)
            if store is None:
                raise ApiError(404, f"Store #{store_id} not found", "STORE_NOT_FOUND")
            info = self._tokens.get(token) if token else None
            if info is None or info.store_id != store_id:
                raise ApiError(403, "Invalid access token in the request", "INVALID_API_TOKEN")
            if store.suspended:
                raise ApiError(402, "Store is suspended", "STORE_IS_SUSPENDED")
            if not store.plan_ok:
                raise ApiError(402, "Feature not available on current plan", "NOT_AVAILABLE_ON_CURRENT_PLAN")
            if scope is not None and scope not in info.scopes:
                raise ApiError(
                    403, f"Application doesn't have the required scope: {scope}", "INSUFFICIENT_APP_SCOPE"
                )

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
            self._creates += 1

    def create_customer(self, store_id: int, email: str, name: str) -> int:
        """POST /customers: a new customer with the next free id."""
        with self.lock:
            store = self._stores[store_id]
            new_id = max(store.customers, default=0) + 1
            self._put_customers(store, [Customer(new_id, email, name)])
            store.updated[new_id] = ecwid_timestamp()
            self._customers_created += 1
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

    def _reset_counters(self) -> None:
        self._requests = 0
        self._by_status: Counter = Counter()
        self._rate_limited = self._blocked = self._fault_count = 0
        self._cuts = self._creates = self._customers_created = 0
        self._in_flight = self._max_in_flight = 0

    def _store_for_admin(self, store_id: int | None) -> _Store:
        return self._stores[self.config.store_id if store_id is None else store_id]

    def _put_customers(self, store: _Store, customers: Iterable[Customer]) -> None:
        for c in customers:
            store.customers[c.id] = c
            held = store.contacts.setdefault(c.id, [])
            for given in c.contacts:  # what the customer holds at start (--sandbox-customers)
                held.append({"id": self._next_contact_id, "default": False, "orderBy": len(held),
                             "timestamp": ecwid_timestamp(), **given})  # fmt: skip
                self._next_contact_id += 1

    def _contacts_of(self, store: _Store, customer_id: int) -> list[dict[str, Any]]:
        if customer_id not in store.customers:
            raise customer_not_found(customer_id)
        return store.contacts.setdefault(customer_id, [])

    def _find_contact(self, store_id: int, customer_id: int, contact_id: int) -> dict[str, Any]:
        for contact in self._contacts_of(self._stores[store_id], customer_id):
            if contact["id"] == contact_id:
                return contact
        raise contact_not_found(contact_id)

    def _customer_json(self, store: _Store, c: Customer) -> dict[str, Any]:
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
