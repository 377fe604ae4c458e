"""Delimited text files -> a frame of cells: encodings, delimiters, Excel's row numbers.

    headers, cells, rows = read_text(path, encoding=None, delimiter=None, stats=stats, log=log)

Encodings: BOM, then strict UTF-8 over the whole file, then charset-normalizer (cp1252
for Western text). Delimiters `,` `;` tab `|` are sniffed from the content. Every cell is
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
import unicodedata
from collections.abc import Iterator

import charset_normalizer
import numpy as np
import pandas as pd

from importer.errors import InputError
from importer.memory import release

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1 << 20
CHUNK_ROWS = 100_000  # rows parsed at a time: bounds the parser's Python objects


def read_text(path: str, *, encoding: str | None, delimiter: str | None, stats, log: logging.Logger,
              limit: int | None = None) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    """(headers, cells, Excel row numbers) of a text file; cells has one str column per header.

    Rows past the header that are entirely blank are left out and counted in stats.blank_rows.
    With `limit`, the first `limit` data rows only (the file is read no further than needed).
    """
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
    if not head.strip():
        raise InputError(path, "file is empty")
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError(path, "this is a workbook, not delimited text: give it its .xlsx/.xls extension")
    enc = encoding or _choose_encoding(path, head)
    sample = codecs.getincrementaldecoder(enc)(errors="replace").decode(head)
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if controls > max(3, len(sample) // 100):
        raise InputError(path, f"binary data: not a delimited text file (read as {enc})")
    delim = delimiter or sniff_delimiter(sample, "\t" if path.lower().endswith(".tsv") else ",")
    stats.encodings[path] = enc
    stats.delimiters[path] = delim
    log.info("%s: encoding %s%s, delimiter %r", path, enc, "" if encoding else " (detected)", delim)

    found = _header(sample.removeprefix("\ufeff"), delim)
    if found is None:
        raise InputError(path, "file is empty (only blank lines)")
    headers, header_row = found
    width = len(headers)
    cells = _parse(path, delim, enc, max(width, 1), None if limit is None else limit + 1)  # + 1: the header
    cells = cells.iloc[header_row:]  # rows 1..header_row are leading blank lines and the header
    rows = np.arange(header_row + 1, header_row + 1 + len(cells), dtype=np.int64)
    blank = _blank_rows(cells)  # a cell past the header's width counts too: such a row is reported, not skipped
    if len(blank):
        keep = np.ones(len(cells), dtype=bool)
        keep[blank] = False
        cells, rows = cells[keep], rows[keep]
    if limit is not None and len(cells) > limit:
        cells, rows = cells.iloc[:limit], rows[:limit]
        blank = blank[blank + header_row + 1 < rows[-1]]  # the blank rows among those kept
    stats.blank_rows += len(blank)
    return headers, _compact(cells.iloc[:, :width].reset_index(drop=True)), rows


def _parse(path: str, delimiter: str, encoding: str, width: int, filled: int | None = None) -> pd.DataFrame:
    """Every record of the file (or the chunks that hold its first `filled` non-blank ones), `width`
    columns or more: a row with more cells widens the read."""
    while True:
        parts, found = [], 0
        try:
            chunks = pd.read_csv(
                path, sep=delimiter, header=None, names=range(width), dtype="str", na_filter=False,
                skip_blank_lines=False, quotechar='"', doublequote=True, encoding=encoding, engine="c",
                chunksize=CHUNK_ROWS, index_col=False,
            )  # fmt: skip
            with chunks:
                for part in chunks:
                    parts.append(part)
                    release()
                    if filled is not None:
                        found += len(part) - len(_blank_rows(part))
                        if found >= filled:
                            break
        except UnicodeDecodeError as e:
            at = _first_bad_byte(path, encoding)
            raise InputError(path, f"not valid {encoding} text at byte {e.start if at is None else at}; "
                             "pass another encoding") from None
        except (pd.errors.ParserError, ValueError) as e:
            wider = re.search(r"Expected \d+ fields in line \d+, saw (\d+)", str(e))
            if wider and int(wider[1]) > width:
                width = int(wider[1])  # rare: read again, as wide as that row
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


# What str.isspace() calls whitespace, as the regex engine under pandas' str methods (RE2) spells it.
_WHITESPACE = r"[\s\x0b\x1c-\x1f\x85\p{Z}]*"


def _blank_rows(cells: pd.DataFrame) -> np.ndarray:
    """Positions of the rows whose every cell is blank or whitespace (column by column, on the candidates left)."""
    candidates = np.arange(len(cells))
    for i in cells.columns:
        if not len(candidates):
            break
        column = cells[i].iloc[candidates]
        candidates = candidates[column.str.fullmatch(_WHITESPACE).to_numpy(dtype=bool)]
    return candidates


def _header(sample: str, delimiter: str) -> tuple[list[str], int] | None:
    """The first non-blank record of the file's sample: (header cells, its Excel row number)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        strict=False)
    try:
        for number, cells in enumerate(reader, 1):
            if any(c.strip() for c in cells):
                headers = [c.strip("\ufeff \t\r\n") for c in cells]
                while headers and not headers[-1]:
                    headers.pop()
                return headers, number
    except csv.Error:
        return None
    return None


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


def _looks_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM: NULs in every other byte of ASCII-heavy text."""
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 4:
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be"
    return None


def _decodes(path: str, encoding: str) -> bool:
    """Whole-file strict decode in chunks: bounded memory, ~20 ms per 60 MB."""
    return _first_bad_byte(path, encoding) is None


def _first_bad_byte(path: str, encoding: str) -> int | None:
    """Where in the file `encoding` first fails, or None (a decoding error only knows its place in a buffer)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    done = 0
    with open(path, "rb") as f:
        try:
            while chunk := f.read(CHUNK_BYTES):
                decoder.decode(chunk)
                done += len(chunk)
            decoder.decode(b"", final=True)  # a sequence cut off by the end of the file
        except UnicodeDecodeError as e:
            return done + e.start - len(decoder.getstate()[0])
    return None


def _non_ascii_lines(path: str, limit: int = SAMPLE_BYTES) -> bytes:
    """The lines that decide a legacy encoding, wherever they are in the file."""
    picked = bytearray()
    with open(path, "rb") as f:
        for line in f:
            if not line.isascii():
                picked += line
                if len(picked) >= limit:
                    break
    return bytes(picked)


def _is_latin(text: str) -> bool:
    return all(not ch.isalpha() or ch.isascii() or unicodedata.name(ch, "").startswith("LATIN") for ch in text)


def _legacy_encoding(path: str) -> str | None:
    """Not UTF-8: charset-normalizer, but cp1252 for Western text.

    charset-normalizer often names cp1250/cp775/mac_* for short Western European
    text that Excel wrote as cp1252 (José, Müller, Ñandú); we trust it only when it
    finds another script (Cyrillic cp1251, Greek, CJK, ...).
    """
    sample = _non_ascii_lines(path)
    best = charset_normalizer.from_bytes(sample).best()
    guess = best.encoding if best is not None else None
    if guess and not _is_latin(str(best)) and _decodes(path, guess):
        return guess
    for enc in ("cp1252", guess):
        if enc and _decodes(path, enc):
            return enc
    return None


def _choose_encoding(path: str, head: bytes) -> str:
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return enc
    if b"\x00" in head:
        if enc16 := _looks_utf16(head):
            return enc16
        raise InputError(path, "binary data (NUL bytes): not a delimited text file")
    if _decodes(path, "utf-8"):
        return "utf-8"
    enc = _legacy_encoding(path)
    if enc is None:
        raise InputError(path, "cannot decode text: not UTF-8, UTF-16 or cp1252 (binary file?)")
    return enc


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

    The header must contain it; ties go to the larger count. csv.Sniffer is not
    used: it misreads ';' files whose cells contain commas.
    """
    lines = [r for r in _records(text) if r.strip()][:50]
    if not lines:
        return default
    counts = {d: [len(re.sub(r'"[^"]*"', "", line).split(d)) - 1 for line in lines] for d in DELIMITERS}
    scored = [
        (sum(c == n[0] for c in n) / len(n), n[0], d) for d, n in counts.items() if n[0] > 0
    ]
    return max(scored, key=lambda s: (s[0], s[1]))[2] if scored else default


