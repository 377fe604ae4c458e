"""A table's cells -> one row per contact record: where it is, and the cells of each field.

    raw = records_of(plan, cells, rows, sheet_no, region)   # long: a record per row; wide: per filled contact cell
    empty = records_of_nothing()                            # the same columns, no rows
    note = blank_in_words(plan, cells)   # "3 contact cells read as blank: '-', 'n/a'" ('' when none)

Used by importer.input.table, which stacks every table's records into the run's frame.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from importer.checks.normalize import blank
from importer.mapping import headers, matching
from importer.mapping.widecolumns import paired_countries, paired_labels
from importer.rules.nothing import says_nothing
from importer.rules.severalnumbers import first_emails, split_emails, split_numbers

_RAW = ("customerId", "customerEmail", "storeId", "type", "contact", "handle", "note", "default", "orderBy",
        "timestamp", "country")


def records_of(plan: headers.Plan, cells: pd.DataFrame, rows: np.ndarray, sheet_no: int,
             region: str | None = None) -> pd.DataFrame:
    """One row per contact record of a sheet: where it is, and the cells of each field ("" if absent).

    Long layout: a record per row. Wide layout: a record per non-empty contact cell, in
    column order, and one (with a blank contact) for a row that has none (a cell of several numbers or addresses
    gives one each: importer.rules.severalnumbers; Google's "a ::: b" too, and the value it marks "* " as the
    primary, or the first under a "* Home" label, is its type's default); a phone column's label
    (headers.column_note: `Mobile`, `Business`, `Billing`) is the note of its numbers where the row has none.
    """
    n = len(cells)
    fields = dict(plan.fields)
    if not plan.kinds:
        line = np.arange(n, dtype=np.int64)
        columns = {f: cells[i] for f, i in fields.items()}
        source_column = plan.contact_header
    else:
        lines, kinds, values, headers_, labels, from_, starred = [], [], [], [], [], [], []
        has_contact = np.zeros(n, dtype=bool)
        country_of = {"country": fields["country"]} if "country" in fields else {}
        left_out = {i for _, i, _ in plan.left_out}
        for kind, i, header in (*plan.kinds, *plan.left_out):
            filled = ~blank(cells[i]) & ~says_nothing(cells[i], kind)  # `-`, `n/a`, `keine`: blank too
            if i not in left_out:
                has_contact |= filled
            at = np.flatnonzero(filled)
            found, marked = _each_value(cells[i].iloc[at].reset_index(drop=True), at)
            if kind in ("PHONE", "WHATSAPP", "VIBER"):
                place = dict(plan.country_pairs).get(i, country_of.get("country"))
                found = split_numbers(found, cells[place] if place is not None else None, region)
            elif kind == "EMAIL":  # "a@x.com; b@y.com": a contact each, where each is an address
                found = split_emails(found)
            starred.append(np.fromiter(((k, v) in marked for k, v in found.items()), dtype=bool, count=len(found)))
            from_.append(np.full(len(found), i, dtype=np.int64))
            lines.append(found.index.to_numpy(dtype=np.int64))
            kinds.append(np.full(len(found), kind, dtype=object) if kind else np.array(  # a left-out `Value`
                [matching.written_kind(v) or "OTHER" for v in found.tolist()], dtype=object))
            values.append(found.reset_index(drop=True))
            headers_.append(np.full(len(found), header, dtype=object))
            labels.append(np.full(len(found), headers.column_note(header, kind), dtype=object))
        none = np.flatnonzero(~has_contact)  # reported as missing-contact
        lines.append(none)
        kinds.append(np.full(len(none), "", dtype=object))
        values.append(pd.Series([""] * len(none), dtype=object))
        headers_.append(np.full(len(none), "", dtype=object))
        labels.append(np.full(len(none), "", dtype=object))
        from_.append(np.full(len(none), -1, dtype=np.int64))
        starred.append(np.zeros(len(none), dtype=bool))
        line = np.concatenate(lines)
        order = np.argsort(line, kind="stable")  # input order: by row, then by column
        line = line[order]
        columns = {f: cells[i].iloc[line].reset_index(drop=True) for f, i in fields.items()}
        from_ = np.concatenate(from_)[order]
        paired_countries(columns, plan, cells, line, from_)
        if len(plan.key_columns) > 1:  # the row's first email names its customer (matching settles which)
            columns["customerEmail"] = matching.first_email(cells, plan.key_columns).iloc[line].reset_index(drop=True)
        if "customerEmail" in columns:  # a key cell of several addresses names the customer by its first
            columns["customerEmail"] = first_emails(_first_value(columns["customerEmail"]))
        columns["type"] = pd.Series(np.concatenate(kinds)[order])
        columns["contact"] = pd.Series(pd.concat(values, ignore_index=True).to_numpy(dtype=object)[order])
        source_column = pd.Series(np.concatenate(headers_)[order])
        said, primary = paired_labels(np.concatenate(labels)[order], plan, cells, line, from_)
        _label_notes(columns, said)
        _primary_defaults(columns, np.concatenate(starred)[order], primary, line, from_)
    out = pd.DataFrame({
        "sheet_no": np.full(len(line), sheet_no, dtype=np.int32),
        "line": line.astype(np.int32),
        "row": rows[line].astype(np.int32),
        "source_column": pd.Categorical(source_column) if plan.kinds else pd.Categorical.from_codes(
            np.zeros(len(line), dtype=np.int8), categories=[source_column]),
    })
    for f in _RAW:
        if f not in columns:  # one shared "": a byte a row, not a string
            out[f] = pd.Categorical.from_codes(np.zeros(len(line), dtype=np.int8), categories=[""])
        else:
            out[f] = columns[f].to_numpy() if plan.kinds else columns[f].array
    return out


def _label_notes(columns: dict[str, pd.Series], labels: np.ndarray) -> None:
    """A wide record's note: the row's Note cell, else its phone column's label."""
    labelled = labels != ""
    if not labelled.any():
        return
    note = columns["note"].to_numpy(dtype=object, copy=True) if "note" in columns else np.full(len(labels), "", object)
    use = labelled & blank(pd.Series(note, dtype=object))
    note[use] = labels[use]
    columns["note"] = pd.Series(note)


_SEVERAL = r"\s*:::\s*"  # Google Contacts puts several values in one cell: "0171 2345678 ::: 030 1234567"
_PRIMARY = re.compile(r"\*\s+")  # and marks the primary one with "* ": "* john@x.com ::: other@x.com"


def _parts(cell: object) -> list[str] | None:
    """A cell's values where it holds several or a starred one (None: the cell as it is), each with its "* " kept."""
    if not isinstance(cell, str) or (":::" not in cell and not _PRIMARY.match(cell.lstrip())):
        return None
    return [v.strip() for v in re.split(_SEVERAL, cell) if v.strip()] or None


def _each_value(column: pd.Series, lines: np.ndarray) -> tuple[pd.Series, set[tuple[int, str]]]:
    """A wide column's filled cells, indexed by their line; a cell holding several values gives one each.
    And the (line, value) of each value starred as the primary, the "* " gone from the value."""
    column = column.set_axis(lines)
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    split = [_parts(c) for c in uniques.tolist()]  # once per distinct cell
    if not any(split):
        return column, set()
    cells = np.empty(len(split), dtype=object)
    starred: list[set[str]] = []
    for k, (values, c) in enumerate(zip(split, uniques.tolist())):
        plain = [_PRIMARY.sub("", v, count=1) if _PRIMARY.match(v) else v for v in values or []]
        starred.append({p for v, p in zip(values or [], plain) if p != v})
        cells[k] = plain or [c]  # one by one: numpy would make equal-length lists a 2-D array
    out = pd.Series(cells[codes], index=column.index).explode()
    marked = {(line, v) for line, code in zip(lines.tolist(), codes.tolist()) for v in starred[code]}
    return out, marked


def _first_value(keys: pd.Series) -> pd.Series:
    """A customer-email key cell as Google writes it ("* a@x.com ::: b@y.com"): its first address names the
    customer (the others are the row's contacts all the same)."""
    parts = {c: p for c in pd.unique(keys.to_numpy(dtype=object)) if (p := _parts(c))}
    if not parts:
        return keys
    return keys.map(lambda c: _PRIMARY.sub("", parts[c][0], count=1) if c in parts else c)


def _primary_defaults(columns: dict[str, pd.Series], starred: np.ndarray, primary: np.ndarray, line: np.ndarray,
                      column: np.ndarray) -> None:
    """The contact Google marks as primary (its value starred, or the first of a cell whose label is, `* Home`) is
    sent as its type's default: the row's one of each type, so a customer gets no two from one row."""
    first = np.r_[True, (line[1:] != line[:-1]) | (column[1:] != column[:-1])]  # a cell's first value
    chosen = starred | (primary & first)
    if not chosen.any():
        return
    at = np.flatnonzero(chosen)
    pairs = list(zip(line[at].tolist(), columns["type"].to_numpy(dtype=object)[at].tolist()))
    chosen[at[[pairs.count(p) > 1 for p in pairs]]] = False  # two starred of a type on a row: neither is certain
    default = np.full(len(line), "", dtype=object)
    default[chosen] = True
    columns["default"] = pd.Series(default)


def records_of_nothing() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="str") for c in ("source_column", *_RAW)} | {
        "sheet_no": np.zeros(0, dtype=np.int32), "line": np.zeros(0, dtype=np.int32), "row": np.zeros(0, dtype=np.int32)})


def blank_in_words(plan: headers.Plan, cells: pd.DataFrame) -> str:
    """What the output says of the contact cells read as blank for what they say (`n/a`, `-`, `keine`:
    importer.rules.nothing), so that none goes unsaid; '' when there are none."""
    said = pd.concat([cells[i][says_nothing(cells[i], kind)] for kind, i, _ in plan.kinds]
                     or [pd.Series(dtype=object)])
    if not len(said):
        return ""
    return (f"{len(said)} contact cell{'s' if len(said) > 1 else ''} read as blank for what they say: "
            + ", ".join(repr(v) for v in said.drop_duplicates().tolist()[:6]))
