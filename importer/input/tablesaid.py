"""What the output says about how a sheet's table was found (importer.input.tablefind): a Note line each.

    lines = said("book.xlsx:Kunden", top, parts[0], skipped)   # [] when there is nothing to say
    header_line(3, table.skipped)     # 'header on row 3; rows 1-2 skipped (a title)' (the columns command)
    row_ranges([1, 2, 5])             # '1-2, 5'
"""

from __future__ import annotations

from collections.abc import Sequence

from importer.input.tablefind import Part, Skipped, Top

__all__ = ["said", "header_line", "row_ranges"]


def row_ranges(rows: Sequence[int]) -> str:
    """`1-2, 5, 7-9`."""
    out: list[str] = []
    for k, r in enumerate(rows):
        if k and r == rows[k - 1] + 1:
            out[-1] = f"{out[-1].split('-')[0]}-{r}"
        else:
            out.append(str(r))
    return ", ".join(out)


_ONE = {"title": "a title", "group row": "a group row", "lines": "a line"}
_MANY = {"title": "title lines", "group row": "group rows", "lines": "lines"}


def header_line(header_row: int, skipped: Sequence[tuple[tuple[int, ...], str, str]]) -> str:
    """`header on row 3; rows 1-2 skipped (a title)`, of a table's header row and its skipped rows
    (SourceTable.skipped: those above the header count)."""
    above = " and ".join(_ONE[what] if len(rows) == 1 else f"{len(rows)} {_MANY[what]}"
                         for rows, what, _ in skipped if rows[0] < header_row and what in _ONE)
    rows = "row 1" if header_row == 2 else f"rows 1-{header_row - 1}"
    return f"header on row {header_row}; {rows} " + (f"skipped ({above})" if above else "blank")


# What each kind of skipped line is said as (importer.input.tablefind's Skipped.what).
_SAID = {
    "repeated header": "{row} repeat{s} the header: skipped",
    "titles inside": "{row} skipped (a title above a header: {text})",
    "section headings": "{row} skipped (section headings above their rows: {text})",
    "subtotals": "{row} skipped (subtotals inside the table, no contact in them: {text})",
    "notes below": "{row} below the table skipped (notes: {text})",
    "notes beside the header": "cells right of the header on row {rows} are not columns of it (notes: {text})",
    "notes beside": "{row} skipped (notes beside the table, right of its columns: {text})",
}


def said(where: str, top: Top | None, part: Part, skipped: Sequence[Skipped] = ()) -> list[str]:
    """What the output says about how a table was found: `book.xlsx:Kunden: header on row 3; rows 1-2 skipped
    (a title)`; `top` None for a second table of a sheet."""
    lines = []
    if top is None:
        lines.append(f"{where}: a second table from row {part.header_row}, with its own header "
                     f"({', '.join(repr(h) for h in part.header if h)})")
    elif top.header_row > 1:
        lines.append(f"{where}: {header_line(top.header_row, [s.as_tuple() for s in top.skipped])}")
    for s in (*skipped, *part.skipped):
        if s.what in _SAID:  # {row}: "row 4" or "rows 4-5"; {s}: the verb's "s" of one row
            several = len(s.rows) > 1
            lines.append(f"{where}: " + _SAID[s.what].format(row=f"row{'s' if several else ''} {row_ranges(s.rows)}",
                                                            rows=row_ranges(s.rows), s="" if several else "s",
                                                            text=s.text))
    return lines
