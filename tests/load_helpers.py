"""Records from files, as a run reads them: read_table -> validate -> ContactRecords.

    records = load_records(path, match_by="email")
    records, stats = load_with_stats([a, b], sheets=["Long"])
    table, stats = load_table(path); records = records_of(table)
    written = cells_as_written(table, records[0])     # the source row's cells, as in the file
    write_csv(path, header, rows); write_xlsx(path, sheet, header, rows)   # small inputs for them
    write_ods(path, rows)                                                  # a LibreOffice sheet, numbers as floats
"""

from __future__ import annotations

import csv
import os
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from importer.checks.validate import validate
from importer.input.table import LoadStats, Records, Table, read_table
from importer.records import ContactRecord

Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def _paths(paths: Paths) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        return [str(paths)]
    return [str(p) for p in paths]


def load_table(paths: Paths, **kw: Any) -> tuple[Table, LoadStats]:
    """The validated run table of `paths` and what the loader counted."""
    stats = kw.pop("stats", None) or LoadStats()
    return validate(read_table(_paths(paths), stats=stats, **kw)), stats


def load_records(paths: Paths, **kw: Any) -> list[ContactRecord]:
    """One validated ContactRecord per contact record of `paths` (a path or several), in input order."""
    return load_with_stats(paths, **kw)[0]


def load_with_stats(paths: Paths, **kw: Any) -> tuple[list[ContactRecord], LoadStats]:
    table, stats = load_table(paths, **kw)
    return records_of(table), stats


def records_of(table: Table) -> list[ContactRecord]:
    return list(Records(table.frame))


def cells_as_written(table: Table, record: ContactRecord) -> tuple[Any, ...]:
    """The cells of the source row `record` came from, as written (text, or a workbook's bool/datetime)."""
    frame = table.frame
    sheet = table.sheets[int(frame["sheet_no"].iat[record.index])]
    return tuple(sheet.cells.iloc[int(frame["line"].iat[record.index])].tolist())


def write_csv(path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    return str(path)


def write_xlsx(path: str | os.PathLike[str], sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for r in [header, *rows]:
        ws.append(list(r))
    book.save(path)
    return str(path)


def write_ods(path: Path, rows: list[list], sheet: str = "Kontakte") -> Path:
    """A LibreOffice sheet: content.xml by hand (no writer among the dependencies), as tests/test_hostile.py
    does; `rows` from row 1 ([] is a blank row), numbers as float cells."""
    def cell(v) -> str:
        if v is None or v == "":
            return "<table:table-cell/>"
        if isinstance(v, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + ("".join(cell(v) for v in r) or "<table:table-cell/>") + "</table:table-row>"
                   for r in rows)
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f'<office:body><office:spreadsheet><table:table table:name="{sheet}">{body}'
               '</table:table></office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                   'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                   '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.'
                   'opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" '
                   'manifest:media-type="text/xml"/></manifest:manifest>')
        z.writestr("content.xml", content)
    return Path(path)
