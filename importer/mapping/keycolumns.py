"""Which columns name the customer and the country, once the headers are read (importer.mapping.headers.plan_table).

    both = choose_customer_key(where, headers, assign, CustomerKey(column, match_by), long, log, drop_ids)
    pairs, paired = choose_country(where, headers, assign, notes)

`assign` maps a column's index to what it is read as; these functions edit it in place:
--customer-key and --match-by applied; with no id column (or its ids dropped) the wide row's
email columns name the customer, the primary first; of several country columns the billing one,
else the primary, else the first, and a phone column paired by its words with its own country
column (`Shipping Phone`, `Shipping Country`) is read there.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from importer.errors import InputError
from importer.rules.words import country_rank, norm, pair_words
from importer.records import ContactType

__all__ = ["CustomerKey", "MATCH_BY", "columns_for", "key_column", "choose_customer_key", "choose_country"]


_PHONES = (ContactType.PHONE, ContactType.WHATSAPP, ContactType.VIBER)


def columns_for(assign: dict[int, str], *targets: str) -> list[int]:
    return [i for i, t in assign.items() if t in targets]


@dataclass(frozen=True)
class CustomerKey:
    """How rows name their customer: --customer-key COLUMN (an email column), --match-by id|email."""

    column: str | None = None
    match_by: str | None = None  # None or "id": the id where given, else the email; "email": the email only


MATCH_BY = ("id", "email")


def key_column(where: str, headers: list[str], column: str, option: str = "--customer-key") -> int:
    at = [i for i, h in enumerate(headers) if norm(h) == norm(column)]
    if not at:
        found = ", ".join(repr(h) for h in headers if h) or "none"
        raise InputError(where, f"no column {column!r} ({option}); found: {found}")
    return at[0]


def choose_customer_key(where: str, headers: list[str], assign: dict[int, str], key: CustomerKey,
                         long: bool, log: logging.Logger, drop_ids: bool) -> list[int]:
    """Apply --customer-key / --match-by to `assign`; in wide layout return the Email columns that name the
    customer and are contacts too, the primary first (none: an id or customer-email column names it)."""
    if key.column is not None:
        at = key_column(where, headers, key.column)
        for i in columns_for(assign, "customerEmail"):
            if i != at:
                log.info("%s: column %r not used: --customer-key %r names the customer", where, headers[i], key.column)
                del assign[i]
        if not long and assign.get(at) == ContactType.EMAIL:
            both = [at]  # still imported as an EMAIL contact
        else:
            assign[at] = "customerEmail"
            both = []
        if key.match_by != "email":
            return both
    else:
        both = []
    if key.match_by == "email" or drop_ids:
        for i in columns_for(assign, "customerId"):
            log.info("%s: column %r ignored: %s", where, headers[i], "--match-by email" if not drop_ids else
                     "its values are not this store's customer ids")
            del assign[i]
    if both or {"customerId", "customerEmail"} & set(assign.values()) or key.match_by == "id":
        return both
    emails = _by_number([i for i, t in assign.items() if t == ContactType.EMAIL], headers)
    if long or not emails:
        if len(emails) != 1 and (key.match_by == "email" or long and emails):
            listed = ", ".join(repr(headers[i]) for i in emails) or "none"
            raise InputError(where, f"--match-by email: no single customer email column (email columns: {listed}); "
                             "name it with --customer-key COLUMN")
        if long and emails:  # beside Type and Contact, the Email column is only the customer's
            assign[emails[0]] = "customerEmail"
        return []
    log.info("%s: customers named by the row's emails (%s)", where, ", ".join(repr(headers[i]) for i in emails))
    return emails


def _by_number(columns: list[int], headers: list[str]) -> list[int]:
    """Numbered columns (Outlook's `E-mail Address`, `E-mail 2 Address`; Google's `E-mail 1 - Value`) by their
    number (none counts as 1), then in column order."""
    number = {i: int(m.group()) if (m := re.search(r"\d+", headers[i])) else 1 for i in columns}
    return sorted(columns, key=lambda i: (number[i], i))


def choose_country(where: str, headers: list[str], assign: dict[int, str],
                    notes: list[str]) -> tuple[list[tuple[int, int]], list[int]]:
    """Several country columns: the billing one, else the primary, else the first, said in a note; a phone column
    whose words pair it with another (`Shipping Phone` - `Shipping Country`) is read in that one.
    Returns (phone column, its country column) pairs and the country columns the pairs use besides the chosen."""
    countries = columns_for(assign, "country")
    if len(countries) < 2:
        return [], []
    chosen = min(countries, key=lambda i: country_rank(headers[i], i))
    pairs = []
    for i, t in assign.items():
        mine = pair_words(headers[i]) if t in _PHONES else frozenset()
        match = [c for c in countries if mine & pair_words(headers[c])]
        if len(match) == 1 and match[0] != chosen:
            pairs.append((i, match[0]))
    for i in countries:
        if i != chosen:
            del assign[i]
    said = "".join(f"; {headers[p]!r} in {headers[c]!r}" for p, c in pairs)
    others = ", ".join(repr(headers[i]) for i in countries if i != chosen)
    notes.append(f"{where}: phone numbers without +country code are read in the country of column "
                 f"{headers[chosen]!r}, not {others}{said}; --country-column COLUMN to choose one for all")
    return pairs, sorted({c for _, c in pairs})

