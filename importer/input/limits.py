"""Bounds on what a file may claim, so a run's memory follows its rows, not a hostile file's numbers.

    widest = line_widths(path, encoding, delimiter)   # InputError past MAX_COLUMNS; fields per line, at most
    problems = cut_long_cells(cells, headers)         # cells past MAX_CELL_CHARS cut; their rows too-long

Excel's own limits, so no file Excel can write is refused: 16,384 columns, 32,767
characters in a cell. A workbook is checked before it is read (importer.input.bookcheck):
its parts' uncompressed size and its sheets' extent in cells.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence

import numpy as np
import pandas as pd

from importer.errors import Code, InputError
from importer.records import RecordError

MAX_COLUMNS = 16_384  # Excel's columns (A..XFD)
MAX_CELL_CHARS = 32_767  # Excel's characters in one cell: longer is too-long, and the reports hold a cut copy
MAX_CELLS = 1_048_576 * 16  # a sheet's rows x columns as it is laid out in memory (Excel's full height at 16 columns)
MAX_UNCOMPRESSED = 1 << 30  # a workbook's parts, uncompressed (1 GiB)
MAX_PARTS = 10_000  # files in a workbook's zip (a workbook of 1,000 sheets has about 2,000)
MAX_TEXT_BYTES = 64 << 20  # a text file's longest line, a workbook's longest text between tags: 2,000 x Excel's cell
CHUNK_FIELDS = 16_000_000  # fields pandas' tokenizer holds at once (a chunk of rows)
CHUNK_BYTES = 1 << 20

Problems = dict[int, list[RecordError]]  # row position -> what the loader found wrong with it


def line_widths(path: str, encoding: str, delimiter: str) -> int:
    """The most fields a line of the file can hold (delimiters + 1, quotes not considered); InputError
    naming the line when one has more than MAX_COLUMNS, or is longer than MAX_TEXT_BYTES. Only lines
    longer than MAX_COLUMNS code units are counted: a shorter one cannot hold more. Memory: a chunk."""
    dtype, start = _code_units(path, encoding)
    unit = np.dtype(dtype).itemsize
    newline, delim = ord("\n"), ord(delimiter)
    longest = 0
    line, line_start, pos = 1, 0, 0  # the current line's number and first unit; units read so far
    long_lines: list[tuple[int, int, int]] = []  # (line number, first unit, end unit)
    with open(path, "rb") as f:
        f.seek(start)
        rest = b""
        while chunk := f.read(CHUNK_BYTES):
            data = rest + chunk
            cut = len(data) - len(data) % unit
            rest = data[cut:]
            units = np.frombuffer(data[:cut], dtype=dtype)
            ends = np.flatnonzero(units == newline) + pos
            if len(ends):
                lengths = np.diff(ends, prepend=line_start - 1) - 1
                longest = max(longest, int(lengths.max()))
                for k in np.flatnonzero(lengths > MAX_COLUMNS).tolist():
                    long_lines.append((line + k, int(ends[k] - lengths[k]), int(ends[k])))
                line += len(ends)
                line_start = int(ends[-1]) + 1
            pos += len(units)
    if pos - line_start > MAX_COLUMNS:
        long_lines.append((line, line_start, pos))
    longest = max(longest, pos - line_start)
    widest = min(longest, MAX_COLUMNS) + 1
    for number, first, end in long_lines:
        if (end - first) * unit > MAX_TEXT_BYTES:
            raise InputError(path, f"line {number} is {(end - first) * unit / (1 << 20):,.0f} MiB long; the limit is "
                             f"{MAX_TEXT_BYTES >> 20} MiB")
        fields = _count(path, start, dtype, delim, first, end) + 1
        if fields > MAX_COLUMNS:
            raise InputError(path, f"line {number} has {fields:,} fields: more than {MAX_COLUMNS:,} columns "
                             "(Excel's limit)")
        widest = max(widest, fields)
    return widest


def _count(path: str, start: int, dtype: str, value: int, first: int, end: int) -> int:
    """How many times `value` occurs in code units first..end of the file."""
    unit = np.dtype(dtype).itemsize
    found = 0
    with open(path, "rb") as f:
        f.seek(start + first * unit)
        left = (end - first) * unit
        while left > 0 and (chunk := f.read(min(CHUNK_BYTES, left))):
            left -= len(chunk)
            found += int(np.count_nonzero(np.frombuffer(chunk[: len(chunk) - len(chunk) % unit], dtype=dtype) == value))
    return found


def _code_units(path: str, encoding: str) -> tuple[str, int]:
    """(numpy dtype of one code unit, where the text starts) for the file's encoding."""
    name = codecs.lookup(encoding).name
    if name.startswith(("utf-16", "utf-32")):
        size = 2 if name.startswith("utf-16") else 4
        with open(path, "rb") as f:
            head = f.read(4)
        if name.endswith("-le"):
            return f"<u{size}", 0
        if name.endswith("-be"):
            return f">u{size}", 0
        little = head.startswith(codecs.BOM_UTF32_LE if size == 4 else codecs.BOM_UTF16_LE)
        return (f"<u{size}" if little else f">u{size}"), size
    return "u1", 0


def too_long(column: str, length: int) -> RecordError:
    return Code.TOO_LONG.error(column, what="cell", length=f"{length:,}", limit=f"{MAX_CELL_CHARS:,}",
                               more=f" (Excel's limit): the reports hold its first {MAX_CELL_CHARS:,}")


def cut_long_cells(cells: pd.DataFrame, headers: Sequence[str]) -> Problems:
    """Cut text cells longer than MAX_CELL_CHARS in place; the rows that held them, by position."""
    problems: Problems = {}
    for i, (column, values) in enumerate(cells.iloc[:, : len(headers)].items()):
        if not isinstance(values.dtype, pd.StringDtype) or values.array.nbytes <= MAX_CELL_CHARS:
            continue  # no cell of a column this small can be longer (a wide file's columns are)
        lengths = values.str.len().to_numpy(dtype=np.int64, na_value=0)
        rows = np.flatnonzero(lengths > MAX_CELL_CHARS)
        if not len(rows):
            continue
        cut = values.copy()
        cut.iloc[rows] = [v[:MAX_CELL_CHARS] for v in values.iloc[rows].tolist()]
        cells[column] = cut
        for row in rows.tolist():
            problems.setdefault(row, []).append(too_long(headers[i], int(lengths[row])))
    return problems


def moved(problems: Problems, kept: np.ndarray) -> Problems:
    """`problems` by row position, after the rows at the sorted positions `kept` were picked out."""
    if not problems:
        return {}
    old = np.fromiter(problems, dtype=np.int64, count=len(problems))
    new = np.searchsorted(kept, old)
    found = new < len(kept)
    found[found] = kept[new[found]] == old[found]
    return {int(n): problems[int(o)] for o, n in zip(old[found], new[found])}
