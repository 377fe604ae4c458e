"""Ecwid's batch API in the sandbox: the queue of tickets and the runner that works through it.

    queue = BatchQueue(state, BatchSettings(processing_ms=1.0))   # SandboxState does this: `state.batches`
    ticket, new = queue.submit(store_id, token, inner_requests, parallel=False, stop_on_failure=True,
                               group=None, key=None)              # inside the event loop
    queue.find(store_id, ticket.ticket); queue.cancel([ticket]); queue.resume()

Per store, tickets run first in, first out, one at a time; a ticket's inner requests run
one after another, or up to `PARALLEL` at once with `allowParallelMode=true`. Each inner
request takes `processing_ms` and goes through the same handlers as a direct request (the
same checks, errors and createCount), but not through the gate: no latency, no 5xx fault,
no cut; a batch's own faults are drawn below. The HTTP endpoints are importer.sandbox.batch.api's,
the tickets and their JSON importer.sandbox.batch.tickets'.

Choices where Ecwid's documentation is silent (ASSUMPTION, each marked where it is made):
- inner requests count against the token's rate limit only with `counts=True`; then each one
  waits for room in the token's window (it is never refused), leaving 1 % of the window to the
  token's own requests (a runner that took every freed slot first would starve the client's polls
  until the queue ran dry); beyond that, the token's requests meet 429s while its batches run;
- an inner 5xx is retried by "Ecwid" `retries` times, `retry_s` apart, then answered FAILED;
- tickets are kept for the sandbox's lifetime; an unknown ticket is 404 TICKET_NOT_FOUND;
- a deduplicationKey is remembered `dedup_s` (an hour) from the submit that first used it;
- no limit on queued batches; a body of more than 500 requests is 400.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.types import ASGIApp

from importer.sandbox.errors import ApiError, internal_error
from importer.sandbox.routing import RequestContext
from importer.sandbox.batch.tickets import COMPLETED, FAILED, IN_PROGRESS, NOT_EXECUTED, QUEUED, InnerRequest, Ticket

if TYPE_CHECKING:
    from importer.sandbox.state import SandboxState

PARALLEL = 100  # allowParallelMode: inner requests at once


@dataclass(frozen=True)
class BatchSettings:
    processing_ms: float = 20.0  # each inner request takes this long
    counts: bool = True  # inner requests count against the token's rate limit
    dedup_s: float = 3600.0  # how long a deduplicationKey is remembered
    retries: int = 5  # "Ecwid" retries a failing inner 5xx this many times ...
    retry_s: float = 3.0  # ... this far apart
    # faults, drawn per inner request from (seed, ticket number, position)
    fail_rate: float = 0.0  # answers 500 on every try; nothing stored
    lost_rate: float = 0.0  # stored, but answered 500 (a timeout after the commit)
    skip_rate: float = 0.0  # NOT_EXECUTED
    blank_rate: float = 0.0  # stored, but answered 200 with an empty body: an answer that says nothing
    cut_submits: int = 0  # the answers to this many accepted submits are cut (lost)
    paused: bool = False  # a stuck queue: tickets stay QUEUED until `BatchQueue.resume()`
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("fail_rate", "lost_rate", "skip_rate", "blank_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"batch {name} must be within 0..1")
        if self.processing_ms < 0 or self.retry_s < 0 or self.dedup_s < 0 or self.retries < 0:
            raise ValueError("batch times and retries must be >= 0")


@dataclass
class BatchStats:
    submits: int = 0  # accepted POST /batch answers, deduplicated ones included
    deduplicated: int = 0  # submits answered with an earlier ticket
    tickets: int = 0
    inner_executed: int = 0  # inner requests run (retries by "Ecwid" not counted)
    running: int = 0  # inner requests running now ...
    max_running: int = 0  # ... and at most


class BatchQueue:
    """The store's batch tickets and their runner; guarded by the state's lock."""

    def __init__(self, state: SandboxState, settings: BatchSettings):
        self.state = state
        self.settings = settings
        self.tickets: dict[str, Ticket] = {}
        self.stats = BatchStats()
        self._queues: dict[int, list[Ticket]] = {}
        self._keys: dict[tuple[int, str], Ticket] = {}
        self._runners: dict[int, asyncio.Task] = {}
        self._app: ASGIApp | None = None
        self._paused = threading.Event()  # set: no ticket starts (set and cleared from any thread)
        if settings.paused:
            self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def attach(self, app: ASGIApp) -> None:
        """The app inner requests run through: the API's own routes, without the gate."""
        self._app = app

    # ---- the API's operations ----

    def submit(self, store_id: int, token: str, requests: list[InnerRequest], *, parallel: bool, stop_on_failure: bool,
               group: str | None, key: str | None) -> tuple[Ticket, bool]:
        """(ticket, whether it is new); a key seen within `dedup_s` returns the first ticket."""
        with self.state.lock:
            now = self.state.clock()
            self.stats.submits += 1
            known = self._keys.get((store_id, key)) if key else None
            if known is not None and now - known.submitted_at < self.settings.dedup_s:
                self.stats.deduplicated += 1
                return known, False
            self.stats.tickets += 1
            ticket = Ticket(uuid.uuid4().hex, self.stats.tickets, store_id, token, requests, parallel,
                            stop_on_failure, group, key, now)  # fmt: skip
            for n, inner in enumerate(requests):
                inner.fault = self._fault(ticket.seq, n)
            self.tickets[ticket.ticket] = ticket
            self._queues.setdefault(store_id, []).append(ticket)
            if key:
                self._keys[(store_id, key)] = ticket
            if store_id not in self._runners:
                self._runners[store_id] = asyncio.get_running_loop().create_task(self._run(store_id))
            return ticket, True

    def lose_answer(self) -> bool:
        """Whether the answer to this accepted submit is to be cut (`cut_submits`)."""
        with self.state.lock:
            return self.stats.submits <= self.settings.cut_submits

    def find(self, store_id: int, ticket_id: str) -> Ticket:
        with self.state.lock:
            ticket = self.tickets.get(ticket_id)
            if ticket is None or ticket.store_id != store_id:
                raise ApiError(404, f"Ticket {ticket_id} not found", "TICKET_NOT_FOUND")
            return ticket

    def listing(self, store_id: int, status: str | None) -> list[Ticket]:
        with self.state.lock:
            return [t for t in self.tickets.values() if t.store_id == store_id and status in (None, t.status)]

    def cancel(self, tickets: list[Ticket]) -> int:
        """Mark what has not run of these tickets NOT_EXECUTED; returns how many inner requests."""
        with self.state.lock:
            count = 0
            for ticket in tickets:
                ticket.cancelled = True
                for inner in ticket.inner:
                    if inner.state == QUEUED:
                        inner.state, count = NOT_EXECUTED, count + 1
                if ticket.status == QUEUED:
                    ticket.status = COMPLETED
                    self._queues[ticket.store_id].remove(ticket)
            return count

    # ---- the runner ----

    async def _run(self, store_id: int) -> None:
        """The store's tickets, first in, first out, until its queue is empty."""
        try:
            while True:
                while self._paused.is_set():
                    await asyncio.sleep(0.01)
                with self.state.lock:
                    queue = self._queues.get(store_id)
                    if not queue:
                        del self._runners[store_id]  # under the lock: a submit now starts a new runner
                        return
                    ticket = queue[0]
                    ticket.status = IN_PROGRESS
                try:
                    await self._execute(ticket)
                finally:
                    with self.state.lock:
                        ticket.status = COMPLETED
                        if queue and queue[0] is ticket:
                            queue.pop(0)
        except BaseException:
            with self.state.lock:
                self._runners.pop(store_id, None)
            raise

    async def _execute(self, ticket: Ticket) -> None:
        todo = iter(ticket.inner)

        async def worker() -> None:
            for inner in todo:
                if ticket.cancelled or inner.state != QUEUED:
                    continue
                await self._one(ticket, inner)
                if ticket.stop_on_failure and inner.state == FAILED:
                    self.cancel([ticket])

        await asyncio.gather(*(worker() for _ in range(PARALLEL if ticket.parallel else 1)))

    async def _one(self, ticket: Ticket, inner: InnerRequest) -> None:
        settings = self.settings
        if inner.fault == "skip":
            with self.state.lock:
                inner.state = NOT_EXECUTED
            return
        for attempt in range(settings.retries + 1):
            if attempt:
                await asyncio.sleep(settings.retry_s)
            if settings.counts:
                await self._room(ticket.token)
            with self.state.lock:
                self.stats.inner_executed += attempt == 0
                self.stats.running += 1
                self.stats.max_running = max(self.stats.max_running, self.stats.running)
            try:
                await asyncio.sleep(settings.processing_ms / 1000.0)
            finally:
                with self.state.lock:
                    self.stats.running -= 1
            if inner.fault == "fail" or (inner.fault == "lost" and attempt):
                status, answer = 500, json.dumps(internal_error().body())
            else:
                status, answer = await self._dispatch(ticket, inner)
                if inner.fault == "lost" and status == 200:
                    continue  # stored; its answer timed out, and the retries fail
                if inner.fault == "blank" and status == 200:
                    answer = ""  # stored; the answer says nothing
            if status < 500:
                break
        with self.state.lock:
            inner.status, inner.answer = status, answer
            inner.state = COMPLETED if 200 <= status < 300 else FAILED

    async def _room(self, token: str) -> None:
        while (wait := self.state.charge(token)) > 0:
            await asyncio.sleep(wait)

    async def _dispatch(self, ticket: Ticket, inner: InnerRequest) -> tuple[int, str]:
        """Run one inner request through the API's routes, as the ticket's token."""
        assert self._app is not None, "attach() the app first"
        path, _, query = inner.path.partition("?")
        body = json.dumps(inner.body).encode() if inner.body is not None else b""
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
            "method": inner.method, "path": f"/api/v3/{ticket.store_id}{path}", "raw_path": path.encode(),
            "query_string": query.encode(), "root_path": "", "client": ("batch", 0), "server": ("sandbox", 0),
            "headers": [(b"authorization", f"Bearer {ticket.token}".encode()), (b"content-type", b"application/json")],
            "sandbox": RequestContext(ticket.token),
        }  # fmt: skip
        sent = False
        status, chunks = [500], []

        async def receive() -> dict:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, receive, send)
        return status[0], b"".join(chunks).decode("utf-8", "replace")

    def _fault(self, seq: int, n: int) -> str | None:
        s = self.settings
        u = random.Random(f"{s.seed}:batch:{seq}:{n}").random()
        for name, rate in (("fail", s.fail_rate), ("lost", s.lost_rate), ("skip", s.skip_rate),
                           ("blank", s.blank_rate)):
            if u < rate:
                return name
            u -= rate
        return None
