"""The sender: a bounded pool of workers posting records to Ecwid, paced and retried.

- `concurrency` workers pull records straight from the (possibly lazy) iterable,
  so at most `concurrency` records are in hand however long the file is.
- Every request start waits its turn at one shared Pacer; a 429 pauses all of
  them, and a new 429 episode lowers the pace.
- Each request is one exchange of the run's client (importer.ecwid.client), in its one
  retry loop; an answer that may have been applied is never resent blindly. No response
  after sending, a 2xx without a readable createCount, a gateway's 5xx page: the row is
  `failed` / `ambiguous`, for the engine to check in the store once the request can no
  longer commit (importer.deliver.engine). Ecwid's own 5xx (a JSON body: it is done with
  the request): after the usual wait, `check(record)` reads the store right before the
  next attempt (and after the last): present, the row is `created`, confirmed; absent, it goes.
- A stop (403/402/404 store, or cancellation) lets in-flight requests finish for
  up to `grace_s`, abandons the rest, and reports every record not sent as `not_sent`.

`on_result` is called exactly once per record pulled from `records` (and for
the ones left in it after a stop), from the event-loop thread.

`DirectChannel` is this pool as a channel of the delivery engine (importer.deliver.engine): its
answers go to the engine's `Lane`, an ambiguous one as lost (in doubt, for the engine to settle).
`Lane` and `Channel` are the engine's contract with its channels (this one and importer.deliver.batch).
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import httpx

from importer import ecwid
from importer.ecwid import CREATE_SCOPE, policy
from importer.deliver.doubt import present
from importer.ecwid.answers import CREATED, Reply, confirmed, in_doubt, to_outcome
from importer.ecwid.client import EcwidClient, new_client
from importer.ecwid.liveness import Liveness
from importer.ecwid.pacer import Pacer
from importer.ecwid.policy import Action
from importer.ecwid.store import StoreReader, StoreReadError
from importer.errors import Code, RunStopped, UsageError, interrupted, not_sent
from importer.records import ContactRecord, Outcome, Status

log = logging.getLogger(__name__)

# a record whose customer email found no id (by --match-by email): never sent
UNRESOLVED = Code.MISSING_CUSTOMER.outcome(status=Status.FAILED,
                                          detail="no customer id: the customer email was not resolved to an id")


@dataclass(frozen=True)
class SendConfig:
    api_url: str
    store_id: int
    token: str = field(repr=False)
    rate_per_minute: float | None = policy.DEFAULT_RATE  # None: unpaced (sandbox, tests)
    concurrency: int = policy.DEFAULT_CONCURRENCY
    retries: int = policy.DEFAULT_RETRIES  # attempts after the first
    timeout_s: float = policy.DEFAULT_TIMEOUT_S
    quiet: bool = False
    grace_s: float = policy.DEFAULT_GRACE_S  # in-flight requests may finish this long after a stop
    backoff_s: float = policy.BACKOFF_INITIAL_S
    max_backoff_s: float = policy.BACKOFF_MAX_S
    default_retry_after_s: float = policy.DEFAULT_RETRY_AFTER_S

    @classmethod
    def given(cls, options: Any, api_url: str, store_id: int, token: str) -> SendConfig:
        """A run's (import's or undo's `options`: their pacing and quiet) against its target store."""
        return cls(api_url=api_url, store_id=store_id, token=token, quiet=options.quiet,
                   **options.pacing.send_config())

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_url", ecwid.check_api_url(self.api_url))
        object.__setattr__(self, "token", ecwid.clean_token(self.token or ""))
        if not self.token:
            raise UsageError("no token")
        if self.concurrency < 1:
            raise UsageError(f"--concurrency must be at least 1, got {self.concurrency}")
        if self.retries < 0:
            raise UsageError(f"--retries must be 0 or more, got {self.retries}")
        if self.rate_per_minute is not None and self.rate_per_minute <= 0:
            raise UsageError(f"--rate must be positive, got {self.rate_per_minute}")


@dataclass
class SendResult:
    stopped: RunStopped | None  # why the run stopped early, else None
    requests: int = 0
    rate_limited: int = 0  # 429s seen
    elapsed_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)  # summary fields of the engine (doubt, resume, earlier batches)
    sections: dict[str, Any] = field(default_factory=dict)  # the channel's own summary sections, last (batch)

    @property
    def achieved_rate_per_minute(self) -> float:
        return self.requests * 60.0 / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def then(self, later: SendResult) -> SendResult:
        """This send pass and a later one of the same run, as one."""
        return SendResult(later.stopped, self.requests + later.requests, self.rate_limited + later.rate_limited,
                          self.elapsed_s + later.elapsed_s)  # fmt: skip


async def send_records(
    records: Iterable[ContactRecord],
    config: SendConfig,
    *,
    on_result: Callable[[ContactRecord], None],
    cancel: asyncio.Event | None = None,
    before_send: Callable[[ContactRecord], Any] | None = None,
    client: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    random: Callable[[], float] = _random.random,
    pacer: Pacer | None = None,
    liveness: Liveness | None = None,
    check: Callable[[ContactRecord], Awaitable[bool]] | None = None,
) -> SendResult:
    """Send every record; see the module docstring. `client`, `clock`, `sleep`, `random` are for tests.

    `before_send(record)`, sync or async: right before its request leaves (after pacing), e.g. the
    journal writing "in flight".

    `liveness`: the one `client`'s (importer.ecwid.client.connection), which hears every request of the run: the run stops
    when the API is not heard (importer.ecwid.liveness).

    `pacer`: share one with other requests of the run (store reads), so all of them
    together keep to the rate; by default the run makes its own.

    `check(record)`: whether the store has the record's contact now (a fresh read; StoreReadError or
    RunStopped when it cannot say); by default read through the run's own client (doubt.present).
    """
    run = _Run(config, on_result, before_send, clock, sleep, random, pacer, liveness, check)
    if client is not None:
        return await run.go(iter(records), client, cancel)
    async with new_client(config) as own:
        return await run.go(iter(records), own, cancel)


@dataclass
class _Slot:
    """One worker's record in hand; `on_wire` while a request may be at the server."""

    record: ContactRecord | None = None
    attempts: int = 0
    before: int = 0  # of its attempts, those made before this send (a row sent again after a lost answer)
    on_wire: bool = False
    lost: Reply | None = None  # its last answer was Ecwid's 5xx: it may have been applied, the store not yet read


class _Run:
    def __init__(self, config, on_result, before_send, clock, sleep, random, pacer=None, liveness=None, check=None):
        self.config: SendConfig = config
        self.liveness: Liveness | None = liveness
        self.before_send = before_send
        self.pacer = pacer or Pacer(config.rate_per_minute, clock=clock, sleep=sleep)
        self.clock, self.sleep, self.random = clock, sleep, random
        self.stop = asyncio.Event()
        self.stopped: RunStopped | None = None
        self.failure: BaseException | None = None  # a bug, or the records iterable raised
        self._on_result = on_result
        self.check: Callable[[ContactRecord], Awaitable[bool]] | None = check
        self._records: Iterator[ContactRecord] = iter(())
        self.cancel: asyncio.Event | None = None

    # -- orchestration ---------------------------------------------------------
    async def go(self, records: Iterator[ContactRecord], http: httpx.AsyncClient, cancel: asyncio.Event | None):
        self._records = records
        self.cancel = cancel
        started = self.clock()
        slots = [_Slot() for _ in range(self.config.concurrency)]
        c = self.config
        api = EcwidClient(http, api_url=c.api_url, store_id=c.store_id, token=c.token, pacer=self.pacer,
                          retries=c.retries, sleep=self.sleep, random=self.random, backoff_s=c.backoff_s,
                          max_backoff_s=c.max_backoff_s, default_retry_after_s=c.default_retry_after_s)  # fmt: skip
        if self.check is None:
            reader = StoreReader.through(api)
            self.check = lambda record: present(reader, record)
        workers = [asyncio.create_task(self._worker(slot, api)) for slot in slots]
        try:
            await self._until_done_or_stopped(workers)
        except asyncio.CancelledError:  # the caller cancelled us: still account for every record
            self._stop(interrupted())
            raise
        finally:
            await self._wind_down(slots, workers)
            self._finish_unsent()
        if self.failure is not None:
            raise self.failure
        return SendResult(self.stopped, api.requests, api.limited, self.clock() - started)

    async def _until_done_or_stopped(self, workers: list[asyncio.Task]) -> None:
        cancel = self.cancel
        watchers = [asyncio.create_task(asyncio.wait(workers)), asyncio.create_task(self.stop.wait())]
        if cancel is not None:
            watchers.append(asyncio.create_task(cancel.wait()))
        gone = asyncio.create_task(self.liveness.watch(self.sleep)) if self.liveness is not None else None
        if gone is not None:
            watchers.append(gone)
        try:
            await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for watcher in watchers:
                watcher.cancel()  # cancelling asyncio.wait() leaves the workers running
        if cancel is not None and cancel.is_set():
            self._stop(interrupted())
        elif gone is not None and gone.done() and not gone.cancelled():
            self._stop(gone.result())  # the API went away: stop as a Ctrl-C stops

    async def _wind_down(self, slots: list[_Slot], workers: list[asyncio.Task]) -> None:
        """After a stop: abandon workers that are only waiting; give the in-flight ones `grace_s`."""
        if all(w.done() for w in workers):
            return
        for slot, worker in zip(slots, workers):
            if not slot.on_wire:
                worker.cancel()
        _, pending = await asyncio.wait(workers, timeout=self.config.grace_s)
        for worker in pending:
            log.warning("abandoning a request still in flight after %.1f s", self.config.grace_s)
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    def _stop(self, reason: RunStopped) -> None:
        if self.stopped is None:
            self.stopped = reason
            # info, not error: the caller reports why it stopped (the CLI prints one line)
            log.info("stopping the run: %s", reason.message)
        self.stop.set()

    def _finish(self, record: ContactRecord, outcome: Outcome) -> None:
        self._on_result(replace(record, outcome=outcome))

    def _finish_unsent(self) -> None:
        """Every record never pulled from the iterable: not_sent."""
        if self.stopped is None:
            return
        outcome = not_sent(self.stopped.message)
        try:
            for record in self._records:
                self._finish(record, outcome)
        except Exception as exc:  # the iterable itself broke: report that, not a half-drained run
            self.failure = self.failure or exc

    # -- one worker -----------------------------------------------------------
    async def _worker(self, slot: _Slot, api: EcwidClient) -> None:
        try:
            while not (self.stop.is_set() or (self.cancel is not None and self.cancel.is_set())):
                record = next(self._records, None)
                if record is None:
                    return
                # A row sent again after its answer was lost counts its earlier attempts of this run too.
                slot.record, slot.on_wire, slot.lost = record, False, None
                slot.attempts = slot.before = record.outcome.attempts
                outcome = await self._send_one(record, slot, api)
                slot.record = None
                self._finish(record, outcome)
        except asyncio.CancelledError:
            if slot.record is not None:  # abandoned by a stop
                self._finish(slot.record, self._abandoned(slot))
        except RunStopped as exc:  # before_send's journal commit failed (a full disk): nothing more leaves
            self._stop(exc)
            if slot.record is not None:
                self._finish(slot.record, self._abandoned(slot))
        except Exception as exc:  # a bug, or the iterable/on_result raised: stop, then re-raise
            if slot.record is not None:
                self._finish(slot.record, self._abandoned(slot))
            self.failure = self.failure or exc
            self._stop(Code.INTERNAL_ERROR.stop(name=type(exc).__name__))

    def _abandoned(self, slot: _Slot) -> Outcome:
        reason = self.stopped.message if self.stopped else "the run stopped"
        if slot.lost is not None and not slot.on_wire:
            return Code.AMBIGUOUS.outcome(attempts=slot.attempts, detail=f"{slot.lost.detail}, then the run stopped "
                                          f"before the store was checked ({reason}): the contact may exist")
        if slot.on_wire:
            return Code.AMBIGUOUS.outcome(
                attempts=slot.attempts, detail=f"abandoned while waiting for the answer ({reason}): the contact may exist")
        return not_sent(reason, attempts=slot.attempts)

    async def _send_one(self, record: ContactRecord, slot: _Slot, api: EcwidClient) -> Outcome:
        if record.customer_id is None:
            return UNRESOLVED
        path = f"/customers/{record.customer_id}/contacts"
        reply = await api.retrying(stopped=self.stop.is_set)(self._attempt, record, slot, api, path)
        if self.liveness is not None and (unreachable := self.liveness.unreachable()) is not None:
            self._stop(unreachable)  # gave up, and the API was never heard: it is not there
        if reply.action is Action.RETRY:
            unchecked = slot.lost is not None  # Ecwid's 5xx last: may have been applied, the store not yet read
            if self.stop.is_set() and (unchecked or slot.attempts - slot.before <= self.config.retries):
                return replace(self._abandoned(slot), http_status=reply.status)  # stopped before its retry or check
            if unchecked:  # out of retries: did the last one make it?
                reply = await self._checked(record, slot) or reply
        outcome = to_outcome(reply, slot.attempts)
        if outcome.status is Status.FAILED:
            log.info("row %s: %s %s", record.source.row, outcome.error_code, outcome.error)
        return outcome

    async def _attempt(self, record: ContactRecord, slot: _Slot, api: EcwidClient, path: str) -> Reply:
        def on_wire(sent: bool) -> None:  # a request cancelled on its way stays "may have been sent"
            slot.attempts += sent
            slot.on_wire = sent

        if slot.lost is not None and (found := await self._checked(record, slot)) is not None:
            return found
        before = (lambda: self.before_send(record)) if self.before_send else None
        reply = await api.exchange("POST", path, record.body(), scope=CREATE_SCOPE, meaning=CREATED, resend=False,
                                   before=before, on_wire=on_wire)  # fmt: skip
        if reply.stop is not None:
            self._stop(reply.stop)
        slot.lost = reply if reply.action is Action.RETRY and reply.lost else None
        return reply

    async def _checked(self, record: ContactRecord, slot: _Slot) -> Reply | None:
        """After Ecwid's 5xx (`slot.lost`), the store's word: the row confirmed created; in doubt when it cannot
        be read; None when the store lacks it, so it may go (again)."""
        try:
            there = await self.check(record)
        except StoreReadError as exc:
            return in_doubt(slot.lost, f"the store could not be checked ({exc}): not resent blindly")
        except RunStopped as exc:
            self._stop(exc)
            return in_doubt(slot.lost, f"the run stopped before the store was checked ({exc.message})")
        lost, slot.lost = slot.lost, None
        return confirmed(lost) if there else None



class Lane(Protocol):
    """What a channel tells the engine about each record (importer.deliver.engine.Engine is the one lane)."""

    async def before_send(self, record: ContactRecord) -> None:
        """Its request leaves now: returns once its intent is durable."""

    def answer(self, record: ContactRecord, outcome: Outcome) -> None:
        """Its outcome in this run. An `ambiguous` one stays in doubt, for the next run to collect (an open ticket)."""

    def lost(self, record: ContactRecord, outcome: Outcome, *, after: float | None = None,
             found: Outcome | None = None) -> None:  # fmt: skip
        """Sent, no clear answer: in doubt, for the engine to settle in the store once it can no longer commit
        (`after`, Unix time; None: the settle window after its request left). `found`: its outcome if stored."""

    async def in_store(self, record: ContactRecord) -> bool:
        """Whether the store has its contact now (one fresh read of its customer's contacts; StoreReadError or
        RunStopped when it cannot say): a create answered by Ecwid's 5xx is checked so before it goes again."""

    def absent(self, record: ContactRecord) -> None:
        """Known not executed (a batch's NOT_EXECUTED or inner 429): the channel sends it again itself."""

    def show(self, text: str) -> None:
        """The channel's part of the progress line (batches running and queued)."""


class Channel(Protocol):
    """Turns records into per-record answers on a lane (DirectChannel; importer.deliver.batch.BatchChannel)."""

    async def send(self, records: list[ContactRecord], lane: Lane, cancel: asyncio.Event | None) -> SendResult: ...

    def summary(self, sending: bool) -> dict[str, Any]:
        """Its own summary.json sections: as the run's channel (`sending`), or as the collector of earlier batches."""


class DirectChannel:
    """One request per record (send_records' pool): `wire` is its keywords (client, pacer, liveness, clock, ...)."""

    def __init__(self, config: SendConfig, **wire: Any):
        self.config, self.wire = config, wire

    async def send(self, records: list[ContactRecord], lane: Lane, cancel: asyncio.Event | None = None) -> SendResult:
        def answered(record: ContactRecord) -> None:
            outcome = record.outcome
            if outcome.error_code == Code.AMBIGUOUS:  # no clear answer: the engine checks the store later
                said = None if outcome.http_status is None else Outcome(  # a gateway's 5xx page, a 2xx without a count
                    Status.CREATED, outcome.http_status, None, outcome.attempts, error=f"no clear answer (HTTP "
                    f"{outcome.http_status}), but the store has it (checked after the settle window)")  # fmt: skip
                lane.lost(record, outcome, found=said)
            else:
                lane.answer(record, record.outcome)

        return await send_records(records, self.config, on_result=answered, cancel=cancel,
                                  before_send=lane.before_send, check=lane.in_store, **self.wire)  # fmt: skip

    def summary(self, sending: bool) -> dict[str, Any]:
        return {}
