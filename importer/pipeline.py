"""The library entry point: files in, report out. The CLI only wraps `run_import`.

    from importer import run_import
    result = run_import(["contacts.csv"], store_id=1003, token=..., dry_run=True)
    result.exit_code, result.summary["counts"], result.report_path
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from importer.errors import InputError, RunStopped, UsageError
from importer.load import LoadStats, load, read_mapping
from importer.normalize import Normalizer
from importer.records import Code, ContactRecord, Outcome, Status
from importer.report import new_run_id, write_report
from importer.validate import validate

log = logging.getLogger("importer")

DEFAULT_API_URL = "https://app.ecwid.com/api/v3"

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


@dataclass
class ImportResult:
    records: list[ContactRecord]
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
    records = validate(list(_read(paths, options, stats)))
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
        records, send_summary, stopped = _send(records, options)
        summary.update(send_summary)

    counts = Counter(r.outcome.status for r in records)
    summary["total"] = len(records)
    summary["counts"] = {s.value: counts[s] for s in Status if counts[s]}
    summary["ambiguous"] = sum(1 for r in records if r.outcome.error_code == Code.AMBIGUOUS)
    summary["stopped"] = stopped.message if stopped else None
    summary["exit_code"] = exit_code = _exit_code(counts, stopped)
    summary["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    summary["elapsed_s"] = round(time.monotonic() - started, 3)
    path = write_report(records, summary, report_dir=Path(options.report_dir), run_id=summary["run_id"])
    return ImportResult(records, summary, path, exit_code, stopped)


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


def _read(paths: Sequence[str | Path], options: ImportOptions, stats: LoadStats) -> Iterator[ContactRecord]:
    mapping = read_mapping(options.mapping) if options.mapping else None
    normalizer = Normalizer(phone_region=options.phone_region, store_id=options.store_id)
    raws = load(
        [str(p) for p in paths],
        sheets=options.sheets,
        mapping=mapping,
        encoding=options.encoding,
        delimiter=options.delimiter,
        stats=stats,
        log=log,
    )
    index = 0
    while True:
        try:
            raw = next(raws)
        except StopIteration:
            return
        except InputError:
            raise
        except (UnicodeError, ValueError, OSError) as exc:  # a reader we did not foresee: still one line, exit 2
            name = stats.tables[-1].file if stats.tables else str(paths[0])
            raise InputError(name, f"cannot read: {exc}") from exc
        yield normalizer(raw, index)
        index += 1


def _send(records: list[ContactRecord], options: ImportOptions):
    """Send the valid records; returns (records with outcomes, summary fields, stopped)."""
    from importer.send import SendConfig

    results: dict[int, ContactRecord] = {}
    to_send = [r for r in records if r.outcome.status == Status.VALID]

    with _target(options, to_send) as (api_url, store_id, token):
        config_kwargs = {
            k: v
            for k, v in (
                ("rate_per_minute", options.rate),
                ("concurrency", options.concurrency),
                ("retries", options.retries),
            )
            if v is not None
        }
        config = SendConfig(
            api_url=api_url, store_id=store_id, token=token, quiet=options.quiet, **config_kwargs
        )
        result = asyncio.run(_send_async(to_send, config, results))

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
        "rate_per_minute": config.rate_per_minute,
        "concurrency": config.concurrency,
        "retries": config.retries,
        "requests": result.requests,
        "rate_limited": result.rate_limited,
        "send_s": round(result.elapsed_s, 3),
        "achieved_rate_per_minute": round(result.achieved_rate_per_minute, 1),
    }
    return merged, summary, result.stopped


async def _send_async(to_send, config, results):
    from importer.send import send_records

    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, cancel.set)
            installed.append(sig)
    try:
        return await send_records(
            to_send, config, on_result=lambda rec: results.__setitem__(rec.index, rec), cancel=cancel
        )
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

    ids = sorted({r.customer_id for r in records if r.customer_id is not None})
    config = SandboxConfig(customers=ids)
    if options.store_id is not None:
        config = replace(config, store_id=options.store_id)
    with Sandbox(config) as sb:
        log.info("sandbox serving at %s (store %s)", sb.api_url, sb.store_id)
        yield sb.api_url, sb.store_id, sb.token
