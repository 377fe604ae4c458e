"""results.csv / results.xlsx / errors.csv / summary.json / terminal summary.

Interface (used by importer.pipeline):

    writer = ReportWriter(report_dir, run_id)      # creates report_dir/run_id/
    writer.write(records)                          # once or in chunks, input order
    path = writer.finish(summary)                  # summary.json; returns the folder
    # or, in one call:
    path = write_report(records, summary, report_dir=Path, run_id=str)
    print_summary(summary, path, stream=sys.stderr)

Files in the run folder:

* ``results.csv``: one line per record, input order, REPORT_COLUMNS.
* ``results.xlsx``: the same lines with text stored as text; skipped (with a note
  in summary["notes"]) above XLSX_MAX_ROWS records, where openpyxl would take
  tens of seconds and hundreds of MB of temp space while results.csv has it all.
* ``errors.csv``: the source rows that did not make it, in the input's own
  columns plus ``error``, ready to fix and import again. Rows are grouped by header:
  every table with the same headers as the first failing row's table goes to
  ``errors.csv``; a table with other headers gets ``errors-<file>[-<sheet>].csv``
  (a union of headers could mix long and wide layouts in one file and would not
  re-import). Not written when nothing failed.
* ``summary.json``: the pipeline's summary plus ``report_dir``, ``report_files``,
  ``error_rows`` and ``notes``.

Both CSV files are UTF-8 with a BOM (``utf-8-sig``): Excel opens them with the
right characters on double click, and the loader reads the BOM. Cells a
spreadsheet would run as a formula are prefixed with ``'`` (OWASP CSV injection),
except ``+``/``-`` values that are plain numbers or phone numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import logging
import operator
import os
import re
import secrets
import shutil
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from importer.columns import RecordTable
from importer.records import Code, ContactRecord, Outcome, RecordError, Source, Status

log = logging.getLogger(__name__)

REPORT_COLUMNS = (
    "file",
    "sheet",
    "row",
    "customer_id",
    "customer_email",
    "type",
    "contact",
    "handle",
    "source_contact",
    "status",
    "http_status",
    "create_count",
    "attempts",
    "error_code",
    "error",
    "duplicate_of",  # the first occurrence, for status duplicate
)

ERROR_COLUMN = "error"
RESULTS_CSV = "results.csv"
RESULTS_XLSX = "results.xlsx"
ERRORS_CSV = "errors.csv"
SUMMARY_JSON = "summary.json"
BOM = "\ufeff"  # utf-8-sig: Excel guesses cp1252 for a BOM-less CSV

# Above this many records results.xlsx is skipped (noted in summary["notes"] and
# the log): openpyxl's write-only mode manages only ~7k lines/s here (~1.8x that
# when lxml is installed), so 50k lines already add ~7 s to a run, while
# results.csv has the same lines in a fraction of that and Excel opens it too.
XLSX_MAX_ROWS = 50_000
XLSX_MAX_CHARS = 32_767

# Statuses whose source row goes to errors.csv, and those whose wide-layout cell
# is blanked there because re-sending it would only repeat it.
ERROR_STATUSES = frozenset({Status.INVALID, Status.FAILED, Status.NOT_CREATED, Status.NOT_SENT})
DONE_STATUSES = frozenset({Status.CREATED, Status.SKIPPED, Status.DUPLICATE})

STATUS_ORDER = (
    Status.CREATED,
    Status.NOT_CREATED,
    Status.SKIPPED,
    Status.VALID,
    Status.DUPLICATE,
    Status.INVALID,
    Status.FAILED,
    Status.NOT_SENT,
)

_FALLBACK_ERROR = {
    Status.NOT_SENT: "not sent: the run stopped first",
    Status.NOT_CREATED: "Ecwid answered createCount 0: the contact was not created",
    Status.FAILED: "failed",
    Status.INVALID: "invalid",
}

# Columns (by index in REPORT_COLUMNS) that can hold text from the file or the
# server; the others are ints or our own codes and need no formula escaping.
_TEXT_COLUMNS = frozenset(
    i
    for i, c in enumerate(REPORT_COLUMNS)
    if c not in ("row", "customer_id", "status", "http_status", "create_count", "attempts", "error_code")
)


# --- CSV injection -----------------------------------------------------------

_FORMULA_START = frozenset("=@+-\t\r")
# A sign, then digits, spaces, ().- with at least one digit: one regex, no second pass.
_NUMBER_OR_PHONE = re.compile(r"[+-]?[\s().-]*\d[\d\s().-]*")


def escape_formula(value: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would execute; numbers and phones stay as they are."""
    if value[:1] not in _FORMULA_START:
        return value
    if value[0] in "+-" and (value[1:].isdecimal() or _NUMBER_OR_PHONE.fullmatch(value)):
        return value  # isdecimal (Unicode Nd, the same as \d): E.164 phones without the regex
    return "'" + value


def _cell_text(value: Any) -> str:
    """A loader cell (text, Excel boolean or date) as text for errors.csv."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- one results line --------------------------------------------------------


def describe(source: Source) -> str:
    """Where a row is, the way a person finds it: ``book.xlsx, sheet Q3, row 5``."""
    sheet = f", sheet {source.sheet}" if source.sheet else ""
    return f"{source.file}{sheet}, row {source.row}"


def _error_fields(out: Outcome, duplicate_of: Source | None, errors: tuple[RecordError, ...]) -> tuple[str, str]:
    """(error_code, error) of a results line: duplicates name the first row, invalid rows their errors."""
    error_code, error = out.error_code, out.error
    if out.status is Status.DUPLICATE:
        error_code = error_code or Code.DUPLICATE.value
        if not error and duplicate_of is not None:
            error = f"repeats {describe(duplicate_of)}"
    elif out.status is Status.INVALID and errors:
        error_code = error_code or errors[0].code
        error = error or "; ".join(map(str, errors))
    return error_code, error


_CHUNK = 8192  # lines formatted and written at a time
# From this many lines results.csv is written by two processes (ReportWriter._write_lines).
FORK_MIN_LINES = 200_000


def _can_fork() -> bool:
    # fork copies only the calling thread: with others running (a lock held) the child could hang
    return hasattr(os, "fork") and threading.active_count() == 1


def _escaped(column: Sequence[str | None]) -> list[str]:
    """A text column formula-escaped (escape_formula, with its E.164 case inline), None as empty."""
    danger, esc = _FORMULA_START, escape_formula
    return [
        (v if v[0] not in danger or (v[0] == "+" and v[1:].isdecimal()) else esc(v)) if v else ""
        for v in column
    ]


def _escaped_few(column: Sequence[str]) -> list[str]:
    """_escaped for a column of few distinct values (file, sheet, type)."""
    memo = dict(zip(distinct := list(set(column)), _escaped(distinct)))
    return list(map(memo.__getitem__, column))


def _lines(files, sheets, rows, outcomes, customer_ids, emails, types, contacts, handles, written, firsts, errors) -> str:
    """results.csv lines (CRLF) for columns of records: result_row + _csv_row + csv.writer, column-wise."""
    duplicate, invalid = Status.DUPLICATE, Status.INVALID
    errs = [
        _error_fields(o, f, e) if o.status is duplicate or o.status is invalid else (o.error_code, o.error)
        for o, f, e in zip(outcomes, firsts, errors)
    ]
    # status, http_status, create_count and attempts as one field: most rows share one Outcome object
    outcome_text = {id(o): _outcome_fields(o) for o in {id(o): o for o in outcomes}.values()}
    columns = [
        _escaped_few(files), _escaped_few(sheets), list(map(str, rows)),
        ["" if c is None else str(c) for c in customer_ids],
        _escaped(emails), _escaped_few(types), _escaped(contacts), _escaped(handles), _escaped(written),
        [outcome_text[i] for i in map(id, outcomes)],
        [e[0] for e in errs], _escaped([e[1] for e in errs]),
        _escaped([describe(f) if f is not None else "" for f in firsts]),
    ]  # fmt: skip
    lines = list(map(",".join, zip(*columns)))
    for i, line in enumerate(lines):
        if line.count(",") != _COMMAS or '"' in line or "\n" in line or "\r" in line:
            values = [c[i] for c in columns]
            lines[i] = _csv_line([*values[:9], *values[9].split(","), *values[10:]])
    return "\r\n".join(lines) + "\r\n"


def _outcome_fields(o: Outcome) -> str:
    http, count = "" if o.http_status is None else o.http_status, "" if o.create_count is None else o.create_count
    return f"{o.status},{http},{count},{o.attempts}"


def _owner(record: ContactRecord) -> tuple[str, str, tuple[str, ...]] | None:
    """What a record's source row belongs to: (file, sheet, the table's headers), as in error_line."""
    raw = record.raw
    return None if raw is None else (raw.source.file, raw.source.sheet, raw.table.headers)


# write()'s columns besides file, sheet and row, in the order its loop unpacks them.
_LINE_FIELDS = ("outcome", "customer_id", "customer_email", "type", "contact", "handle", "source_contact",
                "duplicate_of", "errors")


def result_row(record: ContactRecord) -> tuple[Any, ...]:
    """The REPORT_COLUMNS values of one record: str, int or None (no escaping)."""
    out = record.outcome
    src = record.source
    return (
        src.file,
        src.sheet,
        src.row,
        record.customer_id,
        record.customer_email or "",
        record.type,
        record.contact,
        record.handle,
        record.source_contact,
        out.status,  # a StrEnum: csv and json write its value
        out.http_status,
        out.create_count,
        out.attempts,
        *_error_fields(out, record.duplicate_of, record.errors),
        describe(record.duplicate_of) if record.duplicate_of is not None else "",
    )


def _csv_row(values: tuple[Any, ...]) -> list[Any]:
    """result_row values as results.csv writes them: text columns formula-escaped."""
    return [escape_formula(v) if i in _TEXT_COLUMNS and v else v for i, v in enumerate(values)]


_COMMAS = len(REPORT_COLUMNS) - 1


def _csv_line(values: Sequence[Any]) -> str:
    """One line as csv.writer writes it, without the line end (quoting, None as empty)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()[:-2]


# --- errors.csv --------------------------------------------------------------


_NO_RAW_HEADERS = tuple(c for c in REPORT_COLUMNS if c != ERROR_COLUMN)


def _record_messages(record: ContactRecord) -> list[str]:
    """Why one record did not make it; wide-layout messages name their column."""
    if record.errors:
        return [str(e) for e in record.errors]
    message = record.outcome.error or record.outcome.error_code or _FALLBACK_ERROR.get(record.outcome.status, "")
    column = record.raw.source_column if record.raw is not None and record.raw.table.layout == "wide" else ""
    if column and not message.startswith(column + ":"):
        message = f"{column}: {message}"
    return [message]


def error_line(group: Sequence[ContactRecord]) -> tuple[tuple[str, ...], list[str]] | None:
    """(headers, cells + error) for one source row's records, or None if all made it.

    Cells of wide-layout contact columns whose every contact made it are blanked,
    so importing the line again doesn't send them twice.
    """
    failing = [r for r in group if r.outcome.status in ERROR_STATUSES]
    if not failing:
        return None
    messages: dict[str, None] = {}  # ordered set: a bad customer id repeats per contact
    for record in failing:
        messages.update(dict.fromkeys(m for m in _record_messages(record) if m))
    error = "; ".join(messages)

    raw = group[0].raw
    if raw is None:
        values = result_row(group[0])
        cells = [_cell_text(v) for c, v in zip(REPORT_COLUMNS, values) if c != ERROR_COLUMN]
        return (*_NO_RAW_HEADERS, ERROR_COLUMN), [*cells, error]

    headers = raw.table.headers
    cells = [_cell_text(v) for v in raw.cells[: len(headers)]]
    cells += [""] * (len(headers) - len(cells))
    keep = {r.raw.source_column for r in group if r.raw is not None and r.outcome.status not in DONE_STATUSES}
    for record in group:
        column = record.raw.source_column if record.raw is not None else ""
        if record.outcome.status in DONE_STATUSES and column and column not in keep:
            index = _column_index(headers, cells, column, record.source_contact)
            if index is not None:
                cells[index] = ""
    if headers and headers[-1].strip().lower() == ERROR_COLUMN:  # an errors.csv imported again: reuse its column
        cells[-1] = error
        return headers, cells
    return (*headers, ERROR_COLUMN), [*cells, error]


def _column_index(headers: Sequence[str], cells: Sequence[str], column: str, value: str) -> int | None:
    matches = [i for i, h in enumerate(headers) if h == column]
    if len(matches) > 1:  # the same header twice: pick the cell that holds this contact
        matches = [i for i in matches if cells[i] == value] or matches
    return matches[0] if matches else None


def _file_part(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("._") or "sheet"


# --- the writer --------------------------------------------------------------


class ReportWriter:
    """Streams results while a run goes on, so memory stays flat and an interrupted
    run still leaves a complete report.

    ``write`` may be called once with every record or several times with chunks,
    always in input order; the records of one wide-layout row must be adjacent
    (the loader yields them so). ``finish`` closes everything and writes summary.json.
    """

    def __init__(self, report_dir: Path, run_id: str, *, xlsx_max_rows: int = XLSX_MAX_ROWS, fork: bool = True):
        self.path = Path(report_dir) / run_id
        self.path.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self.error_rows = 0
        self.notes: list[str] = []
        self._xlsx_max_rows = xlsx_max_rows
        self._fork = fork  # a big results.csv may be written by two processes
        self._results_file = _open_csv(self.path / RESULTS_CSV)
        self._results = csv.writer(self._results_file)
        self._results.writerow(REPORT_COLUMNS)
        self._errors: dict[tuple[str, ...], tuple[str, TextIO, Any]] = {}  # headers -> (name, file, writer)
        self._pending: list[ContactRecord] = []  # the current source row's records, from earlier write()s
        self._pending_key: tuple[Any, int] = (None, 0)  # which source row they are (write's owner, row)
        self._pending_failing = False  # and whether one of them failed
        self._owners: dict[tuple, tuple] = {}  # write()'s distinct source-row owners, across calls
        self._workbook: Any = None
        self._sheet: Any = None
        self._xlsx_saved = False
        # results.xlsx is started by the first write() that keeps it under the limit (openpyxl is
        # not even imported for a run over it)
        self._xlsx_pending = xlsx_max_rows > 0
        if not self._xlsx_pending:
            self._skip_xlsx(0)

    # context manager: a crash mid-run still closes (and so completes) the CSVs
    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, records: Iterable[ContactRecord] | RecordTable) -> None:
        """results.csv lines, formula-escaped; feeds results.xlsx and errors.csv on the way.

        A list or RecordTable is written in one go; other iterables in chunks as they come,
        so the lines of a run interrupted mid-way are on disk.
        """
        if isinstance(records, (list, RecordTable)):
            self._write(records)
            return
        chunk: list[ContactRecord] = []
        try:
            for record in records:
                chunk.append(record)
                if len(chunk) == 4096:
                    self._write(chunk)
                    chunk = []
        finally:
            if chunk:
                self._write(chunk)

    def _write(self, records: list[ContactRecord] | RecordTable) -> None:
        """The lines of `records`, column by column: a RecordTable's own columns, or a list's.

        A million-line report, so no Python code runs per line for the common case: each
        column is escaped in one comprehension and the lines are joined by map(",".join).
        result_row, _csv_row and csv.writer are the readable version of the same line, and
        the tests check that both give the same bytes. A line csv would quote goes through
        csv itself (_csv_line). Records are built (RecordTable) only for results.xlsx and
        for the source rows that go to errors.csv.
        """
        if isinstance(records, RecordTable):
            table = records
            owners: list[Any] = table.table  # a source row is (owner, row number)
            files, sheets = [t.file for t in owners], [t.sheet for t in owners]
            cols = [getattr(table, name) for name in _LINE_FIELDS]
            record_at = table.__getitem__
            rows_of = table.number
        else:
            listed = records
            sources = [r.source for r in listed]
            files, sheets, rows_of = [s.file for s in sources], [s.sheet for s in sources], [s.row for s in sources]
            # (file, sheet, headers), one object per distinct value so that `is` compares them; a record
            # without a raw row is a source row of its own
            canonical = self._owners
            owners = [canonical.setdefault(k, k) if (k := _owner(r)) is not None else object() for r in listed]
            cols = [[getattr(r, name) for r in listed] for name in _LINE_FIELDS]
            record_at = listed.__getitem__
        count = len(rows_of)
        if self._xlsx_pending:
            self._xlsx_pending = False
            if self.rows + count <= self._xlsx_max_rows:
                self._start_xlsx()
            else:
                self._skip_xlsx(self.rows + count)
        elif self._sheet is not None and self.rows + count > self._xlsx_max_rows:
            self._skip_xlsx(self.rows + count)

        def lines(start: int, end: int) -> str:
            return _lines(files[start:end], sheets[start:end], rows_of[start:end], *(c[start:end] for c in cols))

        def meanwhile() -> None:  # errors.csv and results.xlsx are other files: written while a child writes lines
            if self._sheet is not None:
                for i in range(count):
                    self._append_xlsx(record_at(i), self.rows + i + 1)
            self._errors_of(count, owners, rows_of, cols[0], record_at)

        self._write_lines(count, lines, meanwhile)
        self.rows += count

    def _write_lines(self, count: int, lines: Callable[[int, int], str], meanwhile: Callable[[], None]) -> None:
        """results.csv lines [0, count), `lines(start, end)` at a time; then `meanwhile()`.

        A big report is written by two processes: a forked child writes the last 60 % of the
        lines to a part file (it shares this process's memory, nothing is copied) while this one
        writes the first 40 % and runs `meanwhile`; the part is then appended. If the child
        fails, this process writes those lines itself.
        """
        out = self._results_file
        mid, pid = count, -1
        if self._fork and count >= FORK_MIN_LINES and _can_fork():
            part = self.path / (RESULTS_CSV + ".part")
            try:
                pid = os.fork()
                mid = count * 2 // 5
            except OSError:  # no process to spare: write it all here
                pass
        if pid == 0:  # the child: write, and leave without running any of the parent's cleanup
            code = 1
            try:
                with open(part, "w", encoding="utf-8", newline="", buffering=1 << 20) as f:
                    for start in range(mid, count, _CHUNK):
                        f.write(lines(start, min(count, start + _CHUNK)))
                code = 0
            finally:
                os._exit(code)
        try:
            for start in range(0, mid, _CHUNK):
                out.write(lines(start, min(mid, start + _CHUNK)))
            meanwhile()
        finally:
            ok = pid > 0 and os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        if ok:
            out.flush()  # then the part's bytes go straight to the file under the text layer
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out.buffer, 1 << 20)  # type: ignore[attr-defined]
        else:
            for start in range(mid, count, _CHUNK):
                out.write(lines(start, min(count, start + _CHUNK)))
        if pid > 0:
            part.unlink(missing_ok=True)

    def _errors_of(self, count: int, owners: Sequence[Any], rows_of: Sequence[int], outcomes: Sequence[Outcome],
                   record_at: Callable[[int], ContactRecord]) -> None:
        """errors.csv lines for the source rows of one write() with a failing record.

        A source row's records are adjacent; the last row of a call is carried over
        (self._pending) since the next call may go on with it.
        """
        if not count:
            return

        def same(i: int, j: int) -> bool:
            return rows_of[i] == rows_of[j] and owners[i] is owners[j]

        def row_end(i: int) -> int:
            j = i + 1
            while j < count and same(j, i):
                j += 1
            return j

        done = 0  # positions before this are written or carried
        if owners[0] is self._pending_key[0] and rows_of[0] == self._pending_key[1]:
            done = row_end(0)  # the carried row goes on
            failing = self._pending_failing or any(outcomes[i].status in ERROR_STATUSES for i in range(done))
            carried = [*self._pending, *map(record_at, range(done))]
            if done == count:  # and may go on further
                self._carry(carried, owners[0], rows_of[0], failing)
                return
            if failing:
                self._flush_errors(carried)
        elif self._pending_failing:
            self._flush_errors(self._pending)
        statuses = map(operator.attrgetter("status"), itertools.islice(outcomes, done, None))
        for i in itertools.compress(range(done, count), map(ERROR_STATUSES.__contains__, statuses)):
            if i < done:
                continue
            lo = i
            while lo > done and same(lo - 1, i):
                lo -= 1
            done = row_end(i)
            group = list(map(record_at, range(lo, done)))
            if done == count:
                self._carry(group, owners[i], rows_of[i], True)
                return
            self._flush_errors(group)
        last = count - 1
        lo = last
        while lo > done and same(lo - 1, last):
            lo -= 1
        self._carry(list(map(record_at, range(lo, count))), owners[last], rows_of[last], False)

    def _carry(self, records: list[ContactRecord], owner: Any, row: int, failing: bool) -> None:
        self._pending, self._pending_key, self._pending_failing = records, (owner, row), failing

    def finish(self, summary: dict[str, Any]) -> Path:
        """Close the files and write summary.json; returns the run folder.

        Adds ``report_dir``, ``report_files``, ``error_rows`` and ``notes`` to
        ``summary`` in place, so the caller's --json output matches summary.json.
        """
        files = self.close()
        summary["report_dir"] = str(self.path)
        summary["report_files"] = [*files, SUMMARY_JSON]
        summary["error_rows"] = self.error_rows
        if self.notes:
            summary["notes"] = [*summary.get("notes", ()), *self.notes]
        tmp = self.path / (SUMMARY_JSON + ".tmp")
        tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=_json_default) + "\n", "utf-8")
        os.replace(tmp, self.path / SUMMARY_JSON)  # never a half-written summary
        return self.path

    def close(self) -> list[str]:
        """Flush and close every file (idempotent); returns the names written."""
        if self._pending_failing:
            self._flush_errors(self._pending)
        self._pending, self._pending_failing = [], False
        files = [RESULTS_CSV]
        if self._xlsx_pending:  # nothing was written: a results.xlsx with its header only
            self._xlsx_pending = False
            self._start_xlsx()
        if not self._results_file.closed:
            self._results_file.close()
        if self._workbook is not None:
            self._workbook.save(self.path / RESULTS_XLSX)
            self._workbook = self._sheet = None
            self._xlsx_saved = True
        if self._xlsx_saved:
            files.append(RESULTS_XLSX)
        for name, file, _ in self._errors.values():
            if not file.closed:
                file.close()
            files.append(name)
        return files

    # -- results.xlsx

    def _start_xlsx(self) -> None:
        from openpyxl import Workbook

        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet("results")
        self._sheet.freeze_panes = "A2"
        self._sheet.append(list(REPORT_COLUMNS))

    def _append_xlsx(self, record: ContactRecord, rows: int) -> None:
        if rows > self._xlsx_max_rows:
            self._skip_xlsx(rows)
        else:
            self._sheet.append(self._xlsx_row(result_row(record)))

    def _xlsx_row(self, values: tuple[Any, ...]) -> list[Any]:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        row: list[Any] = []
        for v in values:
            if v == "":
                v = None  # no empty cells: a third fewer for openpyxl to write
            elif isinstance(v, str):
                v = str(v)  # plain str, not a StrEnum
                if ILLEGAL_CHARACTERS_RE.search(v):  # control chars make openpyxl raise
                    v = ILLEGAL_CHARACTERS_RE.sub("\ufffd", v)
                if len(v) > XLSX_MAX_CHARS:  # Excel refuses longer cells
                    v = v[:XLSX_MAX_CHARS]
                if v.startswith("="):  # openpyxl would store it as a formula
                    cell = WriteOnlyCell(self._sheet, value=v)
                    cell.data_type = "s"
                    v = cell
            elif isinstance(v, int) and abs(v) >= 10**15:  # beyond Excel's 15 digits
                v = str(v)
            row.append(v)
        return row

    def _skip_xlsx(self, rows: int) -> None:
        note = (
            f"results.xlsx not written: {rows:,} records is more than {self._xlsx_max_rows:,}; "
            "results.csv has every line"
        )
        if self._sheet is not None:
            writer = getattr(self._sheet, "_writer", None)  # drop openpyxl's temp file now
            if writer is not None:
                try:
                    self._sheet.close()
                    writer.cleanup()
                except (OSError, ValueError):
                    log.debug("could not remove openpyxl's temp file", exc_info=True)
        self._workbook = self._sheet = None
        self.notes.append(note)
        log.info(note)

    # -- errors.csv

    def _flush_errors(self, group: Sequence[ContactRecord]) -> None:
        line = error_line(group)
        if line is None:
            return
        headers, cells = line
        if headers not in self._errors:
            self._errors[headers] = self._open_errors(headers, group[0].raw.source if group[0].raw else None)
        _, _, writer = self._errors[headers]
        writer.writerow([escape_formula(c) if c and c[0] in _FORMULA_START else c for c in cells])
        self.error_rows += 1

    def _open_errors(self, headers: tuple[str, ...], source: Source | None) -> tuple[str, TextIO, Any]:
        if not self._errors:
            name = ERRORS_CSV
        else:
            parts = [Path(source.file).stem, source.sheet] if source else ["other"]
            name = "errors-" + "-".join(_file_part(p) for p in parts if p) + ".csv"
            taken = {n for n, _, _ in self._errors.values()}
            stem, n = name[:-4], 2
            while name in taken:
                name, n = f"{stem}-{n}.csv", n + 1
        file = _open_csv(self.path / name)
        writer = csv.writer(file)
        writer.writerow(headers)
        return name, file, writer


def _open_csv(path: Path) -> TextIO:
    # utf-8 plus a BOM written by hand: the utf-8-sig codec is pure Python and slower
    file = open(path, "w", encoding="utf-8", newline="", buffering=1 << 20)
    file.write(BOM)
    return file


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)  # Path, Enum, ...


def write_report(
    records: Iterable[ContactRecord], summary: dict[str, Any], *, report_dir: Path, run_id: str, fork: bool = True
) -> Path:
    """Write the whole report for finished records; returns the run folder (fork: see ReportWriter)."""
    with ReportWriter(report_dir, run_id, fork=fork) as writer:
        writer.write(records)
        return writer.finish(summary)


# --- terminal ----------------------------------------------------------------


def print_summary(summary: dict[str, Any], path: Path, *, stream: TextIO = sys.stderr) -> None:
    """A short table of non-zero statuses, the total, and where the report is."""
    counts = {str(k): int(v) for k, v in (summary.get("counts") or {}).items() if v}
    order = [s.value for s in STATUS_ORDER if s.value in counts] + [k for k in counts if k not in STATUS_ORDER]
    total = int(summary.get("total", sum(counts.values())))
    width = max(6, len(f"{total}"), *(len(f"{counts[k]}") for k in order))
    name_width = max([11, *(len(k) + 2 for k in order)])
    lines = [f" {'status':<{name_width}}{'rows':>{width}}"]
    lines += [f" {k:<{name_width}}{counts[k]:>{width}}" for k in order]
    total_line = f" {'total':<{name_width}}{total:>{width}}"
    if summary.get("blank_rows"):
        n = summary["blank_rows"]
        total_line += f"   ({n} blank row{'s' if n != 1 else ''} skipped)"
    lines.append(total_line)
    if summary.get("skipped_by_reason"):
        why = ", ".join(f"{n} {code or 'other'}" for code, n in summary["skipped_by_reason"].items())
        lines.append(f"Skipped: {why}.")
    if summary.get("dry_run"):
        lines.append("Dry run: nothing was sent.")
    if summary.get("ambiguous"):
        n = summary["ambiguous"]
        lines.append(
            f"{n} sent without a clear answer (error_code ambiguous): they may exist in the store; "
            "check them before importing errors.csv again."
        )
    lines += [f"Note: {note}" for note in summary.get("notes", ())]
    lines.append(f"Report: {Path(path) / RESULTS_CSV}")
    stream.write("\n".join(lines) + "\n")


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20261126-214501-3f2a``: local time, so ids sort by start, plus 4 random hex digits."""
    now = now or dt.datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
