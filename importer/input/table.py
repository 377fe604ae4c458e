"""The run's table: one pandas frame, one row per contact record, from the loader to the report.

    table = read_table(paths, options...)   # load every file, normalize by column
    table.frame                             # one row per contact record, in input order
    table.sheets[i].cells                   # the source rows of file/sheet i, as written

The frame's index is the record's position in the run (`ContactRecord.index`). Columns
(text is str, or a category of str where a column repeats a few values: compare and
read them the same way):

    sheet_no       int32    which of `table.sheets` the row came from
    line           int32    the source row's position in that sheet's `cells`
    file, sheet    category as the user named the file; "" for a text file's sheet
    row            int32    the Excel row number (blank lines, multi-line cells and rows above the header counted)
    source_column  category the header of the cell holding the contact ("" if none)
    customer_id    Int64    <NA> when the row names no valid id
    customer_email text     lower-cased; missing when none
    type           category as sent when valid; as far as normalization got otherwise
    contact, handle, note, source_contact   text ("" when blank); contact as sent, source_contact as written
    default        boolean  <NA> when blank (not sent)
    order_by       Int64
    timestamp      text     Ecwid's form; missing when blank
    errors         object   tuple[RecordError, ...], () when the row is fine
    status         category a records.Status value (STATUSES)
    http_status, create_count  Int64
    attempts       int
    error_code     category
    error          text
    duplicate_of   object   the records.Source of the row this one repeats, or None

Each distinct value of a column is worked out once (`factorize`), by the same rule
functions (importer.rules) that name a row's errors.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from importer.checks.normalize import check_region, normalize
from importer.errors import Code, UsageError
from importer.input import limits
from importer.input import pipes
from importer.input import tablefind
from importer.input import tablesaid
from importer.input import textfile
from importer.input import workbook
from importer.input.contactrows import blank_in_words, records_of, records_of_nothing
from importer.input.files import (
    TEXT_EXTENSIONS, check_file, check_mapping_found, check_sheets_wanted, check_text_options, named,
)
from importer.input.limits import Problems
from importer.mapping import headers
from importer.mapping import matching
from importer.mapping import presets
from importer.mapping.widecolumns import left_out_lines
from importer.frame import FRAME_COLUMNS, STATUSES, Records, Sheet, Table, records_at, set_outcomes
from importer.records import SourceTable, Status

__all__ = ["Sheet", "Table", "FRAME_COLUMNS", "LoadStats", "read_table", "records_at", "set_outcomes", "Records"]

@dataclass
class LoadStats:
    tables: list[SourceTable] = field(default_factory=list)
    rows: int = 0  # source data rows read (excluding header and blank rows)
    blank_rows: int = 0  # entirely blank rows skipped
    hidden_sheets: list[str] = field(default_factory=list)  # "file:sheet"
    encodings: dict[str, str] = field(default_factory=dict)  # text file -> encoding
    delimiters: dict[str, str] = field(default_factory=dict)  # text file -> delimiter
    notes: list[str] = field(default_factory=list)  # what a person should know about how a file was read




def _is_text(source: str, ext: str) -> bool:
    """Read as a text file: a text extension, or an .xls that is text (HTML, CSV) saved under that name."""
    return ext in TEXT_EXTENSIONS or (ext == ".xls" and textfile.looks_like_text(source))


def read_table(
    paths: Iterable[str | os.PathLike[str]],
    *,
    sheets: Sequence[str] = (),
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    phone_region: str | None = None,
    store_id: int | None = None,
    customer_key: str | None = None,
    match_by: str | None = None,
    preset: str | None = None,
    country_column: str | None = None,
    limit: int | None = None,
    header_row: int | None = None,
    stats: LoadStats | None = None,
    log: logging.Logger | None = None,
) -> Table:
    """Every file's rows, normalized, in one frame (statuses `pending` until validated).

    Every path is checked (exists, a file, not empty, supported) before any is read, so
    a typo in the third file stops the run at once. InputError: a file that cannot be
    input; UsageError: a bad option. `limit`: the first `limit` data rows of the run only.
    `country_column`: the header of each row's country (else a header like Country, Land, Country/Region).
    `header_row`: the header's Excel row in every file and sheet (else found where it is: importer.input.tablefind).
    """
    stats = stats if stats is not None else LoadStats()
    log = log or logging.getLogger("importer")
    mapping = headers.check_mapping(mapping)
    encoding, delimiter = check_text_options(encoding, delimiter)
    check_region(phone_region)
    if match_by is not None and match_by not in headers.MATCH_BY:
        raise UsageError(f"--match-by must be one of {', '.join(headers.MATCH_BY)}, got {match_by!r}")
    if customer_key is not None and not headers.norm(customer_key):
        raise UsageError("--customer-key needs a column name")
    if country_column is not None and not headers.norm(country_column):
        raise UsageError("--country-column needs a column name")
    key = headers.CustomerKey(customer_key, match_by)
    presets.check_name(preset)
    if header_row is not None and header_row < 1:
        raise UsageError(f"--header-row must be 1 or more, got {header_row}")
    is_header = tablefind.header_test(mapping)
    found: list[Sheet] = []
    parts: list[pd.DataFrame] = []
    problems: list[Problems] = []  # per sheet: rows the loader found bad (bad bytes, cells past Excel's length)

    def plan_for(file: str, sheet: str, top: tablefind.Top) -> headers.Plan:
        try:
            return headers.plan_table(file, sheet, top.header, {**top.qualified, **mapping}, log, key, preset=preset,
                                      country_column=country_column)  # a group row's word under the user's
        except headers.PlanRefused as e:  # no row read as a header: say which rows were looked at
            if top.found or not e.problem.startswith("no contact column"):
                raise
            raise headers.PlanRefused(e.path, f"{e.problem} (row {top.header_row}; none of rows "
                                      f"{tablesaid.row_ranges(top.looked)} reads as a header: name it with "
                                      "--header-row N)", e.headers, e.readings) from None

    def add(plan: headers.Plan, cells: pd.DataFrame, rows: np.ndarray, found_: Problems, top: tablefind.Top,
            delimiter: str = ",") -> None:
        where = plan.table.file + (f":{plan.table.sheet}" if plan.table.sheet else "")
        pieces, skipped = tablefind.find_parts(cells, rows, top, is_header)
        for k, part in enumerate(pieces):
            if k:
                plan = plan_for(plan.table.file, plan.table.sheet, dataclasses.replace(top, header=part.header))
            if len(part.at) == len(cells):
                mine, at, bad = cells, rows, found_
            else:
                mine, at = cells.iloc[part.at].reset_index(drop=True), rows[part.at]
                bad = limits.moved(found_, part.at)
            named = matching.headerless_named(part.header, mine)
            if named != list(part.header):  # contacts under no header: a name for them, and the columns read again
                part = dataclasses.replace(part, header=named)
                plan = plan_for(plan.table.file, plan.table.sheet, dataclasses.replace(top, header=part.header))
            mine = mine.iloc[:, : max(1, len(part.header))]  # cells past its header (notes beside it) are not its
            plan = matching.replanned(plan, mine, key, mapping, log, preset, country_column)  # what the values tell
            stats.notes.extend(plan.notes)
            said = (*top.skipped, *skipped, *part.skipped) if k == 0 else tuple(part.skipped)
            plan = dataclasses.replace(plan, table=dataclasses.replace(
                plan.table, header_row=part.header_row, skipped=tuple(s.as_tuple() for s in said)))
            stats.notes.extend(tablesaid.said(where, None if k else top, part, () if k else skipped))
            if limit is not None:  # a trial on a big file: its first rows only
                mine, at = mine.iloc[: max(0, limit - stats.rows)], at[: max(0, limit - stats.rows)]
            stats.tables.append(plan.table)
            stats.rows += len(mine)
            parts.append(records_of(plan, mine, at, len(found), check_region(phone_region)))
            stats.notes.extend(f"{where}: {said}" for said in [blank_in_words(plan, mine)] if said)
            found.append(Sheet(plan.table, mine, delimiter, plan.left_out))
            problems.append(bad)

    spool = pipes.Spool()  # a pipe's bytes, read once (import <(curl …)), until the files are read
    try:
        files = [(str(p), *check_file(str(p), spool)) for p in paths]
        texts = {path for path, source, ext in files if _is_text(source, ext)}
        check_sheets_wanted(sheets, [path for path, _, _ in files if path in texts], len(files))
        before = [(path, source, pipes.fingerprint(source)) for path, source, _ in files]  # still being written?
        for path, source, ext in files:
            if limit is not None and stats.rows >= limit:
                break
            with named(source, path, stats):
                if path in texts:
                    left = None if limit is None else limit - stats.rows
                    names, cells, rows, bad, top = textfile.read_text(
                        source, encoding=encoding, delimiter=delimiter, stats=stats, log=log, limit=left,
                        is_header=is_header, header_row=header_row)
                    add(plan_for(path, "", top), cells, rows, bad, top, stats.delimiters[source])
                else:
                    def find(head, is_header=is_header):
                        return tablefind.find_header(head, is_header, header_row)

                    for plan, cells, rows, bad, top in workbook.read_workbook(
                            source, sheets, lambda sheet, top, path=path: plan_for(path, sheet, top), find,
                            stats=stats, log=log, header_row=header_row):
                        add(plan, cells, rows, bad, top)
        pipes.unchanged(before)
    finally:
        spool.close()

    check_mapping_found(mapping, [s.table for s in found])
    raw = pd.concat(parts, ignore_index=True) if parts else records_of_nothing()
    parts.clear()
    values = normalize(raw, [s.table for s in found], phone_region=phone_region, store_id=store_id)
    left_out_lines(values, raw, [s.plan_left_out for s in found])
    if any(problems):
        values["errors"] = _add_problems(values["errors"].to_numpy(copy=True), raw, problems)
    where = pd.DataFrame(_where(raw["sheet_no"].to_numpy(), [s.table for s in found]), index=raw.index)
    frame = pd.concat([raw[["sheet_no", "line"]], where, raw[["row", "source_column"]], values], axis=1)
    del raw, values
    n = len(frame)
    frame["status"] = pd.Categorical.from_codes(np.full(n, STATUSES.index(Status.PENDING.value), dtype=np.int8),
                                                categories=STATUSES)
    frame["http_status"] = pd.array([None] * n, dtype="Int64")
    frame["create_count"] = pd.array([None] * n, dtype="Int64")
    frame["attempts"] = np.zeros(n, dtype=np.int64)
    frame["error_code"] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[""])
    frame["error"] = pd.Series("", index=frame.index, dtype="str")
    frame["duplicate_of"] = np.full(n, None, dtype=object)
    return Table(frame, found)


def _add_problems(errors: np.ndarray, raw: pd.DataFrame, problems: Sequence[Problems]) -> np.ndarray:
    """The loader's findings first in each of its rows' errors (every record of a wide row); a too-long
    cell's own rule (a note past 1024) is not said twice about the copy the loader cut."""
    sheet_no, line = raw["sheet_no"].to_numpy(), raw["line"].to_numpy()
    for i, found in enumerate(problems):
        if not found:
            continue
        lines = np.fromiter(found, dtype=np.int64, count=len(found))
        for k in np.flatnonzero((sheet_no == i) & np.isin(line, lines)).tolist():
            mine = found[int(line[k])]
            cut = {e.column for e in mine if e.code == Code.TOO_LONG}
            errors[k] = (*mine, *(e for e in errors[k] if not (e.code == Code.TOO_LONG and e.column in cut)))
    return errors


def _where(sheet_no: np.ndarray, tables: Sequence[SourceTable]) -> dict[str, pd.Categorical]:
    """The file and sheet columns, as categories of the sheets (a byte or two a row)."""
    out = {}
    for name in ("file", "sheet"):
        names = [getattr(t, name) for t in tables]
        codes, uniques = pd.factorize(pd.Series(names, dtype=object))
        out[name] = pd.Categorical.from_codes(codes[sheet_no] if len(codes) else sheet_no, categories=list(uniques))
    return out
