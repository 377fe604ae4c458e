"""Who each row's customer is, settled before anything is sent.

`resolve_customers` gives every record to send a verified `customer_id`, or an outcome:

* **ids are verified**: each distinct id is read once (importer.customers.directory: per id or the
  paged customer list, whichever takes fewer requests). An id the store lacks fails
  `customer-not-found`. Where the row also holds an email (a customer-email column, or
  in a wide row its Email contacts) and the id's customer has none of them, every record
  of the row is `invalid` `customer-mismatch`, naming both: an export from another
  system may hold *its* ids in a "Customer ID" column, and a contact on the wrong
  customer is worse than an error;
* **emails are resolved**: no customer fails `customer-not-found` (naming
  --create-customers), or with `create` the customer is created (importer.customers.newcustomers);
  several fail `customer-ambiguous` naming their ids; a read that fails for good fails
  `customer-lookup-failed`; a 403 raises RunStopped: the run must stop;
* when most ids are unknown to the store but their rows' emails are customers, one
  note says so and names `--match-by email`;
* after resolution a row by email may repeat a row by id (same customer, type and
  contact): the later row in input order becomes `duplicate`, as in validate;
* whether the customer already has a row's contact is settled afterwards, for every
  row alike (importer.customers.instore), from the contacts these reads carried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from importer.checks.contactfields import match_key
from importer.customers.directory import Directory
from importer.customers.newcustomers import CustomerCreateError, CustomerCreator
from importer.deliver.tasks import bounded
from importer.ecwid.store import StoreReadError
from importer.errors import Code
from importer.records import ContactRecord, Outcome, Source

log = logging.getLogger(__name__)


@dataclass
class CustomerStats:
    """How the customers were settled, for summary.json (reads are counted by the Directory)."""

    not_found: int = 0  # distinct ids and emails the store lacks
    ambiguous: int = 0  # distinct emails of several customers
    failed: int = 0  # distinct ids and emails whose read failed for good
    mismatch: int = 0  # rows whose id's customer has another email
    created: int = 0  # customers created (--create-customers)
    would_create: int = 0  # dry run: customers --create-customers would create
    notes: list[str] = field(default_factory=list)
    ids_unused: list[str] = field(default_factory=list)  # id columns found not to be this store's (storematch)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if k not in ("notes", "ids_unused")}


@dataclass
class Resolution:
    """What settling the customers needs beyond the records."""

    directory: Directory
    create: bool = False  # --create-customers
    creator: CustomerCreator | None = None  # None in a dry run: customers are counted, not created
    names: Mapping[str, str] = field(default_factory=dict)  # email -> the row's name, for a new customer
    row_emails: Mapping[Source, frozenset[str]] = field(default_factory=dict)  # wide rows: their Email contacts


def needs_lookup(record: ContactRecord) -> bool:
    return record.customer_id is None and bool(record.customer_email)


_NOT_YET = object()  # dry run with --create-customers: the customer would be created


async def resolve_customers(
    records: list[ContactRecord],
    how: Resolution,
    results: dict[int, ContactRecord],
    *,
    concurrency: int = 4,
    cancel: asyncio.Event | None = None,
    stats: CustomerStats | None = None,
) -> list[ContactRecord]:
    """Records with a verified `customer_id` (or, in a dry run, a customer to create), in order;
    rows that can't go on are put in `results`. Raises RunStopped (scope, auth, plan, store, or
    `cancel` set) with nothing created but customers."""
    stats = stats if stats is not None else CustomerStats()
    directory = how.directory
    ids = list(dict.fromkeys(r.customer_id for r in records if r.customer_id is not None))
    emails = list(dict.fromkeys(r.customer_email for r in records if needs_lookup(r)))
    if not ids and not emails:
        return records
    await directory.load(ids, emails, concurrency=concurrency, cancel=cancel)

    await directory.check_emails(((r.customer_id, _emails_of(r, how.row_emails)) for r in records
                                  if r.customer_id is not None), concurrency=concurrency, cancel=cancel)  # fmt: skip
    verdicts = {e: _email_verdict(directory, e, how.create) for e in emails}
    missing = [e for e, v in verdicts.items() if v is _NOT_YET]
    if how.creator is not None:
        try:
            await _create(missing, how, verdicts, concurrency, cancel)
        finally:  # counted even when the run stops part way
            stats.created = how.creator.created
    else:
        stats.would_create = len(missing)
    outcomes = [v for v in verdicts.values() if isinstance(v, Outcome)]
    stats.not_found += sum(o.error_code == Code.CUSTOMER_NOT_FOUND for o in outcomes)
    stats.ambiguous += sum(o.error_code == Code.CUSTOMER_AMBIGUOUS for o in outcomes)
    stats.failed += sum(o.error_code in (Code.CUSTOMER_LOOKUP_FAILED, Code.CUSTOMER_CREATE_FAILED) for o in outcomes)

    resolved: list[ContactRecord] = []
    unknown: dict[int, set[str]] = {}  # ids the store lacks -> their rows' emails
    for record in records:
        if record.customer_id is not None:
            outcome = _check_id(record, directory, _emails_of(record, how.row_emails), unknown)
            stats.mismatch += outcome is not None and outcome.error_code == Code.CUSTOMER_MISMATCH
        elif needs_lookup(record):
            verdict = verdicts[record.customer_email]
            outcome = verdict if isinstance(verdict, Outcome) else None
            if isinstance(verdict, int):
                record = replace(record, customer_id=verdict)
        else:
            outcome = None
        if outcome is not None:
            results[record.index] = replace(record, outcome=outcome)
        else:
            resolved.append(record)
    stats.not_found += len(unknown)
    stats.failed += sum(1 for i in ids if i not in unknown and _read_failed(directory, i))
    if unknown:
        await _hint(unknown, len(ids), directory, stats, concurrency, cancel)
    return _mark_duplicates(resolved, results)


def _emails_of(record: ContactRecord, row_emails: Mapping[Source, frozenset[str]]) -> frozenset[str]:
    """The emails a row gives for its customer: its customer-email cell, else (wide) its Email contacts."""
    if record.customer_email:
        return frozenset({record.customer_email})
    return row_emails.get(record.source, frozenset())


def _read_failed(directory: Directory, customer_id: int) -> bool:
    try:
        directory.by_id(customer_id)
    except StoreReadError:
        return True
    return False


def _check_id(record: ContactRecord, directory: Directory, emails: frozenset[str],
              unknown: dict[int, set[str]]) -> Outcome | None:
    cid = record.customer_id
    try:
        customer = directory.by_id(cid)
    except StoreReadError as exc:
        return Code.CUSTOMER_LOOKUP_FAILED.outcome(what=f"read customer {cid}", reason=exc)
    if customer is None:
        unknown.setdefault(cid, set()).update(emails)
        return Code.CUSTOMER_NOT_FOUND.outcome(detail=f"no customer {cid} in the store")
    if emails and customer.emails and not emails & customer.emails:
        row = ", ".join(sorted(emails))
        return Code.CUSTOMER_MISMATCH.outcome(detail=(
            f"customer {cid} in the store is {customer.email or sorted(customer.emails)[0]}, but this row's email is "
            f"{row}: nothing of this row was sent (if the ids are another system's, name customers by email with "
            "--match-by email)"))  # fmt: skip
    return None


def _email_verdict(directory: Directory, email: str, create: bool) -> int | Outcome | object:
    try:
        found = directory.by_email(email)
    except StoreReadError as exc:
        return Code.CUSTOMER_LOOKUP_FAILED.outcome(what=f"look up the customer {email}", reason=exc)
    ids = sorted({c.id for c in found})
    if len(ids) == 1:
        return ids[0]
    if not ids:
        if create:
            return _NOT_YET
        return Code.CUSTOMER_NOT_FOUND.outcome(
            detail=f"no customer with the email {email} in the store (--create-customers creates it)")
    return Code.CUSTOMER_AMBIGUOUS.outcome(
        detail=f"{len(ids)} customers have the email {email} (ids {', '.join(map(str, ids))}): name the customer by id")


async def _create(emails: list[str], how: Resolution, verdicts: dict, concurrency: int,
                  cancel: asyncio.Event | None) -> None:
    async def make(email: str) -> None:
        try:
            customer = await how.creator.create(email, how.names.get(email, ""))
        except CustomerCreateError as exc:
            verdicts[email] = Code.CUSTOMER_CREATE_FAILED.outcome(detail=exc)
            return
        except StoreReadError as exc:  # the search after a lost answer failed
            verdicts[email] = Code.CUSTOMER_CREATE_FAILED.outcome(detail=f"creating the customer {email}: {exc}")
            return
        how.directory.learn(customer)
        verdicts[email] = customer.id

    if emails:
        log.info("creating %d customer(s) the store lacks (--create-customers)", len(emails))
    await bounded(emails, make, concurrency, cancel)


_HINT_SAMPLE = 5


async def _hint(unknown: dict[int, set[str]], n_ids: int, directory: Directory, stats: CustomerStats,
                concurrency: int, cancel: asyncio.Event | None) -> None:
    """Most ids unknown to the store, but their rows' emails are customers: say so once, with the fix."""
    if len(unknown) * 2 <= n_ids:
        return
    sample = sorted({e for emails in unknown.values() for e in emails})[:_HINT_SAMPLE]
    if not sample:
        return
    await directory.load((), sample, concurrency=concurrency, cancel=cancel)
    known = sum(1 for e in sample if _is_customer(directory, e))
    if known * 2 < len(sample):
        return
    note = (f"{len(unknown)} of the {n_ids} customer ids in the input are not customers of this store, but "
            f"{known} of {len(sample)} of their rows' emails are: the ids are probably another system's; "
            "rerun with --match-by email to name customers by their email")  # fmt: skip
    log.warning("%s", note)
    stats.notes.append(note)


def _is_customer(directory: Directory, email: str) -> bool:
    try:
        return bool(directory.by_email(email))
    except StoreReadError:
        return False


def _mark_duplicates(records: list[ContactRecord], results: dict[int, ContactRecord]) -> list[ContactRecord]:
    """A row by email that turned out to repeat an earlier row (by id or email): `duplicate`."""
    first: dict[tuple[int | None, str, str], ContactRecord] = {}
    kept = []
    for record in sorted(records, key=lambda r: r.index):  # the same contact: emails in any case
        earlier = first.setdefault((record.customer_id, *match_key(record.type, record.contact)), record)
        if earlier is record:
            kept.append(record)
            continue
        outcome = Code.DUPLICATE.outcome(earlier=earlier.source, customer=f" (customer {record.customer_id})")
        results[record.index] = replace(record, outcome=outcome, duplicate_of=earlier.source)
    return kept
