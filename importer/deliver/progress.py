"""Progress while sending: events for any watcher, shown as a tqdm bar on a terminal, else a line every few seconds.

The counter (`Progress`) turns each row's end into an event (importer.events): the
terminal display below is one listener, the run's watcher (the local web page,
importer.ui) another; both see the same numbers.

A bar on a log file or a CI console is a mess of carriage returns, so when the
stream is not a terminal we write one plain line per `interval_s` instead.

A row counts as done once it is settled: a row set aside in doubt (its answer was
lost) is counted apart until the store has been checked, and a row a stopped run
never sent is not done at all, so the last line after Ctrl-C never reads 100 %.

The line's words follow the run: an import says what it sent (`SEND`, the CLI's line), an
undo what it deleted and kept (`UNDO`), its dry run what it would delete (`UNDO_CHECK`).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from tqdm import tqdm

from importer.records import Status
from importer import events

LINE_INTERVAL_S = 5.0


@dataclass(frozen=True)
class Wording:
    """How the line names the run's rows: its verb, and the statuses it always counts (label, status)."""

    verb: str
    counted: tuple[tuple[str, Status], ...]


SEND = Wording("sent", (("created", Status.CREATED), ("failed", Status.FAILED)))
UNDO = Wording("undone", (("deleted", Status.DELETED), ("kept", Status.KEPT), ("failed", Status.FAILED)))
UNDO_CHECK = Wording("checked", (("to delete", Status.VALID), ("kept", Status.KEPT), ("failed", Status.FAILED)))


class Progress:
    def __init__(
        self,
        total: int | None,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        interval_s: float = LINE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        wording: Wording = SEND,
    ):
        self.total = total or None
        self.counts: Counter[str] = Counter()
        self.done = 0
        self.in_doubt = 0  # set aside until the store is checked
        self._clock = clock
        self.wording = wording
        self._start = clock()
        self.detail = ""  # what the sender adds to the line (batch mode: batches running and queued)
        self._listeners = [] if quiet else [_Terminal(self, stream if stream is not None else sys.stderr, interval_s)]
        if (watcher := events.listener()) is not None:  # the run's watcher, if it has one
            self._listeners.append(watcher)
        self._emit("progress")

    def update(self, status: Status, *, in_doubt: bool = False) -> None:
        """A row finished with `status`, or (`in_doubt`) set aside until the store is checked."""
        if in_doubt:
            self.in_doubt += 1
        else:
            self.counts[status] += 1
            if status != Status.NOT_SENT:
                self.done += 1
        self._emit("progress")

    def settled(self, status: Status | None) -> None:
        """A row in doubt was settled as `status`; None: found absent, to be sent again (counted then)."""
        self.in_doubt -= 1
        if status is not None:
            self.update(status)
        else:
            self._emit("progress")

    def note(self, text: str) -> None:
        """A line of its own (what the run is waiting for), unless quiet."""
        for listener in self._listeners:
            listener({"event": "note", "text": text})

    def close(self) -> None:
        self._emit("closed")

    def _pace(self) -> tuple[float, float | None]:
        """Rows done a second so far, and the seconds left at that pace (None: not known, or nothing left)."""
        rate = self.done / max(self._clock() - self._start, 1e-9)
        left = (self.total - self.done) / rate if self.total and rate > 0 and self.done < self.total else None
        return rate, left

    def snapshot(self) -> dict:
        """The numbers an event carries: plain values only."""
        rate, eta = self._pace()
        counts = {str(Status(k).value): v for k, v in self.counts.items()}
        return {"done": self.done, "total": self.total, "counts": counts,
                "in_doubt": self.in_doubt, "rate": round(rate, 2), "eta_s": None if eta is None else round(eta, 1),
                "detail": self.detail, "line": self.line()}  # fmt: skip

    def _emit(self, kind: str) -> None:
        if self._listeners:
            event = {"event": kind, **self.snapshot()}
            for listener in self._listeners:
                listener(event)

    def line(self) -> str:
        rate, left = self._pace()
        of = f"/{self.total}" if self.total else ""
        counted = ", ".join(f"{self.counts[status]} {label}" for label, status in self.wording.counted)
        text = f"{self.wording.verb} {self.done}{of} rows: {counted}"
        if self.in_doubt:
            text += f", {self.in_doubt} in doubt"
        if self.counts[Status.NOT_SENT]:  # a stopped run: most rows were never sent
            text += f", {self.counts[Status.NOT_SENT]} not sent"
        if self.detail:
            text += f"; {self.detail}"
        text += f"; {rate:.1f} rows/s"
        if left is not None:
            text += f", ETA {_duration(left)}"
        return text


class _Terminal:
    """The CLI's display of the events: a bar on a terminal, else a plain line every `interval_s`."""

    def __init__(self, progress: Progress, stream: TextIO, interval_s: float):
        self._progress = progress  # for the clock and the line's wording
        self._stream = stream
        self._interval = interval_s
        self._last_line = progress._clock()
        self._done = 0
        self._shown: tuple | None = None  # the numbers of the last line written: the closing line repeats none
        self._bar: tqdm | None = None
        if _isatty(stream):
            self._bar = tqdm(total=progress.total, unit="row", file=stream, dynamic_ncols=True, mininterval=0.5)

    def __call__(self, event: dict) -> None:
        kind = event["event"]
        if kind == "note":
            if self._bar is not None:
                self._bar.write(event["text"], file=self._stream)
            else:
                self._stream.write(event["text"] + "\n")
                self._stream.flush()
        elif kind == "closed":
            if self._bar is not None:
                self._bar.close()
            elif event["done"] and _numbers(event) != self._shown:
                self._write_line(event["line"], event)
        elif event["done"] > self._done:  # only a row that is done moves the display
            self._done = event["done"]
            if self._bar is not None:
                counts = event["counts"]
                extra = {"at_ecwid": event["detail"].removeprefix("batches: ")} if event["detail"] else {}
                self._bar.set_postfix(created=counts.get(Status.CREATED.value, 0),
                                      failed=counts.get(Status.FAILED.value, 0), **extra, refresh=False)  # fmt: skip
                self._bar.update(event["done"] - self._bar.n)
            elif self._progress._clock() - self._last_line >= self._interval:
                self._write_line(event["line"], event)

    def _write_line(self, line: str, event: dict) -> None:
        self._last_line = self._progress._clock()
        self._shown = _numbers(event)
        self._stream.write(line + "\n")
        self._stream.flush()


def _numbers(event: dict) -> tuple:
    """What a progress line says, but its pace (a line written when the last row ended says it all)."""
    return event["done"], event["in_doubt"], sorted(event["counts"].items()), event["detail"]


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
