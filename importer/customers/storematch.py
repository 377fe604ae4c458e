"""The customer decisions that need the store's answers (importer.mapping.matching has those the file alone tells).

    records = await settle(records, table, directory, match_by, results, stats)   # before resolve_customers

* ids mostly unknown to the store, or naming customers whose email is none of the row's (WooCommerce's
  `customer_id`; at least _PATTERN such ids, else they are crossed rows: customer-mismatch): the rows are named by their emails instead, with ONE note giving the counts; a row
  without an email fails `customer-not-found`. `--match-by id` (match_by="id") keeps the ids.
* a row with several emails names the customer its emails name: the first email (in the row's order)
  that is one customer's; emails naming two different customers make the row `customer-ambiguous`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from importer.customers.directory import Directory
from importer.ecwid.store import StoreReadError
from importer.errors import Code
from importer.mapping.matching import SWITCH_HINT, row_email_lists
from importer.records import ContactRecord, Outcome, Source, Status

if TYPE_CHECKING:
    from importer.customers.customers import CustomerStats
    from importer.frame import Table

log = logging.getLogger("importer")

__all__ = ["settle"]

_SAMPLE = 50  # customers whose contacts are read to tell whether ids naming another email are this store's
# Ids this store knows that name another email's customer count towards the switch only when this many do:
# a pattern (another system's ids colliding with ours), not a few crossed rows, which stay customer-mismatch
# for the user to look at (two swapped ids must not send two rows' contacts to the emails' customers unsaid).
_PATTERN = 5


async def settle(records: list[ContactRecord], table: Table, directory: Directory, match_by: str | None,
                 results: dict[int, ContactRecord], stats: CustomerStats, *, concurrency: int = 4,
                 cancel: asyncio.Event | None = None) -> list[ContactRecord]:
    """The records with the customer key they should be resolved by; rows that can't go on go in `results`;
    a switch to emails is said in `stats.notes`, its id column named in `stats.ids_unused`."""
    several = any(sum(f == "EMAIL" for f in s.table.field_of.values()) > 1 for s in table.sheets) or \
        _cells_of_several(table)
    with_ids = match_by != "id" and any(r.customer_id is not None for r in records)
    if not several and not with_ids:
        return records
    emails_of = row_email_lists(table)
    if match_by != "id":
        records = await _ids_or_emails(records, table, directory, emails_of, results, stats, concurrency, cancel)
    return await _by_row_emails(records, directory, emails_of, results, concurrency, cancel)


def _cells_of_several(table: Table) -> bool:
    """Some row gave several email records from one column ("a@x.com; b@y.com"): its emails may name two
    customers too."""
    frame = table.frame
    emails = frame.loc[(frame["type"] == "EMAIL").to_numpy(dtype=bool), ["sheet_no", "line"]]
    return bool(emails.duplicated().any())


def _emails(record: ContactRecord, emails_of: dict[Source, tuple[str, ...]]) -> tuple[str, ...]:
    listed = emails_of.get(record.source, ())
    return (record.customer_email, *(e for e in listed if e != record.customer_email)) if record.customer_email \
        else listed


async def _ids_or_emails(records, table, directory, emails_of, results, stats, concurrency, cancel):
    """Switch from ids to emails when most ids are unknown to the store or name another email's customer."""
    with_ids = [r for r in records if r.customer_id is not None]
    ids = list(dict.fromkeys(r.customer_id for r in with_ids))
    if not ids or not any(_emails(r, emails_of) for r in with_ids):
        return records
    await directory.load(ids, (), concurrency=concurrency, cancel=cancel)
    # A sample is enough for a majority: ids that are another system's would cost a read each.
    await directory.check_emails(((r.customer_id, _emails(r, emails_of)) for r in with_ids), limit=_SAMPLE,
                                 concurrency=concurrency, cancel=cancel)  # fmt: skip
    unknown, other = set(), set()
    for r in with_ids:
        try:
            customer = directory.by_id(r.customer_id)
        except StoreReadError:  # a read that failed: the resolution says so, row by row
            continue
        emails = set(_emails(r, emails_of))
        if customer is None:
            unknown.add(r.customer_id)
        elif emails and customer.emails and not emails & customer.emails:
            other.add(r.customer_id)
    if len(other) < _PATTERN:
        other = set()
    if (len(unknown) + len(other - unknown)) * 2 <= len(ids):
        return records
    header = next((h for s in table.sheets for h, f in s.table.field_of.items() if f == "customerId"), "customer id")
    counts = f"{len(unknown)} of {len(ids)} unknown"
    if other:
        counts += f", {len(other)} naming a customer with another email"
    note = f"ids in {header!r} are not this store's ({counts}): {SWITCH_HINT}"
    log.info("%s", note)  # the summary's notes print it once
    stats.notes.append(note)
    stats.ids_unused.append(header)
    out = []
    for r in records:
        if r.customer_id is None:
            out.append(r)
        elif emails := _emails(r, emails_of):
            out.append(replace(r, customer_id=None, customer_email=emails[0]))
        else:
            results[r.index] = replace(r, outcome=Code.CUSTOMER_NOT_FOUND.outcome(detail=(
                f"the ids in {header!r} are not this store's and this row has no email to name its customer by")))
    return out


async def _by_row_emails(records, directory, emails_of, results, concurrency, cancel):
    """A row with several emails: the customer they name; two customers: customer-ambiguous."""
    several = {r.source: _emails(r, emails_of) for r in records
               if r.customer_id is None and r.customer_email and len(_emails(r, emails_of)) > 1}
    if not several:
        return records
    await directory.load((), {e for emails in several.values() for e in emails}, concurrency=concurrency, cancel=cancel)
    named: dict[Source, str | Outcome] = {}
    for source, emails in several.items():
        found: dict[int, str] = {}  # customer id -> the row's first email naming it
        for email in emails:
            try:
                customers = directory.by_email(email)
            except StoreReadError:  # the resolution reports a failed read of the row's own key
                continue
            if len(customers) == 1:
                found.setdefault(customers[0].id, email)
        if len(found) == 1:
            named[source] = next(iter(found.values()))
        elif len(found) > 1:
            which = ", ".join(f"{e} is customer {cid}" for cid, e in found.items())
            named[source] = Code.CUSTOMER_AMBIGUOUS.outcome(status=Status.INVALID, detail=(
                f"this row's emails name different customers ({which}): nothing of this row was sent; "
                "keep one customer's emails on a row"))
    out = []
    for r in records:
        choice = named.get(r.source) if r.customer_id is None and r.customer_email else None
        if isinstance(choice, Outcome):
            results[r.index] = replace(r, outcome=choice)
        elif choice is not None:
            out.append(replace(r, customer_email=choice))
        else:
            out.append(r)
    return out
