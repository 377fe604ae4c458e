"""What an .xlsx sheet keeps from the eye but not from a reader: hidden columns and rows, formulas never computed.

    notes = unseen(path, sheet_name)   # ["columns C hidden in Excel were read", ...]; [] for any other workbook

python-calamine reads hidden columns and rows like any others, and they are data: a list filtered down to some
customers still holds the others, a column hidden to tidy up may hold old numbers. They are read, and said, so
that nobody imports what they don't see unaware. A formula whose value was never saved (a file a script wrote,
never opened in Excel) reads as a blank cell: said too, so a blank that is not one does not go unnoticed.
The sheet's XML is read a chunk at a time (importer.input.bookcheck has already checked its size).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from xml.etree import ElementTree

from importer.input.bookcheck import column_name
from importer.input.tablesaid import row_ranges

__all__ = ["unseen"]

CHUNK_BYTES = 1 << 20
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_COL = re.compile(rb"<(?:\w+:)?col\b[^>]*>")
_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_HIDDEN = re.compile(rb'\shidden="(?:1|true)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]")  # a saved value; openpyxl writes a formula's as <v></v>


def unseen(path: str, sheet: str) -> list[str]:
    """What the sheet holds that Excel doesn't show as read (see the module docstring), in words; [] when there
    is nothing, or the file is no .xlsx."""
    try:
        with zipfile.ZipFile(path) as book:
            part = _part(book, sheet)
            if part is None:
                return []
            columns, rows, formulas = _scan(book, part)
    except (zipfile.BadZipFile, OSError, KeyError, ElementTree.ParseError, ValueError):
        return []  # an .xls, an .ods, or a part the reader itself will say is bad
    said = []
    if columns:
        said.append(f"column{'s' if len(columns) > 1 else ''} {', '.join(columns)} hidden in Excel "
                    f"{'were' if len(columns) > 1 else 'was'} read")
    if rows:
        which = row_ranges(rows) if len(rows) <= 20 else f"{row_ranges(rows[:20])}, … ({len(rows):,} in all)"
        said.append(f"row{'s' if len(rows) > 1 else ''} {which} hidden in Excel (a filter?) "
                    f"{'were' if len(rows) > 1 else 'was'} read")
    if formulas:
        said.append(f"{formulas} cell{'s hold formulas' if formulas > 1 else ' holds a formula'} with no saved value "
                    "(the file was never opened in Excel), read as blank: open it in Excel and save it")
    return said


def _part(book: zipfile.ZipFile, sheet: str) -> str | None:
    """The part of the sheet named `sheet`, by xl/workbook.xml and its relationships."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rid = next((s.get(_REL) for s in workbook.iter() if s.tag.endswith("}sheet") and s.get("name") == sheet), None)
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels.iter() if r.get("Id") == rid), None) if rid else None
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _scan(book: zipfile.ZipFile, part: str) -> tuple[list[str], list[int], int]:
    """(hidden column letters, hidden row numbers, cells with a formula and no value) of a sheet part."""
    columns: list[str] = []
    rows: list[int] = []
    formulas = 0
    rest = b""
    with book.open(part) as f:
        while True:
            chunk = f.read(CHUNK_BYTES)
            data = rest + chunk
            end = data.rfind(b"row>") if chunk else -1  # a row's end: `</row>` (an opening one has attributes)
            cut = end + 4 if end >= 0 else (len(data) if not chunk else 0)  # whole rows at a time
            done, rest = data[:cut], data[cut:]
            hidden, formula = b"hidden=" in done, b"<f" in done or b":f" in done  # most chunks hold neither
            for m in _COL.finditer(done) if hidden else ():
                if _HIDDEN.search(m[0]):
                    first, last = (int(re.search(rb'\s%s="(\d+)"' % a, m[0])[1]) for a in (b"min", b"max"))
                    columns += [column_name(c) for c in range(first, min(last, first + 25) + 1)]
            for m in _ROW.finditer(done) if hidden else ():
                if _HIDDEN.search(m[0]) and (number := re.search(rb'\sr="(\d+)"', m[0])):
                    rows.append(int(number[1]))
            if formula:
                formulas += sum(1 for m in _CELL.finditer(done) if m[1] and _FORMULA.search(m[1]) and not _VALUE.search(m[1]))
            if not chunk:
                return columns, rows, formulas
