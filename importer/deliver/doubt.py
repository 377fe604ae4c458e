"""Doubt: creates that may have been applied, settled by time and by the store.

A row is in doubt when its request left and no answer came back (a cut
connection, a timeout, a request abandoned at a stop), or when a run died with
it on the wire. Ecwid may still be working on such a request, so a read that
finds the contact absent proves nothing until the request can no longer commit:
each row waits out the settle window after its request left
(policy.SETTLE_WINDOW_S, `--settle-window`) before its customer's contacts are
read. Then present: it was created; absent: it is safe to send again. A stop,
Ctrl-C or a read that fails leaves the row in doubt for the next run (the
journal keeps it `sending`, with when it was sent), never absent.

    book = DoubtBook(settle_s=60)
    book.add(record, sent_at=time.time(), origin=LOST)
    checked = await book.settle(reader, cancel)   # found, absent, unchecked, stopped
    book.summary()                                # summary.json's `in_doubt`
    present = await in_store(reader, customer_id, records)   # one customer's rows, checked now
    found = await present(reader, record)                    # one row: after Ecwid's 5xx, before it goes again
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from importer.deliver.tasks import unless_cancelled
from importer.ecwid.store import StoreReadError, StoreReader
from importer.errors import RunStopped, interrupted
from importer.records import ContactRecord

EARLIER = "earlier"  # left in `sending` by an earlier run
LOST = "lost"  # this run sent it and lost the answer


@dataclass(frozen=True)
class Doubt:
    record: ContactRecord
    origin: str  # EARLIER or LOST
    sent_at: float  # Unix time the request left, at the latest


@dataclass
class Checked:
    """What one `settle` found out."""

    found: list[Doubt] = field(default_factory=list)  # the store has it
    absent: list[Doubt] = field(default_factory=list)  # the store lacks it, after the window
    unchecked: list[tuple[Doubt, str]] = field(default_factory=list)  # still in doubt, and why
    stopped: RunStopped | None = None  # the run must stop (a 403 on a read, Ctrl-C)


class DoubtBook:
    """The rows in doubt, when each can be checked, and what became of them (`counts`)."""

    def __init__(self, settle_s: float, *, wall: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep):  # fmt: skip
        self.settle_s = settle_s
        self._wall = wall
        self._sleep = sleep
        self._rows: dict[tuple, Doubt] = {}
        self.counts: Counter[str] = Counter()  # EARLIER, LOST; the engine adds how each was settled
        self.keys: set = set()  # every row that was in doubt during the run

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, record: ContactRecord, sent_at: float, origin: str) -> None:
        self._rows[record.key] = Doubt(record, origin, sent_at)
        if record.key not in self.keys:
            self.keys.add(record.key)
            self.counts[origin] += 1

    def deadline(self, doubt: Doubt) -> float:
        """When its request can no longer commit, so an absent read counts (Unix time)."""
        return doubt.sent_at + self.settle_s

    def wait_s(self) -> float:
        """Seconds until every row in doubt can be checked (0: now, or none in doubt)."""
        return max(0.0, max(map(self.deadline, self._rows.values()), default=0.0) - self._wall())

    def summary(self) -> dict | None:
        """How many rows were in doubt, and how each was settled (summary.json's `in_doubt`)."""
        if not self.keys:
            return None
        counts = self.counts
        return {
            "rows": len(self.keys), "from_earlier_runs": counts[EARLIER], "answers_lost": counts[LOST],
            "found_in_store": counts["found_in_store"], "absent_sent_again": counts["absent_sent_again"],
            "absent_not_sent": counts["absent_not_sent"], "unchecked": counts["unchecked"],
            "settle_window_s": self.settle_s,
        }  # fmt: skip

    def take(self) -> list[Doubt]:
        """Every row still in doubt; the book is emptied."""
        rows, self._rows = list(self._rows.values()), {}
        return rows

    async def settle(self, reader: StoreReader, cancel: asyncio.Event | None = None) -> Checked:
        """Check every row once its deadline has passed (one read per customer per round), until
        none is left or the run must stop; rows not checked then stay in the book."""
        checked = Checked()
        while self._rows and checked.stopped is None:
            now = self._wall()
            due = [d for d in self._rows.values() if self.deadline(d) <= now]
            if not due:
                wake = min(map(self.deadline, self._rows.values()))
                if await unless_cancelled(cancel, self._sleep(wake - now)):
                    checked.stopped = interrupted()
                continue
            by_customer: dict[int, list[Doubt]] = {}
            for d in due:
                by_customer.setdefault(d.record.customer_id, []).append(d)
            reads = asyncio.gather(
                *(in_store(reader, cid, [d.record for d in rows]) for cid, rows in by_customer.items()),
                return_exceptions=True,
            )
            if await unless_cancelled(cancel, reads):
                checked.stopped = interrupted()
                break
            for rows, answer in zip(by_customer.values(), reads.result()):
                if isinstance(answer, RunStopped):
                    checked.stopped = checked.stopped or answer
                elif isinstance(answer, StoreReadError):
                    for d in rows:
                        self._settle(checked.unchecked, (d, f"the store could not be checked: {answer}"), d)
                elif isinstance(answer, BaseException):
                    raise answer
                else:
                    for d, present in zip(rows, answer):
                        self._settle(checked.found if present else checked.absent, d, d)
        return checked

    def _settle(self, into: list, item: object, doubt: Doubt) -> None:
        del self._rows[doubt.record.key]
        into.append(item)


async def in_store(reader: StoreReader, customer_id: int, records: list[ContactRecord]) -> list[bool]:
    """Whether the store holds each record's contact (all of one customer's): one fresh read of the
    customer's contacts. The one check of a create in doubt, whichever channel sent it (importer.deliver.engine)."""
    await reader.contacts(customer_id, fresh=True)
    return [await reader.has_contact(r) for r in records]  # answered from that read



async def present(reader: StoreReader, record: ContactRecord) -> bool:
    """Whether the store holds one record's contact now (in_store of one row): the check before a create
    answered by Ecwid's own 5xx goes again (importer.deliver.send)."""
    return (await in_store(reader, record.customer_id, [record]))[0]
