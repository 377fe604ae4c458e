"""results.csv and results.xlsx: one line per record of the run frame, in input order.

    frame = results_frame(table)            # REPORT_COLUMNS, plain values: also `result.frame`
    write_results_csv(frame, path)          # formula-escaped, UTF-8 with BOM, CRLF
    note = write_results_xlsx(frame, path)  # None, or why results.xlsx was not written

Cells a spreadsheet would run as a formula are prefixed with ``'`` (OWASP CSV
injection), except ``+``/``-`` values that are plain numbers or phone numbers.
`escape_formula` is the rule; `escape_column` runs it on the cells of a column whose
first character could start a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from importer.frame import Table
from importer.report.csvtext import csv_fields, csv_lines, rows_starting_with

__all__ = [
    "REPORT_COLUMNS", "TEXT_COLUMNS", "RESULTS_CSV", "RESULTS_XLSX", "BOM", "XLSX_MAX_ROWS", "FORMULA_START",
    "escape_formula", "escape_column", "results_frame", "source_names", "open_csv", "write_results_csv",
    "write_results_xlsx",
]  # fmt: skip

REPORT_COLUMNS = (
    "file", "sheet", "row", "customer_id", "customer_email", "type", "contact", "handle", "source_contact",
    "status", "http_status", "create_count", "attempts", "error_code", "error",
    "duplicate_of",  # str(Source) of the first occurrence, for status duplicate
)  # fmt: skip

# Columns that can hold text from the file or the server: the ones formula-escaped.
# The others are numbers or our own codes.
TEXT_COLUMNS = (
    "file", "sheet", "customer_email", "type", "contact", "handle", "source_contact", "error", "duplicate_of",
)  # fmt: skip
_STR_COLUMNS = frozenset((*TEXT_COLUMNS, "status", "error_code"))  # str in the results frame, "" when blank

RESULTS_CSV = "results.csv"
RESULTS_XLSX = "results.xlsx"
BOM = "\ufeff"  # Excel guesses cp1252 for a BOM-less CSV
CSV_CHUNK_ROWS = 25_000  # results.csv lines formatted at a time: memory stays flat

# Above this many records results.xlsx is not written (a note says so): openpyxl's
# write-only mode manages some 7k lines/s, while results.csv has the same lines.
XLSX_MAX_ROWS = 50_000
XLSX_MAX_CHARS = 32_767  # Excel refuses longer cells

FORMULA_START = "=@+-\t\r"  # what a cell starts with for a spreadsheet to run it
_FORMULA_CHARS = frozenset(FORMULA_START)
# A sign, then digits, spaces, ().- with at least one digit.
_NUMBER_OR_PHONE = re.compile(r"[+-]?[\s().-]*\d[\d\s().-]*")
# The same pattern for pyarrow's RE2 over a column: RE2's \s and \d are ASCII, a subset of Python's, so a signed
# cell it matches is one escape_formula keeps as it is.
_KEPT_IN_COLUMN = rf"^(?:{_NUMBER_OR_PHONE.pattern})\z"


def escape_formula(value: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would execute; numbers and phones stay as they are."""
    if value[:1] not in _FORMULA_CHARS:
        return value
    if value[0] in "+-" and (value[1:].isdecimal() or _NUMBER_OR_PHONE.fullmatch(value)):
        return value  # isdecimal (Unicode Nd, the same as \d): E.164 phones without the regex
    return "'" + value


def escape_column(column: pa.Array) -> pa.Array:
    """`escape_formula` over a string column: run on the cells whose first character is in
    FORMULA_START and that are not a signed number or phone by its own pattern (found with vectorized tests),
    the others left as they are."""
    risky = rows_starting_with(column, FORMULA_START.encode())
    if not risky.any():
        return column
    mask = pa.array(risky)
    cells = pc.filter(column, mask)
    # Signed numbers and phones (most of these cells): escape_formula keeps them, no call per cell needed.
    plain = rows_starting_with(cells, b"+-") & pc.match_substring_regex(cells, _KEPT_IN_COLUMN).to_numpy(
        zero_copy_only=False)
    if plain.all():
        return column
    if plain.any():
        risky[np.flatnonzero(risky)[plain]] = False
        mask, cells = pa.array(risky), pc.filter(cells, pa.array(~plain))
    escaped = [escape_formula(v) for v in cells.to_pylist()]
    return pc.replace_with_mask(column, mask, pa.array(escaped, column.type))


def results_frame(table: Table) -> pd.DataFrame:
    """The run frame's REPORT_COLUMNS with plain values (not escaped), its index kept.

    Text columns keep their dtype (str, categorical or object) with "" for blank;
    customer_id, http_status and create_count stay Int64 with <NA>; duplicate_of is
    the earlier row as str(Source), or "".
    """
    frame = table.frame
    data: dict[str, pd.Series] = {}
    for name in REPORT_COLUMNS:
        column = source_names(frame[name]) if name == "duplicate_of" else frame[name]
        data[name] = _blank_as_empty(column) if name in _STR_COLUMNS else column
    return pd.DataFrame(data, index=frame.index, copy=False)  # columns shared with the run frame (copy on write)


def source_names(column: pd.Series) -> pd.Series:
    """str(Source) of each cell, "" for None: each distinct Source is named once."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    names = np.array(["", *map(str, uniques)], dtype=object)
    return pd.Series(names[codes + 1], index=column.index, dtype="str")


def _blank_as_empty(column: pd.Series) -> pd.Series:
    if not column.hasnans:
        return column
    if isinstance(column.dtype, pd.CategoricalDtype) and "" not in column.cat.categories:
        column = column.cat.add_categories([""])
    return column.fillna("")


# --- results.csv ---------------------------------------------------------------


def open_csv(path: Path) -> TextIO:
    """A text file for csv.writer: UTF-8 with its BOM already written, no newline translation."""
    file = open(path, "w", encoding="utf-8", newline="", buffering=1 << 20)
    file.write(BOM)
    return file


def write_results_csv(frame: pd.DataFrame, path: Path) -> None:
    """results.csv: the header, then `frame`'s lines, CSV_CHUNK_ROWS at a time.

    Each chunk is formatted column by column: TEXT_COLUMNS formula-escaped, every
    column turned into csv.writer's fields, the fields joined into lines whose bytes
    are written as they lie in memory.
    """
    with open_csv(path) as out:
        csv.writer(out).writerow(REPORT_COLUMNS)
        out.flush()  # the lines go to the binary file below the text layer
        for start in range(0, len(frame), CSV_CHUNK_ROWS):
            chunk = frame.iloc[start : start + CSV_CHUNK_ROWS]
            fields = [_fields(_arrow(chunk[name]), name in TEXT_COLUMNS) for name in REPORT_COLUMNS]
            out.buffer.write(csv_lines(fields))  # type: ignore[attr-defined]


def _arrow(column: pd.Series) -> pa.Array:
    array = pa.array(column)  # no copy for an Arrow-backed str column; a categorical gives a DictionaryArray
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _fields(column: pa.Array, escape: bool) -> pa.Array:
    """A column's results.csv fields, formula-escaped if `escape`; a categorical's
    categories are escaped and formatted once each."""
    if pa.types.is_dictionary(column.type):
        fields = pc.take(_fields(column.dictionary, escape), column.indices)
        return pc.fill_null(fields, pa.scalar("", pa.large_string()))
    return csv_fields(escape_column(column) if escape else column)


# --- results.xlsx --------------------------------------------------------------


# Status colours in results.xlsx (Excel's own good / neutral / bad fills).
_STATUS_FILLS = {
    "created": "C6EFCE", "updated": "C6EFCE", "valid": "C6EFCE", "skipped": "DDEBF7", "duplicate": "DDEBF7",
    "not_created": "FFEB9C", "not_sent": "FFEB9C", "invalid": "FFC7CE", "failed": "FFC7CE",
}  # fmt: skip
TO_FIX = ("invalid", "failed", "not_created", "not_sent")  # the rows of the "to fix" sheet
_MAX_WIDTH = 60


def write_results_xlsx(frame: pd.DataFrame, path: Path) -> str | None:
    """results.xlsx: sheet `results` (every line) and `to fix` (the lines that didn't make it), each with
    a filter, fitted widths, coloured statuses, text stored as text. Above XLSX_MAX_ROWS lines nothing
    is written and the note saying so is returned. openpyxl is imported only when the file is written."""
    if len(frame) > XLSX_MAX_ROWS:
        return (
            f"results.xlsx not written: {len(frame):,} records is more than {XLSX_MAX_ROWS:,}; "
            "results.csv has every line"
        )
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheets = [workbook.create_sheet("results"), workbook.create_sheet("to fix")]
    try:
        _fill_sheet(sheets[0], frame)
        _fill_sheet(sheets[1], frame[frame["status"].isin(TO_FIX).to_numpy(dtype=bool)])
        # Zipped in memory, then written: a full disk fails one write, not a ZipFile that complains
        # again (a traceback on stderr) when it is collected.
        buffer = io.BytesIO()
        workbook.save(buffer)
    except BaseException:
        for sheet in sheets:
            _discard(sheet)
        raise
    path.write_bytes(buffer.getbuffer())
    return None


def _fill_sheet(sheet: Any, frame: pd.DataFrame) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    def text_cell(value: str) -> Any:  # stored as text even when it starts with "="
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell

    columns = [frame[name].astype(object).tolist() for name in REPORT_COLUMNS]
    for k, (name, values) in enumerate(zip(REPORT_COLUMNS, columns), 1):  # widths before any row (write-only)
        longest = max((len(str(v)) for v in values if v is not None and v is not pd.NA), default=0)
        sheet.column_dimensions[get_column_letter(k)].width = min(_MAX_WIDTH, max(len(name), longest) + 2)
    last = get_column_letter(len(REPORT_COLUMNS))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
    status = get_column_letter(REPORT_COLUMNS.index("status") + 1)
    for value, colour in _STATUS_FILLS.items() if len(frame) else ():
        sheet.conditional_formatting.add(f"{status}2:{status}{len(frame) + 1}", CellIsRule(
            operator="equal", formula=[f'"{value}"'], fill=PatternFill("solid", fgColor=colour)))  # fmt: skip
    bold = Font(bold=True)
    header = []
    for name in REPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for values in zip(*columns):
        sheet.append([_xlsx_value(v, ILLEGAL_CHARACTERS_RE, text_cell) for v in values])


def _discard(sheet: Any) -> None:
    """Close a write-only sheet's half-written streams (openpyxl keeps the rows in a temporary file)
    now, so that when the disk is full their cleanup fails here, quietly, and not later on stderr
    ("Exception ignored in: <generator object WorksheetWriter.get_stream>")."""
    writer = getattr(sheet, "_writer", None)
    for stream in (getattr(sheet, "_rows", None), getattr(writer, "xf", None)):
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - the disk is full: the error that matters is already raised
                pass


def _xlsx_value(value: Any, illegal: re.Pattern[str], text_cell: Callable[[str], Any]) -> Any:
    """One results value as openpyxl should store it: text as text, None for blank."""
    if value is None or value is pd.NA or value == "":
        return None  # no empty cells: a third fewer for openpyxl to write
    if isinstance(value, str):
        value = illegal.sub("\ufffd", value)[:XLSX_MAX_CHARS]  # control characters make openpyxl raise
        return text_cell(value) if value.startswith("=") else value
    if isinstance(value, (int, np.integer)) and abs(value) >= 10**15:
        return str(value)  # beyond Excel's 15 digits
    return value
