"""Exactly once: the journal before and after each create, the store when in doubt.

Ecwid's create is not idempotent and returns no id. The guard sits around the
sender (as its hooks): it skips what the journal says was created, writes each
intent before its request leaves, records each outcome after, and settles doubt
(a lost answer, a row a crashed run left in `sending`) by reading the customer's
contacts once the request can no longer commit (doubt.py), never by resending
blindly. `run` is the whole of it: send, settle the doubt, send again what is absent.
`BatchGuard` (--mode batch) differs only in who settles doubt: the batches do (importer.deliver.batch).

    guard = Guard(journal, reader, skip_existing=False, settle_s=60)
    to_send = guard.classify(records, results)
    result = await guard.run(to_send, results, functools.partial(send_records, config=config, ...))
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from importer import journal as journal_states
from importer.deliver.doubt import EARLIER, LOST, Checked, Doubt, DoubtBook
from importer.deliver.progress import Progress
from importer.deliver.send import SendHooks, SendResult
from importer.ecwid import policy
from importer.ecwid.store import StoreReadError, StoreReader
from importer.errors import Code, RunStopped, interrupted, not_sent
from importer.journal import Entry, Journal
from importer.records import ContactRecord, Outcome, Status

log = logging.getLogger("importer")

# Intents are committed this many records ahead of the sender, in one commit, so no
# request waits for an fsync; a crash leaves at most this many unsent rows in
# `sending`, which the next run checks against the store (one read per customer).
LEASE = 32

# an earlier run's row in doubt that the store has
FOUND_EARLIER = Outcome(Status.CREATED, error="confirmed in the store: an earlier run created it but its answer was lost")


class Guard:
    """Exactly once: the journal before and after each create, the store when in doubt."""

    _recheck: frozenset | set = frozenset()  # BatchGuard's

    def __init__(self, journal: Journal | None, reader: StoreReader, *, skip_existing: bool,
                 settle_s: float = policy.SETTLE_WINDOW_S, wall: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep):  # fmt: skip
        self.journal = journal
        self.reader = reader
        self.skip_existing = skip_existing
        self.doubt = DoubtBook(settle_s, wall=wall, sleep=sleep)
        self._wall = wall
        self._sent: dict = {}  # key -> when its request last left (Unix time), until its outcome
        self._done_before = 0  # rows the journal says an earlier run created
        # Records sent without a store check, in the order the sender takes them: their
        # intents are leased ahead. Records checked first write their intent on their own.
        self._ahead: list[ContactRecord] = []
        self._position: dict = {}
        self._planned = 0  # intents up to here are on their way to the journal ...
        self._durable = 0  # ... and up to here committed
        self._leases: list[tuple[int, asyncio.Future]] = []

    def classify(self, records: list[ContactRecord], results: dict) -> list[ContactRecord]:
        """Finish what the journal says was created; set aside what is in doubt; return the rest."""
        if self.journal is None:
            return records
        entries = self.journal.lookup(r.key for r in records)
        started: dict[str, str] = {}
        ended: dict[str, bool] = {}
        rest = []
        for record in records:
            entry = entries.get(record.key)
            if entry is not None and entry.state == journal_states.CREATED:
                when = started.setdefault(entry.run_id, self.journal.run_started_at(entry.run_id))
                results[record.index] = replace(record, outcome=Code.ALREADY_IMPORTED.outcome(
                    run_id=entry.run_id, when=when or entry.updated_at))
                self._done_before += 1
                continue
            if entry is not None and entry.state == journal_states.SENDING and self._earlier(record, entry, ended):
                continue
            rest.append(record)
        self.plan(rest)
        return rest

    def plan(self, records: list[ContactRecord]) -> None:
        """The records that will be sent, in order (what `classify` returned, less what the store has):
        their intents are leased ahead of the sender."""
        if not self.skip_existing:
            self._ahead = [r for r in records if r.key not in self._recheck]
            self._position = {r.key: i for i, r in enumerate(self._ahead)}

    @property
    def rechecks(self) -> frozenset:
        """Keys of an earlier run's rows in doubt that are checked in the store just before they are sent
        (BatchGuard); a Guard settles them in its doubt book instead."""
        return frozenset(self._recheck)

    def _earlier(self, record: ContactRecord, entry: Entry, ended: dict) -> bool:
        """An earlier run's row left `sending`: into the doubt book (True: set aside from the send)."""
        if record.customer_id is None:
            return False
        finished = ended.setdefault(entry.run_id, self.journal.run_finished(entry.run_id))
        self.doubt.add(record, self._sent_before(entry, finished), EARLIER)
        return True

    def _lost(self, record: ContactRecord, sent: float | None) -> None:
        """Sent, no answer: settled later, by time and the store; the journal keeps when it left."""
        sent = sent if sent is not None else self._wall()
        self.doubt.add(record, sent, LOST)
        if self.journal is not None:
            self.journal.note([record.key], journal_states.SENDING, sent_at=sent)

    def _sent_before(self, entry: Entry, run_finished: bool) -> float:
        """When an earlier run's request in doubt left, at the latest: as that run recorded, if it
        ended in order; else before this run could open the journal (the dead run held its lock)."""
        if run_finished and entry.sent_at is not None:
            return entry.sent_at
        return self.journal.opened_at

    def hooks(self) -> SendHooks:
        precheck = self._precheck if self.skip_existing or self._recheck else None
        return SendHooks(before_send=self._before_send, precheck=precheck, absent=self._absent)

    def _absent(self, record: ContactRecord) -> None:
        """--mode batch: a row its batch did not create (the store checked), going into a later batch."""
        if self.journal is not None:
            self.journal.note([record.key], journal_states.ABSENT)

    async def _precheck(self, record: ContactRecord) -> Outcome | None:
        doubt = record.key in self._recheck  # --mode batch: an earlier run's row in doubt
        if record.customer_id is None or not (self.skip_existing or doubt):
            return None
        try:
            present = await self.reader.has_contact(record)
        except StoreReadError as exc:
            if doubt:  # never resend what may exist
                return Code.AMBIGUOUS.outcome(
                    detail=f"in doubt since an earlier run, and the store could not be checked: {exc}")
            return Code.STORE_CHECK_FAILED.outcome(context="--skip-existing could not check the store", reason=exc)
        if not present:
            return None
        if doubt:
            if self.journal is not None:
                self.journal.note([record.key], journal_states.CREATED)
            return FOUND_EARLIER
        return Code.EXISTS_IN_STORE.outcome(detail="the store already has this contact")

    async def _before_send(self, record: ContactRecord) -> None:
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

    def _leased(self, record: ContactRecord) -> bool:
        return self._position.get(record.key, self._planned) < self._planned

    def _lease(self) -> None:
        start, end = self._planned, min(self._planned + LEASE, len(self._ahead))
        self._planned = end
        keys = [r.key for r in self._ahead[start:end]]
        self.journal.note(keys, journal_states.SENDING)
        commit = asyncio.ensure_future(self.journal.commit())

        def committed(done: asyncio.Future) -> None:  # commits finish in order
            if not done.cancelled() and done.exception() is None:
                self._durable = max(self._durable, end)
                self._leases = [(e, c) for e, c in self._leases if e > self._durable]

        commit.add_done_callback(committed)
        self._leases.append((end, commit))

    def on_result(self, results: dict):
        journal = self.journal

        def done(record: ContactRecord) -> None:
            results[record.index] = record
            sent = self._sent.pop(record.key, None)  # only rows on the wire are kept: memory stays flat
            if record.outcome.error_code == Code.AMBIGUOUS:  # no answer
                self._lost(record, sent)
                return
            state = _JOURNAL_STATE.get(record.outcome.status)
            if record.outcome.status == Status.NOT_SENT and self._leased(record):
                state = journal_states.ABSENT  # its intent was written, but it never left: nothing to check
            if journal is not None and state:
                journal.note([record.key], state)

        return done

    # -- the run: send, settle the doubt, send again what is absent ------------------

    async def run(self, records: list[ContactRecord], results: dict, send: Callable[..., Awaitable[SendResult]], *,
                  cancel: asyncio.Event | None = None, quiet: bool = False) -> SendResult:  # fmt: skip
        """Send `records` (what `classify` returned) with `send` (send_records with the run's config,
        client and pacer bound), then settle every row in doubt; outcomes go into `results`."""
        progress = Progress(len(records) + len(self.doubt), quiet=quiet)
        for _ in range(len(self.doubt)):
            progress.update(Status.FAILED, in_doubt=True)
        resumed = self._resumed()
        if resumed:
            progress.note(resumed.pop("line"))
        on_result, resends = self.on_result(results), 0
        result = SendResult(stopped=None)
        try:
            if records:
                result = await send(records, on_result=on_result, hooks=self.hooks(), progress=progress)
            while len(self.doubt) and result.stopped is None:
                progress.note(self._waiting_line())
                checked = await self.doubt.settle(self.reader, cancel)
                again = self._apply(checked, results, progress, resend=resends < policy.MAX_RESENDS)
                result.stopped = checked.stopped
                if again and result.stopped is not None:  # known absent, but the run stops: not sent
                    self._not_sent(again, results, progress, result.stopped)
                elif again:
                    resends += 1
                    self.doubt.counts["absent_sent_again"] += len(again)
                    for record in again:  # each writes a new intent of its own before it leaves again
                        self._position.pop(record.key, None)
                    more = await send(again, on_result=on_result, hooks=self.hooks(), progress=progress)
                    result = _merged(result, more)
        except asyncio.CancelledError:
            result.stopped = interrupted()
            raise
        finally:
            self._leave_in_doubt(results, result.stopped)
            progress.close()
        result.extra = {k: v for k, v in (("in_doubt", self.doubt_summary()), ("resumed", resumed)) if v}
        return result

    def _resumed(self) -> dict | None:
        """An earlier run's rows among this input's: said at the start, kept in the summary."""
        if self.journal is None or not (self._done_before or len(self.doubt)):
            return None
        wait = max(0.0, (self.doubt.last_deadline() or 0.0) - self._wall())
        line = f"Continuing an earlier run (journal {self.journal.path}): {self._done_before} rows already done"
        if len(self.doubt):
            line += f", {len(self.doubt)} in doubt (sent, answer lost): checked in the store " + (
                f"within {wait:.0f} s, once their requests can no longer commit" if wait else "first"
            )
        return {"done": self._done_before, "in_doubt": len(self.doubt), "wait_s": round(wait, 1), "line": line}

    def _waiting_line(self) -> str:
        wait = max(0.0, (self.doubt.last_deadline() or 0.0) - self._wall())
        when = "now" if not wait else (
            f"by {time.strftime('%H:%M:%S', time.localtime(self._wall() + wait))} (in {wait:.0f} s), once their "
            f"requests can no longer commit (settle window {self.doubt.settle_s:g} s)"
        )  # fmt: skip
        return f"{len(self.doubt)} rows in doubt (sent, no answer): checking the store {when}"

    def _apply(self, checked: Checked, results: dict, progress: Progress, *, resend: bool) -> list[ContactRecord]:
        """What the store said about each row checked; returns the rows to send again."""
        again = []
        for d in checked.found:
            found = FOUND_EARLIER if d.origin == EARLIER else Outcome(
                Status.CREATED, error="no answer, but the store has it (checked after the settle window)")
            self._settled(d, found, results, progress, "found_in_store",
                          journal_states.CREATED)  # fmt: skip
        for d in checked.absent:
            if resend:  # counted when it is sent
                again.append(d.record)
                self._settled(d, None, results, progress, None, journal_states.ABSENT)
            else:
                outcome = Code.RETRIES_EXHAUSTED.outcome(detail=f"no answer {policy.MAX_RESENDS + 1} times, and the "
                                                                "store does not have it: not sent again")
                self._settled(d, outcome, results, progress, "absent_not_sent", journal_states.ABSENT)
        for d, why in checked.unchecked:
            self._unchecked(d, why, results)
        return again

    def _settled(self, d: Doubt, outcome: Outcome | None, results: dict, progress: Progress, how: str | None,
                 state: str) -> None:  # fmt: skip
        if how:
            self.doubt.counts[how] += 1
        if self.journal is not None:
            self.journal.note([d.record.key], state)
        progress.settled(outcome.status if outcome else None)
        if outcome is not None:
            results[d.record.index] = replace(d.record, outcome=outcome)

    def _not_sent(self, records: list[ContactRecord], results: dict, progress: Progress, stopped: RunStopped) -> None:
        self.doubt.counts["absent_not_sent"] += len(records)
        for record in records:
            progress.update(Status.NOT_SENT)
            results[record.index] = replace(record, outcome=not_sent(
                stopped.message, lead="not sent: absent from the store after its answer was lost, but "))

    def give_up(self, results: dict, stopped: RunStopped) -> None:
        """The run stopped before sending: the rows in doubt stay in doubt (see _leave_in_doubt)."""
        self._leave_in_doubt(results, stopped)

    def _leave_in_doubt(self, results: dict, stopped: RunStopped | None) -> None:
        """Rows never checked stay in doubt: failed/ambiguous here, `sending` in the journal."""
        for d in self.doubt.take():
            self._unchecked(d, stopped.message if stopped else "the run stopped", results)

    def _unchecked(self, d: Doubt, why: str, results: dict) -> None:
        self.doubt.counts["unchecked"] += 1
        lead = ("in doubt since an earlier run (sent, answer lost)" if d.origin == EARLIER
                else results.get(d.record.index, d.record).outcome.error or "sent, no answer")  # fmt: skip
        results[d.record.index] = replace(d.record, outcome=Code.AMBIGUOUS.outcome(
            attempts=d.record.outcome.attempts,
            detail=f"{lead}; not checked ({why}): the next run checks the store before sending it"))

    def doubt_summary(self) -> dict | None:
        """How many rows were in doubt, and how each was settled (summary.json's `in_doubt`)."""
        counts = self.doubt.counts
        if not self.doubt.keys:
            return None
        return {
            "rows": len(self.doubt.keys), "from_earlier_runs": counts[EARLIER], "answers_lost": counts[LOST],
            "found_in_store": counts["found_in_store"], "absent_sent_again": counts["absent_sent_again"],
            "absent_not_sent": counts["absent_not_sent"], "unchecked": counts["unchecked"],
            "settle_window_s": self.doubt.settle_s,
        }  # fmt: skip


def _merged(first: SendResult, then: SendResult) -> SendResult:
    """Two send passes of one run as one."""
    elapsed, requests = first.elapsed_s + then.elapsed_s, first.requests + then.requests
    return SendResult(
        stopped=then.stopped, requests=requests, rate_limited=first.rate_limited + then.rate_limited,
        ambiguous=then.ambiguous, elapsed_s=elapsed, counts=then.counts,
        achieved_rate_per_minute=requests * 60.0 / elapsed if elapsed else 0.0,
    )  # fmt: skip


class BatchGuard(Guard):
    """--mode batch: rows in doubt stay with the batches, which settle them their own way (open tickets
    polled, a lost submit resubmitted with its key); an earlier run's rows in doubt are checked in the
    store just before they would be sent again (the guard's precheck), never waited for."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._recheck = set()

    def _earlier(self, record: ContactRecord, entry: Entry, ended: dict) -> bool:
        self._recheck.add(record.key)
        return False

    def _lost(self, record: ContactRecord, sent: float | None) -> None:
        pass  # the row stays `sending` under its batch's key: the next run polls the ticket, or checks the store


_JOURNAL_STATE = {
    Status.CREATED: journal_states.CREATED,
    Status.NOT_CREATED: journal_states.NOT_CREATED,
    Status.FAILED: journal_states.FAILED,
}
