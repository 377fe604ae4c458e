"""Customers named by email: find each one's id in the store, once per run.

A file from another CRM may name the customer by email instead of Ecwid's id.
Before anything is created (and before the journal is consulted, so its keys use
the id), `resolve_customers` turns every such record into one with `customer_id`:

* each distinct email is looked up once per run, `GET /customers?email=…
  &useExactEmailMatch=true`, through the run's StoreReader (so the lookup waits
  at the same Pacer as every create, and is retried like every read); the
  journal remembers the answer, so a later run looks it up not at all;
* no customer → the row fails `customer-not-found`; several → `customer-ambiguous`
  naming their ids; a lookup that fails for good → `customer-lookup-failed`;
  a 403 (no read_customers scope) raises RunStopped: the run must stop;
* after resolution a row by email may repeat a row by id (same customer, type and
  contact): the later row in input order becomes `duplicate`, as in validate;
  duplicate defaults across the two are not re-checked (Ecwid keeps the last one);
* a row whose contact is the customer's own key email (wide layout with
  `--match-by email`) is imported unless the store already has that contact:
  the customer's contacts are read once and the row skipped `exists-in-store`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace

from importer.errors import RunStopped
from importer.journal import Journal
from importer.records import Code, ContactRecord, ContactType, Outcome, Status
from importer.store import StoreReader, StoreReadError

log = logging.getLogger(__name__)


@dataclass
class LookupStats:
    """What resolution cost, for summary.json."""

    emails: int = 0  # distinct customer emails among the records to send
    from_journal: int = 0  # answered by the journal of an earlier run
    lookups: int = 0  # emails looked up in the store (one each; retries not counted)
    not_found: int = 0
    ambiguous: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass(frozen=True, slots=True)
class _Verdict:
    customer_id: int | None = None  # found: exactly one customer
    outcome: Outcome | None = None  # otherwise: how its rows fail


def needs_lookup(record: ContactRecord) -> bool:
    return record.customer_id is None and bool(record.customer_email)


async def resolve_customers(
    records: list[ContactRecord],
    reader: StoreReader,
    journal: Journal | None,
    results: dict[int, ContactRecord],
    *,
    concurrency: int = 4,
    cancel: asyncio.Event | None = None,
    stats: LookupStats | None = None,
) -> list[ContactRecord]:
    """Records with `customer_id` filled in, in order; rows that can't go on are put in `results`.

    Raises RunStopped (scope, auth, plan, store, or `cancel` set) with nothing created.
    """
    stats = stats if stats is not None else LookupStats()
    emails = list(dict.fromkeys(r.customer_email for r in records if needs_lookup(r)))
    if not emails:
        return records
    stats.emails = len(emails)
    verdicts: dict[str, _Verdict] = {}
    for email in emails:
        known = journal.customer_for_email(email) if journal is not None else None
        if known is not None:
            verdicts[email] = _Verdict(known)
    stats.from_journal = len(verdicts)
    todo = [e for e in emails if e not in verdicts]
    log.info("looking up %d customer email(s) in the store (%d known from the journal)", len(todo), len(verdicts))

    async def look_up(email: str) -> None:
        stats.lookups += 1
        verdicts[email] = verdict = await _look_up(reader, email)
        if verdict.customer_id is not None and journal is not None:
            journal.remember_customer(email, verdict.customer_id)
        elif verdict.outcome is not None:
            code = verdict.outcome.error_code
            stats.not_found += code == Code.CUSTOMER_NOT_FOUND
            stats.ambiguous += code == Code.CUSTOMER_AMBIGUOUS
            stats.failed += code == Code.CUSTOMER_LOOKUP_FAILED

    await bounded(todo, look_up, concurrency, cancel)

    resolved: list[ContactRecord] = []
    own_emails: list[ContactRecord] = []
    for record in records:
        if not needs_lookup(record):
            resolved.append(record)
            continue
        verdict = verdicts[record.customer_email]
        if verdict.outcome is not None:
            results[record.index] = replace(record, outcome=verdict.outcome)
            continue
        record = replace(record, customer_id=verdict.customer_id)
        resolved.append(record)
        if record.type == ContactType.EMAIL and record.contact.lower() == record.customer_email:
            own_emails.append(record)
    resolved = _mark_duplicates(resolved, results)
    skipped = await _skip_own_emails([r for r in own_emails if r.index not in results], reader, results, concurrency, cancel)
    return [r for r in resolved if r.index not in skipped]


async def _look_up(reader: StoreReader, email: str) -> _Verdict:
    try:
        found = await reader.customers_by_email(email)
    except StoreReadError as exc:
        return _Verdict(outcome=Outcome(Status.FAILED, error_code=Code.CUSTOMER_LOOKUP_FAILED,
                                        error=f"could not look up the customer {email}: {exc}"))  # fmt: skip
    ids = sorted({int(c["id"]) for c in found if str(c.get("id", "")).isdigit()})
    if len(ids) == 1:
        return _Verdict(ids[0])
    if not ids:
        return _Verdict(outcome=Outcome(Status.FAILED, error_code=Code.CUSTOMER_NOT_FOUND,
                                        error=f"no customer with the email {email} in the store"))  # fmt: skip
    return _Verdict(outcome=Outcome(
        Status.FAILED, error_code=Code.CUSTOMER_AMBIGUOUS,
        error=f"{len(ids)} customers have the email {email} (ids {', '.join(map(str, ids))}): name the customer by id",
    ))  # fmt: skip


def _mark_duplicates(records: list[ContactRecord], results: dict[int, ContactRecord]) -> list[ContactRecord]:
    """A row by email that turned out to repeat an earlier row (by id or email): `duplicate`."""
    first: dict[tuple[str, str, str], ContactRecord] = {}
    kept = []
    for record in sorted(records, key=lambda r: r.index):
        earlier = first.setdefault(record.key, record)
        if earlier is record:
            kept.append(record)
            continue
        outcome = Outcome(Status.DUPLICATE, error_code=Code.DUPLICATE,
                          error=f"same as {earlier.source} (customer {record.customer_id})")  # fmt: skip
        results[record.index] = replace(record, outcome=outcome, duplicate_of=earlier.source)
    return kept


async def _skip_own_emails(
    records: list[ContactRecord],
    reader: StoreReader,
    results: dict[int, ContactRecord],
    concurrency: int,
    cancel: asyncio.Event | None,
) -> set[int]:
    """The key email as a contact: skip it where the store already has it (one read per customer)."""
    skipped: set[int] = set()

    async def check(record: ContactRecord) -> None:
        try:  # compared as emails are looked up: ignoring case
            present = any(
                isinstance(c, dict) and str(c.get("type", "")).upper() == ContactType.EMAIL
                and str(c.get("contact", "")).strip().lower() == record.customer_email
                for c in await reader.contacts(record.customer_id)
            )  # fmt: skip
        except StoreReadError as exc:
            outcome = Outcome(Status.FAILED, error_code=Code.STORE_CHECK_FAILED,
                              error=f"could not check whether the customer already has this email: {exc}")  # fmt: skip
        else:
            if not present:
                return
            outcome = Outcome(Status.SKIPPED, error_code=Code.EXISTS_IN_STORE,
                              error="the store already has this email among the customer's contacts")  # fmt: skip
        results[record.index] = replace(record, outcome=outcome)
        skipped.add(record.index)

    await bounded(records, check, concurrency, cancel)
    return skipped


async def bounded(
    items: Iterable, work: Callable[..., Awaitable[None]], concurrency: int, cancel: asyncio.Event | None = None
) -> None:
    """`work(item)` for every item, at most `concurrency` at once; the first exception stops the rest.

    A set `cancel` stops too, with RunStopped("interrupted"): nothing has been created yet.
    """
    items = list(items)
    if not items:
        return
    pending = iter(items)

    async def worker() -> None:
        for item in pending:  # one shared iterator: each item taken once
            await work(item)

    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, min(concurrency, len(items))))]
    everything = asyncio.gather(*workers)
    waiters = {everything}
    stop = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    if stop is not None:
        waiters.add(stop)
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if everything.done():
            everything.result()  # re-raise the first failure (RunStopped, ...)
        else:
            raise RunStopped("interrupted: the run was cancelled while looking up customers", error_code="interrupted")
    finally:
        for task in (*workers, *([stop] if stop else [])):
            task.cancel()
        await asyncio.gather(*workers, *([stop] if stop else []), return_exceptions=True)
        if not everything.done():
            everything.cancel()
