"""Cells as written -> the values sent to Ecwid and each row's errors, column by column.

    normalized = normalize(raw, tables, phone_region="US", store_id=1003)

`raw` has one row per contact record with the cells of the canonical fields
(customerId, customerEmail, storeId, type, contact, handle, note, default, orderBy,
timestamp, country; "" where the file has no such cell). A row's country cell is the region
its phone numbers without +country code are read in; `phone_region` where the cell is blank. Each distinct value of a column (for
the contact: each distinct pair of type cell and contact cell) is worked out once, by
the rule functions in importer.rules, and the results are spread back over the rows
with `take`: a column of a million rows costs as many rule calls as it has distinct values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from importer import rules
from importer.errors import Code, UsageError
from importer.mapping.headers import reading_of
from importer.records import Cell, RecordError, SourceTable
from importer.memory import release

__all__ = ["normalize", "check_region", "column_of", "blank"]

SLICE = 65_536  # distinct values worked out at a time: bounds the Python objects alive at once

Problems = list[tuple[str, np.ndarray, list]]  # (field, rows with a problem, their (code, message))


def check_region(phone_region: str | None) -> str | None:
    if phone_region is None:
        return None
    region = phone_region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(f"--phone-region {phone_region!r} is not a region code like US, DE or GB")
    return region


def column_of(table: SourceTable, field: str, source_column: str) -> str:
    """The header a field was read from, as written (for error messages)."""
    if source_column and (field == "contact" or (field == "type" and table.layout == "wide")):
        return source_column
    for header, f in table.field_of.items():
        if f == field:
            return header
    return field


def normalize(raw: pd.DataFrame, tables: Sequence[SourceTable], *, phone_region: str | None = None,
              store_id: int | None = None) -> pd.DataFrame:
    """The normalized columns of `raw` (same index): customer_id, customer_email, type, contact, handle,
    note, source_contact, default, order_by, timestamp, errors."""
    region = check_region(phone_region)
    problems: Problems = []
    out: dict[str, Any] = {}
    out["customer_id"], out["customer_email"] = _customers(raw["customerId"], raw["customerEmail"], problems)
    _stores(raw["storeId"], store_id, problems)
    kind, contact, found_handle = _contacts(raw["type"], raw["contact"], _places(raw["country"], region), problems)
    out["type"], out["contact"] = kind, contact
    written, _ = _by_value(raw["handle"], lambda c: (rules.cell_text(c), None), "str")
    written = pd.Series(written, dtype="str")
    handle = written.where(written != "", pd.Series(found_handle, dtype="str")).array  # a Handle cell wins
    _too_long(handle, rules.MAX_HANDLE, "handle", problems)
    out["handle"] = handle
    out["note"], _ = _by_value(raw["note"], lambda c: (rules.cell_text(c), None), "str")
    out["contact"], out["note"] = _extensions_to_notes(kind, contact, out["note"])
    _too_long(out["note"], rules.MAX_NOTE, "note", problems)
    out["source_contact"] = _written(raw["contact"])
    out["default"], p = _by_value(raw["default"], rules.parse_bool, "boolean")
    problems.append(("default", *p))
    out["order_by"], p = _by_value(raw["orderBy"], _order_by, "Int64")
    problems.append(("orderBy", *p))
    out["timestamp"], p = _by_value(raw["timestamp"], rules.parse_timestamp, "str")
    problems.append(("timestamp", *p))
    frame = pd.DataFrame(out, index=raw.index)
    frame["errors"] = _errors(raw, tables, problems)
    return frame


_PHONE_KINDS = ("PHONE", "WHATSAPP", "VIBER")


def _extensions_to_notes(kind: Any, contact: Any, note: Any) -> tuple[Any, Any]:
    """A phone's extension is not part of its number: the contact is E.164, "ext. 204" joins the row's note."""
    contacts = pd.Series(contact, dtype="str")
    has = contacts.str.contains(" ext. ", regex=False).to_numpy(dtype=bool, na_value=False) & pd.Series(
        kind).isin(_PHONE_KINDS).to_numpy(dtype=bool)
    if not has.any():
        return contact, note
    parts = contacts[has].str.split(" ext. ", n=1, expand=True)
    notes = pd.Series(note, dtype="str").to_numpy(dtype=object, copy=True)
    values = contacts.to_numpy(dtype=object, copy=True)
    at = np.flatnonzero(has)
    values[at] = parts[0].to_numpy(dtype=object)
    written = notes[at]
    extension = "ext. " + parts[1].to_numpy(dtype=object)
    notes[at] = np.where(written == "", extension, written + ", " + extension)
    return pd.array(values, dtype="str"), pd.array(notes, dtype="str")


def _by_value(cells: pd.Series, rule: Callable[[Cell], tuple[Any, rules.Problem]], dtype: str,
              ) -> tuple[Any, tuple[np.ndarray, list]]:
    """rule() once per distinct cell: (the column of values, (positions with a problem, their problems))."""
    codes, uniques = pd.factorize(cells, use_na_sentinel=False)
    values, bad, why = [], [], []
    for k, cell in enumerate(_distinct(uniques)):
        value, problem = rule(cell)
        values.append(value)
        if problem:
            bad.append(k)
            why.append(problem)
    if dtype == "str" and isinstance(cells.dtype, pd.StringDtype) and values == uniques.tolist():
        column = cells.array  # every cell is already as it should be: share it, no copy
    elif dtype == "str" and len(values) * 2 < len(codes):  # few distinct values: a category each
        value_codes, distinct = pd.factorize(pd.array(values, dtype="str"), use_na_sentinel=True)
        column = pd.Categorical.from_codes(value_codes[codes], categories=distinct)
    else:
        column = pd.array(values, dtype=dtype).take(codes)
    release()
    return column, _spread(codes, bad, why)


def _distinct(uniques: Any) -> Iterator[Cell]:
    """The distinct values of a column, a slice at a time: few Python objects alive at once."""
    for start in range(0, len(uniques), SLICE):
        yield from uniques[start : start + SLICE].tolist()


def blank(cells: pd.Series) -> np.ndarray:
    """Per row: the cell holds nothing but whitespace (or nothing at all)."""
    codes, uniques = pd.factorize(cells, use_na_sentinel=False)
    return np.fromiter((rules.cell_text(c) == "" for c in _distinct(uniques)), dtype=bool, count=len(uniques))[codes]


def _spread(codes: np.ndarray, bad: list[int], why: list) -> tuple[np.ndarray, list]:
    """Problems of distinct values -> the rows that hold them."""
    if not bad:
        return np.empty(0, dtype=np.int64), []
    lookup = dict(zip(bad, why))
    rows = np.flatnonzero(np.isin(codes, bad))
    return rows, [lookup[c] for c in codes[rows].tolist()]


def _order_by(cell: Cell) -> tuple[int | None, rules.Problem]:
    text = rules.cell_text(cell)
    return rules.parse_order_by(text) if text else (None, None)


def _customers(ids: pd.Series, emails: pd.Series, problems: Problems) -> tuple[Any, Any]:
    def parse_id(cell: Cell) -> tuple[int | None, rules.Problem]:
        text = rules.cell_text(cell)
        return rules.parse_customer_id(text) if text else (None, None)

    def parse_email(cell: Cell) -> tuple[str | None, rules.Problem]:
        text = rules.cell_text(cell)
        if not text:
            return None, None
        normalized, problem = rules.email(text)
        return normalized.lower(), problem and (Code.INVALID_CUSTOMER_EMAIL, problem[1])

    customer_id, id_problems = _by_value(ids, parse_id, "Int64")
    customer_email, email_problems = _by_value(emails, parse_email, "str")
    # Blank cells, from the values already worked out (not factorized and cleaned again): the rules give None
    # without a problem exactly where the cell is blank; a filled email cell always gives text.
    id_blank = np.asarray(pd.isna(customer_id), dtype=bool)
    id_blank[id_problems[0]] = False
    problems.append(("customerId", *id_problems))
    # A bad email only matters when there is no id to name the customer.
    rows, why = email_problems
    keep = id_blank[rows] if len(rows) else np.empty(0, dtype=bool)
    problems.append(("customerEmail", rows[keep], [w for w, k in zip(why, keep) if k]))
    missing = np.flatnonzero(id_blank & np.asarray(pd.isna(customer_email), dtype=bool))
    problems.append(("customerId", missing,
                     [(Code.MISSING_CUSTOMER, "no customer id (or customer email) on this row")] * len(missing)))
    return customer_id, customer_email


def _stores(cells: pd.Series, store_id: int | None, problems: Problems) -> None:
    def check(cell: Cell) -> tuple[None, rules.Problem]:
        text = rules.cell_text(cell)
        if not text:
            return None, None
        found, problem = rules.parse_store_id(text)
        if problem is None and store_id is not None and found != store_id:
            problem = (Code.STORE_MISMATCH, f"row is for store {found}, importing into {store_id}")
        return None, problem

    problems.append(("storeId", *_by_value(cells, check, "object")[1]))


Places = tuple[np.ndarray, list[tuple[str | None, rules.Problem]]]  # per row a code into [(region, unknown country)]


def _places(cells: pd.Series, fallback: str | None) -> Places:
    """The region each row's phones are read in: its country cell's (each distinct cell resolved once), or
    `fallback` where the cell is blank; a cell that names no country keeps its problem (unknown-country)."""
    codes, uniques = pd.factorize(cells, use_na_sentinel=False)
    places: dict[tuple[str | None, rules.Problem], int] = {}
    place_of = []
    for cell in _distinct(uniques):
        text = rules.cell_text(cell)
        place = rules.country(text) if text else (fallback, None)
        place_of.append(places.setdefault(place, len(places)))
    return np.asarray(place_of, dtype=np.int64)[codes] if place_of else codes.astype(np.int64), list(places)


def _contacts(types: pd.Series, contacts: pd.Series, places: Places, problems: Problems) -> tuple[Any, Any, Any]:
    """(type, contact, handle found in a link) per row; problems of the type, contact and country cells."""
    type_codes, type_uniques = pd.factorize(types, use_na_sentinel=False)
    value_codes, value_uniques = pd.factorize(contacts, use_na_sentinel=False)
    place_codes, regions = places
    # One rule call per distinct (type cell, contact cell, region) triple, the triples of one type cell together.
    m, g = max(1, len(value_uniques)), max(1, len(regions))
    pair_codes, pairs = pd.factorize((type_codes.astype(np.int64) * m + value_codes) * g + place_codes)
    del type_codes, value_codes, place_codes
    grouped = np.argsort(pairs // (m * g), kind="stable")  # triple positions, by type cell
    kinds: dict[str, int] = {}  # the types found, as categories
    kind_codes: list[int] = []
    value_parts, handle_parts = [], []
    bad: dict[str, tuple[list[int], list]] = {"type": ([], []), "contact": ([], []), "country": ([], [])}
    for start in range(0, len(grouped), SLICE):
        chunk = pairs[grouped[start : start + SLICE]]
        cells = value_uniques.take((chunk // g) % m)
        kept = rules.cell_text_keeps(cells).tolist()  # the contacts cell_text would give back unchanged
        cells = cells.tolist()
        place_of = (chunk % g).tolist()
        values, handles = [], []
        at = start
        for t, lo, hi in _by_type(chunk // (m * g)):
            type_text = rules.cell_text(type_uniques[t])
            convert = rules.converter(type_text)
            for cell, keep, place in zip(cells[lo:hi], kept[lo:hi], place_of[lo:hi]):
                value = cell if keep else rules.cell_text(cell)
                if value and len(value) <= rules.MAX_CONTACT:
                    region, unknown = regions[place]
                    kind, value, handle, problem = convert(value, region)
                    found = ()
                    if problem:
                        field = _field_of(problem, unknown)
                        found = [(field, *(unknown if field == "country" else problem))]
                else:
                    kind, value, handle, found = _unusable(type_text, value)
                kind_codes.append(kinds.setdefault(kind, len(kinds)))
                values.append(value)
                handles.append(handle)
                for field, code, message in found:
                    bad[field][0].append(at)
                    bad[field][1].append((code, message))
                at += 1
        value_parts.append(pa.array(values, type=pa.large_string()))
        handle_parts.append(pa.array(handles, type=pa.large_string()))
        release()
    # Back from the grouped order to the triples' own, then to the rows.
    rows = np.empty(len(grouped), dtype=np.int64)
    rows[grouped] = np.arange(len(grouped))
    rows = rows[pair_codes]
    for field, (at_, why) in bad.items():
        problems.append((field, *_spread(rows, at_, why)))
    kind = pd.Categorical.from_codes(np.asarray(kind_codes, dtype=np.int32)[rows], categories=list(kinds))
    value = pd.array(pa.chunked_array(value_parts, type=pa.large_string()), dtype="str").take(rows)
    handle = pd.array(pa.chunked_array(handle_parts, type=pa.large_string()), dtype="str").take(rows)
    return kind, value, handle


def _field_of(problem: tuple[str, str], unknown: rules.Problem) -> str:
    """Whose cell a contact's problem is: a number that needed its row's country, whose country is unknown, the
    country cell's; else the type or contact cell's."""
    if problem[0] in rules.TYPE_CODES:
        return "type"
    return "country" if unknown and problem[0] == Code.PHONE_NEEDS_REGION else "contact"


def _by_type(types: np.ndarray) -> Iterator[tuple[int, int, int]]:
    """(type cell code, start, end) of each run of one type cell in a slice of triples sorted by type cell."""
    bounds = np.flatnonzero(np.diff(types)) + 1
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(types)]):
        yield int(types[lo]), lo, hi


def _unusable(type_text: str, value: str) -> tuple[str, str, str, list[tuple[str, str, str]]]:
    """A blank or too long contact: (type, contact, "", problems), the type as far as it could be told."""
    found = []
    kind, problem = rules.resolve_type(type_text) if type_text else (None, None)
    if problem:
        found.append(("type", *problem))
    if value:
        found.append(("contact", Code.TOO_LONG, f"the contact is {len(value)} characters; at most {rules.MAX_CONTACT}"))
    else:
        found.append(("contact", Code.MISSING_CONTACT, "the contact is blank"))
    return (kind.value if kind else type_text), value, "", found


def _written(cells: pd.Series) -> Any:
    """The contact as written (without the spaces around it); a workbook's typed cells as text."""
    if isinstance(cells.dtype, pd.StringDtype):
        # Only a cell's first and last characters can need trimming: their few distinct values are tested, not
        # every cell with r"^\s|\s$" (pandas runs \s through Python's re, a call per cell; re's \s is isspace()).
        text = pa.array(cells.array)
        ends = [*pc.unique(pc.utf8_slice_codeunits(text, 0, 1)).to_pylist(),
                *pc.unique(pc.utf8_slice_codeunits(text, -1)).to_pylist()]
        release()
        if not any(c is not None and c.isspace() for c in ends):
            return cells.array  # nothing to trim: share the cells, no copy
        return cells.str.strip().array
    values = cells.tolist()
    if all(v.__class__ is str for v in values):  # a workbook's text cells are read stripped: as they are
        return pd.array(values, dtype="str")
    return _by_value(cells, lambda c: (c.strip() if isinstance(c, str) else str(c), None), "str")[0]


def _too_long(column: Any, limit: int, field: str, problems: Problems) -> None:
    lengths = pd.Series(column).str.len().to_numpy(dtype=np.int64, na_value=0)
    rows = np.flatnonzero(lengths > limit)
    problems.append((field, rows, [(Code.TOO_LONG, f"the {field} is {n} characters; at most {limit}")
                                   for n in lengths[rows].tolist()]))


# The order a row's errors are listed in: the order of the fields in a row.
_ORDER = ("customerId", "customerEmail", "storeId", "type", "contact", "country", "handle", "note", "default",
          "orderBy", "timestamp")


def _errors(raw: pd.DataFrame, tables: Sequence[SourceTable], problems: Problems) -> np.ndarray:
    """tuple[RecordError, ...] per row: () for most, built only for the rows with a problem."""
    errors = np.empty(len(raw), dtype=object)
    errors[:] = [()] * len(raw)
    found: dict[int, list[tuple[int, str, str, str]]] = {}
    for field, rows, why in problems:
        rank = _ORDER.index(field)
        for row, (code, message) in zip(rows.tolist(), why):
            found.setdefault(row, []).append((rank, field, code, message))
    if not found:
        return errors
    sheet_no = raw["sheet_no"].to_numpy()
    # The rows' source columns in one take (.iat a row, for each of its problems, cost 0.2 s a million rows).
    source_columns = raw["source_column"].iloc[list(found)].tolist()
    advice: dict[int, str] = {}  # per sheet, what a number without +country code needs (said once per sheet)
    for (row, items), source_column in zip(found.items(), source_columns):
        table = tables[sheet_no[row]]
        items.sort(key=lambda item: item[0])  # stable: a field's own problems stay in order
        errors[row] = tuple(RecordError(code, column_of(table, field, source_column), message if
                                        code != Code.PHONE_NEEDS_REGION else _needs_region(message, table, advice,
                                                                                           sheet_no[row]))
                            for _, field, code, message in items)
    return errors


def _needs_region(message: str, table: SourceTable, advice: dict[int, str], sheet: int) -> str:
    """phone-needs-region, with advice that never leads to wrong numbers: the sheet's country column (blank on
    this row) or its country-like columns and --country-column; --phone-region only fills blank countries."""
    if sheet not in advice:
        used = [h for h, f in table.field_of.items() if f == "country"]
        others = [h for h in table.headers if h and h not in used and reading_of(h) == "country"]
        if used:
            said = f"the row's {used[0]!r} is blank: fill it in, write the number with +country code, or pass " \
                   f"--phone-region CC (used only where {used[0]!r} is blank)"
        else:
            said = "the file has no country column: write the number with +country code, or pass --phone-region " \
                   "CC (e.g. US; used only for rows without a country)"
        if others:
            said += f"; or read the country from {', '.join(map(repr, others))} with --country-column"
        advice[sheet] = said
    value = message.split(" has no +country code", 1)[0]
    return f"{value} has no +country code and {advice[sheet]}" if message.startswith(value + " has no") else message
