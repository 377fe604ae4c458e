"""One delivery engine: each record's life, journal to outcome, whatever the channel (issue 22).

Ecwid's create is not idempotent and returns no id. The engine skips what the journal says was
created, writes each intent before its request leaves (leased ahead, in one commit), records each
outcome after, and settles doubt (a lost answer, a row a crashed run left `sending`) by reading the
customer's contacts once the request can no longer commit (doubt.py), never by resending blindly:
what the store lacks goes again through the same channel. Progress, the stopped outcome, the
"Continuing an earlier run" line and the summary's `in_doubt` and `resumed` are the engine's.

A channel only turns records into per-record answers, told to the engine as its `Lane`
(importer.deliver.send: `DirectChannel`, one request each; importer.deliver.batch: `BatchChannel`).
Batches an earlier run left open are collected by the `collector` (a BatchChannel) before the
journal is read, whichever channel sends.

    engine = Engine(journal, reader, results, collector=batches, settle_s=60, cancel=cancel)
    to_send = await engine.prepare(records)    # earlier batches collected; the journal's word on each row
    result = await engine.run(to_send, channel)  # send, settle the doubt, send again what is absent
    result = engine.give_up(stopped, channel)  # stopped before sending: what is in doubt stays in doubt
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from importer import journal as journal_states
from importer.deliver.doubt import EARLIER, LOST, Checked, Doubt, DoubtBook, present
from importer.deliver.progress import Progress
from importer.deliver.send import Channel, SendResult
from importer.ecwid import policy
from importer.ecwid.store import StoreReader
from importer.errors import Code, RunStopped, interrupted, not_sent
from importer.journal import Journal
from importer.records import ContactRecord, Outcome, Status

log = logging.getLogger("importer")

# Intents are committed this many records ahead of the sender, in one commit, so no
# request waits for an fsync; a crash leaves at most this many unsent rows in
# `sending`, which the next run checks against the store (one read per customer).
LEASE = 32

# an earlier run's row in doubt that the store has
FOUND_EARLIER = Outcome(Status.CREATED, error="confirmed in the store: an earlier run created it but its answer was lost")
FOUND_LOST = Outcome(Status.CREATED, error="no answer, but the store has it (checked after the settle window)")

_JOURNAL_STATE = {
    Status.CREATED: journal_states.CREATED,
    Status.NOT_CREATED: journal_states.NOT_CREATED,
    Status.FAILED: journal_states.FAILED,
}


class Engine:
    """Exactly once: the journal before and after each create, the store when in doubt. It is its channels' Lane."""

    def __init__(self, journal: Journal | None, reader: StoreReader, results: dict, *, collector=None,
                 settle_s: float = policy.SETTLE_WINDOW_S, cancel: asyncio.Event | None = None, quiet: bool = False,
                 wall: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep):  # fmt: skip
        self.journal, self.reader, self.results = journal, reader, results
        self.collector = collector  # sees an earlier run's open batches to the end (importer.deliver.batch)
        self.doubt = DoubtBook(settle_s, wall=wall, sleep=sleep)
        self.cancel, self.quiet = cancel, quiet
        self._wall = wall
        self._sent: dict = {}  # key -> when its request last left (Unix time), until its outcome
        self._found: dict = {}  # key -> its outcome if the store has it, as its channel says (batch)
        self._done_before = 0  # rows the journal says an earlier run created
        self._collecting = False  # answers now are about an earlier run's batches
        self._early: list[Status] = []  # answered before the progress shows: counted when it does
        self.progress: Progress | None = None
        # The records to send, in the order the channel takes them: their intents are leased ahead.
        self._ahead: list[ContactRecord] = []
        self._position: dict = {}
        self._planned = 0  # intents up to here are on their way to the journal ...
        self._durable = 0  # ... and up to here committed
        self._leases: list[tuple[int, asyncio.Future]] = []

    # -- before sending: what an earlier run left ------------------------------------

    async def prepare(self, records: list[ContactRecord]) -> list[ContactRecord]:
        """Collect the batches an earlier run left open, finish what the journal says was created, set
        aside what is in doubt; return the rest. RunStopped if collecting stopped."""
        if self.journal is None:
            return records
        if self.collector is not None:
            self._collecting = True
            try:
                records = await self.collector.collect(records, self, self.cancel)
            finally:
                self._collecting = False
            self.journal.flush()  # what the tickets said, committed before the journal is read
        entries = self.journal.lookup(r.key for r in records)
        started: dict[str, str] = {}
        ended: dict[str, bool] = {}
        rest = []
        for record in records:
            entry = entries.get(record.key)
            if entry is not None and entry.state == journal_states.CREATED:
                when = started.setdefault(entry.run_id, self.journal.run_started_at(entry.run_id))
                self.results[record.index] = replace(record, outcome=Code.ALREADY_IMPORTED.outcome(
                    run_id=entry.run_id, when=when or entry.updated_at))
                self._done_before += 1
            elif entry is not None and entry.state == journal_states.SENDING and record.customer_id is not None:
                # An earlier run's row left `sending`: sent when that run recorded, if it ended in order;
                # else before this run could open the journal (the dead run held its lock).
                finished = ended.setdefault(entry.run_id, self.journal.run_finished(entry.run_id))
                sent = entry.sent_at if finished and entry.sent_at is not None else self.journal.opened_at
                self.doubt.add(record, sent, EARLIER)
            else:
                rest.append(record)
        return rest

    def give_up(self, stopped: RunStopped, channel: Channel) -> SendResult:
        """The run stopped before sending: the rows in doubt stay in doubt (see _leave_in_doubt)."""
        self._leave_in_doubt(stopped)
        return SendResult(stopped=stopped, sections=channel.summary(True))

    # -- the lane: what the channel says of each record ----------------------------------

    async def before_send(self, record: ContactRecord) -> None:
        self._sent[record.key] = self._wall()  # paced already: the request leaves now
        if self.journal is None:
            return
        pos = self._position.get(record.key)
        if pos is None:
            self.journal.note([record.key], journal_states.SENDING)
            await self.journal.commit()
            return
        while self._planned <= pos + LEASE // 2 and self._planned < len(self._ahead):
            self._lease()  # keep the intents well ahead of the sender
        if pos < self._durable:
            return
        for end, commit in self._leases:
            if pos < end:
                await asyncio.shield(commit)  # raises if the commit failed: nothing is sent
                return

    def _lease(self) -> None:
        start, end = self._planned, min(self._planned + LEASE, len(self._ahead))
        self._planned = end
        self.journal.note([r.key for r in self._ahead[start:end]], journal_states.SENDING)
        commit = asyncio.ensure_future(self.journal.commit())

        def committed(done: asyncio.Future) -> None:  # commits finish in order
            if not done.cancelled() and done.exception() is None:
                self._durable = max(self._durable, end)
                self._leases = [(e, c) for e, c in self._leases if e > self._durable]

        commit.add_done_callback(committed)
        self._leases.append((end, commit))

    def answer(self, record: ContactRecord, outcome: Outcome) -> None:
        self.results[record.index] = replace(record, outcome=outcome)
        self._sent.pop(record.key, None)  # only rows on the wire are kept: memory stays flat
        # `ambiguous` here: held by what the next run collects (a ticket Ecwid has): it stays `sending`
        state = None if outcome.error_code == Code.AMBIGUOUS else _JOURNAL_STATE.get(outcome.status)
        if outcome.status == Status.NOT_SENT and self._position.get(record.key, self._planned) < self._planned:
            state = journal_states.ABSENT  # its intent was written, but it never left: nothing to check
        if self.journal is not None and state:
            self.journal.note([record.key], state)
        self._count(outcome.status)

    def lost(self, record: ContactRecord, outcome: Outcome, *, after: float | None = None,
             found: Outcome | None = None) -> None:  # fmt: skip
        """Sent, no answer: settled later, by time and the store; the journal keeps when the window began."""
        record = self.results[record.index] = replace(record, outcome=outcome)
        sent = self._sent.pop(record.key, None)
        if after is not None:
            sent = after - self.doubt.settle_s
        sent = sent if sent is not None else self._wall()
        self.doubt.add(record, sent, EARLIER if self._collecting else LOST)
        if found is not None:
            self._found[record.key] = found
        if self.journal is not None:
            self.journal.note([record.key], journal_states.SENDING, sent_at=sent)
        if not self._collecting:  # an earlier run's rows in doubt are counted when the progress starts
            self._count(Status.FAILED, in_doubt=True)

    async def in_store(self, record: ContactRecord) -> bool:
        return await present(self.reader, record)  # the run's reader: its read's contact ids are learnt too

    def absent(self, record: ContactRecord) -> None:
        if self.journal is not None:
            self.journal.note([record.key], journal_states.ABSENT)

    def show(self, text: str) -> None:
        if self.progress is not None:
            self.progress.detail = text

    def _count(self, status: Status, *, in_doubt: bool = False) -> None:
        if self.progress is not None:
            self.progress.update(status, in_doubt=in_doubt)
        else:
            self._early.append(status)

    # -- the run: send, settle the doubt, send again what is absent ------------------

    async def run(self, records: list[ContactRecord], channel: Channel) -> SendResult:
        """Send `records` (what `prepare` returned, less what the store has) through `channel`, then
        settle every row in doubt; outcomes go into `results`."""
        self._ahead = list(records)
        self._position = {r.key: i for i, r in enumerate(self._ahead)}
        progress = self.progress = Progress(len(records) + len(self.doubt) + len(self._early), quiet=self.quiet)
        for status in self._early:
            progress.update(status)
        for _ in range(len(self.doubt)):
            progress.update(Status.FAILED, in_doubt=True)
        resumed = self._resumed()
        if resumed:
            progress.note(resumed.pop("line"))
        result, resends = SendResult(stopped=None), 0
        try:
            if records:
                result = await channel.send(records, self, self.cancel)
            while len(self.doubt) and result.stopped is None:
                progress.note(self._waiting_line())
                checked = await self.doubt.settle(self.reader, self.cancel)
                again = self._apply(checked, resend=resends < policy.MAX_RESENDS)
                result.stopped = checked.stopped
                if again and result.stopped is not None:  # known absent, but the run stops: not sent
                    self._not_sent(again, result.stopped)
                elif again:
                    resends += 1
                    self.doubt.counts["absent_sent_again"] += len(again)
                    for record in again:  # each writes a new intent of its own before it leaves again
                        self._position.pop(record.key, None)
                    result = result.then(await channel.send(again, self, self.cancel))
        except asyncio.CancelledError:
            result.stopped = interrupted()
            raise
        finally:
            self._leave_in_doubt(result.stopped)
            progress.close()
        result.extra = {k: v for k, v in (("in_doubt", self.doubt.summary()), ("resumed", resumed)) if v}
        if self.collector is not None and self.collector is not channel:  # what it collected, if anything
            result.extra.update(self.collector.summary(False))
        result.sections = channel.summary(True)
        return result

    def _resumed(self) -> dict | None:
        """An earlier run's rows among this input's: said at the start, kept in the summary."""
        if self.journal is None or not (self._done_before or len(self.doubt)):
            return None
        wait = self.doubt.wait_s()
        done = f"{self._done_before} row{'s' if self._done_before != 1 else ''}"
        line = f"Continuing an earlier run (journal {self.journal.path}): {done} already done"
        if len(self.doubt):
            line += f", {len(self.doubt)} in doubt (sent, answer lost): checked in the store " + (
                f"within {wait:.0f} s, once their requests can no longer commit" if wait else "first"
            )
        return {"done": self._done_before, "in_doubt": len(self.doubt), "wait_s": round(wait, 1), "line": line}

    def _waiting_line(self) -> str:
        wait = self.doubt.wait_s()
        when = "now" if not wait else (
            f"by {time.strftime('%H:%M:%S', time.localtime(self._wall() + wait))} (in {wait:.0f} s), once their "
            f"requests can no longer commit (settle window {self.doubt.settle_s:g} s)"
        )  # fmt: skip
        rows = f"{len(self.doubt)} row{'s' if len(self.doubt) != 1 else ''}"
        return f"{rows} in doubt (sent, no answer): checking the store {when}"

    def _apply(self, checked: Checked, *, resend: bool) -> list[ContactRecord]:
        """What the store said about each row checked; returns the rows to send again."""
        again = []
        for d in checked.found:
            found = self._found.pop(d.record.key, None) or (FOUND_EARLIER if d.origin == EARLIER else FOUND_LOST)
            self._settled(d, found, "found_in_store", journal_states.CREATED)
        for d in checked.absent:
            self._found.pop(d.record.key, None)
            if resend:  # counted when it is sent
                again.append(d.record)
                self._settled(d, None, None, journal_states.ABSENT)
            else:
                outcome = Code.RETRIES_EXHAUSTED.outcome(detail=f"no answer {policy.MAX_RESENDS + 1} times, and the "
                                                                "store does not have it: not sent again")
                self._settled(d, outcome, "absent_not_sent", journal_states.ABSENT)
        for d, why in checked.unchecked:
            self._unchecked(d, why)
        return again

    def _settled(self, d: Doubt, outcome: Outcome | None, how: str | None, state: str) -> None:
        if how:
            self.doubt.counts[how] += 1
        if self.journal is not None:
            self.journal.note([d.record.key], state)
        self.progress.settled(outcome.status if outcome else None)
        if outcome is not None:
            self.results[d.record.index] = replace(d.record, outcome=outcome)

    def _not_sent(self, records: list[ContactRecord], stopped: RunStopped) -> None:
        self.doubt.counts["absent_not_sent"] += len(records)
        for record in records:
            self.progress.update(Status.NOT_SENT)
            self.results[record.index] = replace(record, outcome=not_sent(
                stopped.message, lead="not sent: absent from the store after its answer was lost, but "))

    def _leave_in_doubt(self, stopped: RunStopped | None) -> None:
        """Rows never checked stay in doubt: failed/ambiguous here, `sending` in the journal."""
        for d in self.doubt.take():
            self._unchecked(d, stopped.message if stopped else "the run stopped")

    def _unchecked(self, d: Doubt, why: str) -> None:
        self.doubt.counts["unchecked"] += 1
        lead = ("in doubt since an earlier run (sent, answer lost)" if d.origin == EARLIER
                else self.results.get(d.record.index, d.record).outcome.error or "sent, no answer")  # fmt: skip
        self.results[d.record.index] = replace(d.record, outcome=Code.AMBIGUOUS.outcome(
            attempts=d.record.outcome.attempts,
            detail=f"{lead}; not checked ({why}): the next run checks the store before sending it"))
