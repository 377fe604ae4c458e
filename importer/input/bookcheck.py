"""A workbook's claims checked before python-calamine reads it: a few KB must not become GBs.

    check_workbook(path)      # InputError (exit 2) naming the limit a workbook goes past

calamine lays a sheet out as one dense rectangle from its first cell to its last and
inflates every part it reads, so a 2 KB .xlsx with one cell at XFD1048576 asks for
17 billion cells, and a zip bomb for gigabytes. Checked here, with the standard
library and numpy, a chunk at a time:

- how many parts the zip has (MAX_PARTS), before they are listed;
- the parts' uncompressed sizes as the zip declares them, against MAX_UNCOMPRESSED;
- each part as it really inflates (a part that inflates past its declared size fails
  its CRC: a lying zip is corrupt);
- each worksheet's extent, wherever the workbook's relationships put it: from its
  cells' references (`<c r="XFD5000">`, `<row r="…">`), its `<dimension ref>`, and for
  cells and rows written without a reference, how many rows and the most cells in one
  row (calamine counts those along): rows x columns against MAX_CELLS;
- an OpenDocument sheet's rows and columns as its repeat counts spell them out
  (`table:number-rows-repeated`), counting repeats of cells with content only;
- the longest text between two tags (a cell's text, a shared string) against
  MAX_TEXT_BYTES: a 400 MB string is refused; a 10 MB one is read, and cut (limits).

An .xls (BIFF8) holds at most 65,536 x 256 cells = MAX_CELLS, so it needs no check.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator

import numpy as np

from importer.errors import InputError
from importer.input.limits import MAX_CELLS, MAX_PARTS, MAX_TEXT_BYTES, MAX_UNCOMPRESSED

CHUNK_BYTES = 1 << 20
_REF = 12  # bytes of a reference looked at, with its closing quote: "XFD1048576" is 10
_HUGE = 1 << 40
_ROOT = re.compile(rb"<(\w+:)?worksheet\b")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s[^>]*?ref="[A-Z]*[0-9]*:?([A-Z]*)([0-9]*)"')


def check_workbook(path: str) -> None:
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            return  # .xls (bounded by its format) or not a workbook at all: calamine says which
        f.seek(0, 2)
        f.seek(max(0, f.tell() - (1 << 16) - 22))
        tail = f.read()
    end = tail.rfind(b"PK\x05\x06")  # the zip's last record says how many parts it has, before they are listed
    if end >= 0 and end + 12 <= len(tail) and (count := int.from_bytes(tail[end + 10 : end + 12], "little")) > MAX_PARTS:
        raise InputError(path, f"workbook has {count:,} parts; the limit is {MAX_PARTS:,}")
    try:
        with zipfile.ZipFile(path) as book:
            parts = book.infolist()
            if len(parts) > MAX_PARTS:
                raise InputError(path, f"workbook has {len(parts):,} parts; the limit is {MAX_PARTS:,}")
            declared = sum(p.file_size for p in parts)
            if declared > MAX_UNCOMPRESSED:
                raise InputError(path, f"workbook too large: {_mib(declared)} uncompressed; the limit is "
                                 f"{_mib(MAX_UNCOMPRESSED)}")
            sheets = _sheet_parts(book)
            for part in parts:
                _check_part(path, book, part, part.filename in sheets)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as e:
        raise InputError(path, f"cannot read workbook: is it password-protected or corrupt? ({e})") from None


def _sheet_parts(book: zipfile.ZipFile) -> set[str]:
    """The parts an .xlsx names as its sheets (its relationships may put them anywhere), and xl/worksheets/*."""
    names = set(book.namelist())
    found = {n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")}
    main = _targets(book, "_rels/.rels", "", "/officeDocument")
    for workbook in main:
        folder, _, file = workbook.rpartition("/")
        rels = f"{folder}/_rels/{file}.rels" if folder else f"_rels/{file}.rels"
        found |= _targets(book, rels, folder, "sheet")
    return found & names


_TARGET = re.compile(rb'<(?:\w+:)?Relationship\b[^>]*?>')


def _targets(book: zipfile.ZipFile, rels: str, folder: str, kind: str) -> set[str]:
    """The parts `rels` points at with a relationship type ending in `kind` (worksheet, chartsheet, ...)."""
    try:
        info = book.getinfo(rels)
    except KeyError:
        return set()
    if info.file_size > 1 << 20:
        return set()  # no workbook has a megabyte of relationships; its sheets are looked for by name
    found = set()
    for m in _TARGET.finditer(b"".join(_inflate(book, info))):
        kind_ = re.search(rb'Type="([^"]*)"', m[0])
        target = re.search(rb'Target="([^"]*)"', m[0])
        if kind_ and target and kind_[1].decode("utf-8", "replace").endswith(kind):
            where = target[1].decode("utf-8", "replace")
            where = where.lstrip("/") if where.startswith("/") else posixpath.join(folder, where)
            found.add(posixpath.normpath(where))
    return found


def _check_part(path: str, book: zipfile.ZipFile, part: zipfile.ZipInfo, sheet: bool) -> None:
    """Inflate the part once (a lying size fails its CRC here, not in calamine); a sheet's extent; its text."""
    name = part.filename
    scan: _SheetExtent | _OdsExtent | None = None
    if sheet:
        scan = _SheetExtent()
    elif name == "content.xml":
        scan = _OdsExtent()
    run = longest = 0  # bytes since the last "<": a text between tags, as long as a cell's text can be
    for chunk in _inflate(book, part):
        if scan is not None:
            scan.feed(chunk)
        first = chunk.find(b"<")
        if first < 0:
            run += len(chunk)
        else:
            longest, run = max(longest, run + first), len(chunk) - chunk.rfind(b"<") - 1
    if max(longest, run) > MAX_TEXT_BYTES:
        raise InputError(path, f"a cell's text is {_mib(max(longest, run))} in {name}; the limit is "
                         f"{_mib(MAX_TEXT_BYTES)} (Excel's own is 32,767 characters)")
    if scan is None:
        return
    rows, columns, where = scan.extent()
    if rows * columns > MAX_CELLS:
        raise InputError(path, f"sheet too large: {where} spans {rows:,} rows x {columns:,} columns = "
                         f"{rows * columns:,} cells; the limit is {MAX_CELLS:,} cells (rows x columns): "
                         "delete the cells far from the data")


def _inflate(book: zipfile.ZipFile, part: zipfile.ZipInfo) -> Iterator[bytes]:
    """The part's bytes a chunk at a time; never more than its declared size (zipfile stops there and the CRC
    then fails)."""
    with book.open(part) as f:
        while chunk := f.read(CHUNK_BYTES):
            yield chunk


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB" if n < 1 << 30 else f"{n / (1 << 30):,.1f} GiB"


def column_name(n: int) -> str:
    name = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name or "A"


class _SheetExtent:
    """The largest row and column any reference of a worksheet names (`r="XFD5000"`, `<row r="5000">`), its
    <dimension ref>, and for cells and rows written without a reference (calamine counts them along): how many
    rows, and the most cells in one row."""

    def __init__(self) -> None:
        self.rows = self.columns = 0
        self.carry = b""
        self.dimension: tuple[int, int] | None = None
        self.prefix: bytes | None = None  # the namespace prefix of the sheet's elements ("x:"), once seen
        self.row_count = 0  # <row> elements so far
        self.row_cells = 0  # <c> elements of the row still open
        self.widest_row = 0

    def feed(self, chunk: bytes) -> None:
        data = self.carry + chunk
        if self.dimension is None and (m := _DIMENSION.search(data[:4096])):
            self.dimension = (_number(m[2]), _letters(m[1]))
        if self.prefix is None and (m := _ROOT.search(data[:4096])):
            self.prefix = m[1] or b""
        usable = max(0, len(data) - _REF - 4)
        self._refs(data, usable)
        self._count(data, usable)
        self.carry = data[max(0, usable - 1) :]  # one byte before: what precedes an `r`

    def extent(self) -> tuple[int, int, str]:
        tail = self.carry + b"\0" * (_REF + 4)
        self._refs(tail, len(self.carry))
        self._count(tail, len(self.carry))
        rows = max(self.rows, self.row_count, self.dimension[0] if self.dimension else 0)
        columns = max(self.columns, self.widest_row, self.row_cells, self.dimension[1] if self.dimension else 0)
        return rows, columns, f"A1:{column_name(columns)}{rows}" if columns < _HUGE and rows < _HUGE else "a cell"

    def _count(self, data: bytes, usable: int) -> None:
        """<row> and <c> elements starting at 1..usable-1 (the byte before is the previous chunk's)."""
        a = np.frombuffer(data, dtype=np.uint8)
        prefix = self.prefix or b""
        if usable <= 1 or len(prefix) > 8:
            return
        opening = np.flatnonzero(a[1:usable] == ord("<")) + 1  # the usable part leaves 16 bytes after each
        rows = _starts(a, opening, prefix + b"row")
        cells = _starts(a, opening, prefix + b"c")
        if not len(rows):
            self.row_cells += len(cells)
            return
        at = np.searchsorted(cells, rows)
        self.widest_row = max(self.widest_row, self.row_cells + int(at[0]), int(np.diff(at).max(initial=0)))
        self.row_cells = len(cells) - int(at[-1])
        self.row_count += len(rows)

    def _refs(self, data: bytes, usable: int) -> None:
        """The references whose `r` starts before `usable` (the rest is looked at with the next chunk). Only the
        largest matter: the row is worked out for the references with the most digits, the column for those with
        the most letters."""
        a = np.frombuffer(data, dtype=np.uint8)
        if usable <= 1:
            return
        r = np.flatnonzero((a[1 : usable] == ord("r")) & (a[2 : usable + 1] == ord("="))
                           & (a[3 : usable + 2] == ord('"'))) + 1
        r = r[(a[r - 1] == 32) | (a[r - 1] == 10) | (a[r - 1] == 9) | (a[r - 1] == 13)]
        if not len(r):
            return
        start = r + 3
        quotes = np.flatnonzero(a == ord('"'))
        at = np.searchsorted(quotes, start)
        length = np.where(at < len(quotes), quotes[np.minimum(at, len(quotes) - 1)], len(a)) - start
        letters = np.zeros(len(start), dtype=np.int64)
        run = np.ones(len(start), dtype=bool)
        for j in range(4):
            run &= (a[start + j] >= 65) & (a[start + j] <= 90) & (j < length)
            letters += run
        if length.max() >= _REF or letters.max() > 3:  # a reference longer than Excel's XFD1048576
            self.rows = self.columns = _HUGE
            return
        self.rows = max(self.rows, _largest(a, start + letters, length - letters, 10, 48))
        self.columns = max(self.columns, _largest(a, start, letters, 26, 64))


def _starts(a: np.ndarray, opening: np.ndarray, name: bytes) -> np.ndarray:
    """Which of the "<" at `opening` start an element called `name`: the name, then a space, ">" or "/"."""
    found = np.ones(len(opening), dtype=bool)
    for k, byte in enumerate(name, 1):
        found &= a[opening + k] == byte
    after = a[opening + len(name) + 1]
    found &= (after == 32) | (after == 62) | (after == 47) | (after == 10) | (after == 9) | (after == 13)
    return opening[found]


def _largest(a: np.ndarray, start: np.ndarray, size: np.ndarray, base: int, zero: int) -> int:
    """The largest number written in base `base` (digit 0 = byte `zero`) at a[start[i] : start[i] + size[i]],
    worked out only for those with the most figures."""
    most = int(size.max())
    if most <= 0:
        return 0
    first = start[size == most]
    value = np.zeros(len(first), dtype=np.int64)
    for j in range(most):
        value = value * base + a[first + j] - zero
    return int(value.max())


def _letters(text: bytes) -> int:
    n = 0
    for ch in text[:8]:
        n = n * 26 + ch - 64
    return n if len(text) <= 8 else _HUGE


def _number(text: bytes) -> int:
    return int(text[:12]) if text and len(text) <= 12 else (0 if not text else _HUGE)


_ODS_TAG = re.compile(rb"<table:(table-row|table-cell|covered-table-cell|table)\b([^>]*?)(/?)>|</table:(table-row|table)>")
_ODS_REPEAT = re.compile(rb'table:number-(?:rows|columns)-repeated="([0-9]+)"')


class _OdsExtent:
    """An OpenDocument sheet's extent as calamine lays it out: rows and columns spelled out by their repeat
    counts, a repeat counting only when what it repeats has content (LibreOffice ends every sheet with an empty
    row repeated to row 1,048,576)."""

    def __init__(self) -> None:
        self.rows = self.columns = 0
        self.carry = b""
        self.row = 0  # rows of the current table so far
        self.row_repeat = 1
        self.col = 0  # cells of the current row so far
        self.row_width = 0  # the current row's extent: up to its last cell with content
        self.open_cell: int | None = None  # the repeat of a cell whose content is still being read
        self.cell_has_content = False
        self.table = ""

    def feed(self, chunk: bytes) -> None:
        data = self.carry + chunk
        end = data.rfind(b"<")
        if end < 0 or data.find(b">", end) >= 0:
            end = len(data)  # no tag left open: nothing to carry (a cell's long text is not kept)
        self._tags(data[:end])
        self.carry = data[end:]
        if len(self.carry) > CHUNK_BYTES:  # a tag that never ends: no workbook
            raise zipfile.BadZipFile("content.xml: an unterminated tag")

    def extent(self) -> tuple[int, int, str]:
        self._tags(self.carry)
        return self.rows, self.columns, f"table {self.table!r}" if self.table else "a table"

    def _tags(self, data: bytes) -> None:
        last = 0
        for m in _ODS_TAG.finditer(data):
            if self.open_cell is not None and m.start() > last and data[last : m.start()].strip(b" \t\r\n"):
                self.cell_has_content = True
            last = m.end()
            if m[4]:  # </table:table-row> or </table:table>
                if m[4] == b"table-row":
                    self._end_cell()
                    self.row += self.row_repeat
                    if self.row_width:
                        self.rows = max(self.rows, self.row)
                        self.columns = max(self.columns, self.row_width)
                else:
                    self.row = 0
                continue
            kind, attributes, empty = m[1], m[2], m[3]
            repeat = _ODS_REPEAT.search(attributes)
            count = int(repeat[1]) if repeat else 1
            if kind == b"table":
                name = re.search(rb'table:name="([^"]*)"', attributes)
                self.table = name[1].decode("utf-8", "replace") if name else ""
                self.row = 0
            elif kind == b"table-row":
                self.row_repeat, self.col, self.row_width = count, 0, 0
                if empty:
                    self.row += count
            else:
                self._end_cell()
                has_value = b"office:value-type" in attributes or b"table:formula" in attributes
                if empty:
                    self.col += count
                    if has_value:
                        self.row_width = self.col
                else:
                    self.open_cell, self.cell_has_content = count, has_value
        if self.open_cell is not None and data[last:].strip(b" \t\r\n"):
            self.cell_has_content = True

    def _end_cell(self) -> None:
        if self.open_cell is None:
            return
        self.col += self.open_cell
        if self.cell_has_content:
            self.row_width = self.col
        self.open_cell = None
