"""The one client of Ecwid's API: every request of a run is one `EcwidClient.exchange`.

    api = EcwidClient(http, api_url=url, store_id=1003, token=token, pacer=pacer, liveness=liveness)
    reply = await api.call("GET", "/customers", params={"limit": 100}, scope=READ_SCOPE)     # reply.value: the JSON
    reply = await api.call("PUT", path, body, scope=UPDATE_SCOPE, meaning=count("updateCount"))
    reply = await api.exchange("POST", path, body, scope=CREATE_SCOPE, meaning=CREATED)       # one attempt

`exchange` is one request: the API seen to be there (importer.ecwid.liveness: an API gone away stops the
run), a turn at the shared Pacer (a 429 pauses everyone and lowers the pace), the request, its answer read
(importer.ecwid.answers: every text scrubbed, what a lost or unreadable answer means). `call` is exchanges
in the run's one retry loop (`retrying`, waits from importer.ecwid.policy); it raises the
RunStopped of an auth, scope, plan or store error, and, when it gives up on an API never heard, the one
line that says it cannot be reached. A caller that keeps a record's own life (the contact creates:
importer.deliver.send) drives `exchange` in `retrying()` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import random as _random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt, stop_any

from importer import ecwid
from importer.ecwid import policy
from importer.ecwid.answers import DOCUMENT, Meaning, Reply, reply_for, reply_for_exception
from importer.ecwid.liveness import Liveness
from importer.ecwid.pacer import Pacer
from importer.ecwid.policy import Action

log = logging.getLogger("importer.ecwid")

Hook = Callable[[], Any]  # sync or async


def new_client(config: Any, liveness: Liveness | None = None) -> httpx.AsyncClient:
    """The run's one HTTP client (`config`: an importer.deliver.send.SendConfig): keep-alive connections matching the
    concurrency; every request told to `liveness`, when given."""
    limits = httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency)
    make = httpx.AsyncClient if liveness is None else liveness.client
    return make(limits=limits, timeout=httpx.Timeout(config.timeout_s), verify=_tls())


# httpx's own default TLS context, made once a process: loading the CA bundle costs ~60 ms a client.
_tls = functools.cache(httpx.create_ssl_context)


@contextlib.asynccontextmanager
async def connection(config: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Liveness]]:
    """What every run that talks to the store opens (import, its dry run's reads, undo): the one HTTP
    client, a Liveness that hears each of its requests (an API gone away stops the run), and every log
    handler scrubbing the token while it is open."""
    # A longer --timeout widens the window: one slow answer, waited for as told, never stops a run.
    liveness = Liveness(config.api_url, max(policy.UNREACHABLE_S, 2 * config.timeout_s))
    with ecwid.scrubbed_logs(config.token):
        async with new_client(config, liveness) as http:
            yield http, liveness


class EcwidClient:
    def __init__(self, http: httpx.AsyncClient, *, api_url: str, store_id: int, token: str, pacer: Pacer,
                 retries: int = policy.DEFAULT_RETRIES, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 random: Callable[[], float] = _random.random, liveness: Liveness | None = None,
                 backoff_s: float = policy.BACKOFF_INITIAL_S, max_backoff_s: float = policy.BACKOFF_MAX_S,
                 default_retry_after_s: float = policy.DEFAULT_RETRY_AFTER_S):  # fmt: skip
        self.http = http
        self.base = f"{api_url.rstrip('/')}/{store_id}"
        self.store_id = store_id
        self.token = token
        self.pacer = pacer
        self.retries = retries
        self.sleep, self.random = sleep, random
        self.liveness = liveness  # the http client's (new_client), which hears every request
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.default_retry_after_s = default_retry_after_s
        self._headers = ecwid.headers(token)
        self.requests = 0
        self.reads = 0  # GETs, retries included: what learning the store cost
        self.limited = 0  # 429s

    def scrub(self, text: str) -> str:
        return ecwid.scrub(text, self.token)

    def check_reach(self, *, at_start: bool = False) -> None:
        """RunStopped when the API has not been heard for the liveness window, or (`at_start`, after a
        request gave up) ever: an API that is not there stops the run, once, instead of failing every row."""
        if self.liveness is None:
            return
        stop = self.liveness.gone() or (self.liveness.unreachable() if at_start else None)
        if stop is not None:
            raise stop

    async def exchange(self, method: str, path: str, body: Any = None, *, params: dict | None = None, scope: str,
                       meaning: Meaning = DOCUMENT, resend: bool = True, before: Hook | None = None,
                       on_wire: Callable[[bool], None] | None = None) -> Reply:  # fmt: skip
        """One request, paced; never raises for what the server says (a STOP is `reply.stop`).

        `before()`: after the request's turn at the pacer (the journal's "in flight"); a pause begun
        meanwhile sends it back in line. `on_wire(True)` as it leaves, `on_wire(False)` once it is over;
        never False for a request cancelled on its way: it may have reached Ecwid."""
        self.check_reach()
        while True:
            sent_at = await self.pacer.acquire()
            if before is None:
                break
            await _call(before)
            if not self.pacer.paused():
                break
        wire = on_wire or (lambda sent: None)
        wire(True)
        self.requests += 1
        self.reads += method == "GET"
        try:
            response = await self.http.request(method, self.base + path, json=body, params=params,
                                               headers=self._headers)  # fmt: skip
        except httpx.TransportError as exc:
            wire(False)
            return reply_for_exception(exc, token=self.token, resend=resend)
        wire(False)
        reply = reply_for(response, token=self.token, meaning=meaning, resend=resend, store_id=self.store_id,
                          scope=scope)  # fmt: skip
        if reply.status == 429:
            self.limited += 1
            pause = policy.rate_limit_pause(reply.retry_after, self.default_retry_after_s)
            if self.pacer.rate_limited(pause, sent_at):
                log.warning("rate limited (429): pausing every request for %.1f s; pace now %s/min", pause,
                            "unpaced" if self.pacer.rate_per_minute is None else f"{self.pacer.rate_per_minute:.0f}")
        return reply

    async def call(self, method: str, path: str, body: Any = None, *, params: dict | None = None, scope: str,
                   meaning: Meaning = DOCUMENT, resend: bool = True,
                   first: Callable[[bool], Awaitable[Reply | None]] | None = None,
                   on_wire: Callable[[bool], None] | None = None) -> Reply:  # fmt: skip
        """Exchanges until one is final (the retry loop); the last Reply, with `attempts` and `lost` over
        all of them. RunStopped for a STOP, or for an API never heard. `first(lost)`: before each attempt;
        a Reply it returns ends the loop without a request (the customer found after a lost create)."""
        tally = {"attempts": 0, "lost": False}

        async def attempt() -> Reply:
            if first is not None and (early := await first(tally["lost"])) is not None:
                return early
            tally["attempts"] += 1
            reply = await self.exchange(method, path, body, params=params, scope=scope, meaning=meaning,
                                        resend=resend, on_wire=on_wire)  # fmt: skip
            tally["lost"] = tally["lost"] or reply.lost
            if reply.stop is not None:
                raise reply.stop
            return reply

        reply = await self.retrying()(attempt)
        if reply.action is not Action.SUCCESS:
            self.check_reach(at_start=True)
        return replace(reply, attempts=tally["attempts"], lost=tally["lost"])

    def retrying(self, stopped: Callable[[], bool] = lambda: False) -> AsyncRetrying:
        """The run's one retry loop (tenacity), for creates and reads alike: `await api.retrying()(attempt, *args)`.

        `attempt` returns a Reply: RETRY is tried again, up to `retries` more times, waiting as policy says
        (for a 429, the pacer has paused everyone); any other action ends the loop. The last Reply is
        returned either way (never an exception for a spent budget); `stopped()` true ends it early."""
        return AsyncRetrying(
            stop=stop_any(stop_after_attempt(self.retries + 1), lambda _: stopped()),
            retry=retry_if_result(lambda reply: reply.action is Action.RETRY),
            wait=self._wait,
            sleep=self.sleep,
            retry_error_callback=lambda state: state.outcome.result(),
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        reply: Reply = state.outcome.result()
        retry_after = reply.retry_after if reply.status != 429 else 0.0
        return policy.retry_wait(state.attempt_number, retry_after, random=self.random, initial=self.backoff_s,
                                 cap=self.max_backoff_s)  # fmt: skip


async def _call(hook: Hook) -> Any:
    value = hook()
    return await value if inspect.isawaitable(value) else value
