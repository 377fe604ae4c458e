"""`ecwid-contacts columns FILE`: how each header of a file maps, and why; a mapping file to edit.

    tables = describe_columns(["crm.csv"])       # list[SourceTable]: layout and header -> field
    lines = column_lines(table)                  # what the terminal shows: each reading with its reason
    write_mapping_template(tables, path)         # header,field for every header ("ignore" where unused)

Only the header and the first data row are read, by the same planner an import uses,
so what it shows is what an import would do with the same options. A file the import would
refuse (no contact column, two id columns) is described all the same, as layout "refused" with
`refusals[file]` saying why: its mapping is written with that reason as a `#` comment line at the
top, because that is when it is needed most.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from importer.errors import UsageError
from importer.input.table import LoadStats, read_table
from importer.input.tablesaid import header_line
from importer.mapping import presets
from importer.mapping.headers import NAME_FIELDS, PlanRefused, alias_of, column_note, read_mapping, reading_of
from importer.rules.words import read_header
from importer.records import ContactType, SourceTable

log = logging.getLogger("importer")

_KINDS = {t.value for t in ContactType}
_PER_CONTACT = ("type", "contact", "handle", "note", "default", "orderBy")  # left out of a wide table (headers.py)
_LAYOUTS = {"wide": "one customer per row, a column per contact kind",
            "long": "one contact per row: Type and Contact columns"}  # fmt: skip


def describe_columns(paths: Sequence[str | os.PathLike[str]], *, sheets: Sequence[str] = (),
                     mapping: Path | None = None, customer_key: str | None = None,
                     match_by: str | None = None, header_row: int | None = None,
                     refusals: dict[str, str] | None = None) -> list[SourceTable]:
    """Each table's layout and what each header is read as (InputError/UsageError as an import would, except
    for a file whose columns can't be read: described as layout "refused", the reason in `refusals`)."""
    tables: list[SourceTable] = []
    resolved = read_mapping(mapping) if mapping else None
    for path in paths:
        stats = LoadStats()
        try:
            read_table([path], sheets=sheets, mapping=resolved, customer_key=customer_key, match_by=match_by,
                       limit=1, header_row=header_row, stats=stats, log=log)  # fmt: skip
        except PlanRefused as exc:
            tables.extend(stats.tables)
            field_of = {h: t for h, t in exc.readings.items() if t}
            tables.append(SourceTable(str(path), "", exc.headers, "refused", field_of))
            if refusals is not None:
                refusals[str(path)] = exc.problem
            continue
        tables.extend(stats.tables)
    return tables


def meaning(field: str | None) -> str:
    """What a header is read as, in words."""
    if field is None:
        return "ignored"
    if field in _KINDS:
        return f"{field} contact"
    if field in NAME_FIELDS:
        return f"{field} (the customer's name, for --create-customers)"
    return field


def reason(table: SourceTable, header: str) -> str:
    """Why a header reads as it does: a preset, an alias, its words, or the mapping."""
    field = table.field_of.get(header)
    if (found := dict(table.reasons).get(header)) is not None:  # its values decided, not its header
        return found
    if field == "note" and table.layout == "wide" and reading_of(header) != "note":  # headers.Plan.label_pairs
        return "the label of the contact column beside it: its contacts' note where filled"
    if field is None and table.layout == "wide" and (said := reading_of(header)) in _PER_CONTACT:
        return f"one customer per row has no per-contact {said}" + (
            f" (--mapping '{header},note' makes it every contact's note)" if said == "note" else "")
    known = presets.BY_NAME.get(table.preset)
    if known is not None and header in known.mapping_for([header]):
        return f"the {known.title}'s layout"
    if field is not None and field != reading_of(header):
        return "the mapping" if field not in ("customerEmail", "country") else "the customer key or country option"
    if alias_of(header):
        return "a known header"
    return read_header(header).reason


def column_lines(table: SourceTable, refused: str = "") -> list[str]:
    where = Path(table.file).name + (f", sheet {table.sheet}" if table.sheet else "")
    if table.layout == "refused":
        lines = [f"{where}: the import would refuse this file: {refused}"]
    else:
        lines = [f"{where}: {table.layout} layout ({_LAYOUTS.get(table.layout, table.layout)})"]
    if table.header_row > 1:  # found under a title or banner (importer.input.tablefind)
        lines.append(f"  {header_line(table.header_row, table.skipped)}")
    width = max((len(h) for h in table.headers if h), default=0)
    names_customer = table.key_column and not {"customerId", "customerEmail"} & set(table.field_of.values())
    for header in table.headers:
        if not header:
            continue
        field = table.field_of.get(header)
        said = meaning(field)
        note = column_note(header, field) if field in _KINDS else ""
        if note:
            said += f", noted {note!r}"
        if header == table.key_column or names_customer and field == "EMAIL":
            said += ", and names the customer (customers matched by the row's emails)"
        lines.append(f"  {header:<{width}}  -> {said}  ({reason(table, header)})")
    return lines


def write_mapping_template(tables: Sequence[SourceTable], path: Path, refusals: dict[str, str] | None = None) -> None:
    """A two-column CSV `header,field` naming every header: edit it, pass it with --mapping. Why the import
    would refuse a file comes first, as `#` comment lines (read_mapping skips them)."""
    if path.exists():
        raise UsageError(f"{path} exists: not overwritten (choose another with --out)")
    seen: dict[str, str] = {}
    for table in tables:
        for header in table.headers:
            if header and header not in seen:
                seen[header] = table.field_of.get(header) or "ignore"
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            for file, why in (refusals or {}).items():
                f.write(f"# {Path(file).name}: the import would refuse it: {' '.join(why.split())}\n")
            writer = csv.writer(f)
            writer.writerow(["header", "field"])
            writer.writerows(seen.items())
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
