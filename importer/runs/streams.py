"""Standard streams a run can lose: closed from the start (`2>&-`), or gone mid-run (`| head`, a closed terminal).

    with guarded_streams():
        ...  # sys.stdout / sys.stderr never raise: one that can't be written goes quiet

A run's progress and summary are a courtesy; its report and exit code are what it owes.
So a stream Python could not open (it gives None) or that fails on a write (EPIPE, EBADF)
swallows what is written to it instead of ending a run that has sent rows. A standard
descriptor closed at the start is held open on the null device, so that no file the run
opens (the journal, a report) gets its number and a stray write to it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, TextIO

__all__ = ["guarded_streams", "QuietOnError"]


class QuietOnError:
    """A text stream that falls silent, for good, the first time writing to it fails."""

    def __init__(self, stream: TextIO | None):
        self._stream = stream
        self.dead = stream is None

    def write(self, text: str) -> int:
        if not self.dead:
            try:
                self._stream.write(text)
            except (OSError, ValueError):  # ValueError: a closed file object
                self._die()
        return len(text)

    def flush(self) -> None:
        if not self.dead:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._die()

    def isatty(self) -> bool:
        try:
            return not self.dead and self._stream.isatty()
        except (OSError, ValueError):
            return False

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)

    def _die(self) -> None:
        self.dead = True
        # The interpreter flushes the real stream once more at exit: with its descriptor on the null
        # device that flush succeeds too (else "Exception ignored ... BrokenPipeError" and exit 120).
        with contextlib.suppress(OSError, ValueError, AttributeError):
            _to_null(self._stream.fileno())


def _to_null(fd: int) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


@contextlib.contextmanager
def guarded_streams():
    """sys.stdout and sys.stderr as QuietOnError for the block; the originals back after it."""
    saved = sys.stdout, sys.stderr
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        if stream is None:
            try:
                os.fstat(fd)
            except OSError:  # closed: hold its number
                with contextlib.suppress(OSError):
                    _to_null(fd)
    sys.stdout, sys.stderr = QuietOnError(sys.stdout), QuietOnError(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
