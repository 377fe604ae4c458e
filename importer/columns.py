"""A run's records stored by column: each ContactRecord is built only when asked for.

A dry run of a million rows never needs a million ContactRecord objects at once: the
normalizer fills columns a batch at a time, the validator and the report read them,
and a caller that wants records gets them by index or by iterating. Items are equal
to what Normalizer + validate give row by row (tests/test_columns.py checks that).

    table = RecordTable()
    normalizer.add_batch(batch, table)     # appends one row per contact
    validate_table(table)                  # fills table.outcome / duplicate_of / errors
    table[i], list(table), len(table)      # ContactRecords, built on access
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from .normalize import _NO_FIELDS, _raw_row, new_record
from .records import ContactRecord, Outcome, Source, SourceTable

__all__ = ["RecordTable", "COLUMNS"]

# One list per ContactRecord field, except index (the position), source (made from
# table + number) and raw (made from table, number, cells and source_column).
COLUMNS = (
    "table", "number", "cells", "source_column",
    "customer_id", "customer_email", "type", "contact", "handle", "note", "default", "order_by", "timestamp",
    "source_contact", "errors", "outcome", "duplicate_of",
)  # fmt: skip


class RecordTable(Sequence[ContactRecord]):
    """Sequence[ContactRecord] over columns; only rows read from a file (every record has a raw row)."""

    __slots__ = COLUMNS

    table: list[SourceTable]
    number: list[int]
    cells: list[tuple[Any, ...]]
    source_column: list[str]
    customer_id: list[int | None]
    customer_email: list[str | None]
    type: list[str]
    contact: list[str]
    handle: list[str]
    note: list[str]
    default: list[bool | None]
    order_by: list[int | None]
    timestamp: list[str | None]
    source_contact: list[str]
    errors: list[tuple]
    outcome: list[Outcome]
    duplicate_of: list[Source | None]

    def __init__(self, records: Sequence[ContactRecord] = ()) -> None:
        for name in COLUMNS:
            setattr(self, name, [])
        for record in records:
            self.append(record)

    def __len__(self) -> int:
        return len(self.number)

    @overload
    def __getitem__(self, i: int) -> ContactRecord: ...
    @overload
    def __getitem__(self, i: slice) -> list[ContactRecord]: ...
    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._record(j) for j in range(*i.indices(len(self)))]
        n = len(self.number)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("record index out of range")
        return self._record(i)

    def __iter__(self) -> Iterator[ContactRecord]:
        return map(self._record, range(len(self.number)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"<RecordTable of {len(self)} records>"

    def source(self, i: int) -> Source:
        table = self.table[i]
        return Source(table.file, table.sheet, self.number[i])

    def _record(self, i: int) -> ContactRecord:
        source = self.source(i)
        raw = _raw_row(source, _NO_FIELDS, self.cells[i], self.table[i], self.source_column[i], ())
        return new_record(
            i, source, raw, self.customer_id[i], self.customer_email[i], self.type[i], self.contact[i],
            self.handle[i], self.note[i], self.default[i], self.order_by[i], self.timestamp[i],
            self.source_contact[i], self.errors[i], self.outcome[i], self.duplicate_of[i],
        )  # fmt: skip

    def append(self, record: ContactRecord) -> None:
        """Add a record read from a file (its raw row is kept; its index becomes its position)."""
        raw = record.raw
        if raw is None:
            raise ValueError("RecordTable holds rows read from a file: this record has no raw row")
        self.table.append(raw.table)
        self.number.append(record.source.row)
        self.cells.append(raw.cells)
        self.source_column.append(raw.source_column)
        for name in _VALUES:
            getattr(self, name).append(getattr(record, name))

    def extend(self, columns: dict[str, list]) -> None:
        """Append rows given by column: one list per name in COLUMNS, all of one length."""
        if columns.keys() != set(COLUMNS) or len({len(c) for c in columns.values()}) > 1:
            raise ValueError("RecordTable.extend takes one list per column, all of one length")
        for name in COLUMNS:
            getattr(self, name).extend(columns[name])

    def part(self) -> dict[str, list]:
        """The columns but `table`, as plain lists: what extend_part takes (from another process)."""
        return {name: getattr(self, name) for name in COLUMNS[1:]}

    def extend_part(self, columns: dict[str, list], table: SourceTable, first_number: int) -> None:
        """Append another RecordTable's part() of `table`, its row numbers counted from `first_number`."""
        numbers = [first_number - 1 + n for n in columns["number"]]
        self.extend({**columns, "table": [table] * len(numbers), "number": numbers})

    def set_record(self, i: int, record: ContactRecord) -> None:
        """Overwrite row i's values with `record`'s (the same source row, another result)."""
        for name in _VALUES:
            getattr(self, name)[i] = getattr(record, name)


# The columns named as ContactRecord's own fields.
_VALUES = COLUMNS[4:]
