"""Rules over the whole run, as frame operations: outcome `invalid`, `duplicate` or `valid` for each row.

    validate(table)    # sets status, error_code, error, duplicate_of (and errors) in table.frame

* a row with errors is `invalid` (error_code = its first error's code, error = all of them);
* a valid row whose key (customer, type, contact as sent) was seen earlier in the run is
  `duplicate`, pointing at the first one;
* when several valid rows set default=true for the same customer and type, every one of
  them becomes `invalid` (duplicate-default) naming the others: Ecwid keeps one default
  per type, and picking one silently would be a guess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from importer.normalize import column_of
from importer.records import Code, RecordError, Source, Status
from importer.table import Table

__all__ = ["validate", "customer_codes", "customer_key", "source_at"]


def customer_codes(frame: pd.DataFrame) -> np.ndarray:
    """One int per customer as ContactRecord.customer_key names it: the id, else the email."""
    ids, id_values = pd.factorize(frame["customer_id"])
    emails, _ = pd.factorize(frame["customer_email"])
    return np.where(ids >= 0, ids, len(id_values) + 1 + emails)


def customer_key(frame: pd.DataFrame, i: int) -> str:
    cid = frame["customer_id"].iat[i]
    return f"email:{'' if pd.isna(frame['customer_email'].iat[i]) else frame['customer_email'].iat[i]}" if pd.isna(
        cid) else str(cid)


def source_at(frame: pd.DataFrame, i: int) -> Source:
    return Source(frame["file"].iat[i], frame["sheet"].iat[i], int(frame["row"].iat[i]))


def validate(table: Table) -> Table:
    frame = table.frame
    n = len(frame)
    errors = frame["errors"].to_numpy(copy=True)
    invalid = np.fromiter(map(bool, errors), dtype=bool, count=n)
    status = np.full(n, Status.VALID.value, dtype=object)
    error_code = np.full(n, "", dtype=object)
    error = np.full(n, "", dtype=object)
    duplicate_of = frame["duplicate_of"].to_numpy(copy=True)
    for i in np.flatnonzero(invalid).tolist():
        status[i], error_code[i], error[i] = _invalid(errors[i])

    customers = customer_codes(frame)
    types = pd.factorize(frame["type"])[0]
    valid = np.flatnonzero(~invalid)
    key = _group_codes(customers[valid], types[valid], pd.factorize(frame["contact"])[0][valid])
    _, first = np.unique(key, return_index=True)  # the earliest row of each key
    later = np.flatnonzero(valid[first[key]] != valid)
    for i, j in zip(valid[later].tolist(), valid[first[key[later]]].tolist()):
        earlier = source_at(frame, j)
        status[i], error_code[i], error[i] = Status.DUPLICATE.value, Code.DUPLICATE.value, f"same as {earlier}"
        duplicate_of[i] = earlier

    defaults = frame["default"].fillna(False).to_numpy(dtype=bool)
    with_default = np.flatnonzero(defaults & (status == Status.VALID.value))
    owner = _group_codes(customers[with_default], types[with_default])
    counts = np.bincount(owner) if len(owner) else np.zeros(0, dtype=np.int64)
    clash = counts[owner] > 1
    groups: dict[int, list[int]] = {}
    for o, i in zip(owner[clash].tolist(), with_default[clash].tolist()):
        groups.setdefault(o, []).append(i)
    for rows in groups.values():
        for i in rows:
            errors[i] = errors[i] + (_default_clash(table, i, rows),)
            status[i], error_code[i], error[i] = _invalid(errors[i])

    frame["errors"] = errors
    frame["status"] = pd.Categorical(status, categories=[s.value for s in Status])
    frame["error_code"] = pd.Categorical(error_code)
    frame["error"] = pd.array(error, dtype="str")
    frame["duplicate_of"] = duplicate_of
    return table


def _invalid(errors: tuple[RecordError, ...]) -> tuple[str, str, str]:
    return Status.INVALID.value, errors[0].code, "; ".join(map(str, errors))


def _group_codes(*codes: np.ndarray) -> np.ndarray:
    """One int per distinct combination of the columns' codes."""
    out = np.zeros(len(codes[0]), dtype=np.int64)
    for c in codes:
        out = pd.factorize(out * (int(c.max(initial=0)) + 1) + c)[0]  # stays small: no overflow
    return out


def _default_clash(table: Table, i: int, rows: list[int]) -> RecordError:
    frame = table.frame
    others = ", ".join(str(source_at(frame, j)) for j in rows if j != i)
    customer, kind = customer_key(frame, i).removeprefix("email:"), frame["type"].iat[i]
    return RecordError(
        Code.DUPLICATE_DEFAULT,
        column_of(table.sheets[frame["sheet_no"].iat[i]].table, "default", frame["source_column"].iat[i]),
        f"customer {customer} has more than one default {kind}: also {others}; keep default=true on one of them",
    )
