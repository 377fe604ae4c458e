"""`ecwid-contacts columns FILE`: how each header of a file maps, and a mapping file to edit.

    tables = describe_columns(["crm.csv"])       # list[SourceTable]: layout and header -> field
    lines = column_lines(table)                  # what the terminal shows
    write_mapping_template(tables, path)         # header,field for every header ("ignore" where unused)

Only the header and the first data row are read, by the same planner an import uses,
so what it shows is what an import would do with the same options.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from importer.errors import UsageError
from importer.headers import NAME_FIELDS, read_mapping
from importer.records import ContactType, SourceTable
from importer.table import LoadStats, read_table
from importer.tablesaid import header_line

log = logging.getLogger("importer")

_KINDS = {t.value for t in ContactType}
_LAYOUTS = {"wide": "one customer per row, a column per contact kind",
            "long": "one contact per row: Type and Contact columns"}  # fmt: skip


def describe_columns(paths: Sequence[str | os.PathLike[str]], *, sheets: Sequence[str] = (),
                     mapping: Path | None = None, customer_key: str | None = None,
                     match_by: str | None = None, header_row: int | None = None) -> list[SourceTable]:
    """Each table's layout and what each header is read as (InputError/UsageError as an import would)."""
    stats = LoadStats()
    read_table(paths, sheets=sheets, mapping=read_mapping(mapping) if mapping else None,
               customer_key=customer_key, match_by=match_by, limit=1, header_row=header_row, stats=stats,
               log=log)  # fmt: skip
    return stats.tables


def meaning(field: str | None) -> str:
    """What a header is read as, in words."""
    if field is None:
        return "ignored"
    if field in _KINDS:
        return f"{field} contact"
    if field in NAME_FIELDS:
        return f"{field} (the customer's name, for --create-customers)"
    return field


def column_lines(table: SourceTable) -> list[str]:
    where = Path(table.file).name + (f", sheet {table.sheet}" if table.sheet else "")
    lines = [f"{where}: {table.layout} layout ({_LAYOUTS.get(table.layout, table.layout)})"]
    if table.header_row > 1:  # found under a title or banner (importer.tablefind)
        lines.append(f"  {header_line(table.header_row, table.skipped)}")
    width = max((len(h) for h in table.headers if h), default=0)
    for header in table.headers:
        if not header:
            continue
        said = meaning(table.field_of.get(header))
        if header == table.key_column:
            said += ", and the customer's key (--match-by email)"
        lines.append(f"  {header:<{width}}  -> {said}")
    return lines


def write_mapping_template(tables: Sequence[SourceTable], path: Path) -> None:
    """A two-column CSV `header,field` naming every header: edit it, pass it with --mapping."""
    if path.exists():
        raise UsageError(f"{path} exists: not overwritten (choose another with --out)")
    seen: dict[str, str] = {}
    for table in tables:
        for header in table.headers:
            if header and header not in seen:
                seen[header] = table.field_of.get(header) or "ignore"
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["header", "field"])
            writer.writerows(seen.items())
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
