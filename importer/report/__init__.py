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

Both CSV files are UTF-8 with a BOM (Excel opens them with the right characters on
double click; the loader reads the BOM), and their cells a spreadsheet would run as a
formula are prefixed with ``'`` (escape_formula).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from importer.report.errors import write_errors
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
from importer.report.summary import SUMMARY_JSON, new_run_id, print_summary, write_summary
from importer.table import Table

__all__ = [
    "REPORT_COLUMNS", "XLSX_MAX_ROWS", "escape_formula", "new_run_id", "print_summary", "results_frame",
    "write_report", "write_frame_report",
]  # fmt: skip

log = logging.getLogger(__name__)


def write_report(table: Table, summary: dict[str, Any], *, report_dir: Path, run_id: str) -> Path:
    """Write report_dir/run_id/ for a finished run's table; returns that folder.

    Adds ``report_dir``, ``report_files``, ``error_rows`` and (when there are any)
    ``notes`` to ``summary`` in place, so the caller's --json output matches summary.json.
    """
    return write_frame_report(results_frame(table), summary, Path(report_dir) / run_id,
                              lambda folder: write_errors(table, folder))


def write_frame_report(frame: pd.DataFrame, summary: dict[str, Any], folder: Path,
                       errors: Callable[[Path], tuple[list[str], int]]) -> Path:
    """`write_report` for lines already in REPORT_COLUMNS (an undo's); `errors(folder)` writes the error
    files and returns (their names, lines written)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_results_csv(frame, folder / RESULTS_CSV)
    files = [RESULTS_CSV]
    note = write_results_xlsx(frame, folder / RESULTS_XLSX)
    if note is None:
        files.append(RESULTS_XLSX)
    else:
        log.info(note)
        summary["notes"] = [*summary.get("notes", ()), note]
    error_files, error_rows = errors(folder)
    summary["report_dir"] = str(folder)
    summary["report_files"] = [*files, *error_files, SUMMARY_JSON]
    summary["error_rows"] = error_rows
    write_summary(folder / SUMMARY_JSON, summary)
    return folder
