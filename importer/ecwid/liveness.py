"""Whether Ecwid's API is being heard at all: a run stops, once, clearly, when it is not.

Every request of a run goes through the one client, made here, so this sees them all (reads, creates, edits, batches): an answer that is a JSON document, whatever its status, is the
API heard; a connection error, a timeout, or an answer that is not the API's (an HTML page from a
proxy or captive portal, a redirect, an empty body) is a miss.

- At the start, before the API has been heard once, a request that gives up on a miss stops the run:
  `unreachable()` is the one line that says why (`cannot reach https://…: connection refused`).
- Later, when requests have been going out for `window_s` (policy.UNREACHABLE_S) without a single
  answer from the API, `gone()` stops the run as a Ctrl-C does; `watch()` says so on time even while
  every request is waiting out a backoff. A quiet spell of the run's own (nothing asked for
  policy.QUIET_S, as while rows in doubt wait out the settle window) is not the API's silence:
  counting starts afresh.

    liveness = Liveness(api_url)
    http = liveness.client(timeout=30)                  # an httpx.AsyncClient
    stop = liveness.gone() or liveness.unreachable()     # RunStopped | None
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from importer.ecwid import policy
from importer.ecwid.answers import NOT_ECWID, foreign  # whose answer it is: a reading of the answer
from importer.errors import Code, RunStopped


class Liveness:
    def __init__(self, api_url: str, window_s: float | None = None, *, quiet_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic):  # fmt: skip
        self.api_url = api_url
        self.window_s = policy.UNREACHABLE_S if window_s is None else window_s
        self.quiet_s = policy.QUIET_S if quiet_s is None else quiet_s
        self.clock = clock
        self.ever_heard = False
        self.waiting_since: float | None = None  # the first request since the API was last heard
        self.problem = ""  # the last miss, in a user's words ("" once heard again)
        self.outstanding = 0  # requests on their way
        self.last_event = clock()  # the last request sent or ended

    # -- what the transport reports ------------------------------------------------
    def sent(self) -> None:
        now = self.clock()
        if self.waiting_since is None or self._idle(now):  # after a quiet spell (a settle wait), count afresh
            self.waiting_since = now
        self.outstanding += 1
        self.last_event = now

    def heard(self) -> None:
        self.ended()
        self.ever_heard, self.waiting_since, self.problem = True, None, ""

    def missed(self, problem: str) -> None:
        self.ended()
        self.problem = problem

    def ended(self) -> None:
        """A request is over (answered, missed, or abandoned)."""
        self.outstanding = max(0, self.outstanding - 1)
        self.last_event = self.clock()

    def _idle(self, now: float) -> bool:
        """Nothing asked for `quiet_s`: a silence of ours (waiting to check the store), not the API's."""
        return self.outstanding == 0 and now - self.last_event >= self.quiet_s

    # -- what the run asks ----------------------------------------------------------
    def unreachable(self) -> RunStopped | None:
        """The start's stop: nothing ever heard, and the last request missed."""
        if self.ever_heard or not self.problem:
            return None
        text = self.problem if self.problem.startswith(NOT_ECWID) else f"cannot reach {self.api_url}: {self.problem}"
        return Code.API_UNREACHABLE.stop(detail=text)

    def gone(self) -> RunStopped | None:
        """Requests have gone out for `window_s` without one answer from the API."""
        now = self.clock()
        if self.waiting_since is None or now - self.waiting_since < self.window_s or self._idle(now):
            return None
        if not self.ever_heard:
            return self.unreachable() or Code.API_UNREACHABLE.stop(
                detail=f"cannot reach {self.api_url}: no answer in {self.window_s:g} s")
        why = f" (last: {self.problem})" if self.problem else ""
        return Code.API_UNREACHABLE.stop(detail=f"no answer from {self.api_url} for {self.window_s:g} s{why}: stopped; "
                                                "the rows in doubt are kept for the next run")

    async def watch(self, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> RunStopped:
        """Returns once `gone()` says the run must stop."""
        step = max(self.window_s / 10, 0.01)
        while (stop := self.gone()) is None:
            left = self.window_s if self.waiting_since is None else self.window_s - (self.clock() - self.waiting_since)
            await sleep(min(max(left, 0.01), step))
        return stop

    def client(self, **options) -> httpx.AsyncClient:
        """An httpx.AsyncClient(**options) whose every request is told here (whatever transport or
        proxy, from the environment included, carries it)."""
        return _Heard(self, **options)


class _Heard(httpx.AsyncClient):
    """A client that tells `Liveness` of every request and what came of it."""

    def __init__(self, liveness: Liveness, **options):
        super().__init__(**options)
        self._liveness = liveness

    async def send(self, request: httpx.Request, **options) -> httpx.Response:
        self._liveness.sent()
        try:
            response = await super().send(request, **options)
            await response.aread()  # the whole answer is needed to tell whose it is (the run never streams)
        except httpx.TransportError as exc:
            self._liveness.missed(connection_problem(exc))
            raise
        except BaseException:  # cancelled: no word either way
            self._liveness.ended()
            raise
        problem = foreign(response)
        if problem:
            self._liveness.missed(problem)
        else:
            self._liveness.heard()
        return response


def connection_problem(exc: httpx.TransportError) -> str:
    """A transport error in a user's words (no token can be in it: httpx names hosts, not headers)."""
    text = str(exc)
    if isinstance(exc, httpx.ConnectError):
        lowered = text.lower()
        if "refused" in lowered or "all connection attempts failed" in lowered:
            return "connection refused"
        if any(s in lowered for s in ("name or service", "nodename", "getaddrinfo", "name resolution", "no address")):
            return "the host name does not resolve (DNS)"
        if "certificate" in lowered or "ssl" in lowered:
            return "the TLS handshake failed (a proxy that intercepts TLS?)"
        return f"cannot connect ({type(exc).__name__})"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({type(exc).__name__})"
    return f"the connection failed ({type(exc).__name__})"
