"""Run tables built by hand, following the contract in importer/input/table.py.

    contacts = long_sheet("contacts.csv", [("100", "email", "a@x.com"), ...])
    table = make_table([contacts], [record(0, 0, status="created"), ...])
    big = synthetic_table(1_000_000)      # column-built, for sizes and timings

`record(sheet_no, line, ...)` gives one frame row as a dict; `make_table` fills what a
record leaves out from its sheet (file, sheet, row = line + 2, contact and
source_contact = the cell as written in its source column) and gives each column the
contract's dtype.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from importer.input.table import FRAME_COLUMNS, Sheet, Table
from importer.records import RecordError, Source, SourceTable

LONG_HEADERS = ("customerId", "type", "contact")
WIDE_HEADERS = ("Customer ID", "Name", "Email", "Phone", "Instagram")

_INT64 = ("customer_id", "order_by", "http_status", "create_count")
_INT = ("sheet_no", "line", "row", "attempts")
_OBJECT = ("errors", "duplicate_of")


Rows = Sequence[Sequence[Any]]


def sheet(file: str, headers: Sequence[str], rows: Rows, *, name: str = "", layout: str = "long") -> Sheet:
    """One file or sheet: cells as written (text, or a workbook's bool/datetime), columns 0..n-1."""
    width = len(headers)
    cells = pd.DataFrame([[*r, *[None] * (width - len(r))] for r in rows], columns=range(width), dtype=object)
    return Sheet(SourceTable(file, name, tuple(headers), layout), cells)


def long_sheet(file: str, rows: Rows, *, headers: Sequence[str] = LONG_HEADERS, name: str = "") -> Sheet:
    return sheet(file, headers, rows, name=name, layout="long")


def wide_sheet(file: str, rows: Rows, *, headers: Sequence[str] = WIDE_HEADERS, name: str = "") -> Sheet:
    return sheet(file, headers, rows, name=name, layout="wide")


def record(sheet_no: int, line: int, *, status: str = "valid", column: str | None = None, **fields: Any) -> dict:
    """One frame row; fields are frame columns (source_column as `column`)."""
    return {"sheet_no": sheet_no, "line": line, "status": status, "source_column": column, **fields}


def make_table(sheets: Sequence[Sheet], records: Sequence[dict[str, Any]]) -> Table:
    rows = [_complete(sheets, r) for r in records]
    columns = {c: [r[c] for r in rows] for c in FRAME_COLUMNS}
    return Table(_frame(columns, len(rows)), list(sheets))


def _complete(sheets: Sequence[Sheet], given: dict[str, Any]) -> dict[str, Any]:
    src = sheets[given["sheet_no"]]
    headers, line = src.table.headers, given["line"]
    column = given["source_column"]
    if column is None:  # the long layout's contact column, else the last header
        column = "contact" if "contact" in headers else headers[-1]
    written = src.cells.iloc[line, headers.index(column)] if column in headers and line < len(src.cells) else ""
    written = written if isinstance(written, str) else ""
    contact = given.get("contact", written)
    out = {
        "file": src.table.file, "sheet": src.table.sheet, "row": line + 2, "source_column": column,
        "customer_id": 1, "customer_email": None, "type": "EMAIL", "contact": contact, "handle": "", "note": "",
        "source_contact": written or contact, "default": None, "order_by": None,
        "timestamp": None, "errors": (), "http_status": None, "create_count": None, "attempts": 0,
        "error_code": "", "error": "", "duplicate_of": None,
    }  # fmt: skip
    out.update({k: v for k, v in given.items() if k != "source_column"})
    return out


def _frame(columns: dict[str, Any], n: int) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name in FRAME_COLUMNS:
        values = columns[name]
        if name in _INT64:
            data[name] = pd.array(values, dtype="Int64")
        elif name in _INT:
            data[name] = np.asarray(values, dtype=np.int64)
        elif name == "default":
            data[name] = pd.array(values, dtype="boolean")
        elif name in _OBJECT:
            data[name] = pd.Series(values, dtype=object)
        else:
            data[name] = pd.Series(values, dtype="str")
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def synthetic_table(n: int, *, failing_every: int = 33) -> Table:
    """n long-layout records of one file, built by column: every `failing_every`-th is invalid,
    every 50th a duplicate of row 2; emails and phones (written "+1 415 555 0123") alternating."""
    i = np.arange(n)
    ids = (100_000_000 + i // 3).astype(str)
    emails = np.char.add(np.char.add("user", i.astype(str)), "@example.com")
    digits = np.char.zfill((i % 10_000).astype(str), 4)
    written = np.where(i % 2 == 0, emails, np.char.add("+1 415 555 ", digits))
    contacts = np.where(i % 2 == 0, emails, np.char.add("+1415555", digits))
    cells = pd.DataFrame({0: ids, 1: np.where(i % 2 == 0, "Email", "Phone"), 2: written}, dtype="str")
    src = Sheet(SourceTable("big.csv", "", LONG_HEADERS, "long"), cells)
    invalid = i % failing_every == 5
    duplicate = (i % 50 == 7) & ~invalid
    status = np.where(invalid, "invalid", np.where(duplicate, "duplicate", "valid"))
    bad = (RecordError("invalid-email", "contact", "not an email address"),)
    first = Source("big.csv", "", 2)
    columns: dict[str, Any] = {
        "sheet_no": np.zeros(n, np.int64), "line": i, "file": np.full(n, "big.csv"), "sheet": np.full(n, ""),
        "row": i + 2, "source_column": np.full(n, "contact"), "customer_id": (100_000_000 + i // 3),
        "customer_email": [None] * n, "type": np.where(i % 2 == 0, "EMAIL", "PHONE"), "contact": contacts,
        "handle": np.full(n, ""), "note": np.full(n, ""), "source_contact": written, "default": [None] * n,
        "order_by": [None] * n, "timestamp": [None] * n,
        "errors": np.where(invalid, pd.Series([bad] * n, dtype=object), pd.Series([()] * n, dtype=object)),
        "status": status, "http_status": [None] * n, "create_count": [None] * n, "attempts": np.zeros(n, np.int64),
        "error_code": np.where(invalid, "invalid-email", np.where(duplicate, "duplicate", "")),
        "error": np.where(invalid, "contact: not an email address", np.where(duplicate, f"same as {first}", "")),
        "duplicate_of": np.where(duplicate, pd.Series([first] * n, dtype=object), None),
    }  # fmt: skip
    return Table(_frame(columns, n), [src])
