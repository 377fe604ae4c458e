"""The run's table in memory: its frame's columns, its sheets, and its rows as ContactRecords.

    table = Table(frame, sheets)               # importer.input.table.read_table builds it
    records = records_at(table.frame, [0, 5])  # rows as ContactRecords, for the sender and the journal
    set_outcomes(table.frame, records)         # what happened to them, back into the frame
    Records(table.frame)                       # every row, each built when asked for (`result.records`)

Below every step that reads or writes the table (the loader, the checks, the report, a run), so each
of them can name it without importing the others. The columns are described in importer.input.table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from importer.records import ContactRecord, Outcome, Source, SourceTable, Status

__all__ = ["FRAME_COLUMNS", "STATUSES", "Sheet", "Table", "records_at", "set_outcomes", "Records"]

FRAME_COLUMNS = (
    "sheet_no", "line", "file", "sheet", "row", "source_column",
    "customer_id", "customer_email", "type", "contact", "handle", "note", "source_contact",
    "default", "order_by", "timestamp", "errors",
    "status", "http_status", "create_count", "attempts", "error_code", "error", "duplicate_of",
)  # fmt: skip


STATUSES = [s.value for s in Status]  # the categories of the frame's status column


@dataclass
class Sheet:
    """One text file or workbook sheet as read: its header and mapping, and its rows as written."""

    table: SourceTable
    cells: pd.DataFrame  # columns 0..len(headers)-1; non-blank data rows only; text, or a workbook's bool/datetime
    delimiter: str = ","  # a text file's own: its errors.csv is written with it, to open and import again as it is
    plan_left_out: tuple = ()  # headers.Plan.left_out: contact-like columns not imported, each cell said on a line


@dataclass
class Table:
    frame: pd.DataFrame
    sheets: list[Sheet]

    def __len__(self) -> int:
        return len(self.frame)


def _na(value):
    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else value


_RECORD_COLUMNS = ("file", "sheet", "row", "customer_id", "customer_email", "type", "contact", "handle", "note",
                   "default", "order_by", "timestamp", "source_contact", "errors", "status", "http_status",
                   "create_count", "attempts", "error_code", "error", "duplicate_of")


def records_at(frame: pd.DataFrame, positions: Sequence[int] | np.ndarray) -> list[ContactRecord]:
    """The rows at `positions` as ContactRecords (for the sender, the journal, the library's result)."""
    at = np.asarray(positions, dtype=np.int64)
    cols = {name: frame[name].iloc[at].tolist() for name in _RECORD_COLUMNS}
    out = []
    for k, i in enumerate(at.tolist()):
        c = {name: values[k] for name, values in cols.items()}
        cid, order, http, count = (_na(c[n]) for n in ("customer_id", "order_by", "http_status", "create_count"))
        out.append(ContactRecord(
            index=i, source=Source(c["file"], c["sheet"], int(c["row"])),
            customer_id=None if cid is None else int(cid), customer_email=_na(c["customer_email"]),
            type=c["type"], contact=c["contact"], handle=c["handle"], note=c["note"], default=_na(c["default"]),
            order_by=None if order is None else int(order), timestamp=_na(c["timestamp"]),
            source_contact=c["source_contact"], errors=c["errors"],
            outcome=Outcome(Status(c["status"]), None if http is None else int(http),
                            None if count is None else int(count), int(c["attempts"]), c["error_code"], c["error"]),
            duplicate_of=c["duplicate_of"],
        ))  # fmt: skip
    return out


def set_outcomes(frame: pd.DataFrame, records: Iterable[ContactRecord]) -> None:
    """Write what happened to `records` (their outcome, a customer id found by email, a repeat) into the frame."""
    records = list(records)
    if not records:
        return
    at = np.fromiter((r.index for r in records), dtype=np.int64, count=len(records))
    updates = {
        "status": [r.outcome.status.value for r in records],
        "http_status": [r.outcome.http_status for r in records],
        "create_count": [r.outcome.create_count for r in records],
        "attempts": [r.outcome.attempts for r in records],
        "error_code": [str(r.outcome.error_code) for r in records],
        "error": [r.outcome.error for r in records],
        "customer_id": [r.customer_id for r in records],
    }
    for name, values in updates.items():
        column = frame[name].array.copy()
        if isinstance(column, pd.Categorical):
            column = column.add_categories(sorted(set(values) - set(column.categories)))
            column[at] = values
        else:
            column[at] = pd.array(values, dtype=column.dtype)
        frame[name] = column
    duplicate_of = frame["duplicate_of"].to_numpy(copy=True)
    for i, r in zip(at.tolist(), records):
        duplicate_of[i] = r.duplicate_of
    frame["duplicate_of"] = duplicate_of


class Records(Sequence[ContactRecord]):
    """A run's rows as ContactRecords, each built when asked for (`result.records`)."""

    def __init__(self, frame: pd.DataFrame):
        self._frame = frame

    def __len__(self) -> int:
        return len(self._frame)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return records_at(self._frame, range(*i.indices(len(self))))
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("record index out of range")
        return records_at(self._frame, [i])[0]

    def __iter__(self) -> Iterator[ContactRecord]:
        for start in range(0, len(self), 4096):
            yield from records_at(self._frame, range(start, min(len(self), start + 4096)))

    def __repr__(self) -> str:
        return f"<Records of {len(self)} rows>"
