"""The sandbox's settings and its customers.

Kept apart from the state so a config can be built (from Python or the command
line) and checked without starting anything.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from importer.sandbox.batch import BatchSettings
from importer.sandbox.faults import FaultSettings

READ = "read_customers"
CREATE = "create_customers"
UPDATE = "update_customers"
ALL_SCOPES: frozenset[str] = frozenset({READ, CREATE, UPDATE})

DEMO_TOKEN = "secret_sandbox_demo_token"


@dataclass(frozen=True)
class Customer:
    id: int
    email: str = ""
    name: str = ""
    # Contacts the store holds at start: dicts of the API's contact fields (type, contact, note, ...).
    contacts: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)


def generated_customer(customer_id: int) -> Customer:
    """The customer a bare id stands for: a predictable email and name."""
    return Customer(customer_id, f"customer{customer_id}@example.com", f"Customer {customer_id}")


# What `SandboxConfig.customers` accepts: a count (ids 1..N), ids, dicts or
# Customers with id/email/name, or the path of a CSV file with those columns.
CustomersSpec = Union[int, str, os.PathLike, Iterable[Any]]


def load_customers_csv(path: str | os.PathLike) -> list[Customer]:
    """Customers from a CSV with columns id, email, name and contacts (header case ignored; all but id optional).

    A `contacts` cell holds the customer's contacts at start: `TYPE:value` items separated by `;`, each
    with an optional note after ` #` (`EMAIL:Ann@Example.com; PHONE:+1 415 555 0101 #Mobile`), or a JSON
    list of contact objects (`[{"type": "PHONE", "contact": "+14155550101", "default": true}]`)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return [customer_from(row) for row in rows]


def customer_from(item: Any) -> Customer:
    if isinstance(item, Customer):
        return item
    if isinstance(item, Mapping):
        lowered = {str(k).strip().lower(): v for k, v in item.items()}
        if lowered.get("id") in (None, ""):
            raise ValueError(f"customer without id: {dict(item)!r}")
        cid = int(str(lowered["id"]).strip())
        base = generated_customer(cid)
        return Customer(
            cid,
            str(lowered.get("email") or base.email).strip(),
            str(lowered.get("name") or base.name).strip(),
            contacts_from(lowered.get("contacts")),
        )
    if isinstance(item, bool) or not isinstance(item, int):
        raise TypeError(f"a customer is an int id, a mapping or a Customer, not {item!r}")
    return generated_customer(item)


def contacts_from(spec: Any) -> tuple[dict[str, Any], ...]:
    """A customer's contacts at start: a list of contact dicts, or a CSV cell (see load_customers_csv)."""
    if spec in (None, ""):
        return ()
    if isinstance(spec, str) and spec.strip().startswith("["):
        spec = json.loads(spec)
    if isinstance(spec, str):
        items = []
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            ctype, colon, rest = part.partition(":")
            if not colon or not rest.strip():
                raise ValueError(f"a contact is TYPE:value, not {part!r}")
            value, _, note = rest.partition(" #")
            items.append({"type": ctype.strip().upper(), "contact": value.strip(), **({"note": note.strip()} if note else {})})
        spec = items
    contacts = tuple(dict(c) for c in spec)
    for c in contacts:
        if not c.get("type") or not c.get("contact"):
            raise ValueError(f"a contact needs a type and a contact: {c!r}")
    return contacts


def customers_from_spec(spec: CustomersSpec) -> list[Customer]:
    if isinstance(spec, bool):
        raise TypeError("customers must be a count, ids, mappings or a CSV path")
    if isinstance(spec, int):
        if spec < 0:
            raise ValueError("customer count must be >= 0")
        return [generated_customer(i) for i in range(1, spec + 1)]
    if isinstance(spec, (str, os.PathLike)):
        return load_customers_csv(Path(spec))
    return [customer_from(item) for item in spec]


@dataclass(frozen=True)
class SandboxConfig(FaultSettings):
    """Everything the sandbox can be told at start: the faults (FaultSettings' fields), then these.

    Rate limit: `rate_per_minute` is the average rate allowed; any window of
    `window_s` seconds admits `rate_per_minute * window_s / 60` requests (600
    in 60 s by default). A short window makes tests fast and also stricter
    about bursts, so a client that passes here paces smoothly.
    """

    store_id: int = 1003
    token: str = DEMO_TOKEN  # the demo token: every scope, bound to store_id
    scopes: frozenset[str] = ALL_SCOPES
    customers: CustomersSpec = 100  # an int N means ids 1..N
    # rate limit, per token
    rate_per_minute: int | None = 600  # None: unlimited
    window_s: float = 60.0
    block_after: int = 20  # 429s within one window before the token is blocked
    block_s: float | None = None  # how long a block lasts; None: 5 windows
    bad_token_limit: int | None = 20  # non-working-token requests per IP per window
    # store flags
    plan_ok: bool = True  # False: 402 NOT_AVAILABLE_ON_CURRENT_PLAN
    suspended: bool = False  # True: 402 STORE_IS_SUSPENDED
    log_limit: int = 100_000  # request log entries kept (oldest dropped)
    extra_tokens: Mapping[str, frozenset[str]] = field(default_factory=dict)
    batch: BatchSettings = field(default_factory=BatchSettings)  # the batch API: speed, counting, faults

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.window_s <= 0:
            raise ValueError("window_s must be > 0")
        if self.rate_per_minute is not None:
            if self.rate_per_minute <= 0:
                raise ValueError("rate_per_minute must be > 0 (None for unlimited)")
            limit_per_window(self.rate_per_minute, self.window_s)
        if not self.token:
            raise ValueError("token must not be empty")
        if not set(self.scopes) <= ALL_SCOPES:
            raise ValueError(f"unknown scopes: {set(self.scopes) - ALL_SCOPES}")

    @property
    def block_seconds(self) -> float:
        return self.block_s if self.block_s is not None else 5 * self.window_s


def limit_per_window(rate_per_minute: float, window_s: float) -> int:
    """Requests admitted per window; must be whole, or smooth pacing at the
    nominal rate could meet a 429 that the rate itself does not justify."""
    exact = rate_per_minute * window_s / 60.0
    limit = round(exact)
    if limit < 1 or not math.isclose(exact, limit, rel_tol=1e-9, abs_tol=1e-9):
        raise ValueError(
            f"rate_per_minute * window_s / 60 must be a whole number >= 1, got {exact:g}"
        )
    return limit
