"""errors.csv: the source rows that did not make it, in the input's own columns plus ``error``.

    names, lines = write_errors(table, folder)   # ([] , 0) when nothing failed

One line per source row: a wide-layout row holds several records (the same
(sheet_no, line) in the frame), and its line lists each failing record's message
once, named by its column. Cells of contacts that every record of the row already
settled (created, skipped, duplicate) are blanked, so importing the file again does
not send them twice. A table whose last header is ``error`` (an errors.csv imported
again) gets its own column refilled instead of a second one.

Every table with the same headers as the first failing row's table goes to
errors.csv; a table with other headers gets ``errors-<file>[-<sheet>].csv`` (mixing
headers in one file would not import again). Cells are formula-escaped like results.csv.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import numpy as np
import pandas as pd

from importer.frame import Sheet, Table
from importer.records import Status
from importer.report.results import escape_formula, open_csv

__all__ = [
    "ERRORS_CSV", "ERROR_COLUMN", "ERROR_STATUSES", "DONE_STATUSES", "LineRecord", "write_errors", "error_line",
    "record_messages", "cell_text",
]  # fmt: skip

ERRORS_CSV = "errors.csv"
ERROR_COLUMN = "error"

# Statuses whose source row goes to errors.csv, and those whose wide-layout cell is
# blanked there because sending it again would only repeat it.
ERROR_STATUSES = frozenset({Status.INVALID, Status.FAILED, Status.NOT_CREATED, Status.NOT_SENT})
DONE_STATUSES = frozenset({Status.CREATED, Status.UPDATED, Status.SKIPPED, Status.DUPLICATE})

FALLBACK_ERROR: dict[str, str] = {
    Status.NOT_SENT: "not sent: the run stopped first",
    Status.NOT_CREATED: "Ecwid answered createCount 0: the contact was not created",
    Status.FAILED: "failed",
    Status.INVALID: "invalid",
}


class LineRecord(NamedTuple):
    """What an errors.csv line needs of one record: these frame columns."""

    status: str
    errors: tuple[Any, ...]  # RecordError
    error: str
    error_code: str
    source_column: str
    source_contact: str


_RECORD_COLUMNS = list(LineRecord._fields)


def write_errors(table: Table, folder: Path, *, statuses: frozenset[Status] = ERROR_STATUSES) -> tuple[list[str], int]:
    """Write the error files of `table` into `folder`; returns (file names, lines written). `statuses`: the
    rows that go there (a dry run leaves out `not_sent`: rows it did not get to check are not mistakes to fix)."""
    rows = _failing_rows(table.frame, statuses)
    if not rows:
        return [], 0
    cells = _source_cells(table.sheets, list(rows))
    names: list[str] = []
    opened: list[TextIO] = []
    writers: dict[tuple[str, ...], Any] = {}  # headers -> the csv writer of their file
    try:
        for (sheet_no, line), records in rows.items():
            sheet = table.sheets[sheet_no]
            headers, values = error_line(sheet, cells[sheet_no, line], records)
            writer = writers.get(headers)
            if writer is None:
                names.append(_file_name(sheet, names))
                opened.append(open_csv(folder / names[-1]))
                writer = writers[headers] = csv.writer(opened[-1], delimiter=sheet.delimiter)
                writer.writerow(headers)
            writer.writerow([escape_formula(v) for v in values])
    finally:
        for file in opened:
            file.close()
    return names, len(rows)


def _failing_rows(frame: pd.DataFrame, statuses: frozenset[Status]) -> dict[tuple[int, int], list[LineRecord]]:
    """(sheet_no, line) -> its records, for the source rows with a failing record, in the
    order the rows first appear in the frame."""
    failing = frame["status"].isin([s.value for s in statuses]).to_numpy()
    if not failing.any():
        return {}
    sheet_no, line = frame["sheet_no"].to_numpy(np.int64), frame["line"].to_numpy(np.int64)
    key = sheet_no * (int(line.max()) + 1) + line  # one number per source row
    involved = np.isin(key, key[failing])  # every record of those rows, failing or not
    part = frame.loc[involved, _RECORD_COLUMNS]
    records = zip(*(_values(part[name], text=name != "errors") for name in _RECORD_COLUMNS))
    rows: dict[tuple[int, int], list[LineRecord]] = {}
    for where, values in zip(zip(sheet_no[involved].tolist(), line[involved].tolist()), records):
        rows.setdefault(where, []).append(LineRecord(*values))
    return rows


def _values(column: pd.Series, *, text: bool) -> list[Any]:
    values = column.astype(object).tolist()  # str, categorical or object alike
    return [v if isinstance(v, str) else "" for v in values] if text else values


def _source_cells(sheets: Sequence[Sheet], rows: list[tuple[int, int]]) -> dict[tuple[int, int], list[str]]:
    """The written cells of each (sheet_no, line), as text: one iloc per sheet."""
    lines_of: dict[int, list[int]] = {}
    for sheet_no, line in rows:
        lines_of.setdefault(sheet_no, []).append(line)
    out: dict[tuple[int, int], list[str]] = {}
    for sheet_no, lines in lines_of.items():
        width = len(sheets[sheet_no].table.headers)
        values = sheets[sheet_no].cells.iloc[lines, :width].to_numpy(dtype=object).tolist()
        for line, cells in zip(lines, values):
            out[sheet_no, line] = [cell_text(v) for v in cells] + [""] * (width - len(cells))
    return out


def error_line(sheet: Sheet, cells: list[str], records: Sequence[LineRecord]) -> tuple[tuple[str, ...], list[str]]:
    """(headers, cells + error) of one source row: `cells` as text, `records` all of its records."""
    wide = sheet.table.layout == "wide"
    messages: dict[str, None] = {}  # an ordered set: a bad customer id repeats per contact
    for r in records:
        if r.status in ERROR_STATUSES:
            found = record_messages(r.status, r.errors, r.error, r.error_code, r.source_column if wide else "")
            messages.update(dict.fromkeys(m for m in found if m))
    error = "; ".join(messages)

    headers, cells = sheet.table.headers, list(cells)
    # The customer's key stays even when its contact was created: the fixed line must still name its customer.
    keep = {r.source_column for r in records if r.status not in DONE_STATUSES} | {sheet.table.key_column}
    for r in records:
        if r.status in DONE_STATUSES and r.source_column and r.source_column not in keep:
            index = _column_index(headers, cells, r.source_column, r.source_contact)
            if index is not None:
                cells[index] = ""
    if headers and headers[-1].strip().lower() == ERROR_COLUMN:  # an errors.csv imported again
        cells[-1] = error
        return headers, cells
    return (*headers, ERROR_COLUMN), [*cells, error]


def record_messages(status: str, errors: Sequence[Any], error: str, error_code: str, column: str) -> list[str]:
    """Why one record did not make it: its errors, else its error, code or a word for its
    status; named by `column` (a wide layout's contact column) unless it already is."""
    if errors:
        return [str(e) for e in errors]
    message = error or error_code or FALLBACK_ERROR.get(status, "")
    if column and not message.startswith(column + ":"):
        message = f"{column}: {message}"
    return [message]


def cell_text(value: Any) -> str:
    """A source cell (text, or a workbook's boolean or date) as errors.csv writes it."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()  # the cell as written, without the spaces around it (as a workbook's cells are read)


def _column_index(headers: Sequence[str], cells: Sequence[str], column: str, value: str) -> int | None:
    matches = [i for i, h in enumerate(headers) if h == column]
    if len(matches) > 1:  # the same header twice: the cell that holds this contact
        matches = [i for i in matches if cells[i] == value] or matches
    return matches[0] if matches else None


def _file_name(sheet: Sheet, taken: list[str]) -> str:
    """errors.csv for the first headers, then errors-<file>[-<sheet>].csv (numbered if taken)."""
    if not taken:
        return ERRORS_CSV
    parts = [Path(sheet.table.file).stem, sheet.table.sheet]
    name = "errors-" + "-".join(_file_part(p) for p in parts if p) + ".csv"
    stem, n = name[:-4], 2
    while name in taken:
        name, n = f"{stem}-{n}.csv", n + 1
    return name


def _file_part(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("._") or "sheet"
