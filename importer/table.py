"""The run's table: one pandas frame, one row per contact record, from the loader to the report.

    table = read_table(paths, options...)   # load every file, normalize by column
    table.frame                             # one row per contact record, in input order
    table.sheets[i].cells                   # the source rows of file/sheet i, as written

The frame's index is the record's position in the run (`ContactRecord.index`). Columns:

    sheet_no       int      which of `table.sheets` the row came from
    line           int      the source row's position in that sheet's `cells`
    file, sheet    str      as the user named the file; "" for a text file's sheet
    row            int      the Excel row number (header = 1; blank lines and multi-line cells counted)
    source_column  str      the header of the cell holding the contact ("" if none)
    customer_id    Int64    <NA> when the row names no valid id
    customer_email str      lower-cased; <NA> when none
    type, contact, handle, note, source_contact   str ("" when blank); contact as sent, source_contact as written
    default        boolean  <NA> when blank (not sent)
    order_by       Int64
    timestamp      str      Ecwid's form; <NA> when blank
    errors         object   tuple[RecordError, ...], () when the row is fine
    status         str      a records.Status value
    http_status, create_count  Int64
    attempts       int
    error_code, error  str
    duplicate_of   object   the records.Source of the row this one repeats, or None

Each distinct value of a column is worked out once (`factorize`), by the same rule
functions (importer.rules) that name a row's errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from importer.records import SourceTable

__all__ = ["Sheet", "Table", "FRAME_COLUMNS"]

FRAME_COLUMNS = (
    "sheet_no", "line", "file", "sheet", "row", "source_column",
    "customer_id", "customer_email", "type", "contact", "handle", "note", "source_contact",
    "default", "order_by", "timestamp", "errors",
    "status", "http_status", "create_count", "attempts", "error_code", "error", "duplicate_of",
)  # fmt: skip


@dataclass
class Sheet:
    """One text file or workbook sheet as read: its header and mapping, and its rows as written."""

    table: SourceTable
    cells: pd.DataFrame  # columns 0..len(headers)-1; non-blank data rows only; text, or a workbook's bool/datetime


@dataclass
class Table:
    frame: pd.DataFrame
    sheets: list[Sheet]

    def __len__(self) -> int:
        return len(self.frame)
