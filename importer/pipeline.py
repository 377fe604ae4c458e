"""The library entry point: files in, report out. The CLI only wraps `run_import`.

    from importer import run_import
    result = run_import(["contacts.csv"], store_id=1003, token=..., dry_run=True)
    result.exit_code, result.summary["counts"], result.report_path
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import pickle
import signal
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from datetime import datetime, timezone
from pathlib import Path

import httpx

from importer.ecwid import DEFAULT_API_URL  # re-exported for the CLI
from importer.errors import InputError, RunStopped, UsageError
from importer.guard import Guard
from importer.columns import RecordTable
from importer.customers import LookupStats, needs_lookup, resolve_customers
from importer.journal import Journal, default_path
from importer.load import LoadStats, SplitEnd, SplitStart, TextPart, load_batches, read_mapping
from importer.normalize import Normalizer, StartedBatch, ValuePool
from importer.pacer import Pacer
from importer.records import Code, ContactRecord, Outcome, Status
from importer.report import new_run_id, write_report
from importer.send import new_client
from importer.store import StoreReader
from importer.validate import validate_table

log = logging.getLogger("importer")


# Statuses that make the exit code 1 (design.md: "some records invalid or failed").
# `duplicate` does not: the contact itself is sent once, from its first row.
PROBLEM_STATUSES = frozenset({Status.INVALID, Status.FAILED, Status.NOT_CREATED, Status.NOT_SENT})


@dataclass(frozen=True)
class ImportOptions:
    store_id: int | None = None
    token: str | None = field(default=None, repr=False)  # never printed
    api_url: str = DEFAULT_API_URL
    dry_run: bool = False
    sandbox: bool = False
    sheets: tuple[str, ...] = ()
    mapping: Path | None = None
    encoding: str | None = None
    delimiter: str | None = None
    phone_region: str | None = None
    rate: float | None = None  # requests/minute; None = the sender's default
    concurrency: int | None = None
    retries: int | None = None
    report_dir: Path = Path("reports")
    quiet: bool = False
    journal: Path | None = None  # default: <report_dir>/journal-<store>.sqlite
    no_journal: bool = False
    skip_existing: bool = False  # read each customer's contacts once; skip what the store has
    customer_key: str | None = None  # --customer-key COLUMN: the column naming the customer by email
    match_by: str | None = None  # --match-by email: the customer's email is the key (wide: its Email column)
    jobs: int | None = None  # --jobs: extra processes on big inputs; None: 1 with 2+ cores, 0: this one only


@dataclass
class ImportResult:
    records: Sequence[ContactRecord]  # a list, or a columns.RecordTable (built on access) after a dry run
    summary: dict
    report_path: Path
    exit_code: int
    stopped: RunStopped | None = None

    @property
    def counts(self) -> dict[str, int]:
        return self.summary["counts"]


def run_import(paths: Sequence[str | Path], options: ImportOptions | None = None, **kwargs) -> ImportResult:
    """Load, normalize, validate and (unless a dry run) send; always write the report.

    Raises UsageError / InputError (nothing was sent: exit 2). A run stopped early
    (auth, scope, plan, store, interrupt) returns normally with `stopped` set and
    exit code 3, after marking unsent rows `not_sent` and writing the report.
    """
    options = replace(options or ImportOptions(), **kwargs)
    if not paths:
        raise UsageError("no input file given")
    started = time.monotonic()
    started_at = datetime.now(timezone.utc)
    _check_send_options(options)

    stats = LoadStats()
    with _bulk():
        records: Sequence[ContactRecord] = validate_table(_read(paths, options, stats))
    read_s = time.monotonic() - started

    summary: dict = {
        "run_id": new_run_id(started_at),
        "started_at": started_at.isoformat(timespec="seconds"),
        "dry_run": options.dry_run,
        "sandbox": options.sandbox,
        "files": [str(p) for p in paths],
        "tables": [
            {"file": t.file, "sheet": t.sheet, "layout": t.layout} for t in stats.tables
        ],
        "encodings": dict(stats.encodings),
        "hidden_sheets_skipped": list(stats.hidden_sheets),
        "rows": stats.rows,
        "blank_rows": stats.blank_rows,
        "read_s": round(read_s, 3),
    }
    stopped: RunStopped | None = None
    if not records:
        summary["notes"] = ["nothing to import: the input has no data rows"]
    elif not options.dry_run:
        records, send_summary, stopped = _send(list(records), options, summary["run_id"])
        summary.update(send_summary)
    elif any(records.customer_email) and any(  # needs_lookup, on the columns
            o.status == Status.VALID and cid is None and email
            for o, cid, email in zip(records.outcome, records.customer_id, records.customer_email)):
        records, stopped = _dry_run_lookups(list(records), options, summary)

    outcomes = records.outcome if isinstance(records, RecordTable) else [r.outcome for r in records]
    # Most rows share a few Outcome objects: count objects (in C), then their statuses.
    per_object = Counter(map(id, outcomes))
    outcomes = list(dict(zip(map(id, outcomes), outcomes)).values())  # one of each
    counts = Counter()
    for o in outcomes:
        counts[o.status] += per_object[id(o)]
    summary["total"] = len(records)
    summary["counts"] = {s.value: counts[s] for s in Status if counts[s]}
    # Why rows were skipped (already-imported, exists-in-store): the nightly run's question.
    skipped = Counter()
    for o in outcomes:
        if o.status == Status.SKIPPED:
            skipped[o.error_code] += per_object[id(o)]
    summary["skipped_by_reason"] = dict(skipped)
    summary["ambiguous"] = sum(per_object[id(o)] for o in outcomes if o.error_code == Code.AMBIGUOUS)
    summary["stopped"] = stopped.message if stopped else None
    summary["exit_code"] = exit_code = _exit_code(counts, stopped)
    summary["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    summary["elapsed_s"] = round(time.monotonic() - started, 3)
    with _bulk():
        path = write_report(records, summary, report_dir=Path(options.report_dir), run_id=summary["run_id"],
                            fork=_jobs(options) > 0)
    return ImportResult(records, summary, path, exit_code, stopped)


@contextlib.contextmanager
def _bulk():
    """No cyclic GC while building a million records: they hold no cycles, and each
    collection would rescan every live record (3x the cost of validating them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _exit_code(counts: Counter, stopped: RunStopped | None) -> int:
    if stopped is not None:
        return 3
    return 1 if any(counts[s] for s in PROBLEM_STATUSES) else 0


def _check_send_options(options: ImportOptions) -> None:
    if options.dry_run or options.sandbox:
        return
    if options.store_id is None:
        raise UsageError("no store id: pass --store-id N or set ECWID_STORE_ID (or use --dry-run / --sandbox)")
    if not options.token:
        raise UsageError("no token: set ECWID_TOKEN or pass --token-file PATH (or use --dry-run / --sandbox)")


def _read(paths: Sequence[str | Path], options: ImportOptions, stats: LoadStats) -> RecordTable:
    mapping = read_mapping(options.mapping) if options.mapping else None
    normalizer = Normalizer(phone_region=options.phone_region, store_id=options.store_id)
    batches = load_batches(
        [str(p) for p in paths],
        split=_jobs(options) > 0,
        sheets=options.sheets,
        mapping=mapping,
        encoding=options.encoding,
        delimiter=options.delimiter,
        stats=stats,
        log=log,
        customer_key=options.customer_key,
        match_by=options.match_by,
    )
    table = RecordTable()
    started: deque[StartedBatch] = deque()  # batches whose values are being worked out
    part: _PartReader | None = None  # a big file's second part, read by another process
    with ValuePool(_jobs(options)) as pool:
        try:
            for count, batch in enumerate(_input(batches, paths, stats)):
                if isinstance(batch, SplitStart):
                    part = _PartReader.start(batch.part, normalizer)
                    continue
                if isinstance(batch, SplitEnd):
                    while started:
                        normalizer.finish_batch(started.popleft(), table)
                    _join_part(part, batch, normalizer, table, stats, paths)
                    part = None
                    continue
                # A small file never starts the pool: a process costs more than it saves there. Nor
                # does a file read in two parts: the two processes have the cores.
                worker = pool if count >= PARALLEL_AFTER_BATCHES and part is None else None
                started.append(normalizer.start_batch(batch, worker))
                if len(started) > 3:  # batches in the works while this process reads the next
                    normalizer.finish_batch(started.popleft(), table)
            while started:
                normalizer.finish_batch(started.popleft(), table)
        finally:
            if part is not None:
                part.stop()
    return table


def _input(batches: Iterator[Any], paths: Sequence[str | Path], stats: LoadStats) -> Iterator[Any]:
    """`batches`, with a reader error we did not foresee turned into one line (InputError: exit 2)."""
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except InputError:
            raise
        except (UnicodeError, ValueError, OSError) as exc:
            name = stats.tables[-1].file if stats.tables else str(paths[0])
            raise InputError(name, f"cannot read: {exc}") from exc
        yield batch


class _PartReader:
    """A big text file's second part, loaded and normalized by a forked child process.

    The child shares this process's memory as it was at the fork (the plan, the
    normalizer); it sends back the part's columns through a temporary file. If it
    fails, the part is read here (and a bad row or byte is reported as usual).
    """

    def __init__(self, pid: int, file: Any):
        self.pid, self.file = pid, file

    @classmethod
    def start(cls, part: TextPart, normalizer: Normalizer) -> _PartReader | None:
        if not hasattr(os, "fork") or threading.active_count() > 1:  # a child gets only this thread
            return None
        file = tempfile.TemporaryFile()
        try:
            pid = os.fork()
        except OSError:
            file.close()
            return None
        if pid == 0:  # the child: leave without running any of the parent's cleanup
            code = 1
            try:
                stats, table = LoadStats(), RecordTable()
                for batch in part.batches(stats):
                    normalizer.add_batch(batch, table)
                pickle.dump((stats.rows, stats.blank_rows, table.part()), file, pickle.HIGHEST_PROTOCOL)
                file.flush()
                code = 0
            finally:
                os._exit(code)
        return cls(pid, file)

    def join(self) -> tuple[int, int, dict[str, list]] | None:
        """(rows, blank rows, columns) from the child, or None if it failed."""
        pid, self.pid = self.pid, 0
        ok = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        with self.file:
            if not ok:
                return None
            self.file.seek(0)
            return pickle.load(self.file)

    def stop(self) -> None:
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGTERM)
                os.waitpid(self.pid, 0)
            self.pid = 0
        self.file.close()


def _join_part(reader: _PartReader | None, end: SplitEnd, normalizer: Normalizer, table: RecordTable,
               stats: LoadStats, paths: Sequence[str | Path]) -> None:
    """The second part's rows after the first's: from the child, or read here."""
    got = reader.join() if reader is not None else None
    if got is None:
        for batch in _input(end.part.batches(stats, first=end.last + 1), paths, stats):
            normalizer.add_batch(batch, table)
        return
    rows, blank_rows, columns = got
    stats.rows += rows
    stats.blank_rows += blank_rows
    table.extend_part(columns, end.part.plan.table, end.last + 1)


# Batches (of load.BATCH_ROWS rows) read before contact values go to another process.
PARALLEL_AFTER_BATCHES = 8


def _jobs(options: ImportOptions) -> int:
    """Extra processes (value worker, a big file's second part, half the report): --jobs, else 1 with 2+ cores."""
    if options.jobs is not None:
        return max(0, options.jobs)
    return 1 if (os.cpu_count() or 1) >= 2 else 0


def _send(records: list[ContactRecord], options: ImportOptions, run_id: str):
    """Send the valid records; returns (records with outcomes, summary fields, stopped)."""
    results: dict[int, ContactRecord] = {}
    to_send = [r for r in records if r.outcome.status == Status.VALID]

    lookups = LookupStats()
    with _target(options, to_send) as (api_url, store_id, token):
        config = _send_config(options, api_url, store_id, token)
        with _open_journal(options, store_id, run_id) as journal:
            result = asyncio.run(_session(to_send, config, options, journal, results, lookups))
            if journal is not None:  # the run's own record: when it ended, what it did
                done = Counter(r.outcome.status.value for r in results.values())
                journal.finish(json.dumps({"counts": dict(done), "stopped": result.stopped and result.stopped.message}))

    merged = [results.get(r.index, r) for r in records]
    # Belt and braces: a record the sender never reported is not left as `valid`.
    merged = [
        replace(r, outcome=Outcome(Status.NOT_SENT, error_code=Code.RUN_STOPPED, error="the run stopped before this row was sent"))
        if r.outcome.status == Status.VALID
        else r
        for r in merged
    ]
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
    }
    if lookups.emails:
        summary["customer_lookups"] = lookups.as_dict()
    return merged, summary, result.stopped


def _send_config(options: ImportOptions, api_url: str, store_id: int, token: str):
    from importer.send import SendConfig

    overrides = (("rate_per_minute", options.rate), ("concurrency", options.concurrency), ("retries", options.retries))
    return SendConfig(
        api_url=api_url, store_id=store_id, token=token, quiet=options.quiet,
        **{k: v for k, v in overrides if v is not None},
    )  # fmt: skip


def _dry_run_lookups(records: list[ContactRecord], options: ImportOptions, summary: dict):
    """Dry run: find the customers named by email (read-only) if a token is configured; else say so."""
    named = [r for r in records if r.outcome.status == Status.VALID and needs_lookup(r)]
    missing = "no token" if not options.token else "no store id" if options.store_id is None else ""
    if missing or options.sandbox:
        why = "the sandbox starts empty in a dry run" if options.sandbox else missing
        summary.setdefault("notes", []).append(
            f"customer lookups skipped: {why} ({len(named)} rows name customers by email)"
        )
        return records, None
    config = _send_config(options, options.api_url, options.store_id, options.token)
    results: dict[int, ContactRecord] = {}
    lookups = LookupStats()

    async def session() -> list[ContactRecord]:
        async with new_client(config) as http:
            reader = _reader(http, config, Pacer(config.rate_per_minute))
            with _interrupt_event() as cancel:
                return await resolve_customers(named, reader, None, results, concurrency=config.concurrency,
                                               cancel=cancel, stats=lookups)  # fmt: skip

    stopped = None
    try:
        resolved = {r.index: r for r in asyncio.run(session())}
    except RunStopped as exc:
        stopped, resolved = exc, {}
    summary["customer_lookups"] = lookups.as_dict()
    return [results.get(r.index) or resolved.get(r.index) or r for r in records], stopped


@contextlib.contextmanager
def _open_journal(options: ImportOptions, store_id: int, run_id: str):
    # An embedded sandbox is new every run: a journal of it would skip rows the new store lacks.
    if options.no_journal or (options.sandbox and options.journal is None):
        yield None
        return
    path = options.journal or default_path(options.report_dir, store_id)
    with Journal(path, store_id, run_id) as journal:
        yield journal


def _reader(http: httpx.AsyncClient, config, pacer: Pacer) -> StoreReader:
    return StoreReader(
        http, api_url=config.api_url, store_id=config.store_id, token=config.token, pacer=pacer,
        retries=config.retries,
    )  # fmt: skip


async def _session(to_send, config, options: ImportOptions, journal: Journal | None, results, lookups=None):
    """One HTTP client and one pacer for every request of the run: reads and creates alike."""
    from importer.send import SendResult, send_records

    # One interrupt scope for the whole session: a Ctrl-C between lookups and sending
    # (the journal check can take seconds) still ends in a report, not a traceback.
    async with new_client(config) as http:
        with _interrupt_event() as cancel:
            pacer = Pacer(config.rate_per_minute)
            reader = _reader(http, config, pacer)
            # Customers named by email get their ids first, so the journal's keys use the id.
            try:
                to_send = await resolve_customers(to_send, reader, journal, results, concurrency=config.concurrency,
                                                  cancel=cancel, stats=lookups)  # fmt: skip
            except RunStopped as exc:  # unsent rows become not_sent in _send
                return SendResult(stopped=exc)
            guard = Guard(journal, reader, skip_existing=options.skip_existing)
            to_send = guard.classify(to_send, results)
            return await send_records(
                to_send, config, on_result=guard.on_result(results), cancel=cancel, hooks=guard.hooks(),
                client=http, pacer=pacer,
            )  # fmt: skip


@contextlib.contextmanager
def _interrupt_event():
    """Ctrl-C / SIGTERM set an event the sender watches, so the report still gets written."""
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, cancel.set)
            installed.append(sig)
    try:
        yield cancel
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


@contextlib.contextmanager
def _target(options: ImportOptions, records: list[ContactRecord]):
    """Where to send: the configured store, or an embedded sandbox seeded with the file's customers."""
    if not options.sandbox:
        yield options.api_url, options.store_id, options.token
        return
    from importer.sandbox import Sandbox, SandboxConfig
    from importer.sandbox.config import generated_customer

    ids = sorted({r.customer_id for r in records if r.customer_id is not None})
    # Customers named by email exist too (new ids after the file's), unless a seeded id already has the email.
    taken = {generated_customer(i).email for i in ids}
    emails = sorted({r.customer_email for r in records if needs_lookup(r)} - taken)
    first = max(ids, default=0) + 1
    config = SandboxConfig(customers=[*ids, *({"id": first + n, "email": e} for n, e in enumerate(emails))])
    if options.store_id is not None:
        config = replace(config, store_id=options.store_id)
    with Sandbox(config) as sb:
        log.info("sandbox serving at %s (store %s)", sb.api_url, sb.store_id)
        yield sb.api_url, sb.store_id, sb.token
