"""The library entry point: files in, report out. The CLI only wraps `run_import`.

    from importer import run_import
    result = run_import(["contacts.csv"], store_id=1003, token=..., dry_run=True)
    result.exit_code, result.summary["counts"], result.report_path
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from importer.checks.validate import validate
from importer.errors import InputError, ReportNotWritten, RunStopped, UsageError
from importer.frame import Records, Table, records_at
from importer.input.table import LoadStats, read_table
from importer.journal import announce
from importer.mapping.headers import NAME_FIELDS, read_mapping
from importer.options import Delivery, Groups, InputOptions, Pacing, Target, Watch
from importer.records import ContactRecord, SourceTable, Status
from importer.report import new_run_id, results_frame, unwritten_message, write_report
from importer.report.summary import RunSummary
from importer.events import watching

log = logging.getLogger("importer")


# Statuses that make the exit code 1 ("some records invalid or failed").
# `duplicate` does not: the contact itself is sent once, from its first row.
PROBLEM_STATUSES = frozenset({Status.INVALID, Status.FAILED, Status.NOT_CREATED, Status.NOT_SENT})


@dataclass(frozen=True)
class ImportOptions(Target, Pacing, InputOptions, Delivery, Watch, Groups):
    """What `import` is given: its groups (importer.options), each field by its flat name, and its own flags."""

    dry_run: bool = False
    sandbox: bool = False
    sandbox_customers: Path | None = None  # --sandbox-customers FILE: the sandbox holds exactly these customers
    report_dir: Path = Path("reports")
    quiet: bool = False
    no_journal: bool = False
    skip_existing: bool = False  # accepted, no effect: what the customer has is always skipped (importer.customers.instore)
    create_customers: bool = False  # create customers named by email that the store lacks
    update: bool = False  # --update: PUT the note, handle, default, order of contacts the customer has, if changed


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

    run = RunSummary(
        run_id=new_run_id(started_at), started_at=started_at.isoformat(timespec="seconds"), dry_run=options.dry_run,
        sandbox=options.sandbox, files=[str(p) for p in paths], tables=[_columns(t, options) for t in stats.tables],
        encodings=dict(stats.encodings), hidden_sheets_skipped=list(stats.hidden_sheets), rows=stats.rows,
        blank_rows=stats.blank_rows, read_s=round(read_s, 3), limit=options.limit,
    )  # fmt: skip
    stopped: RunStopped | None = None
    valid = np.flatnonzero((frame["status"] == Status.VALID.value).to_numpy(dtype=bool))
    if options.limit is not None:
        run.note(f"--limit {options.limit}: only the first {options.limit} data rows were read")
    if stats.notes:
        run.note(*stats.notes)
    if not len(frame):
        run.note("nothing to import: the input has no data rows")
    elif not options.dry_run:
        from importer.runs import remote  # the HTTP stack, only for a run that talks to a store

        if not (options.sandbox and options.journal is None):  # the run's first line: which memory it uses
            announce(options.store_id, options.journal, options.report_dir, quiet=options.quiet,
                     no_journal=options.no_journal)  # fmt: skip
        run.store, stopped = remote.send(table, records_at(frame, valid), options, run.run_id)
    elif len(valid) and _store_to_ask(options):
        from importer.runs import remote

        stopped = remote.dry_run_lookups(table, records_at(frame, valid), options, run.store)
    elif len(valid):
        why = "the sandbox holds every customer the file names" if options.sandbox else "no token and store id"
        run.note(f"customers not checked against a store ({why}): a dry run with a token (or --sandbox-customers) "
                 "also verifies each customer id and email")

    exit_code = _exit_code(frame["status"].value_counts(), stopped)
    run.finish(frame, stopped, exit_code, time.monotonic() - started)
    summary = run.to_json()
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
        read = {f.name: getattr(options, f.name) for f in fields(InputOptions)}
        return read_table(paths, **{**read, "mapping": mapping}, store_id=options.store_id, stats=stats, log=log)
    except (InputError, UsageError):
        raise
    except (UnicodeError, ValueError, OSError) as exc:  # a reader error we did not foresee: one line, exit 2
        name = stats.tables[-1].file if stats.tables else str(paths[0])
        raise InputError(name, f"cannot read: {exc}") from exc
