"""The library entry point: files in, report out. The CLI only wraps `run_import`.

    from importer import run_import
    result = run_import(["contacts.csv"], store_id=1003, token=..., dry_run=True)
    result.exit_code, result.summary["counts"], result.report_path
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from importer.ecwid import DEFAULT_API_URL  # re-exported for the CLI
from importer.events import Stop, watching
from importer.errors import InputError, ReportNotWritten, RunStopped, UsageError
from importer.headers import NAME_FIELDS, read_mapping
from importer.journalhome import announce
from importer.matching import ids_unused
from importer.records import Code, ContactRecord, SourceTable, Status
from importer.report import new_run_id, results_frame, unwritten_message, write_report
from importer.table import LoadStats, Records, Table, read_table, records_at
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
    journal: Path | None = None  # default: the data directory's (importer.journalhome)
    no_journal: bool = False
    skip_existing: bool = False  # accepted, no effect: what the customer has is always skipped (importer.instore)
    customer_key: str | None = None  # --customer-key COLUMN: the column naming the customer by email
    match_by: str | None = None  # --match-by email: the customer's email is the key (wide: its Email column)
    limit: int | None = None  # --limit N: the first N data rows only (a trial on a big file)
    header_row: int | None = None  # --header-row N: the header's row (else found where it is)
    create_customers: bool = False  # create customers named by email that the store lacks
    sandbox_customers: Path | None = None  # --sandbox-customers FILE: the sandbox holds exactly these customers
    preset: str | None = None  # --preset NAME: a known export's layout (else detected from the headers)
    country_column: str | None = None  # --country-column COL: each row's country, the region of its phones
    settle_window: float | None = None  # seconds a row in doubt waits after its request left; None: the policy's
    timeout: float | None = None  # seconds to wait for an answer; None: the sender's default
    update: bool = False  # --update: PUT the note, handle, default, order of contacts the customer has, if changed
    mode: str = "direct"  # --mode: "direct" (one request per contact) or "batch" (Ecwid's batch API, importer.batch)
    batch_size: int = 500  # --batch-size: creates per batch (at most 500)
    batches_in_flight: int | None = None  # --batches-in-flight: batches submitted ahead; None: importer.batch's default
    batch_parallel: bool = False  # --batch-parallel: allowParallelMode (Ecwid runs up to 100 of a batch at once)
    batch_timeout: float | None = None  # --batch-timeout: a ticket without progress this long stops the run
    # A watcher's hooks (importer.events): progress events as the run goes, and a stop asked for from another
    # thread that ends the run as Ctrl-C does. The local web page uses both; the CLI neither.
    on_event: Callable[[dict], None] | None = field(default=None, repr=False, compare=False)
    stop: Stop | None = field(default=None, repr=False, compare=False)


@dataclass
class ImportResult:
    records: Sequence[ContactRecord]  # one per row, in input order, each built when read
    summary: dict
    report_path: Path
    exit_code: int
    stopped: RunStopped | None = None
    table: Table | None = field(default=None, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        return self.summary["counts"]

    @property
    def frame(self) -> pd.DataFrame | None:
        """The report's columns (results.csv's values, unescaped), for scripting in pandas; made when asked for."""
        return None if self.table is None else results_frame(self.table)


def run_import(paths: Sequence[str | Path], options: ImportOptions | None = None, **kwargs) -> ImportResult:
    """Load, normalize, validate and (unless a dry run) send; always write the report.

    Raises UsageError / InputError (nothing was sent: exit 2). A run stopped early
    (auth, scope, plan, store, interrupt) returns normally with `stopped` set and
    exit code 3, after marking unsent rows `not_sent` and writing the report.
    """
    options = replace(options or ImportOptions(), **kwargs)
    if options.dry_run and options.sandbox_customers is not None:  # customers checked against that file
        options = replace(options, sandbox=True)
    with watching(options.on_event, options.stop):
        return _run_import(paths, options)


def _run_import(paths: Sequence[str | Path], options: ImportOptions) -> ImportResult:
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
        "tables": [_columns(t, options) for t in stats.tables],
        "encodings": dict(stats.encodings),
        "hidden_sheets_skipped": list(stats.hidden_sheets),
        "rows": stats.rows,
        "blank_rows": stats.blank_rows,
        "read_s": round(read_s, 3),
    }
    stopped: RunStopped | None = None
    valid = np.flatnonzero((frame["status"] == Status.VALID.value).to_numpy(dtype=bool))
    if options.limit is not None:
        summary["limit"] = options.limit
        summary.setdefault("notes", []).append(f"--limit {options.limit}: only the first {options.limit} data rows "
                                               "were read")
    if stats.notes:
        summary.setdefault("notes", []).extend(stats.notes)
    if not len(frame):
        summary.setdefault("notes", []).append("nothing to import: the input has no data rows")
    elif not options.dry_run:
        from importer import remote  # the HTTP stack, only for a run that talks to a store

        if not (options.sandbox and options.journal is None):  # the run's first line: which memory it uses
            announce(options.store_id, options.journal, options.report_dir, quiet=options.quiet,
                     no_journal=options.no_journal)  # fmt: skip
        send_summary, stopped = remote.send(table, records_at(frame, valid), options, summary["run_id"])
        summary.update(send_summary)
    elif len(valid) and _store_to_ask(options):
        from importer import remote

        stopped = remote.dry_run_lookups(table, records_at(frame, valid), options, summary)
    elif len(valid):
        why = "the sandbox holds every customer the file names" if options.sandbox else "no token and store id"
        summary.setdefault("notes", []).append(
            f"customers not checked against a store ({why}): a dry run with a token (or --sandbox-customers) "
            "also verifies each customer id and email")

    ids_unused(summary)  # ids found not to be this store's: their column ignored, not customerId
    counts = frame["status"].value_counts()
    summary["total"] = len(frame)
    summary["counts"] = {s.value: int(counts[s.value]) for s in Status if counts.get(s.value, 0)}
    # Why rows were skipped (already-imported, exists-in-store): the nightly run's question.
    skipped = frame.loc[frame["status"] == Status.SKIPPED.value, "error_code"].value_counts()
    summary["skipped_by_reason"] = {str(k): int(v) for k, v in skipped.items() if v}
    summary["ambiguous"] = int((frame["error_code"] == Code.AMBIGUOUS.value).sum())
    summary["stopped"] = stopped.message if stopped else None
    summary["stopped_code"] = stopped.error_code if stopped else None
    summary["exit_code"] = exit_code = _exit_code(counts, stopped)
    summary["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    summary["elapsed_s"] = round(time.monotonic() - started, 3)
    try:
        path = write_report(table, summary, report_dir=Path(options.report_dir), run_id=summary["run_id"])
    except OSError as exc:  # a full disk, a folder turned read-only: what was done is in the journal
        summary["exit_code"] = ReportNotWritten.exit_code
        raise ReportNotWritten(unwritten_message(summary, Path(options.report_dir), exc), summary) from None
    return ImportResult(Records(frame), summary, path, exit_code, stopped, table)


def _columns(table: SourceTable, options: ImportOptions) -> dict:
    """A table's layout and every column accounted for: what each used header was read as, which were ignored.
    Name columns are used only to name the customers --create-customers creates."""
    used = {h: f for h, f in table.field_of.items() if options.create_customers or f not in NAME_FIELDS}
    return {
        "file": table.file, "sheet": table.sheet, "layout": table.layout, "preset": table.preset or None,
        "columns": used, "ignored": [h for h in table.headers if h and h not in used],
        "header_row": table.header_row,
        "skipped": [{"rows": list(rows), "what": what, "text": text} for rows, what, text in table.skipped],
    }  # fmt: skip


def _exit_code(counts: pd.Series, stopped: RunStopped | None) -> int:
    if stopped is not None:
        return 3
    return 1 if any(counts.get(s.value, 0) for s in PROBLEM_STATUSES) else 0


def _store_to_ask(options: ImportOptions) -> bool:
    """Whether a dry run can read the customers: a store and token, or a sandbox seeded like the store."""
    if options.sandbox:
        return options.sandbox_customers is not None
    return bool(options.token) and options.store_id is not None


def _check_send_options(options: ImportOptions) -> None:
    if options.mode not in ("direct", "batch"):
        raise UsageError(f"--mode must be direct or batch, got {options.mode!r}")
    if not 1 <= options.batch_size <= 500:
        raise UsageError(f"--batch-size must be between 1 and 500 (Ecwid's limit), got {options.batch_size}")
    if options.sandbox_customers is not None and not options.sandbox and not options.dry_run:
        raise UsageError("--sandbox-customers seeds the sandbox: use it with --sandbox (or --dry-run)")
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
            match_by=options.match_by, preset=options.preset, country_column=options.country_column,
            limit=options.limit, header_row=options.header_row, stats=stats, log=log,
        )  # fmt: skip
    except (InputError, UsageError):
        raise
    except (UnicodeError, ValueError, OSError) as exc:  # a reader error we did not foresee: one line, exit 2
        name = stats.tables[-1].file if stats.tables else str(paths[0])
        raise InputError(name, f"cannot read: {exc}") from exc
