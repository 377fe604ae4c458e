"""What a run does against the store: customer lookups, the journal, sending; results into the table.

    summary_fields, stopped = send(table, records, options, run_id)
    stopped = dry_run_lookups(table, records, options, summary)

Imported only by a run that talks to a store, so a dry run never loads the HTTP stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import signal
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from importer import ecwid
from importer.customers.customers import CustomerStats, Resolution, needs_lookup, resolve_customers
from importer.customers.directory import Directory
from importer.customers.instore import skip_in_store
from importer.customers.newcustomers import CustomerCreator
from importer.customers.rows import customer_names, row_emails
from importer.customers.storematch import settle
from importer.deliver.batch import BatchChannel
from importer.deliver.engine import Engine
from importer.deliver.send import DirectChannel, SendConfig
from importer.ecwid import policy
from importer.ecwid.batchpolicy import BatchSettings
from importer.ecwid.client import connection
from importer.ecwid.pacer import Pacer
from importer.ecwid.store import StoreReader
from importer.errors import Code, RunStopped, UsageError, not_sent
from importer.frame import Table, set_outcomes
from importer.journal import NO_JOURNAL, Journal, locate
from importer.records import ContactRecord, Status
from importer.events import current_stop

if TYPE_CHECKING:
    from importer.runs.pipeline import ImportOptions

log = logging.getLogger("importer")

__all__ = ["send", "dry_run_lookups", "sandbox_customers"]


def send(table: Table, to_send: list[ContactRecord], options: ImportOptions, run_id: str):
    """Send the valid records; their outcomes go into the table. Returns (summary fields, stopped)."""
    results: dict[int, ContactRecord] = {}
    settled = _Settled()
    with _target(options, table, to_send) as (api_url, store_id, token), ecwid.scrubbed_logs(token):
        config = SendConfig.given(options, api_url, store_id, token)
        with _open_journal(options, store_id, run_id) as journal:
            result = asyncio.run(_session(table, to_send, config, options, journal, results, settled))
            if journal is not None:  # the run's own record: when it ended, what it did
                done = Counter(r.outcome.status.value for r in results.values())
                journal.finish(json.dumps({"counts": dict(done), "stopped": result.stopped and result.stopped.message}))

    # Belt and braces: a record the sender never reported is not left as `valid`.
    why = f": {result.stopped.message}" if result.stopped else ""
    unsent = not_sent(why, lead="the run stopped before this row was sent")
    done = (results.get(r.index, r) for r in to_send)
    set_outcomes(table.frame, (replace(r, outcome=unsent) if r.outcome.status == Status.VALID else r for r in done))
    summary = {
        "api_url": config.api_url,
        "store_id": config.store_id,
        "journal": str(journal.path) if journal else None,
        "rate_per_minute": config.rate_per_minute,
        "concurrency": config.concurrency,
        "retries": config.retries,
        "requests": result.requests,
        "rate_limited": result.rate_limited,
        "send_s": round(result.elapsed_s, 3),
        "achieved_rate_per_minute": round(result.achieved_rate_per_minute, 1),
        **result.extra,  # rows in doubt and how each was settled; what an earlier run had done
    }
    settled.into(summary, result.stopped)
    if journal is None and options.no_journal:
        summary.setdefault("notes", []).append(NO_JOURNAL)
    summary.update(result.sections)  # the channel's own (--mode batch: its batches)
    return summary, result.stopped


READS_NOTE_S = 5.0  # reads that took longer than this get a line of their own on the terminal


@dataclass
class _Settled:
    """How the run's customers were settled: the directory's reads and the resolution's counts."""

    directory: Directory | None = None
    stats: CustomerStats = field(default_factory=CustomerStats)
    reads_s: float = 0.0  # customers and their contacts learnt before the first create

    async def learn(self, work):
        """Await `work` (the customers and what they have), timed: what reading the store cost."""
        started = time.monotonic()
        try:
            return await work
        finally:
            self.reads_s += time.monotonic() - started

    def into(self, summary: dict, stopped: RunStopped | None) -> None:
        if self.directory is not None and self.directory.reader.api.reads:
            reads, pages = self.directory.reader.api.reads, self.directory.stats.pages
            summary["reads"] = {"requests": reads, "pages": pages, "seconds": round(self.reads_s, 3)}
            # the time is worth a line when the reads were answered: not when the API was never there
            if self.reads_s > READS_NOTE_S and (stopped is None or stopped.error_code != Code.API_UNREACHABLE):
                summary.setdefault("notes", []).append(
                    f"reading the store took {self.reads_s:.1f} s: {reads} requests, {pages} of them pages of the "
                    "customer list (each request counts against the rate limit, like the creates)")  # fmt: skip
        if self.directory is None or not (self.directory.stats.ids or self.directory.stats.emails):
            return
        summary["customers"] = {**self.directory.stats.as_dict(), **self.stats.as_dict()}
        summary.setdefault("notes", []).extend(self.stats.notes)
        if self.stats.ids_unused:  # RunSummary lists them as ignored in their tables (not a key of its own)
            summary["ids_unused"] = list(self.stats.ids_unused)
        if self.stats.would_create:
            summary["notes"].append(f"{self.stats.would_create} customer(s) named by email are not in the store: "
                                    "--create-customers would create them")


def _resolution(table: Table, records: list[ContactRecord], options: ImportOptions, directory: Directory,
                creator: CustomerCreator | None) -> Resolution:
    emails = {r.customer_email for r in records if needs_lookup(r)} if options.create_customers else ()
    return Resolution(directory, create=options.create_customers, creator=creator,
                      names=customer_names(table, emails), row_emails=row_emails(table))  # fmt: skip


def dry_run_lookups(table: Table, records: list[ContactRecord], options: ImportOptions, summary: dict):
    """Dry run with a store to ask (a token, or --sandbox-customers): every read a real run would
    make, none of its writes, so `valid` means the send will find the customer. Outcomes go into
    the table; returns the RunStopped that ended the reads early, if any."""
    results: dict[int, ContactRecord] = {}
    settled = _Settled()
    named = [r for r in records if r.customer_id is not None or needs_lookup(r)]

    async def session(config) -> list[ContactRecord]:
        async with connection(config) as (http, liveness):
            reader = StoreReader.of(http, config, liveness)
            settled.directory = Directory(reader)
            how = _resolution(table, named, options, settled.directory, None)
            with interrupt_event() as cancel:
                keyed = await settle(named, table, settled.directory, options.match_by, results, settled.stats,
                                     concurrency=config.concurrency, cancel=cancel)  # fmt: skip
                resolved = await settled.learn(resolve_customers(keyed, how, results, concurrency=config.concurrency,
                                                                 cancel=cancel, stats=settled.stats))  # fmt: skip
                # what the customers have: skipped, or (--update) what would be updated
                return await settled.learn(skip_in_store(resolved, settled.directory, results, update=options.update,
                                                         dry_run=True, concurrency=config.concurrency, cancel=cancel))

    stopped = None
    with _target(options, table, named) as (api_url, store_id, token), ecwid.scrubbed_logs(token):
        config = SendConfig.given(options, api_url, store_id, token)
        try:
            resolved = {r.index: r for r in asyncio.run(session(config))}
        except RunStopped as exc:
            stopped, resolved = exc, {}
    settled.into(summary, stopped)
    done = [results.get(r.index) or resolved.get(r.index) or r for r in named]
    if stopped is not None:  # a row still `valid` was never checked: it is not_sent, as a stopped run's unsent rows
        unchecked = not_sent(stopped.message, lead="the dry run stopped before this row's customer was checked: ")
        done = [replace(r, outcome=unchecked) if r.outcome.status == Status.VALID else r for r in done]
    set_outcomes(table.frame, done)
    return stopped


@contextlib.contextmanager
def _open_journal(options: ImportOptions, store_id: int, run_id: str):
    # An embedded sandbox is new every run: a journal of it would skip rows the new store lacks.
    if options.no_journal or (options.sandbox and options.journal is None):
        yield None
        return
    path, _ = locate(store_id, options.journal, options.report_dir)  # carried over already (announce)
    with Journal(path, store_id, run_id) as journal:
        yield journal


async def _session(table, to_send, config, options: ImportOptions, journal: Journal | None, results,
                   settled: _Settled):
    """One HTTP client and one pacer for every request of the run: reads and creates alike."""
    # One interrupt scope for the whole session: a Ctrl-C between lookups and sending
    # (the journal check can take seconds) still ends in a report, not a traceback.
    async with connection(config) as (http, liveness):  # liveness hears every request: an API gone away stops it
        with interrupt_event() as cancel:
            pacer = Pacer(config.rate_per_minute)
            reader = StoreReader.of(http, config, liveness, pacer)
            settled.directory = Directory(reader, journal)
            creator = None
            if options.create_customers:
                creator = CustomerCreator(reader, journal)
            how = _resolution(table, to_send, options, settled.directory, creator)
            # Batches an earlier run left open are collected first, whichever channel sends (the same reader and pacer).
            batches = BatchChannel(config, BatchSettings(**options.delivery.batch_settings()), reader, journal)
            channel = batches if options.mode == "batch" else DirectChannel(config, client=http, pacer=pacer,
                                                                            liveness=liveness)  # fmt: skip
            settle_s = policy.SETTLE_WINDOW_S if options.settle_window is None else options.settle_window
            engine = Engine(journal, reader, results, collector=batches, settle_s=settle_s, cancel=cancel,
                            quiet=config.quiet)  # fmt: skip
            try:
                # Customers are settled first (ids verified, emails resolved), so the journal's keys use the id.
                to_send = await settle(to_send, table, settled.directory, options.match_by, results,
                                       settled.stats, concurrency=config.concurrency, cancel=cancel)
                to_send = await settled.learn(resolve_customers(to_send, how, results, concurrency=config.concurrency,
                                                                cancel=cancel, stats=settled.stats))  # fmt: skip
                to_send = await engine.prepare(to_send)  # what an earlier run did, its batches and the journal say ...
                to_send = await settled.learn(skip_in_store(  # ... and what the customers have already
                    to_send, settled.directory, results, update=options.update, dry_run=False,
                    concurrency=config.concurrency, cancel=cancel))  # fmt: skip
                history = _history(journal, reader, to_send)  # the bodies on record first: a full disk stops here
            except RunStopped as exc:  # unsent rows become not_sent in send()
                return engine.give_up(exc, channel)
            sent = await engine.run(to_send, channel)
            return await _after_send(sent, results, reader, history, options, config, cancel)


def _history(journal: Journal | None, reader: StoreReader, to_send: list[ContactRecord]) -> Journal | None:
    """The fields about to be sent, on record before anything leaves; contact ids learnt by every read."""
    if journal is None:
        return None
    reader.on_contacts = journal.learn_ids
    journal.record_intents(to_send)
    return journal


async def _after_send(sent, results, reader: StoreReader, history: Journal | None, options: ImportOptions, config,
                      cancel):  # fmt: skip
    """What the creates changed besides themselves (a new default demotes the old one), then --update."""
    if history is not None:
        for record in results.values():
            if record.default and record.outcome.status == Status.CREATED:
                history.demote_defaults(record.key)
    if options.update and sent.stopped is None:
        from importer.runs.update import update_changed

        sent.stopped = await update_changed(results, reader, history, concurrency=config.concurrency, cancel=cancel)
    return sent


@contextlib.contextmanager
def interrupt_event():
    """Ctrl-C / SIGTERM / SIGHUP set an event the sender watches, so the report still gets written.
    So does the watcher's stop (importer.events: the web page's Stop button), from any thread."""
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    # SIGHUP (a closed terminal) as SIGTERM, where the platform has it.
    for sig in (signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, cancel.set)
            installed.append(sig)
    stop = current_stop()
    forget = stop.on_set(functools.partial(_set_from_any_thread, loop, cancel)) if stop is not None else None
    try:
        yield cancel
    finally:
        if forget is not None:
            forget()
        for sig in installed:
            loop.remove_signal_handler(sig)


def _set_from_any_thread(loop: asyncio.AbstractEventLoop, cancel: asyncio.Event) -> None:
    with contextlib.suppress(RuntimeError):  # the loop closed as the stop came: the run is over anyway
        loop.call_soon_threadsafe(cancel.set)


@contextlib.contextmanager
def _target(options: ImportOptions, table: Table, records: list[ContactRecord]):
    """Where to send: the configured store, or an embedded sandbox seeded with the file's customers
    (or with exactly the customers of --sandbox-customers FILE)."""
    if not options.sandbox:
        yield options.api_url, options.store_id, options.token
        return
    from importer.sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(customers=sandbox_customers(options, table, records))
    if options.store_id is not None:
        config = replace(config, store_id=options.store_id)
    with Sandbox(config) as sb:
        log.info("sandbox serving at %s (store %s)", sb.api_url, sb.store_id)
        yield sb.api_url, sb.store_id, sb.token


def sandbox_customers(options: ImportOptions, table: Table, records: list[ContactRecord]) -> list:
    """--sandbox-customers FILE as given; else every customer the file names, as the file names them:
    each id with its rows' email (so it matches), and each email, unless --create-customers is to make it."""
    from importer.sandbox.config import customer_from, load_customers_csv

    if options.sandbox_customers is not None:
        try:
            return load_customers_csv(options.sandbox_customers)
        except (OSError, ValueError, TypeError) as exc:
            raise UsageError(f"--sandbox-customers {options.sandbox_customers}: {exc}") from None
    emails_of = row_emails(table)
    seeded: dict[int, dict] = {}
    for r in records:
        if r.customer_id is not None and r.customer_id not in seeded:
            email = r.customer_email or min(emails_of.get(r.source, ()), default="")
            seeded[r.customer_id] = {"id": r.customer_id, "email": email}
    taken = {customer_from(c).email for c in seeded.values()}
    emails = [] if options.create_customers else sorted({r.customer_email for r in records if needs_lookup(r)} - taken)
    first = max(seeded, default=0) + 1
    return [*seeded.values(), *({"id": first + n, "email": e} for n, e in enumerate(emails))]
