"""Progress while sending: a tqdm bar on a terminal, a line every few seconds otherwise.

A bar on a log file or a CI console is a mess of carriage returns, so when the
stream is not a terminal we write one plain line per `interval_s` instead.

A row counts as done once it is settled: a row set aside in doubt (its answer was
lost) is counted apart until the store has been checked, and a row a stopped run
never sent is not done at all, so the last line after Ctrl-C never reads 100 %.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

from importer.records import Status

LINE_INTERVAL_S = 5.0


class Progress:
    def __init__(
        self,
        total: int | None,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        interval_s: float = LINE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.total = total or None
        self.counts: Counter[str] = Counter()
        self.done = 0
        self.in_doubt = 0  # set aside until the store is checked
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet
        self._interval = interval_s
        self._clock = clock
        self._start = self._last_line = clock()
        self._bar: tqdm | None = None
        self.detail = ""  # what the sender adds to the line (batch mode: batches running and queued)
        if not quiet and _isatty(self._stream):
            self._bar = tqdm(total=self.total, unit="row", file=self._stream, dynamic_ncols=True, mininterval=0.5)

    def update(self, status: Status, *, in_doubt: bool = False) -> None:
        """A row finished with `status`, or (`in_doubt`) set aside until the store is checked."""
        if in_doubt:
            self.in_doubt += 1
            return
        self.counts[status] += 1
        if status != Status.NOT_SENT:
            self._advance()

    def settled(self, status: Status | None) -> None:
        """A row in doubt was settled as `status`; None: found absent, to be sent again (counted then)."""
        self.in_doubt -= 1
        if status is not None:
            self.update(status)

    def note(self, text: str) -> None:
        """A line of its own (what the run is waiting for), unless quiet."""
        if self._quiet:
            return
        if self._bar is not None:
            self._bar.write(text, file=self._stream)
        else:
            self._stream.write(text + "\n")
            self._stream.flush()

    def _advance(self) -> None:
        self.done += 1
        if self._quiet:
            return
        if self._bar is not None:
            extra = {"at_ecwid": self.detail.removeprefix("batches: ")} if self.detail else {}
            self._bar.set_postfix(created=self.counts[Status.CREATED], failed=self.counts[Status.FAILED], **extra,
                                  refresh=False)
            self._bar.update(1)
        elif self._clock() - self._last_line >= self._interval:
            self._write_line()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif not self._quiet and self.done:
            self._write_line()

    def line(self) -> str:
        elapsed = max(self._clock() - self._start, 1e-9)
        rate = self.done / elapsed
        of = f"/{self.total}" if self.total else ""
        text = (
            f"sent {self.done}{of} rows: {self.counts[Status.CREATED]} created, "
            f"{self.counts[Status.FAILED]} failed"
        )
        if self.in_doubt:
            text += f", {self.in_doubt} in doubt"
        if self.counts[Status.NOT_SENT]:  # a stopped run: most rows were never sent
            text += f", {self.counts[Status.NOT_SENT]} not sent"
        if self.detail:
            text += f"; {self.detail}"
        text += f"; {rate:.1f} rows/s"
        if self.total and rate > 0 and self.done < self.total:
            text += f", ETA {_duration((self.total - self.done) / rate)}"
        return text

    def _write_line(self) -> None:
        self._last_line = self._clock()
        self._stream.write(self.line() + "\n")
        self._stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
