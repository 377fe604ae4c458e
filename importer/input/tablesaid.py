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
    for r in rows:
        if out and r == last + 1:
            out[-1] = f"{out[-1].split('-')[0]}-{r}"
        else:
            out.append(str(r))
        last = r
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
        rows = row_ranges(s.rows)
        several = len(s.rows) > 1
        if s.what == "repeated header":
            lines.append(f"{where}: row{'s' if several else ''} {rows} repeat{'' if several else 's'} the header: skipped")
        elif s.what == "titles inside":
            lines.append(f"{where}: row{'s' if several else ''} {rows} skipped (a title above a header: {s.text})")
        elif s.what == "section headings":
            lines.append(f"{where}: row{'s' if several else ''} {rows} skipped (section headings above their rows: "
                         f"{s.text})")
        elif s.what == "notes below":
            lines.append(f"{where}: row{'s' if several else ''} {rows} below the table skipped (notes: {s.text})")
        elif s.what == "notes beside the header":
            lines.append(f"{where}: cells right of the header on row {rows} are not columns of it (notes: {s.text})")
        elif s.what == "notes beside":
            lines.append(f"{where}: row{'s' if several else ''} {rows} skipped (notes beside the table, right of "
                         f"its columns: {s.text})")
    return lines
