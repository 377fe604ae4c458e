"""The library entry point: files in, report out. The CLI only wraps `run_import`.

    from importer import run_import
    result = run_import(["contacts.csv"], store_id=1003, token=..., dry_run=True)
    result.exit_code, result.summary["counts"], result.report_path
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from importer.ecwid import DEFAULT_API_URL  # re-exported for the CLI
from importer.errors import InputError, RunStopped, UsageError
from importer.guard import Guard
from importer.customers import LookupStats, needs_lookup, resolve_customers
from importer.headers import read_mapping
from importer.journal import Journal, default_path
from importer.pacer import Pacer
from importer.records import Code, ContactRecord, Outcome, Status
from importer.report import new_run_id, results_frame, write_report
from importer.send import new_client
from importer.store import StoreReader
from importer.table import LoadStats, Records, Table, read_table, records_at, set_outcomes
from importer.validate import validate

log = logging.getLogger("importer")


# Statuses that make the exit code 1 ("some records invalid or failed").
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


@dataclass
class ImportResult:
    records: Sequence[ContactRecord]  # one per row, in input order, each built when read
    summary: dict
    report_path: Path
    exit_code: int
    stopped: RunStopped | None = None
    frame: pd.DataFrame | None = None  # the report's columns (results.csv), for scripting in pandas

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
    table = validate(_read(paths, options, stats))
    frame = table.frame
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
    valid = np.flatnonzero((frame["status"] == Status.VALID.value).to_numpy(dtype=bool))
    if not len(frame):
        summary["notes"] = ["nothing to import: the input has no data rows"]
    elif not options.dry_run:
        send_summary, stopped = _send(table, records_at(frame, valid), options, summary["run_id"])
        summary.update(send_summary)
    elif (frame["customer_id"].iloc[valid].isna() & frame["customer_email"].iloc[valid].notna()).any():
        stopped = _dry_run_lookups(table, records_at(frame, valid), options, summary)

    counts = frame["status"].value_counts()
    summary["total"] = len(frame)
    summary["counts"] = {s.value: int(counts[s.value]) for s in Status if counts.get(s.value, 0)}
    # Why rows were skipped (already-imported, exists-in-store): the nightly run's question.
    skipped = frame.loc[frame["status"] == Status.SKIPPED.value, "error_code"].value_counts()
    summary["skipped_by_reason"] = {str(k): int(v) for k, v in skipped.items() if v}
    summary["ambiguous"] = int((frame["error_code"] == Code.AMBIGUOUS.value).sum())
    summary["stopped"] = stopped.message if stopped else None
    summary["exit_code"] = exit_code = _exit_code(counts, stopped)
    summary["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    summary["elapsed_s"] = round(time.monotonic() - started, 3)
    path = write_report(table, summary, report_dir=Path(options.report_dir), run_id=summary["run_id"])
    return ImportResult(Records(frame), summary, path, exit_code, stopped, results_frame(table))


def _exit_code(counts: pd.Series, stopped: RunStopped | None) -> int:
    if stopped is not None:
        return 3
    return 1 if any(counts.get(s.value, 0) for s in PROBLEM_STATUSES) else 0


def _check_send_options(options: ImportOptions) -> None:
    if options.dry_run or options.sandbox:
        return
    if options.store_id is None:
        raise UsageError("no store id: pass --store-id N or set ECWID_STORE_ID (or use --dry-run / --sandbox)")
    if not options.token:
        raise UsageError("no token: set ECWID_TOKEN or pass --token-file PATH (or use --dry-run / --sandbox)")


def _read(paths: Sequence[str | Path], options: ImportOptions, stats: LoadStats) -> Table:
    mapping = read_mapping(options.mapping) if options.mapping else None
    try:
        return read_table(
            paths, sheets=options.sheets, mapping=mapping, encoding=options.encoding, delimiter=options.delimiter,
            phone_region=options.phone_region, store_id=options.store_id, customer_key=options.customer_key,
            match_by=options.match_by, stats=stats, log=log,
        )  # fmt: skip
    except (InputError, UsageError):
        raise
    except (UnicodeError, ValueError, OSError) as exc:  # a reader error we did not foresee: one line, exit 2
        name = stats.tables[-1].file if stats.tables else str(paths[0])
        raise InputError(name, f"cannot read: {exc}") from exc


def _send(table: Table, to_send: list[ContactRecord], options: ImportOptions, run_id: str):
    """Send the valid records; their outcomes go into the table. Returns (summary fields, stopped)."""
    results: dict[int, ContactRecord] = {}

    lookups = LookupStats()
    with _target(options, to_send) as (api_url, store_id, token):
        config = _send_config(options, api_url, store_id, token)
        with _open_journal(options, store_id, run_id) as journal:
            result = asyncio.run(_session(to_send, config, options, journal, results, lookups))
            if journal is not None:  # the run's own record: when it ended, what it did
                done = Counter(r.outcome.status.value for r in results.values())
                journal.finish(json.dumps({"counts": dict(done), "stopped": result.stopped and result.stopped.message}))

    # Belt and braces: a record the sender never reported is not left as `valid`.
    unsent = Outcome(Status.NOT_SENT, error_code=Code.RUN_STOPPED, error="the run stopped before this row was sent")
    set_outcomes(table.frame, (results.get(r.index) or replace(r, outcome=unsent) for r in to_send))
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
    return summary, result.stopped


def _send_config(options: ImportOptions, api_url: str, store_id: int, token: str):
    from importer.send import SendConfig

    overrides = (("rate_per_minute", options.rate), ("concurrency", options.concurrency), ("retries", options.retries))
    return SendConfig(
        api_url=api_url, store_id=store_id, token=token, quiet=options.quiet,
        **{k: v for k, v in overrides if v is not None},
    )  # fmt: skip


def _dry_run_lookups(table: Table, records: list[ContactRecord], options: ImportOptions, summary: dict):
    """Dry run: find the customers named by email (read-only) if a token is configured; else say so.
    Their outcomes go into the table; returns the RunStopped that ended the lookups early, if any."""
    named = [r for r in records if needs_lookup(r)]
    missing = "no token" if not options.token else "no store id" if options.store_id is None else ""
    if missing or options.sandbox:
        why = "the sandbox starts empty in a dry run" if options.sandbox else missing
        summary.setdefault("notes", []).append(
            f"customer lookups skipped: {why} ({len(named)} rows name customers by email)"
        )
        return None
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
    set_outcomes(table.frame, [results.get(r.index) or resolved.get(r.index) or r for r in named])
    return stopped


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
