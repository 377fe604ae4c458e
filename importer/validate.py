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
    # Memory matters here: a million records are alive, and the indexes below sit beside them.
    # The main index is keyed by the contact string the record already holds (no new key
    # object per row); the rare contact that several customers or types share falls back to
    # a full (customer, type, contact) index. A customer is its id as an int, or "email:..."
    # without one: ints and strings never compare equal, so this is ContactRecord.key's
    # identity. Values are positions, not records: holding the old records would keep both
    # copies alive.
    by_contact: dict[str, int] = {}  # contact -> position of the first valid record with it
    by_key: dict[tuple[object, str, str], int] = {}  # the same, for its other (customer, type)s
    default_at: dict[tuple[object, str], int] = {}  # (customer, type) -> position of its first default
    conflicts: dict[tuple[object, str], list[int]] = {}  # (customer, type) -> positions, when > 1 default

    for i, record in enumerate(records):
        if record.errors:
            records[i] = _invalid(record)
            continue
        cid = record.customer_id
        customer = record.customer_key if cid is None else cid
        first = by_contact.setdefault(record.contact, i)
        if first != i:
            r = records[first]
            if r.type != record.type or (r.customer_key if r.customer_id is None else r.customer_id) != customer:
                first = by_key.setdefault((customer, record.type, record.contact), i)
        if first != i:
            src = records[first].source
            outcome = Outcome(Status.DUPLICATE, error_code=Code.DUPLICATE, error=f"same as {describe(src)}")
            records[i] = with_outcome(record, outcome, duplicate_of=src)
            continue
        if record.default:
            key = (customer, record.type)
            first = default_at.setdefault(key, i)
            if first != i:
                conflicts.setdefault(key, [first]).append(i)
        records[i] = with_outcome(record, VALID)
    del by_contact, by_key, default_at

    for positions in conflicts.values():
        customer, type_ = records[positions[0]].customer_key, records[positions[0]].type
        for i in positions:
            record = records[i]
            others = ", ".join(describe(records[j].source) for j in positions if j != i)
            error = RecordError(
                Code.DUPLICATE_DEFAULT,
                column_of(record.raw, "default") if record.raw else "default",
                f"customer {customer.removeprefix('email:')} has more than one default {type_}: also {others}; "
                "keep default=true on one of them",
            )
            records[i] = _invalid(replace(record, errors=record.errors + (error,)))
    return records
