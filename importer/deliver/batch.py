"""`--mode batch`: contacts through Ecwid's batch API, exactly once (issue 13).

    result = await send_batches(records, config, settings, reader=..., on_result=..., hooks=..., ...)

Its rules as pure pieces (limits, poll timing, inner ids, inner answers) are importer.ecwid.batchpolicy;
its submits and polls on the wire are importer.ecwid.tickets. Here: each row's life in batches.

- Up to `size` (≤ 500) creates go in one `POST /batch?stopOnFirstFailure=false&deduplicationKey=…`,
  each inner request's `id` a hash of the row's journal key, so its answer maps back to the row in this
  run or the next. The batch and its rows (`sending`, under the key) are committed to the journal
  before the submit (importer.journal.batches).
- A submit is retried with the same key, even after an answer that was lost: Ecwid answers a repeated
  key with the first submit's ticket. Never once the key may have been forgotten (`dedup_s`, under
  Ecwid's hour): then the rows are in doubt, checked against the store.
- `in_flight` batches are submitted ahead, so Ecwid's queue never runs dry; Ecwid runs a store's
  batches first in, first out, so only the oldest ticket is polled (`GET /batch?ticket=…&escapedJson=true`),
  at the time its progress says it will be done (bounded below and above), doubling while queued.
- Each inner answer is read as a direct answer would be (importer.ecwid): 200 → created / not created;
  a 4xx is final; `NOT_EXECUTED` or 429 goes into a later batch; a 5xx or timeout (Ecwid retried it
  itself) may have created the contact: the customer's contacts are read before it goes into a later batch.
- Every request (submit, poll, store check) goes through the run's one client (importer.ecwid.client,
  the StoreReader's): one Pacer, one retry loop.
- A stop (Ctrl-C, auth) abandons what is in flight. Ecwid runs a batch it accepted regardless (the
  importer offers no cancel of it): its rows are reported `failed`/`ambiguous`, and the next run polls
  the ticket the journal kept.

The rows' states are the guard's to write (its `on_result` and `hooks`, importer.deliver.guard); here only the
batches themselves are journaled (importer.journal.batches: a batch, its key, its ticket).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from importer.deliver.doubt import in_store
from importer.deliver.progress import Progress
from importer.deliver.send import UNRESOLVED, SendConfig, SendHooks, SendResult
from importer.deliver.tasks import bounded
from importer.ecwid.answers import stop_reason, to_outcome
from importer.ecwid.batchpolicy import BatchSettings, inner_answer, inner_id
from importer.ecwid.policy import Action
from importer.ecwid.store import StoreReadError, StoreReader
from importer.ecwid.tickets import Batch, Tickets
from importer.errors import RunStopped, interrupted, not_sent
from importer.journal import Journal, OpenBatch
from importer.records import Code, ContactRecord, Outcome, Status

log = logging.getLogger(__name__)

@dataclass
class BatchResult(SendResult):
    batch: dict[str, Any] = field(default_factory=dict)  # the summary's "batch" section
    returned: list[ContactRecord] = field(default_factory=list)  # `collect`: the rows for the caller to send


async def send_batches(records: list[ContactRecord], config: SendConfig, settings: BatchSettings, *,
                       reader: StoreReader, on_result: Callable[[ContactRecord], None], hooks: SendHooks | None = None,
                       journal: Journal | None = None, cancel: asyncio.Event | None = None,
                       clock: Callable[[], float] = time.time, collect: bool = False) -> BatchResult:  # fmt: skip
    """Send every record through the batch API; `on_result` once per record. See the module docstring.

    `collect` (--mode direct after a batch run): only the batches an earlier run left open are seen to
    the end, for these records (polled, or checked in the store); every other row, and every row to be
    sent again, is not sent but handed back in `result.returned`, without an `on_result`."""
    run = _Run(config, settings, reader, on_result, hooks or SendHooks(), journal, clock, len(records))
    run.collect = collect
    return await run.go(records, cancel)


class _Run:
    def __init__(self, config, settings, reader, on_result, hooks, journal, clock, total):
        self.config: SendConfig = config
        self.settings: BatchSettings = settings
        self.reader: StoreReader = reader
        self.hooks: SendHooks = hooks
        self.batches = journal
        self.clock = clock
        self.progress = Progress(total, quiet=config.quiet)
        self._on_result = on_result
        self.pending: deque[ContactRecord] = deque()
        self.attempts: Counter[int] = Counter()  # record index -> batches it went in
        self.finished: set[int] = set()  # record indexes reported to on_result
        self.stopped: RunStopped | None = None
        self.active: dict[asyncio.Task, Batch] = {}
        self.stats: Counter[str] = Counter()
        self.tickets = Tickets(reader.api, settings, self.stats, clock=clock, show=self._show)
        self.result = BatchResult(stopped=None)
        self.cancel: asyncio.Event | None = None
        self.collect = False

    # -- the run -------------------------------------------------------------------
    async def go(self, records: list[ContactRecord], cancel: asyncio.Event | None) -> BatchResult:
        started = time.monotonic()
        requests_before, limited_before = self.reader.requests, self.reader.limited
        self.cancel = cancel
        stopper = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
        try:
            resumed = await self._prepare(records)
            await self._send(resumed, stopper)
        except RunStopped as exc:
            self._stop(exc)
        finally:
            if stopper is not None:
                stopper.cancel()
            await self._abandon()
            self.progress.close()
        elapsed = time.monotonic() - started
        result = self.result
        result.stopped = self.stopped
        result.requests = self.reader.requests - requests_before
        result.rate_limited += self.reader.limited - limited_before  # polls and reads; submits counted apart
        result.elapsed_s = elapsed
        result.achieved_rate_per_minute = result.requests * 60.0 / elapsed if elapsed > 0 else 0.0
        result.counts = dict(self.progress.counts)
        result.batch = {"size": self.settings.size, "in_flight": self.settings.in_flight,
                        "parallel": self.settings.parallel, **dict(sorted(self.stats.items()))}  # fmt: skip
        return result

    async def _prepare(self, records: list[ContactRecord]) -> list[Batch]:
        """Batches an earlier run left open (to poll or resubmit); rows checked first; the rest pending."""
        by_key = {r.key: r for r in records}
        resumed: list[Batch] = []
        for open_batch in self.batches.open_batches() if self.batches else ():
            batch = self._resume(open_batch, by_key)
            if batch is not None:
                resumed.append(batch)
        taken = {r.key for b in resumed for r in b.records}
        to_check: list[ContactRecord] = []
        for record in records:
            if record.key in taken:
                continue
            if self.collect:
                self.result.returned.append(record)
            elif record.customer_id is None:
                self._finish(record, UNRESOLVED)
            elif self.hooks.precheck is not None:
                to_check.append(record)
            else:
                self.pending.append(record)
        if to_check:  # in doubt since an earlier run, or --skip-existing: the store first
            checked: dict[int, Outcome | None] = {}

            async def check(record: ContactRecord) -> None:
                checked[record.index] = await _maybe_await(self.hooks.precheck(record))

            await bounded(to_check, check, self.config.concurrency, self.cancel)
            for record in to_check:
                outcome = checked[record.index]
                if outcome is None:
                    self.pending.append(record)
                else:
                    self._finish(record, outcome)
        return resumed

    def _resume(self, open_batch: OpenBatch, by_key: dict) -> Batch | None:
        records = [by_key[k] for k in open_batch.rows if k in by_key]
        age = self.clock() - open_batch.created_at
        if not records:  # none of its rows in this run: left open for the run that has them
            self.stats["left_batches"] += 1
            return None
        if open_batch.ticket is None and age >= self.settings.dedup_s:
            # Its key may be forgotten: its rows are in doubt (checked by the guard).
            self.batches.batch_done(open_batch.key)
            self.stats["expired_batches"] += 1
            return None
        self.stats["resumed_batches"] += 1
        for record in records:
            self.attempts[record.index] += 1
        log.info("resuming batch %s (%d rows): %s", open_batch.key, len(records),
                 f"polling ticket {open_batch.ticket}" if open_batch.ticket else "submitting it again with its key")
        return Batch(open_batch.key, records, open_batch.created_at, open_batch.ticket, journaled=True,
                      maybe_sent=True)  # fmt: skip

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
        self.progress.detail = text

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
            inner = inner_answer(item, self.config.token)
            if inner.status == 429:
                again.append(record)
            elif inner.action is Action.SUCCESS or inner.action is Action.FAIL:
                self._finish(record, to_outcome(inner, self.attempts[record.index]))
            elif inner.action is Action.STOP:
                stop = stop or stop_reason(inner, self.config.store_id)
                self._finish(record, to_outcome(inner, self.attempts[record.index]))
            else:  # 5xx or timeout that Ecwid retried: it may have been created
                self.stats["inner_in_doubt"] += 1
                doubt.append(record)
        again += await self._check(doubt)
        for record in again:
            self._again(record)
        if stop is not None:
            raise stop

    async def _check(self, records: list[ContactRecord]) -> list[ContactRecord]:
        """Read each customer's contacts once (fresh); the created are finished, the absent returned."""
        if not records:
            return []
        by_customer: dict[int, list[ContactRecord]] = {}
        for record in records:
            by_customer.setdefault(record.customer_id, []).append(record)
        failed: dict[int, StoreReadError] = {}
        present: dict[int, bool] = {}

        async def read(cid: int) -> None:
            try:
                found = await in_store(self.reader, cid, by_customer[cid])
            except StoreReadError as exc:
                failed[cid] = exc
            else:
                present.update((r.index, yes) for r, yes in zip(by_customer[cid], found))

        await bounded(sorted(by_customer), read, self.config.concurrency)
        absent = []
        for record in records:
            if record.customer_id in failed:
                self._finish(record, Code.AMBIGUOUS.outcome(
                    attempts=self.attempts[record.index],
                    detail=f"no clear answer in its batch, and the store could not be checked: "
                           f"{failed[record.customer_id]}"))  # fmt: skip
            elif present[record.index]:
                self._finish(record, Outcome(Status.CREATED, 200, 1, self.attempts[record.index],
                                             error="confirmed in the store: its batch gave no clear answer"))
            else:
                absent.append(record)
        return absent

    def _again(self, record: ContactRecord) -> None:
        """Into a later batch, while its attempts last; the journal knows it is not at Ecwid."""
        if self.hooks.absent is not None:
            self.hooks.absent(record)
        if self.collect:  # not at Ecwid: the caller sends it
            self.result.returned.append(record)
            return
        if self.attempts[record.index] > self.config.retries:
            self._finish(record, Code.RETRIES_EXHAUSTED.outcome(
                attempts=self.attempts[record.index], detail=f"not done in {self.attempts[record.index]} batches"))
            return
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

    def _finish(self, record: ContactRecord, outcome: Outcome) -> None:
        if record.index in self.finished:  # once per record, whatever path a stop takes
            return
        self.finished.add(record.index)
        if outcome.error_code == Code.AMBIGUOUS:
            self.result.ambiguous += 1
        self.progress.update(outcome.status)
        self._on_result(replace(record, outcome=outcome))


async def _maybe_await(value: Any) -> Any:
    return await value if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future) else value
