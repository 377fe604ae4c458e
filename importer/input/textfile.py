"""Delimited text files -> a frame of cells: encodings, delimiters, Excel's row numbers.

    headers, cells, rows, problems, top = read_text(path, encoding=None, delimiter=None, stats=stats, log=log)

Encodings by evidence from the whole file (importer.input.encoding): a UTF-8 file with a few
bad bytes is read as UTF-8 and the rows holding them are `bad-encoding`; a legacy code
page only when the whole file fits a common one. Limits (importer.input.limits): no line of
more than 16,384 fields, no cell of more than 32,767 characters (cut; its row too-long). Delimiters `,` `;` tab `|` are sniffed from the content. Every cell is
text; nothing is type-inferred ("0012" and "NA" stay as written). pandas' C parser reads
the file once, start to end, in one process: a quoted cell may hold newlines and is one
row, as in Excel, and blank lines are rows too, so row numbers are the ones Excel shows.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from importer.errors import Code, InputError
from importer.input import limits
from importer.input import tablefind
from importer.input.encoding import choose_encoding, first_bad_byte, replacements
from importer.input.limits import Problems
from importer.memory import release

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
CHUNK_ROWS = 100_000  # rows parsed at a time: bounds the parser's Python objects
# Excel's "sep=;" first line names the delimiter; Excel hides it, so the header below it is Excel's row 1.
SEP_LINE = re.compile(r"sep=([^\r\n])\r?\n", re.IGNORECASE)


def read_text(path: str, *, encoding: str | None, delimiter: str | None, stats, log: logging.Logger,
              limit: int | None = None, is_header: Callable[[Sequence[str]], bool] = lambda cells: True,
              header_row: int | None = None) -> tuple[list[str], pd.DataFrame, np.ndarray, Problems, tablefind.Top]:
    """(headers, cells, Excel row numbers, problems, where the header is) of a text file; cells has a str
    column per header, and one per field a wider row has.

    The header is found where it is (importer.input.tablefind: the first row that `is_header`; `header_row`
    names it). Rows past the header that are entirely blank are left out and counted in stats.blank_rows.
    With `limit`, the first `limit` data rows only (the file is read no further than needed).
    `problems`: what makes a row invalid before its values are looked at, by row position
    (bytes that are not UTF-8, a cell past Excel's length).
    """
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
    if not head.strip():
        raise InputError(path, "file is empty")
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError(path, "this is a workbook, not delimited text: give it its .xlsx/.xls extension")
    choice = choose_encoding(path, head, encoding)
    enc = choice.encoding
    sample = codecs.getincrementaldecoder(enc)(errors="replace").decode(head)
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if controls > max(3, len(sample) // 100):
        raise InputError(path, f"binary data: not a delimited text file (read as {enc})")
    text = sample.removeprefix("\ufeff")
    directive = SEP_LINE.match(text)
    skip = 1 if directive else 0  # records before Excel's row 1
    delim = delimiter or (directive[1] if directive else
                          sniff_delimiter(sample, "\t" if path.lower().endswith(".tsv") else ","))
    widest = limits.line_widths(path, enc, delim)
    stats.encodings[path] = enc
    stats.delimiters[path] = delim
    log.info("%s: encoding %s%s, delimiter %r", path, enc, "" if encoding else " (detected)", delim)
    if choice.lenient:
        stats.notes.append(f"{path}: read as UTF-8, but {choice.bad:,} line{'s have' if choice.bad > 1 else ' has'} bytes "
                           f"that are not UTF-8: {'their rows are' if choice.bad > 1 else 'its row is'} invalid (bad-encoding)")

    head = _head(text, delim, header_row, skip)
    if not head:
        raise InputError(path, "file is empty (only blank lines)")
    top = tablefind.find_header(head, is_header, header_row)
    if isinstance(top, str):
        raise InputError(path, top)
    headers, header_row = top.header, top.header_row
    # as wide as the first line at least: pandas takes a first line wider than the names given as the width and
    # drops what lies past the names ("Email,Phone," has a third column, maybe of contacts under no header:
    # importer.mapping.matching); a later, wider line is a ParserError that widens the read (_parse)
    width = max(len(headers), len(head[0][1]) if head[0][0] == 1 else 0)
    rows_at_once = max(1, min(CHUNK_ROWS, limits.CHUNK_FIELDS // max(width, widest, 1)))
    cells = _parse(path, delim, enc, max(width, 1), None if limit is None else limit + 1 + top.index + skip,
                   errors="replace" if choice.lenient else "strict", rows_at_once=rows_at_once)
    problems = _bad_bytes(cells, replacements(path, choice.start), headers) if choice.lenient else {}
    at = np.arange(header_row + skip, len(cells), dtype=np.int64)  # the data rows' positions in what was parsed
    cells = cells.iloc[header_row + skip:]  # rows 1..header_row: the header and what is above it
    blank = tablefind.blank_rows(cells)  # a cell past the header's width counts too (a note beside the table)
    if len(blank):
        keep = np.ones(len(cells), dtype=bool)
        keep[blank] = False
        cells, at = cells[keep], at[keep]
    if limit is not None and len(cells) > limit:
        cells, at = cells.iloc[:limit], at[:limit]
        blank = blank[blank + header_row + skip < at[-1]]  # the blank rows among those kept
    stats.blank_rows += len(blank)
    cells = cells.reset_index(drop=True)
    problems = limits.moved(problems, at)
    for row, found_ in limits.cut_long_cells(cells, headers).items():
        problems.setdefault(row, []).extend(found_)
    return headers, _compact(cells), at + 1 - skip, problems, top


def _bad_bytes(cells: pd.DataFrame, events: list[tuple[int, bytes]], headers: list[str]) -> Problems:
    """The rows of a leniently read UTF-8 file that hold bytes that are not UTF-8 (each a U+FFFD in the cells,
    as `events` has them in file order), by position among the rows parsed: bad-encoding, with the byte offset."""
    marks = np.zeros(len(cells), dtype=np.int64)
    for i in cells.columns:
        marks += cells[i].str.count("\ufffd").to_numpy(dtype=np.int64, na_value=0)
    ends = np.cumsum(marks)
    known = len(ends) and ends[-1] <= len(events)  # the rows read (--limit: the first) hold the first events
    problems: Problems = {}
    for row in np.flatnonzero(marks).tolist():
        mine = iter(events[ends[row] - marks[row] : ends[row]] if known else [(-1, b"?")] * marks[row])
        where = [(i, next(mine)) for i in range(len(cells.columns)) for _ in range(cells.iat[row, i].count("\ufffd"))]
        bad = [(i, at, seq) for i, (at, seq) in where if seq and i < len(headers)]
        if bad:
            i, at, seq = bad[0]
            place = f" at byte {at:,} ({seq.hex(' ')})" if at >= 0 else ""
            more = f"; {len(bad)} such places in this row" if len(bad) > 1 else ""
            problems[row] = [Code.BAD_ENCODING.error(headers[i], place=place, more=more)]
    return problems


def _parse(path: str, delimiter: str, encoding: str, width: int, filled: int | None = None, *,
           errors: str = "strict", rows_at_once: int | None = None) -> pd.DataFrame:
    """Every record of the file (or the chunks that hold its first `filled` non-blank ones), `width`
    columns or more: a row with more cells widens the read."""
    while True:
        parts, found = [], 0
        try:
            chunks = pd.read_csv(
                path, sep=delimiter, header=None, names=range(width), dtype="str", na_filter=False,
                skip_blank_lines=False, quotechar='"', doublequote=True, encoding=encoding, engine="c",
                chunksize=min(CHUNK_ROWS, rows_at_once or CHUNK_ROWS), index_col=False, encoding_errors=errors,
            )  # fmt: skip
            with chunks:
                for part in chunks:
                    parts.append(part)
                    release()
                    if filled is not None:
                        found += len(part) - len(tablefind.blank_rows(part))
                        if found >= filled:
                            break
        except UnicodeDecodeError as e:
            at = first_bad_byte(path, encoding)
            raise InputError(path, f"not valid {encoding} text at byte {e.start if at is None else at}; "
                             "pass another encoding") from None
        except (pd.errors.ParserError, ValueError) as e:
            wider = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(e))
            if wider and int(wider[2]) > limits.MAX_COLUMNS:
                raise InputError(path, f"row {wider[1]} has {int(wider[2]):,} fields: more than "
                                 f"{limits.MAX_COLUMNS:,} columns (Excel's limit)") from None
            if wider and int(wider[2]) > width:
                width = int(wider[2])  # rare: read again, as wide as that row
                continue
            raise InputError(path, f"cannot parse as delimited text: {_parser_problem(str(e))}") from None
        cells = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=range(width), dtype="str")
        parts.clear()
        release()
        return cells


def _compact(cells: pd.DataFrame) -> pd.DataFrame:
    """Columns that repeat a few values (Type, Default, a customer's id) kept as categories of the text:
    a few bytes a row instead of a string each. The text is the same; only its storage changes."""
    for i in cells.columns:
        codes, uniques = pd.factorize(cells[i])
        if len(uniques) * 2 < len(codes):
            cells[i] = pd.Categorical.from_codes(codes, categories=uniques)
        release()
    return cells


def _head(sample: str, delimiter: str, header_row: int | None, skip: int = 0) -> list[tuple[int, list[str]]]:
    """The sample's first records that hold something (tablefind.HEAD_ROWS; through `header_row` when given):
    (Excel row, cells stripped); the first `skip` records are not Excel's rows (SEP_LINE)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        strict=False)
    head = []
    try:
        for number, cells in enumerate(reader, 1 - skip):
            if number >= 1 and any(c.strip() for c in cells):
                head.append((number, [c.strip("\ufeff \t\r\n") for c in cells]))
                if len(head) >= tablefind.HEAD_ROWS and (header_row is None or number >= header_row):
                    break
    except csv.Error:
        pass
    return head


def _parser_problem(message: str) -> str:
    """pandas' tokenizer message, in the user's terms (its rows count from 0)."""
    m = re.search(r"EOF inside string starting at row (\d+)", message)
    if m:
        return f"row {int(m[1]) + 1}: a quoted cell is never closed (a missing closing quote?)"
    return message.removeprefix("Error tokenizing data. C error: ")


def looks_like_text(path: str) -> bool:
    """Many web apps export tab-separated text or HTML and call it .xls."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return False
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<html", b"<!doctype", b"<table")):
        raise InputError(path, "an HTML page saved as .xls: open it in Excel and save as .xlsx")
    return b"\x00" not in head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _records(text: str) -> Iterator[str]:
    """Split a text sample into records, honouring quotes (a cell may hold newlines)."""
    start, quoted = 0, False
    for m in re.finditer(r'["\n]', text):
        if m.group() == '"':
            quoted = not quoted
        elif not quoted:
            yield text[start : m.start()]
            start = m.end()
    if not quoted:
        yield text[start:]  # the last record, maybe cut short by the sample


def sniff_delimiter(text: str, default: str = ",") -> str:
    """The candidate whose count outside quotes is the same on most records.

    That count is the one most records have (a banner above the header, `Export, 2026-12-01`,
    doesn't set it); ties go to the larger count. csv.Sniffer is not used: it misreads ';' files
    whose cells contain commas.
    """
    lines = [r for r in _records(text) if r.strip()][:50]
    # A title or banner above the header (one cell, no delimiter at all) says nothing about the delimiter.
    while len(lines) > 1 and not any(d in re.sub(r'"[^"]*"', "", lines[0]) for d in DELIMITERS):
        lines.pop(0)
    if not lines:
        return default
    counts = {d: [len(re.sub(r'"[^"]*"', "", line).split(d)) - 1 for line in lines] for d in DELIMITERS}
    scored = []
    for d, n in counts.items():
        if any(n):
            share, count = max((n.count(c), c) for c in set(n) if c > 0)
            scored.append((share / len(n), count, d))
    return max(scored, key=lambda s: (s[0], s[1]))[2] if scored else default
