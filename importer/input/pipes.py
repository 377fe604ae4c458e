"""Inputs that are not regular files: a pipe is read once, as a stream; a device is refused.

    with Spool() as spool:
        source, ext = spool.take(path, ext)   # a pipe's bytes in a temporary file, its kind from its content

`import <(curl …)` hands the tool a pipe (/dev/fd/63): it can be read once, has no
name to tell a workbook from text, and the readers need to read a file more than once
(the encoding by evidence, the delimiter, pandas). So its bytes are copied, a chunk at a
time, into a temporary file named by what they are (a zip with xl/workbook.xml is
.xlsx, ...), which is removed when the run's files have been read. A terminal, /dev/zero
or any other device would never end or is no data: refused with one line. A file whose size
or modification time differ after it was read (`fingerprint`, `unchanged`) stops the run.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile

from importer.errors import InputError

CHUNK_BYTES = 1 << 20


def kind(path: str) -> str:
    """'file', 'directory' or 'pipe'; InputError for a missing path or a device."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as e:
        raise InputError(path, f"cannot read file: {e.strerror}") from None
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "pipe"
    if not stat.S_ISREG(mode):
        raise InputError(path, "is a device (a terminal, /dev/zero, a socket, ...), not a file: give a file, or a "
                         "pipe (import <(curl …))")
    return "file"


def fingerprint(path: str) -> tuple[int, int] | None:
    """A file's size and modification time (ns), taken before it is read and compared after (`unchanged`)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns


def unchanged(files: list[tuple[str, str, tuple[int, int] | None]]) -> None:
    """InputError for the first (path, source, fingerprint) whose source is not as it was: an export
    still being written, read half-way, would be imported cut short with no word."""
    for path, source, before in files:
        if fingerprint(source) != before:
            raise InputError(path, "the file changed while it was read: is it still being written?")


class Spool:
    """Temporary copies of the pipes a run reads, removed on close."""

    def __init__(self) -> None:
        self.folder: str | None = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def take(self, path: str, ext: str) -> tuple[str, str]:
        """(the copy's path, its extension: `ext` if the pipe's name has one, else told from its bytes)."""
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="ecwid-contacts-")
        copy = os.path.join(self.folder, f"{len(os.listdir(self.folder))}.data")
        try:
            with open(path, "rb") as source, open(copy, "wb") as target:
                while chunk := source.read(CHUNK_BYTES):
                    target.write(chunk)
        except OSError as e:
            raise InputError(path, f"cannot read pipe: {e.strerror or e}") from None
        if os.path.getsize(copy) == 0:
            raise InputError(path, "file is empty (the pipe gave no data)")
        ext = ext or _told(copy)
        named = copy.removesuffix(".data") + ext
        os.replace(copy, named)
        return named, ext


def _told(path: str) -> str:
    """A file's kind from its first bytes: .xlsx, .ods, .xls or .csv."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return ".xls"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as book:
                names = set(book.namelist())
        except zipfile.BadZipFile:
            return ".xlsx"  # calamine says it is corrupt
        return ".ods" if "content.xml" in names else ".xlsx"
    return ".csv"
