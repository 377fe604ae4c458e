"""The page's files and choices: uploads in a temporary folder, the column mapping, the last check.

    ws = Workspace(Path(tmp))
    ws.add_upload("crm.csv", chunks)        # UploadRefused past the bound; same name: replaced (a fixed file)
    ws.set_field("Mobile", "WHATSAPP")      # one column read another way ("" = as detected)
    ws.choices = Choices(phone_region="DE") # the options picked in the page (importer.ui.choices)
    ws.check(options)                       # describe_columns + a dry run, as `columns` and `import --dry-run`
    ws.tables, ws.result, ws.error, ws.rows_to_fix(code=, column=)
    ws.sheets_offered                       # the sheets to pick from: a workbook's, when it has several

Nothing here decides what a cell means: the columns come from importer.runs.columns, the
statuses and errors from run_import. The mapping the page builds is the `header,field`
CSV that `--mapping` takes (written with the library's template), offered for download.
The check and the send read the files with the same choices (`options_for`).
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import python_calamine

from importer.errors import ImporterError
from importer.input.bookcheck import check_workbook
from importer.input.limits import MAX_UNCOMPRESSED
from importer.records import FIELDS, ContactType, SourceTable, Status
from importer.runs.columns import describe_columns, meaning, write_mapping_template
from importer.runs.pipeline import PROBLEM_STATUSES, ImportOptions, ImportResult, run_import
from importer.ui.choices import Choices

# An upload is a file the loader will read: bounded by the largest input the loader's limits
# allow (a workbook's parts uncompressed), so a page cannot fill the disk with one request.
MAX_UPLOAD_BYTES = MAX_UNCOMPRESSED
MAX_FILES = 20
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods")
TEXT_SUFFIXES = SUFFIXES[:3]  # the rest are workbooks, which have sheets
SHOWN_ROWS = 500  # rows to fix shown in the page; errors.csv has them all

# The dropdown's choices: the names --mapping accepts (importer.mapping.headers.read_mapping), nothing of our own.
FIELD_CHOICES = ("ignore", *FIELDS)
KIND_CHOICES = tuple(t.value for t in ContactType)


class UploadRefused(ImporterError):
    """An upload the page does not keep: too big, too many, or not a file the loader reads."""


def too_big(what: str) -> UploadRefused:
    return UploadRefused(f"{what} is larger than {MAX_UPLOAD_BYTES:,} bytes, the most the loader reads: not kept")


@dataclass(frozen=True)
class Column:
    header: str
    field: str  # what it is read as: a FIELDS name, a ContactType value, or "ignore"
    said: str  # the same in words (importer.runs.columns.meaning)
    chosen: bool  # read this way because the page's mapping says so


@dataclass(frozen=True)
class FixRow:
    file: str
    sheet: str
    row: int
    status: str
    code: str
    column: str
    cell: str
    message: str


class Workspace:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.uploads = self.folder / "uploads"
        self.uploads.mkdir(parents=True, exist_ok=True)
        self.fields: dict[str, str] = {}  # header -> field chosen in the page
        self.choices = Choices()
        self.sheets_offered: list[str] = []
        # a workbook's (name, size, mtime) -> the sheets it reads by default (None: unreadable as it is)
        self._sheets_of: dict[tuple, list[str] | None] = {}
        self.tables: list[SourceTable] = []
        self.result: ImportResult | None = None
        self.error: str | None = None  # why the files could not be read: the CLI's message

    @property
    def files(self) -> list[Path]:
        return sorted(p for p in self.uploads.iterdir() if p.is_file())

    def add_upload(self, name: str, chunks: Iterable[bytes]) -> Path:
        """Store one uploaded file under its own name (a later file of the same name replaces it)."""
        clean = Path(name.replace("\\", "/")).name.strip()
        if not clean or clean.startswith("."):
            raise UploadRefused(f"{name!r}: not a file name")
        if Path(clean).suffix.lower() not in SUFFIXES:
            raise UploadRefused(f"{clean}: not a file the importer reads ({' '.join(SUFFIXES)})")
        target = self.uploads / clean
        if not target.exists() and len(self.files) >= MAX_FILES:
            raise UploadRefused(f"{clean}: at most {MAX_FILES} files at once")
        partial = self.uploads / f".{clean}.part"
        size = 0
        with open(partial, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    out.close()
                    partial.unlink()
                    raise too_big(clean)
                out.write(chunk)
        partial.replace(target)
        return target

    def remove(self, name: str) -> None:
        for path in self.files:
            if path.name == name:
                path.unlink()
        if not self.files:
            self.tables, self.result, self.error, self.fields = [], None, None, {}
            self.choices, self.sheets_offered = Choices(), []

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    # ---- the mapping ----

    def set_field(self, header: str, field: str) -> None:
        """Read `header` as `field` ("" = as detected): checked by the library when the files are read."""
        if field:
            self.fields[header] = field
        else:
            self.fields.pop(header, None)

    def mapping_path(self) -> Path | None:
        """The page's choices as a --mapping file, or None when it has made none."""
        if not self.fields:
            return None
        path = self.folder / "chosen.mapping.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["header", "field"])
            writer.writerows(self.fields.items())
        return path

    def mapping_template(self) -> Path:
        """Every header with what it is read as: the file `columns` writes, to pass back with --mapping."""
        path = self.folder / "mapping.csv"
        path.unlink(missing_ok=True)
        write_mapping_template(self.tables, path)
        return path

    def columns(self, table: SourceTable) -> list[Column]:
        out = []
        for header in table.headers:
            if header:
                field = table.field_of.get(header) or "ignore"
                said = meaning(table.field_of.get(header))
                if header == table.key_column:
                    said += ", and the customer's key"
                out.append(Column(header, field, said, header in self.fields))
        return out

    # ---- the check ----

    def check(self, options: ImportOptions) -> None:
        """The columns and a dry run of every file with the page's mapping; the CLI's message if unreadable."""
        self.tables, self.result, self.error = [], None, None
        files = self.files
        if not files:
            return
        self._offer_sheets(files)
        try:
            if self.fields:  # choices for headers no file has any more (a file removed or replaced) are dropped
                plain = describe_columns(files, sheets=self.choices.sheets)
                present = {h for t in plain for h in t.headers}
                self.fields = {h: f for h, f in self.fields.items() if h in present}
            options = self.options_for(options)
            self.tables = describe_columns(files, sheets=options.sheets, mapping=options.mapping,
                                           customer_key=options.customer_key, match_by=options.match_by)  # fmt: skip
            self.result = run_import(files, replace(options, dry_run=True, quiet=True,
                                                    report_dir=self.folder / "checks"))  # fmt: skip
        except ImporterError as exc:  # the CLI's message, naming the file as the user named it (not our copy's path)
            self.error = str(exc).replace(f"{self.uploads}{os.sep}", "")

    def options_for(self, options: ImportOptions) -> ImportOptions:
        """A run of the same files as checked: the page's mapping and choices."""
        return replace(self.choices.apply(options), mapping=self.mapping_path())

    def _offer_sheets(self, files: list[Path]) -> None:
        """The --sheet choices, when a workbook has several (read once per file): the sheets it reads by default,
        or, when that reading is refused, every sheet it has (a --sheet chosen may be what reads it).
        A chosen sheet no workbook has any more is dropped; a workbook that can't be opened offers none."""
        offered, unread = [], False
        for path in (p for p in files if p.suffix.lower() not in TEXT_SUFFIXES):
            stat = path.stat()
            key = (path.name, stat.st_size, stat.st_mtime_ns)
            if key not in self._sheets_of:
                try:
                    tables = describe_columns([path])
                    refused = any(t.layout == "refused" for t in tables)
                    sheets = _worksheets(path) if refused else [t.sheet for t in tables]
                except ImporterError:  # the check says why
                    sheets = _worksheets(path)
                self._sheets_of[key] = sheets if sheets is None or len(sheets) > 1 else []
            unread = unread or self._sheets_of[key] is None
            offered += self._sheets_of[key] or []
        self.sheets_offered = list(dict.fromkeys(offered))
        if not unread:
            self.choices = replace(self.choices, sheets=tuple(s for s in self.choices.sheets if s in offered))

    def rows_to_fix(self, code: str = "", column: str = "") -> tuple[list[FixRow], int]:
        """The rows that will not be sent as they are (filtered), the first SHOWN_ROWS, and how many match."""
        rows = [r for r in self._fix_rows() if (not code or r.code == code) and (not column or r.column == column)]
        return rows[:SHOWN_ROWS], len(rows)

    def codes_and_columns(self) -> tuple[list[str], list[str]]:
        """The filter's choices: the codes and columns of the rows to fix."""
        rows = self._fix_rows()
        return sorted({r.code for r in rows if r.code}), sorted({r.column for r in rows if r.column})

    def _fix_rows(self) -> list[FixRow]:
        if self.result is None or self.result.table is None:
            return []
        frame = self.result.table.frame
        bad = frame[frame["status"].isin([s.value for s in (*PROBLEM_STATUSES, Status.DUPLICATE)])]
        rows = []
        for r in bad.itertuples(index=False):
            first = r.errors[0] if len(r.errors) else None  # the row's first error names its column
            rows.append(FixRow(Path(r.file).name, r.sheet or "", int(r.row), r.status, r.error_code or "",
                               first.column if first is not None else (r.source_column or ""),
                               str(r.source_contact or ""), first.message if first is not None else (r.error or "")))
        return rows


def _worksheets(path: Path) -> list[str] | None:
    """Every worksheet of a workbook, hidden ones too; None if it can't be opened."""
    try:
        check_workbook(str(path))  # the loader's bounds, before calamine lays out what the file claims
        with python_calamine.CalamineWorkbook.from_path(str(path)) as book:
            return [m.name for m in book.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
    except (ImporterError, python_calamine.CalamineError, OSError, ValueError):
        return None
