"""Rules over the whole run, as frame operations: outcome `invalid`, `duplicate` or `valid` for each row.

    validate(table)    # sets status, error_code, error, duplicate_of (and errors) in table.frame

* a row with errors is `invalid` (error_code = its codes, `;`-separated, first first; error = all messages);
* a valid row whose key (customer, type, contact as sent; emails in any case, as Ecwid
  compares them) was seen earlier in the run is `duplicate`, pointing at the first one;
* when several valid rows set default=true for the same customer and type, every one of
  them becomes `invalid` (duplicate-default) naming the others: Ecwid keeps one default
  per type, and picking one silently would be a guess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from importer.checks.normalize import column_of
from importer.frame import STATUSES, Table, records_at
from importer.records import ContactRecord, RecordError, Source, Status
from importer.errors import Code
from importer.memory import release

__all__ = ["validate", "customer_codes", "source_at"]


def customer_codes(frame: pd.DataFrame) -> np.ndarray:
    """One int per customer as ContactRecord.customer_key names it: the id, else the email."""
    ids, id_values = pd.factorize(frame["customer_id"])
    emails = pd.factorize(frame["customer_email"])[0].astype(np.int32)
    return np.where(ids >= 0, ids.astype(np.int32), len(id_values) + 1 + emails)


def source_at(frame: pd.DataFrame, i: int) -> Source:
    return Source(frame["file"].iat[i], frame["sheet"].iat[i], int(frame["row"].iat[i]))


def validate(table: Table) -> Table:
    frame = table.frame
    errors = frame["errors"].to_numpy(copy=True)
    invalid = np.fromiter(map(bool, errors), dtype=bool, count=len(frame))
    status = np.full(len(frame), _STATUS[Status.VALID], dtype=np.int8)
    changed: dict[int, tuple[str, str]] = {}  # position -> (error_code, error), the few rows that have them
    for i in np.flatnonzero(invalid).tolist():
        status[i], changed[i] = _invalid(errors[i])

    customers = customer_codes(frame)
    types = pd.factorize(frame["type"])[0].astype(np.int32)
    valid = np.flatnonzero(~invalid)
    contacts = _contact_codes(frame)
    release()
    first = _first_of_group(customers[valid], types[valid], contacts[valid])
    del contacts
    later = first != np.arange(len(valid))
    duplicate_of = frame["duplicate_of"].to_numpy(copy=True)
    for i, j in zip(valid[later].tolist(), valid[first[later]].tolist()):
        earlier = source_at(frame, j)
        status[i], changed[i] = _STATUS[Status.DUPLICATE], (Code.DUPLICATE.value, f"same as {earlier}")
        duplicate_of[i] = earlier

    defaults = frame["default"].fillna(False).to_numpy(dtype=bool)
    with_default = np.flatnonzero(defaults & (status == _STATUS[Status.VALID]))
    owner = _first_of_group(customers[with_default], types[with_default])
    clash = np.bincount(owner, minlength=len(owner))[owner] > 1 if len(owner) else np.zeros(0, dtype=bool)
    groups: dict[int, list[int]] = {}
    for o, i in zip(owner[clash].tolist(), with_default[clash].tolist()):
        groups.setdefault(o, []).append(i)
    for rows in groups.values():
        clash = records_at(frame, rows)
        for i, record in zip(rows, clash):
            errors[i] = errors[i] + (_default_clash(table, record, clash),)
            status[i], changed[i] = _invalid(errors[i])

    frame["errors"] = errors
    frame["status"] = pd.Categorical.from_codes(status, categories=STATUSES)
    at = np.fromiter(changed, dtype=np.int64, count=len(changed))
    codes, messages = zip(*changed.values()) if changed else ((), ())
    frame["error_code"] = _sparse(len(frame), at, list(codes), category=True)
    frame["error"] = _sparse(len(frame), at, list(messages))
    frame["duplicate_of"] = duplicate_of
    return table


_STATUS = {s: k for k, s in enumerate(Status)}  # a status's code in the frame's categories (STATUSES)


def _sparse(n: int, at: np.ndarray, values: list[str], *, category: bool = False):
    """A column of "" but for `values` at `at`: built from the few values, not from n objects."""
    if category:
        categories, codes = ["", *dict.fromkeys(values)], np.zeros(n, dtype=np.int16)
        index = {c: k for k, c in enumerate(categories)}
        codes[at] = [index[v] for v in values]
        return pd.Categorical.from_codes(codes, categories=categories)
    where = np.full(n, -1, dtype=np.int64)
    where[at] = np.arange(len(at))
    return pd.array(values, dtype="str").take(where, allow_fill=True, fill_value="")


def _contact_codes(frame: pd.DataFrame) -> np.ndarray:
    """One int per contact value as sent; an email's the same in any case (contactfields.match_key).

    One hash table, of the rows' values; the case is then folded only among the distinct emails
    that change when lower-cased and the emails they become. A second table of every distinct
    value lower-cased cost a million-row run ~100 MiB of peak memory, for the few that differ.
    """
    codes, values = pd.factorize(frame["contact"])
    n = len(values)
    emails = (frame["type"] == "EMAIL").to_numpy(dtype=bool) & (codes >= 0)
    at = np.flatnonzero(np.bincount(codes[emails], minlength=n))  # the distinct values of emails
    mail = pa.array(values.array).take(at)
    del values
    lowered = pc.utf8_lower(mail)
    changed = pc.not_equal(lowered, mail).to_numpy(zero_copy_only=False)
    if not changed.any():
        return codes.astype(np.int32)
    folded = lowered.filter(changed)
    del lowered
    same = np.flatnonzero(pc.is_in(mail, value_set=folded).to_numpy(zero_copy_only=False) & ~changed)
    groups = pa.concat_arrays([folded, mail.take(same)]).dictionary_encode().indices.to_numpy()
    canon = np.arange(n, dtype=np.int64)
    canon[at[np.concatenate([np.flatnonzero(changed), same])]] = n + groups
    # The type is a key of its own: an email's code and another type's may meet without harm.
    return np.where(emails, canon[np.maximum(codes, 0)], codes).astype(np.int32)


def _invalid(errors: tuple[RecordError, ...]) -> tuple[int, tuple[str, str]]:
    """Every code of the row, the first one first ("invalid-phone;duplicate-default"), and every message.
    A cell of a column not imported (column-not-imported) is `skipped`: said, never sent, not an error."""
    codes = ";".join(dict.fromkeys(str(e.code) for e in errors))
    status = Status.SKIPPED if codes == Code.COLUMN_NOT_IMPORTED else Status.INVALID
    return _STATUS[status], (codes, "; ".join(map(str, errors)))


def _first_of_group(*keys: np.ndarray) -> np.ndarray:
    """Per position: the first position with the same keys (itself if none came before).

    A sort, not a hash table: a million rows cost a few arrays of ints, whatever the keys.
    """
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort(keys[::-1])  # stable: equal keys keep their positions' order
    starts = np.zeros(n, dtype=bool)
    starts[0] = True
    for k in keys:
        ordered = k[order]
        starts[1:] |= ordered[1:] != ordered[:-1]
        del ordered
    first = np.empty(n, dtype=np.int64)
    first[order] = order[np.flatnonzero(starts)[np.cumsum(starts) - 1]]
    return first


def _default_clash(table: Table, record: ContactRecord, clash: list[ContactRecord]) -> RecordError:
    others = ", ".join(str(r.source) for r in clash if r.index != record.index)
    customer = record.customer_key.removeprefix("email:")
    frame, i = table.frame, record.index
    column = column_of(table.sheets[frame["sheet_no"].iat[i]].table, "default", frame["source_column"].iat[i])
    return Code.DUPLICATE_DEFAULT.error(column, customer=customer, type=record.type, others=others)
