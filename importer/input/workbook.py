"""Workbooks (.xlsx .xlsm .xls .ods, read with python-calamine) -> a frame of cells per sheet.

    for plan, cells, rows, problems, top in read_workbook(path, sheets, plan_for, find, stats=stats, log=log): ...

The header is found where it is: `find` (importer.input.tablefind.find_header over a sheet's first rows that
hold something) says which row it is, or why not (an InputError); `plan_for(sheet, top)` maps it.

Cells are text, except a workbook's own booleans and dates, which stay typed; integral
numbers lose their ".0" (177737165.0 is an id), other numbers keep every digit they have.
A contact kind's header cell merged across columns names each of them (`Telefon` over two columns of numbers).
Hidden sheets are skipped unless picked with --sheet; a visible sheet with no contact
column (notes, instructions) is skipped with a warning unless picked, and so is, with a note, one of several
sheets none of whose contact cells holds a contact (instructions whose line reads as a header, drop-down
lists). Hidden columns and rows, formulas never computed: read, and said (importer.input.hiddencells).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import python_calamine

from importer.errors import InputError
from importer.input.bookcheck import check_workbook
from importer.input.hiddencells import unseen
from importer.input.limits import MAX_CELL_CHARS, Problems, too_long
from importer.input.tablefind import HEAD_ROWS, Top
from importer.mapping.headers import Plan, reading_of
from importer.mapping.matching import holds_no_contact
from importer.records import Cell, ContactType

UNREADABLE = "cannot read workbook: is it password-protected or corrupt?"


def cell(v: Any) -> Cell:
    """A workbook cell as text, except booleans and dates, which stay typed."""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool) or isinstance(v, dt.datetime):
        return v
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, dt.time):
        return v.isoformat()
    return "" if v is None else str(v).strip()


Head = list[tuple[int, list[str]]]


def read_workbook(path: str, sheets: Sequence[str], plan_for: Callable[[str, Top], Plan],
                  find: Callable[[Head], Top | str], *, stats, log: logging.Logger,
                  header_row: int | None = None) -> Iterator[tuple[Plan, pd.DataFrame, np.ndarray, Problems, Top]]:
    """(plan, cells, Excel row numbers, problems, header) for each chosen sheet with data; InputError if there
    is none. `header_row`: the rows read for the header reach it."""
    check_workbook(path)  # before calamine lays out what the file claims
    try:
        book = python_calamine.CalamineWorkbook.from_path(path)
        meta = book.sheets_metadata
    except (python_calamine.CalamineError, OSError, ValueError) as e:
        log.debug("%s: %s", path, e)
        raise InputError(path, UNREADABLE) from None
    chosen = _choose(path, meta, sheets, stats, log)
    with book:
        tables = 0
        skipped: list[InputError] = []
        for name in chosen:
            try:
                found = _sheet_cells(book.get_sheet_by_name(name), stats, find, header_row)
            except python_calamine.CalamineError as e:
                log.debug("%s:%s: %s", path, name, e)
                raise InputError(f"{path}:{name}", UNREADABLE) from None
            if found is None:
                continue  # an empty sheet
            if isinstance(found, str):
                raise InputError(f"{path}:{name}", found)
            top, cells, rows, problems = found
            try:
                plan = plan_for(name, top)
            except InputError as e:
                # A notes/instructions sheet beside the data: skip it unless picked.
                if sheets or not e.problem.startswith("no contact column"):
                    raise
                log.warning("%s", e)
                skipped.append(e)
                continue
            if not sheets and len(chosen) > 1 and holds_no_contact(plan, cells):
                # Instructions or drop-down lists beside the data: a line of them may read as a header.
                e = InputError(f"{path}:{name}", f"sheet skipped: no cell under {_contact_headers(plan)} is a "
                               "contact (pick it with --sheet)")
                log.info("%s", e)
                stats.notes.append(str(e))  # said once, as a note (summary.json too)
                skipped.append(e)
                continue
            stats.notes.extend(f"{path}:{name}: {said}" for said in unseen(path, name))  # hidden, never computed
            tables += 1
            yield plan, cells, rows, problems, top
    if not tables:
        if skipped:
            raise skipped[0]
        hidden = [h.split(":", 1)[1] for h in stats.hidden_sheets if h.startswith(f"{path}:")]
        problem = "no data: every visible sheet is empty" if chosen or not hidden else "no visible sheet"
        if hidden:
            problem += f" (hidden: {', '.join(hidden)}; pick one with --sheet)"
        raise InputError(path, problem)


def _contact_headers(plan: Plan) -> str:
    columns = [h for _, _, h in plan.kinds] if plan.kinds else [plan.contact_header]
    return ", ".join(repr(h) for h in columns)


def _choose(path: str, meta: list, sheets: Sequence[str], stats, log: logging.Logger) -> list[str]:
    names = [m.name for m in meta]
    if sheets:
        chosen = []
        for want in sheets:
            match = [n for n in names if n == want] or [n for n in names if n.casefold() == want.casefold()]
            if not match:
                raise InputError(path, f"no sheet {want!r}; sheets: {', '.join(names)}")
            chosen.append(match[0])
        return chosen
    chosen = []
    for m in meta:
        if m.visible != python_calamine.SheetVisibleEnum.Visible:
            log.info("%s: skipping hidden sheet %r (pick it with --sheet)", path, m.name)
            stats.hidden_sheets.append(f"{path}:{m.name}")
        elif m.typ == python_calamine.SheetTypeEnum.WorkSheet:
            chosen.append(m.name)
    return chosen


def _sheet_cells(sheet: python_calamine.CalamineSheet, stats, find: Callable[[Head], Top | str],
                 header_row: int | None) -> tuple[Top, pd.DataFrame, np.ndarray, Problems] | str | None:
    """(header, cells, row numbers, problems) of a sheet, None when it is empty, or why its header is not
    there. Rows under the header: blank ones are counted, not kept; every column with something in them is
    kept. A text cell past Excel's 32,767 characters is cut and its row too-long."""
    # iter_rows starts at row 1 even when the used range starts lower: a row's position is Excel's row number - 1.
    rows = list(sheet.iter_rows())
    if not rows or not rows[0]:
        return None
    grid = np.empty((len(rows), len(rows[0])), dtype=object)  # calamine's range is rectangular
    grid[:] = rows  # rows x columns in C: zip(*rows) costs ten times as much
    del rows
    read = [_cells(grid[:, i].tolist()) for i in range(grid.shape[1])]
    del grid
    columns = [column for column, _ in read]
    filled = np.zeros(len(columns[0]), dtype=bool)
    for column in columns:
        filled |= column != ""  # an Excel FALSE is not blank
    filled = np.flatnonzero(filled)
    if not len(filled):
        return None
    looked = filled[:HEAD_ROWS] if header_row is None else filled[: max(HEAD_ROWS, np.searchsorted(filled, header_row))]
    head = [(int(r) + 1, [str(c[r]).strip("\ufeff \t") for c in columns]) for r in looked.tolist()]
    found = find(head)
    if isinstance(found, str):
        return found
    found = _merged_header(found, sheet.merged_cell_ranges or (), sheet.start[1] if sheet.start else 0)
    headers = found.header
    top = found.header_row - 1
    data = filled[filled > top]
    stats.blank_rows += len(columns[0]) - top - 1 - len(data)
    width = max([len(headers)] + [i + 1 for i, c in enumerate(columns) if len(data) and (c[data] != "").any()])
    empty = np.full(len(data), "", dtype=object)
    cells = pd.DataFrame({i: columns[i][data] if i < len(columns) else empty for i in range(width)},
                         index=pd.RangeIndex(len(data)), dtype=object)  # a column all dates stays cells, no datetime64
    problems: Problems = {}
    for i, (_, cut) in enumerate(read[: len(headers)]):
        if cut:
            for row in np.flatnonzero(cells[i].isin(list(cut))).tolist():
                problems.setdefault(row, []).append(too_long(headers[i], cut[cells[i].iat[row]]))
    return found, cells, (data + 1).astype(np.int64), problems


def _merged_header(top: Top, merged: Sequence, first_column: int) -> Top:
    """A contact kind's header cell merged across columns (`Telefon` over C1:D1, a number in each): each of them
    is a column of that kind; calamine gives the text to the first only. (Other merged headers stay as they are:
    two columns of one customer id would be refused, and rightly.)"""
    header = list(top.header)
    row = top.header_row - 1
    for (r0, c0), (r1, c1) in merged:
        at = c0 - first_column
        if r0 != row or c1 <= c0 or not 0 <= at < len(header) or reading_of(header[at]) not in _KINDS:
            continue
        header += [""] * (c1 - first_column + 1 - len(header))
        for c in range(at + 1, c1 - first_column + 1):
            header[c] = header[c] or header[at]
    return top if header == list(top.header) else dataclasses.replace(top, header=header)


_KINDS = frozenset(t.value for t in ContactType)


def _cells(column: Sequence[Any]) -> tuple[np.ndarray, dict[str, int]]:
    """cell() once per distinct value of a column (keyed by type too: to a dict True == 1 == 1.0); and the
    text cells cut to MAX_CELL_CHARS: {cut copy: length as written}."""
    memo: dict[tuple[type, Any], Cell] = {}
    out = np.empty(len(column), dtype=object)
    out[:] = [memo[key] if (key := (v.__class__, v)) in memo else memo.setdefault(key, cell(v)) for v in column]
    cut = {}
    for key, value in memo.items():
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            cut[value[:MAX_CELL_CHARS]] = len(value)
            memo[key] = value[:MAX_CELL_CHARS]
    if cut:
        out[:] = [memo[(v.__class__, v)] for v in column]
    return out, cut
