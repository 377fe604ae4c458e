"""Rules over records: outcome `invalid`, `duplicate` or `valid` for each.

Interface (used by importer.pipeline):

    records = validate(records)   # the same list, each item replaced by the record with its outcome

The list is updated in place (records[i] = the record with its outcome) so a million
records exist once, not twice, at the peak; the records themselves stay frozen.

* a record with errors is `invalid` (error_code = its first error's code);
* a valid record whose key (customer, type, normalized contact) was seen earlier in
  the run is `duplicate`, pointing at the first one (`duplicate_of`);
* when several distinct valid records set default=true for the same customer and
  type, every one of them becomes `invalid` (duplicate-default) naming the others:
  Ecwid keeps one default per type, and picking one silently would be a guess.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import replace

from .normalize import column_of, with_outcome
from .records import Code, ContactRecord, Outcome, RecordError, Source, Status

__all__ = ["validate", "describe"]

VALID = Outcome(Status.VALID)  # shared: frozen


def describe(source: Source) -> str:
    """'row 12 (file.csv)' or 'row 12 (book.xlsx, sheet Contacts)', as a person finds it."""
    where = os.path.basename(source.file) or source.file
    if source.sheet:
        where += f", sheet {source.sheet}"
    return f"row {source.row} ({where})"


def _invalid(record: ContactRecord) -> ContactRecord:
    errors = record.errors
    return with_outcome(record, Outcome(Status.INVALID, error_code=errors[0].code, error="; ".join(map(str, errors))))


def validate(records: list[ContactRecord]) -> list[ContactRecord]:
    # Key -> position of its first valid record. The key refers to the record's own objects
    # (the id as an int, or "email:..." when there is none: ints and strings never compare
    # equal, so this is the same identity as ContactRecord.key without a new string per row).
    # Positions, not records: holding the old records would keep both copies alive.
    first_of: dict[tuple[object, str, str], int] = {}
    defaults: dict[tuple[str, str], list[int]] = defaultdict(list)  # (customer, type) -> positions
    seen = first_of.setdefault

    for i, record in enumerate(records):
        if record.errors:
            records[i] = _invalid(record)
            continue
        cid = record.customer_id
        first = seen((record.customer_key if cid is None else cid, record.type, record.contact), i)
        if first != i:
            src = records[first].source
            outcome = Outcome(Status.DUPLICATE, error_code=Code.DUPLICATE, error=f"same as {describe(src)}")
            records[i] = with_outcome(record, outcome, duplicate_of=src)
            continue
        if record.default:
            defaults[(record.customer_key, record.type)].append(i)
        records[i] = with_outcome(record, VALID)
    out = records
    first_of.clear()

    for (customer, type_), positions in defaults.items():
        if len(positions) < 2:
            continue
        for i in positions:
            record = out[i]
            others = ", ".join(describe(out[j].source) for j in positions if j != i)
            error = RecordError(
                Code.DUPLICATE_DEFAULT,
                column_of(record.raw, "default") if record.raw else "default",
                f"customer {customer.removeprefix('email:')} has more than one default {type_}: also {others}; "
                "keep default=true on one of them",
            )
            out[i] = _invalid(replace(record, errors=record.errors + (error,)))
    return out
