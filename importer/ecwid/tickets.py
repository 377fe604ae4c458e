"""The batch API on the wire: a batch submitted under its deduplication key, its ticket polled to the end.

    tickets = Tickets(api, settings, stats, clock=time.time, show=lambda: ...)
    reply = await tickets.submit(batch)              # reply.value: the ticket; batch.maybe_sent says if Ecwid may have it
    answer = await tickets.poll(batch, followed=True)  # the COMPLETED answer, or None (its rows are in doubt)

Both go through the run's one client (importer.ecwid.client). A submit is sent again with the same key
after a lost answer (Ecwid answers a repeated key with the first submit's ticket), never once the key may
have been forgotten (`dedup_s`). Ecwid runs a store's batches first in, first out, so only the oldest ticket
is polled, at the time its progress says it will be done (importer.ecwid.batchpolicy.poll_wait), doubling
while queued; a ticket that makes no progress for `timeout_s`, or whose polls fail POLL_FAILURES times,
stops the run (RunStopped, `batch-timeout`), its rows in doubt under the ticket for the next run.
The pace state (Ecwid's inner requests a second) is shared by every ticket of a run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from importer.ecwid import CREATE_SCOPE, READ_SCOPE
from importer.ecwid.answers import TICKET, Reply
from importer.ecwid.batchpolicy import POLL_FAILURES, BatchSettings, inner_id, poll_wait
from importer.ecwid.client import EcwidClient
from importer.ecwid.policy import Action
from importer.errors import Code, RunStopped
from importer.records import ContactRecord

log = logging.getLogger("importer.deliver.batch")


@dataclass
class Batch:
    key: str
    records: list[ContactRecord]
    created_at: float
    ticket: str | None = None
    journaled: bool = False
    maybe_sent: bool = False  # a submit may have reached Ecwid
    on_wire: bool = False  # a submit is on its way: if the run stops now, Ecwid may have it
    status: str = ""  # the ticket's status at the last poll
    completed: int = 0


class Tickets:
    def __init__(self, api: EcwidClient, settings: BatchSettings, stats: Counter[str], *,
                 clock: Callable[[], float] = time.time, show: Callable[[], None] = lambda: None):  # fmt: skip
        self.api, self.settings, self.stats, self.clock, self.show = api, settings, stats, clock, show
        self.per_s: float | None = None  # inner requests a second, as polls saw them
        self.head_done_at: float = time.monotonic()  # when the ticket ahead of the head was seen done
        self.first_submit_at: float | None = None  # Ecwid's pace is measured from here ...
        self.inner_done = 0  # ... by the inner requests of our tickets seen done since
        self.behind = False  # the last ticket was done when first polled: Ecwid is faster than our polls

    async def submit(self, batch: Batch) -> Reply:
        query = {"stopOnFirstFailure": "false", "deduplicationKey": batch.key}
        if self.settings.parallel:
            query["allowParallelMode"] = "true"
        body = [{"id": inner_id(r), "path": f"/customers/{r.customer_id}/contacts", "method": "POST",
                 "body": r.body()} for r in batch.records]  # fmt: skip

        async def first(lost: bool) -> Reply | None:
            batch.maybe_sent = batch.maybe_sent or lost
            if batch.maybe_sent and self.clock() - batch.created_at >= self.settings.dedup_s:
                return Reply(Action.FAIL, detail="its deduplication key may have expired, so it is not resent")
            self.stats["submits"] += 1
            return None

        def on_wire(sent: bool) -> None:  # a submit on its way when the run stops: Ecwid may have it
            batch.on_wire = sent

        # Made safe to resend by its key (`first` stops that once the key may be forgotten).
        reply = await self.api.call("POST", f"/batch?{urlencode(query)}", body, scope=CREATE_SCOPE, meaning=TICKET,
                                    resend=True, first=first, on_wire=on_wire)  # fmt: skip
        batch.maybe_sent = batch.maybe_sent or reply.lost
        if reply.action is Action.SUCCESS and self.first_submit_at is None:
            self.first_submit_at = time.monotonic()
        return reply

    async def poll(self, batch: Batch, followed: bool = False) -> dict | None:
        """The ticket's answer once COMPLETED; None if it can't be had (its rows are then in doubt).
        `followed`: the ticket ahead of it was just seen done, so this one may be running, or done."""
        wait: float | None = None
        failures = 0
        first = True
        moved_at, seen = time.monotonic(), None  # the ticket's last progress, and what it was
        while True:
            if first and followed and (self.per_s is None or self.behind):
                delay = 0.0  # the one ahead was done before we looked: Ecwid outpaces our polls, look now
            elif first:  # it started, at the latest, when the ticket ahead of it was seen done
                wait = poll_wait(len(batch.records), self.per_s, None, False, self.settings)
                delay = max(0.0, self.head_done_at + wait - time.monotonic())
            else:
                remaining = len(batch.records) - batch.completed
                wait = delay = poll_wait(remaining, self.per_s, wait, batch.status == "QUEUED", self.settings)
            await asyncio.sleep(min(delay, max(0.0, moved_at + self.settings.timeout_s - time.monotonic())))
            self.stats["polls"] += 1
            reply = await self.api.call("GET", "/batch", params={"ticket": batch.ticket, "escapedJson": "true"},
                                        scope=READ_SCOPE)  # fmt: skip
            if reply.action is not Action.SUCCESS:
                why = self.api.scrub(f"GET /batch: {reply.detail}")
                # 429s are no failure: they say the window is full (of this batch's inner requests, if they count)
                failures += reply.status != 429
                log.warning("batch %s: polling ticket %s failed: %s", batch.key, batch.ticket, why)
                if reply.status == 404:  # Ecwid no longer knows it: its rows are checked in the store
                    return None
                if failures >= POLL_FAILURES:  # Ecwid may still run it: its rows stay in doubt under the ticket
                    raise self._left(batch, f"polling its ticket failed {failures} times ({why})")
                self._timed_out(batch, moved_at)
                continue
            failures, body = 0, reply.value
            if not isinstance(body, dict):
                return None
            now = time.monotonic()
            status, completed = str(body.get("status", "")), body.get("completedRequests")
            completed = completed if isinstance(completed, int) else 0
            # Ecwid's pace over the run so far: inner requests done since the first submit. (Between two polls
            # it can be bursty: counted against the rate limit, a window's worth runs at once, then nothing.)
            done = self.inner_done + (len(batch.records) if status == "COMPLETED" else completed)
            if self.first_submit_at is not None and done and now > self.first_submit_at:
                self.per_s = done / (now - self.first_submit_at)
            batch.status, batch.completed = status, completed
            if (status, completed) != seen:
                moved_at, seen = now, (status, completed)
            self.show()
            if status == "COMPLETED":
                self.behind = first  # done before we first looked: the pace measured is our polls', not Ecwid's
                self.head_done_at = now
                self.inner_done += len(batch.records)
                return body
            first = False
            self._timed_out(batch, moved_at)

    def _timed_out(self, batch: Batch, moved_at: float) -> None:
        """RunStopped once the ticket has made no progress for --batch-timeout."""
        if time.monotonic() - moved_at >= self.settings.timeout_s:
            self.stats["timed_out"] += 1
            raise self._left(batch, f"no progress in {self.settings.timeout_s:g} s ({batch.status or 'no status'} "
                                    "at Ecwid; --batch-timeout S)")  # fmt: skip

    def _left(self, batch: Batch, why: str) -> RunStopped:
        return Code.BATCH_TIMEOUT.stop(ticket=batch.ticket, why=why, rows=len(batch.records))
