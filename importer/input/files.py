"""The inputs and the options about them, checked before any file is read (a typo in the third file stops the run
at once), and what is said about a pipe's copy said about the pipe.

    encoding, delimiter = check_text_options(encoding, delimiter)   # UsageError for an unknown one
    source, ext = check_file(path, spool)     # InputError: missing, a directory, a device, empty, unsupported
    with named(source, path, stats): ...      # messages and stats name the pipe as the user did
    check_mapping_found(mapping, tables)      # a --mapping entry no input has a column for
    check_sheets_wanted(sheets, texts, count) # --sheet given, and every input a text file
"""

from __future__ import annotations

import codecs
import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from importer.errors import InputError, UsageError
from importer.input import pipes
from importer.mapping import headers
from importer.records import SourceTable

TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
SUPPORTED = ", ".join(TEXT_EXTENSIONS + WORKBOOK_EXTENSIONS[:-1]) + " or " + WORKBOOK_EXTENSIONS[-1]
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def check_mapping_found(mapping: dict[str, str], tables: Sequence[SourceTable]) -> None:
    """A --mapping entry no file or sheet has a column for is a mistake (a typo, the wrong file): say so."""
    seen = {headers.norm(h) for t in tables for h in t.headers}
    missing = [h for h in mapping if headers.norm(h) not in seen]
    if missing and tables:
        have = ", ".join(dict.fromkeys(repr(h) for t in tables for h in t.headers if h))
        raise UsageError(f"--mapping names {', '.join(map(repr, missing))}, which no input has; columns: {have}")


def check_sheets_wanted(sheets: Sequence[str], texts: Sequence[str], count: int) -> None:
    """--sheet picks a workbook's sheets: with every one of the `count` inputs a text file (`texts`), it would be
    ignored unsaid. With a workbook among them it applies to the workbooks."""
    if sheets and texts and len(texts) == count:
        which = f"{texts[0]} is a text file" if len(texts) == 1 else f"{', '.join(texts)} are text files"
        raise UsageError(f"--sheet {', '.join(map(repr, sheets))} picks a workbook's sheets, but {which} "
                         "(no sheets): leave --sheet out")


def check_text_options(encoding: str | None, delimiter: str | None) -> tuple[str | None, str | None]:
    if encoding:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise UsageError(f"unknown encoding {encoding!r}") from None
    if delimiter:
        delimiter = _DELIMITER_NAMES.get(delimiter.lower(), delimiter)
        if len(delimiter) != 1:
            raise UsageError(f"delimiter must be one character or 'tab', got {delimiter!r}")
    return encoding, delimiter


def check_file(path: str, spool: pipes.Spool) -> tuple[str, str]:
    """(where to read it, its extension): missing, a directory, a device, empty, unsupported are said before
    any file is read; a pipe is read now, into `spool`."""
    ext = Path(path).suffix.lower()
    found = pipes.kind(path)
    if found == "directory":
        raise InputError(path, "is a directory, not a file")
    if ext and ext not in TEXT_EXTENSIONS + WORKBOOK_EXTENSIONS or not ext and found != "pipe":
        raise InputError(path, f"unsupported file type {ext or '(no extension)'!r}: use {SUPPORTED}")
    if found == "pipe":
        return spool.take(path, ext)
    try:
        size = os.stat(path).st_size
        with open(path, "rb"):
            pass
    except OSError as e:
        raise InputError(path, f"cannot read file: {e.strerror}") from None
    if size == 0:
        raise InputError(path, "file is empty")
    return path, ext


@contextlib.contextmanager
def named(source: str, path: str, stats) -> Iterator[None]:
    """What is said about a pipe's copy is said about the pipe, as the user named it (`stats`: table.LoadStats)."""
    if source == path:
        yield
        return
    try:
        yield
    except InputError as e:
        raise InputError(e.path.replace(source, path), e.problem) from None
    finally:
        for names in (stats.encodings, stats.delimiters):
            if source in names:
                names[path] = names.pop(source)
        for said in (stats.hidden_sheets, stats.notes):
            said[:] = [h.replace(source, path) for h in said]
