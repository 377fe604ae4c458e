"""The run folder: results.csv, results.xlsx, errors.csv, summary.json, from the run's table.

    folder = write_report(table, summary, report_dir=Path("reports"), run_id=new_run_id())
    print_summary(summary, folder, stream=sys.stderr)
    frame = results_frame(table)    # the results lines as a DataFrame: `result.frame`

Files in the run folder, all written from the one frame in this process:

* ``results.csv``: one line per record, input order, REPORT_COLUMNS (results.py).
* ``results.xlsx``: the same lines with text stored as text; not written (a note in
  summary["notes"] says so) above XLSX_MAX_ROWS records, where openpyxl would take
  tens of seconds while results.csv has it all.
* ``errors.csv``: the source rows that did not make it, in the input's own columns plus
  ``error``, ready to fix and import again; ``errors-<file>[-<sheet>].csv`` for tables
  with other headers; none when nothing failed (errors.py).
* ``summary.json``: the caller's summary plus ``report_dir``, ``report_files``,
  ``error_rows`` and ``notes`` (summary.py).

The files are written into a hidden folder beside the run's and that folder is renamed
into place when all of them are there: a full disk or a folder that turns read-only
leaves no truncated results.csv or empty results.xlsx, only the OSError, which
`unwritten_message` turns into the one line the CLI prints.

Both CSV files are UTF-8 with a BOM (Excel opens them with the right characters on
double click; the loader reads the BOM), and their cells a spreadsheet would run as a
formula are prefixed with ``'`` (escape_formula).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from importer.errors import Code
from importer.records import Status
from importer.report.errors import ERROR_STATUSES, write_errors
from importer.report.results import (
    REPORT_COLUMNS,
    RESULTS_CSV,
    RESULTS_XLSX,
    XLSX_MAX_ROWS,
    escape_formula,
    results_frame,
    write_results_csv,
    write_results_xlsx,
)
from importer.frame import Table
from importer.report.summary import SUMMARY_JSON, new_run_id, print_summary, write_summary

__all__ = [
    "REPORT_COLUMNS", "XLSX_MAX_ROWS", "escape_formula", "new_run_id", "print_summary", "results_frame",
    "unwritten_message", "write_report", "write_frame_report",
]  # fmt: skip

log = logging.getLogger(__name__)


def write_report(table: Table, summary: dict[str, Any], *, report_dir: Path, run_id: str) -> Path:
    """Write report_dir/run_id/ for a finished run's table; returns that folder.

    Adds ``report_dir``, ``report_files``, ``error_rows`` and (when there are any)
    ``notes`` to ``summary`` in place, so the caller's --json output matches summary.json.
    """
    statuses = ERROR_STATUSES - {Status.NOT_SENT} if summary.get("dry_run") else ERROR_STATUSES
    return write_frame_report(results_frame(table), summary, Path(report_dir) / run_id,
                              lambda folder: write_errors(table, folder, statuses=statuses))


def write_frame_report(frame: pd.DataFrame, summary: dict[str, Any], folder: Path,
                       errors: Callable[[Path], tuple[list[str], int]]) -> Path:
    """`write_report` for lines already in REPORT_COLUMNS (an undo's); `errors(folder)` writes the error
    files and returns (their names, lines written). Written as a hidden partial folder, renamed into
    place when every file is there: a full disk leaves no half report."""
    partial = folder.with_name(f".{folder.name}.partial")
    try:
        partial.mkdir(parents=True, exist_ok=True)
        write_results_csv(frame, partial / RESULTS_CSV)
        files = [RESULTS_CSV]
        note = write_results_xlsx(frame, partial / RESULTS_XLSX)
        if note is None:
            files.append(RESULTS_XLSX)
        else:
            log.info(note)
            summary["notes"] = [*summary.get("notes", ()), note]
        error_files, error_rows = errors(partial)
        summary["report_dir"] = str(folder)
        summary["report_files"] = [*files, *error_files, SUMMARY_JSON]
        summary["error_rows"] = error_rows
        write_summary(partial / SUMMARY_JSON, summary)
        os.replace(partial, folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return folder


def unwritten_message(summary: dict[str, Any], report_dir: Path, exc: OSError) -> str:
    """One line for a run whose report could not be written: what was sent and journaled, and how
    to get the report."""
    why = f"the report could not be written to {report_dir} ({exc.strerror or exc})"
    if summary.get("dry_run"):
        return f"{why}; nothing was sent: make room and run the same command again"
    counts = summary.get("counts") or {}
    done = ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing"
    sent = f"{summary.get('requests', 0)} requests sent; rows: {done}"
    if summary.get("stopped"):
        why += f"; the run had stopped: {summary['stopped']}"
    if summary.get("stopped_code") == Code.JOURNAL_UNWRITABLE:
        return (f"{why}. {sent}. Make room and run the same command again: the journal has what it could record, "
                "the rows in doubt are checked in the store before anything is sent again")
    if summary.get("journal"):
        return (f"{why}. {sent}, all recorded in the journal {summary['journal']}. To get the report, make room and "
                "run the same command again: every row already done is `skipped` and the report is written")
    return f"{why}. {sent}; there is no journal (--no-journal), so running again would send them again"
