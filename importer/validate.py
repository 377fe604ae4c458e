"""Rules over records: outcome `invalid`, `duplicate` or `valid` for each.

Interface (used by importer.pipeline):

    records = validate(records)   # the same list, each item replaced by the record with its outcome
    validate_table(table)         # the same for a columns.RecordTable, in its columns

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

import itertools
import operator
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from .normalize import column_of, with_outcome
from .records import Code, ContactRecord, Outcome, RecordError, Source, Status

__all__ = ["validate", "validate_table", "describe"]

if TYPE_CHECKING:
    from .columns import RecordTable

VALID = Outcome(Status.VALID)  # shared: frozen


def describe(source: Source) -> str:
    """'row 12 (file.csv)' or 'row 12 (book.xlsx, sheet Contacts)', as a person finds it."""
    where = os.path.basename(source.file) or source.file
    if source.sheet:
        where += f", sheet {source.sheet}"
    return f"row {source.row} ({where})"


def _invalid_outcome(errors: tuple[RecordError, ...]) -> Outcome:
    return Outcome(Status.INVALID, error_code=errors[0].code, error="; ".join(map(str, errors)))


def _duplicate_outcome(first: Source) -> Outcome:
    return Outcome(Status.DUPLICATE, error_code=Code.DUPLICATE, error=f"same as {describe(first)}")


def validate(records: list[ContactRecord]) -> list[ContactRecord]:
    """Give each record its outcome, in place; returns the same list."""
    duplicates, conflicts = _rules(
        [r.errors for r in records], [r.customer_id for r in records], [r.customer_email for r in records],
        [r.type for r in records], [r.contact for r in records], [r.default for r in records],
    )  # fmt: skip
    for i, record in enumerate(records):
        if record.errors:
            records[i] = with_outcome(record, _invalid_outcome(record.errors))
        elif i in duplicates:
            first = records[duplicates[i]].source
            records[i] = with_outcome(record, _duplicate_outcome(first), duplicate_of=first)
        else:
            records[i] = with_outcome(record, VALID)
    for i, record in _conflicting(records.__getitem__, conflicts):
        records[i] = record
    return records


def validate_table(table: RecordTable) -> RecordTable:
    """validate() for a columns.RecordTable: the same outcomes, set in its columns."""
    duplicates, conflicts = _rules(table.errors, table.customer_id, table.customer_email, table.type, table.contact,
                                   table.default)  # fmt: skip
    table.outcome = [_invalid_outcome(e) if e else VALID for e in table.errors]
    for i, j in duplicates.items():
        first = table.source(j)
        table.outcome[i] = _duplicate_outcome(first)
        table.duplicate_of[i] = first
    for i, record in _conflicting(table.__getitem__, conflicts):
        table.set_record(i, record)
    return table


Customer = object  # an id (int), or "email:..." without one: ints and strings never compare equal


def _rules(errors: Sequence[tuple], customer_ids: Sequence[int | None], customer_emails: Sequence[str | None],
           types: Sequence[str], contacts: Sequence[str], defaults: Sequence[bool | None],
           ) -> tuple[dict[int, int], dict[tuple[Customer, str], list[int]]]:
    """The rules over the columns of a run: ({duplicate position: first position}, {(customer, type): positions
    of its defaults, when more than one})."""
    # A million rows: every step is a dict or list built in C or one comprehension. A valid row
    # is a duplicate when an earlier valid row has its (customer, type, contact): it points at
    # the earliest. The customer is ContactRecord.key's identity.
    n = len(contacts)

    def customer(i: int) -> Customer:
        cid = customer_ids[i]
        return f"email:{customer_emails[i] or ''}" if cid is None else cid

    invalid = [i for i, e in enumerate(errors) if e]
    keys: list[object] = list(contacts)
    for i in invalid:
        keys[i] = i  # an int never equals a contact: invalid rows match nothing
    first_of = dict(zip(reversed(keys), range(n - 1, -1, -1)))  # contact -> its first valid position
    duplicates: dict[int, int] = {}
    if len(first_of) < n:  # some contact repeats: compare the full keys of those rows only
        later = list(itertools.compress(range(n), map(operator.ne, map(first_of.__getitem__, keys), range(n))))
        shared = sorted({first_of[keys[i]] for i in later}.union(later))
        full = [(customer(i), types[i], contacts[i]) for i in shared]
        first_full = dict(zip(reversed(full), reversed(shared)))  # the earliest position wins
        duplicates = {i: first for i, key in zip(shared, full) if (first := first_full[key]) != i}

    skip = set(invalid).union(duplicates)
    with_default = [i for i, d in enumerate(defaults) if d and i not in skip]
    ids = [customer_ids[i] for i in with_default]
    owners = (  # (customer, type); a customer named by email only on the rare row without an id
        [(customer(i), types[i]) for i in with_default] if None in ids else list(zip(ids, [types[i] for i in with_default]))
    )
    conflicts: dict[tuple[Customer, str], list[int]] = {}
    if len(set(owners)) < len(owners):
        for owner, i in zip(owners, with_default):
            conflicts.setdefault(owner, []).append(i)
        conflicts = {k: v for k, v in conflicts.items() if len(v) > 1}
    return duplicates, conflicts


def _conflicting(record_at: Callable[[int], ContactRecord], conflicts: dict[tuple[Customer, str], list[int]],
                 ) -> Iterator[tuple[int, ContactRecord]]:
    """(position, the record made invalid) for every default that conflicts with another."""
    for positions in conflicts.values():
        records = {i: record_at(i) for i in positions}
        customer, type_ = records[positions[0]].customer_key, records[positions[0]].type
        for i, record in records.items():
            others = ", ".join(describe(records[j].source) for j in positions if j != i)
            error = RecordError(
                Code.DUPLICATE_DEFAULT,
                column_of(record.raw, "default") if record.raw else "default",
                f"customer {customer.removeprefix('email:')} has more than one default {type_}: also {others}; "
                "keep default=true on one of them",
            )
            errors = record.errors + (error,)
            yield i, with_outcome(record, _invalid_outcome(errors), errors=errors)
