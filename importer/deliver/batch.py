"""`--mode batch`: contacts through Ecwid's batch API, a channel of the delivery engine (issues 13, 22).

    channel = BatchChannel(config, settings, reader, journal)
    records = await channel.collect(records, lane, cancel)   # an earlier run's open batches, first (either mode)
    result = await channel.send(records, lane, cancel)       # each record's answer told to the lane

Its rules as pure pieces (limits, poll timing, inner ids, inner answers) are importer.ecwid.batchpolicy;
its submits and polls on the wire are importer.ecwid.tickets. Here: records into batches, and the
batches' answers into per-record answers on the engine's lane (importer.deliver.engine).

- Up to `size` (≤ 500) creates go in one `POST /batch?stopOnFirstFailure=false&deduplicationKey=…`,
  each inner request's `id` a hash of the row's journal key, so its answer maps back to the row in this
  run or the next. The batch and its rows (`sending`, under the key) are committed to the journal
  before the submit (importer.journal.batches): that is the rows' intent.
- A submit is retried with the same key, even after an answer that was lost: Ecwid answers a repeated
  key with the first submit's ticket. Never once the key may have been forgotten (`dedup_s`, under
  Ecwid's hour): then the rows are lost, for the engine to check in the store.
- `in_flight` batches are submitted ahead, so Ecwid's queue never runs dry; Ecwid runs a store's
  batches first in, first out, so only the oldest ticket is polled (`GET /batch?ticket=…&escapedJson=true`),
  at the time its progress says it will be done (bounded below and above), doubling while queued.
- Each inner answer is read as a direct answer would be (importer.ecwid): 200 → created / not created;
  a 4xx is final; `NOT_EXECUTED` or 429 is known not executed: it goes into a later batch here; a 5xx,
  a timeout (Ecwid retried it itself) or no inner answer may have created the contact: the row is lost,
  and its ticket is finished, so it can no longer commit: the engine checks the store and sends
  through this channel again what is absent.
- Every request (submit, poll) goes through the run's one client (importer.ecwid.client, the
  StoreReader's): one Pacer, one retry loop.
- A stop (Ctrl-C, auth) abandons what is in flight. Ecwid runs a batch it accepted regardless (the
  importer offers no cancel of it): its rows are answered `failed`/`ambiguous`, and the next run
  collects the ticket the journal kept.

Only the batches themselves are journaled here (a batch, its key, its ticket); the rows' states are the engine's.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter, deque
from dataclasses import replace
from typing import Any

from importer.deliver.send import UNRESOLVED, Lane, SendConfig, SendResult
from importer.ecwid.answers import to_outcome
from importer.ecwid.batchpolicy import BatchSettings, inner_answer, inner_id
from importer.ecwid.policy import Action
from importer.ecwid.store import StoreReader
from importer.ecwid.tickets import Batch, Tickets
from importer.errors import Code, RunStopped, interrupted, not_sent
from importer.journal import Journal, OpenBatch
from importer.records import ContactRecord, Outcome, Status

log = logging.getLogger(__name__)


class BatchChannel:
    """Records into batches, batches' answers into per-record answers on the lane. One per run: its
    `stats` (the summary's `batch` section) and each row's batches count across its sends."""

    def __init__(self, config: SendConfig, settings: BatchSettings, reader: StoreReader, journal: Journal | None, *,
                 clock=time.time):  # fmt: skip
        self.config, self.settings, self.reader, self.batches, self.clock = config, settings, reader, journal, clock
        self.stats: Counter[str] = Counter()
        self.attempts: Counter[int] = Counter()  # record index -> batches it went in
        self.tickets = Tickets(reader.api, settings, self.stats, clock=clock, show=self._show)
        self.collected = False  # an earlier run's batches held rows of this input
        self.returned: list[ContactRecord] | None = None  # while collecting: known not executed, for the caller
        self.lane: Lane | None = None
        self._reset()

    def _reset(self) -> None:
        self.pending: deque[ContactRecord] = deque()
        self.finished: set[int] = set()  # record indexes answered in this pass
        self.stopped: RunStopped | None = None
        self.active: dict[asyncio.Task, Batch] = {}

    def summary(self, sending: bool) -> dict[str, Any]:
        section = {"size": self.settings.size, "in_flight": self.settings.in_flight,
                   "parallel": self.settings.parallel, **dict(sorted(self.stats.items()))}  # fmt: skip
        if sending:
            return {"mode": "batch", "batch": section}
        return {"earlier_batches": section} if self.collected else {}

    # -- an earlier run's batches --------------------------------------------------------
    async def collect(self, records: list[ContactRecord], lane: Lane,
                      cancel: asyncio.Event | None) -> list[ContactRecord]:  # fmt: skip
        """See the batches an earlier run left open to the end, for these records (polled, or submitted
        again with their key; older than the key's life: their rows lost). Returns the records left to
        send, in input order: those no open batch held, and those a batch did not execute.
        RunStopped if it had to stop (a ticket that makes no progress, Ctrl-C)."""
        by_key = {r.key: r for r in records}
        taken: set = set()
        resumed: list[Batch] = []
        for open_batch in self.batches.open_batches() if self.batches else ():
            rows = [by_key[k] for k in open_batch.rows if k in by_key]
            taken.update(r.key for r in rows)
            if rows:
                resumed += self._resume(open_batch, rows, lane)
            else:  # none of its rows in this run: left open for the run that has them
                self.stats["left_batches"] += 1
        if not taken:
            return records
        self.collected, self.returned = True, []
        try:
            result = await self._go(resumed, lane, cancel)
        finally:
            back, self.returned = {r.key for r in self.returned}, None
        if result.stopped is not None:
            raise result.stopped
        return [r for r in records if r.key not in taken or r.key in back]

    def _resume(self, open_batch: OpenBatch, records: list[ContactRecord], lane: Lane) -> list[Batch]:
        if open_batch.ticket is None and self.clock() - open_batch.created_at >= self.settings.dedup_s:
            # Its key may be forgotten, so it is not submitted again; no ticket runs it now: checkable at once.
            self.batches.batch_done(open_batch.key)
            self.stats["expired_batches"] += 1
            now = self.clock()
            for record in records:
                lane.lost(record, Code.AMBIGUOUS.outcome(detail=f"batch {open_batch.key}: its deduplication key "
                                                                "may have expired, so it is not submitted again"),
                          after=now)  # fmt: skip
            return []
        self.stats["resumed_batches"] += 1
        for record in records:
            self.attempts[record.index] += 1
        log.info("resuming batch %s (%d rows): %s", open_batch.key, len(records),
                 f"polling ticket {open_batch.ticket}" if open_batch.ticket else "submitting it again with its key")
        return [Batch(open_batch.key, records, open_batch.created_at, open_batch.ticket, journaled=True,
                      maybe_sent=True)]  # fmt: skip

    # -- the run -------------------------------------------------------------------
    async def send(self, records: list[ContactRecord], lane: Lane, cancel: asyncio.Event | None = None) -> SendResult:
        """Every record through the batch API; one answer (or lost) per record on `lane`."""
        for record in records:
            if record.customer_id is None:
                lane.answer(record, UNRESOLVED)
            else:
                self.pending.append(record)
        return await self._go([], lane, cancel)

    async def _go(self, resumed: list[Batch], lane: Lane, cancel: asyncio.Event | None) -> SendResult:
        started = time.monotonic()
        api = self.reader.api
        requests_before, limited_before = api.requests, api.limited
        self.lane = lane
        stopper = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
        try:
            await self._send(resumed, stopper)
        except RunStopped as exc:
            self._stop(exc)
        finally:
            if stopper is not None:
                stopper.cancel()
            await self._abandon()
        # rate_limited: polls too; submits counted apart
        result = SendResult(self.stopped, api.requests - requests_before, api.limited - limited_before,
                            time.monotonic() - started)  # fmt: skip
        self._reset()
        return result

    async def _send(self, resumed: list[Batch], stopper: asyncio.Future | None) -> None:
        ahead: asyncio.Future | None = None  # the batch submitted before: Ecwid runs it first
        queue = deque(resumed)
        while True:
            while self.stopped is None and len(self.active) < self.settings.in_flight and (queue or self.pending):
                batch = queue.popleft() if queue else self._next_batch()
                done = asyncio.get_running_loop().create_future()
                self.active[asyncio.ensure_future(self._batch(batch, ahead, done))] = batch
                ahead = done
            if not self.active or self.stopped is not None:
                return
            waiting = set(self.active) | ({stopper} if stopper is not None else set())
            finished, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in finished - {stopper}:
                if task.exception() is not None:  # RunStopped, or a bug: its batch stays for _abandon
                    raise task.exception()
                del self.active[task]
            if stopper is not None and stopper.done():
                self._stop(interrupted())

    def _next_batch(self) -> Batch:
        records, ids = [], set()
        skipped: list[ContactRecord] = []
        while self.pending and len(records) < self.settings.size:
            record = self.pending.popleft()
            if inner_id(record) in ids:  # a hash collision within one batch: it goes in the next
                skipped.append(record)
                continue
            ids.add(inner_id(record))
            records.append(record)
        self.pending.extendleft(reversed(skipped))
        return Batch(uuid.uuid4().hex, records, self.clock())

    # -- one batch -------------------------------------------------------------------
    async def _batch(self, batch: Batch, ahead: asyncio.Future | None, done: asyncio.Future) -> None:
        try:
            if batch.ticket is None and not await self._submit(batch):
                return
            if ahead is not None:
                await ahead  # Ecwid runs our batches in order: poll this one once the one before is done
            answer = await self.tickets.poll(batch, followed=ahead is not None)
        finally:
            if not done.done():
                done.set_result(None)
        await self._settle(batch, answer)
        if self.batches is not None:
            self.batches.batch_done(batch.key)

    async def _submit(self, batch: Batch) -> bool:
        """Journal, then submit (retried with the same key); False if the rows were finished instead."""
        for record in batch.records:
            self.attempts[record.index] += 1
        if self.batches is not None and not batch.journaled:
            await self.batches.begin_batch(batch.key, [r.key for r in batch.records], batch.created_at)
            batch.journaled = True
        self.stats["batches"] += 1
        self.stats["inner_requests"] += len(batch.records)
        answer = await self.tickets.submit(batch)
        if answer.action is Action.SUCCESS:
            batch.ticket = answer.value
            if self.batches is not None:
                self.batches.batch_submitted(batch.key, answer.value)
            return True
        if batch.maybe_sent:  # it may be queued at Ecwid: the journal keeps it for the next run
            self._finish_all(batch.records, Code.AMBIGUOUS.outcome(
                http_status=answer.status, attempts=1, detail=f"batch {batch.key}: {answer.detail}; Ecwid may have "
                "it: the next run submits it again with its key, or checks the store"))  # fmt: skip
            return False
        code = Code.RETRIES_EXHAUSTED if answer.action is Action.RETRY else Code.REJECTED
        self._finish_all(batch.records, code.outcome(http_status=answer.status, attempts=1,
                                                     detail=f"batch not accepted: {answer.detail}"))
        if self.batches is not None:
            self.batches.batch_done(batch.key)
        return False

    def _show(self) -> None:
        statuses = Counter(b.status or "SUBMITTING" for b in self.active.values())
        running = [b for b in self.active.values() if b.status == "IN_PROGRESS"]
        text = f"batches: {statuses['IN_PROGRESS']} running"
        if running:
            text += f" ({running[0].completed}/{len(running[0].records)})"
        text += f", {statuses['QUEUED'] + statuses['']} queued at Ecwid"
        if self.lane is not None:
            self.lane.show(text)

    # -- answers ---------------------------------------------------------------------
    async def _settle(self, batch: Batch, answer: dict | None) -> None:
        responses = {}
        for item in (answer or {}).get("responses") or ():
            if isinstance(item, dict):
                responses[str(item.get("id"))] = item
        doubt: list[ContactRecord] = []
        again: list[ContactRecord] = []
        stop: RunStopped | None = None
        for record in batch.records:
            item = responses.get(inner_id(record))
            if item is None:  # no answer for it (ticket lost, or missing from the answer)
                doubt.append(record)
                continue
            if item.get("status") == "NOT_EXECUTED":
                self.stats["not_executed"] += 1
                again.append(record)
                continue
            inner = inner_answer(item, self.config.token, self.config.store_id)
            if inner.status == 429:
                again.append(record)
            elif inner.action is Action.SUCCESS or inner.action is Action.FAIL:
                self._finish(record, to_outcome(inner, self.attempts[record.index]))
            elif inner.action is Action.STOP:
                stop = stop or inner.stop
                self._finish(record, to_outcome(inner, self.attempts[record.index]))
            else:  # 5xx or timeout that Ecwid retried: it may have been created
                self.stats["inner_in_doubt"] += 1
                doubt.append(record)
        now = self.clock()  # its ticket is finished: nothing of it can commit after now
        for record in doubt:
            attempts = self.attempts[record.index]
            found = Outcome(Status.CREATED, 200, 1, attempts,
                            error="confirmed in the store: its batch gave no clear answer")
            self._finish(record, Code.AMBIGUOUS.outcome(attempts=attempts, detail="no clear answer in its batch"),
                         lost=found, at=now)
        for record in again:
            self._again(record)
        if stop is not None:
            raise stop

    def _again(self, record: ContactRecord) -> None:
        """Into a later batch, while its attempts last; the journal knows it is not at Ecwid."""
        self.lane.absent(record)
        if self.returned is not None:  # collecting: not at Ecwid, the caller sends it
            self.returned.append(record)
        elif self.attempts[record.index] > self.config.retries:
            self._finish(record, Code.RETRIES_EXHAUSTED.outcome(
                attempts=self.attempts[record.index], detail=f"not done in {self.attempts[record.index]} batches"))
        else:
            self.stats["resent"] += 1
            self.pending.appendleft(record)

    # -- the end ---------------------------------------------------------------------
    def _stop(self, reason: RunStopped) -> None:
        if self.stopped is None:
            self.stopped = reason
            log.info("stopping the run: %s", reason.message)

    async def _abandon(self) -> None:
        """After a stop: batches Ecwid may have are left to it (the next run collects them); the rest not_sent."""
        for task in self.active:
            task.cancel()
        await asyncio.gather(*self.active, return_exceptions=True)
        why = self.stopped.message if self.stopped else "the run stopped"
        unsent = not_sent(why)
        while self.pending:  # rows between batches (resent ones too): not at Ecwid
            self._finish(self.pending.popleft(), unsent)
        for batch in self.active.values():
            unfinished = [r for r in batch.records if r.index not in self.finished]
            if not unfinished:
                continue
            if batch.ticket is None and not (batch.maybe_sent or batch.on_wire):
                self._finish_all(unfinished, unsent)
                continue
            self.stats["left_at_ecwid"] += 1
            where = f"ticket {batch.ticket}" if batch.ticket else f"batch {batch.key}"
            self._finish_all(unfinished, Code.AMBIGUOUS.outcome(
                detail=f"handed to Ecwid in {where}, which Ecwid runs whatever happens here (there is no cancel "
                       f"of an accepted batch); {why}: run the same command again to collect its results"))
        self.active.clear()

    def _finish_all(self, records: list[ContactRecord], outcome: Outcome) -> None:
        for record in records:
            self._finish(record, replace(outcome, attempts=self.attempts[record.index] or outcome.attempts))

    def _finish(self, record: ContactRecord, outcome: Outcome, *, lost: Outcome | None = None,
                at: float | None = None) -> None:  # fmt: skip
        """Its answer on the lane, once per record whatever path a stop takes; `lost`: in doubt, found as that."""
        if record.index in self.finished:
            return
        self.finished.add(record.index)
        if lost is not None:
            self.lane.lost(record, outcome, after=at, found=lost)
        else:
            self.lane.answer(record, outcome)
