"""The sandbox's memory: stores and customers (importer.sandbox.store), tokens, limits, faults, stats, log.

    state = SandboxState(SandboxConfig(rate_per_minute=None))
    state.add_customers([7]); state.contacts(7); state.stats; state.requests
    state.set_fault(fail_rate=0.1); state.set_rate(600)

One lock guards everything: the server's event loop thread writes, tests read
from the main thread. Every method returns copies, never live objects. The app's
gate calls `begin`, `admit` and `finish` around each request; its handlers call
`authorize`, then the store's operations.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from importer.sandbox.batch import BatchQueue
from importer.sandbox.config import SandboxConfig, customers_from_spec, limit_per_window
from importer.sandbox.errors import ApiError
from importer.sandbox.faults import FaultDraw, FaultSettings, draw
from importer.sandbox.ratelimit import Refusal, SlidingWindowLimiter
from importer.sandbox.requestlog import LoggedRequest, RequestLog, SandboxStats
from importer.sandbox.store import CustomerStore

__all__ = ["LoggedRequest", "SandboxState", "SandboxStats", "TokenInfo", "token_hash"]


def token_hash(token: str) -> str:
    """How the log names a token: enough to tell tokens apart, useless to replay."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class TokenInfo:
    store_id: int
    scopes: frozenset[str]


class SandboxState(CustomerStore):
    def __init__(self, config: SandboxConfig, clock: Callable[[], float] = time.monotonic):
        super().__init__(threading.RLock(), config.store_id)
        self.config = config
        self.clock = clock
        self.started_at = clock()
        self._tokens: dict[str, TokenInfo] = {}
        # The config's own FaultSettings part: set_fault replaces it as the run goes.
        self._faults = FaultSettings(**{f.name: getattr(config, f.name) for f in fields(FaultSettings)})
        self._limiter: SlidingWindowLimiter | None = None
        self._bad_tokens: SlidingWindowLimiter | None = None
        self.set_rate(config.rate_per_minute, config.window_s)
        self._log = RequestLog(config.log_limit)

        self.add_store(config.store_id, plan_ok=config.plan_ok, suspended=config.suspended)
        self.add_token(config.token, config.scopes)
        for token, scopes in config.extra_tokens.items():
            self.add_token(token, scopes)
        self.put_customers(self.find_store(config.store_id), customers_from_spec(config.customers))
        self.batches = BatchQueue(self, config.batch)  # the batch API's tickets (importer.sandbox.batch)

    # ---- set-up and inspection (tests, CLI) ----

    def add_token(self, token: str, scopes: Iterable[str], store_id: int | None = None) -> None:
        with self.lock:
            sid = self.config.store_id if store_id is None else store_id
            self._tokens[token] = TokenInfo(sid, frozenset(scopes))

    def set_fault(self, **changes: Any) -> None:
        """Change fault settings at run time: fail_rate, cut_rate, latency_ms, …"""
        with self.lock:
            self._faults = replace(self._faults, **changes)

    @property
    def faults(self) -> FaultSettings:
        with self.lock:
            return self._faults

    def set_rate(self, rate_per_minute: int | None, window_s: float | None = None) -> None:
        """Change the rate limit; forgets what each token has sent so far."""
        with self.lock:
            cfg = self.config
            window = cfg.window_s if window_s is None else window_s
            self._limiter = None if rate_per_minute is None else SlidingWindowLimiter(
                limit_per_window(rate_per_minute, window), window, cfg.block_after, cfg.block_seconds)
            self._bad_tokens = None if cfg.bad_token_limit is None else SlidingWindowLimiter(
                cfg.bad_token_limit, window, 0, cfg.block_seconds)

    @property
    def stats(self) -> SandboxStats:
        with self.lock:
            return self._log.stats(self.creates_committed, self.customers_created)

    @property
    def requests(self) -> list[LoggedRequest]:
        with self.lock:
            return self._log.entries()

    def reset_stats(self) -> None:
        """Clear counters and the request log (not contacts, not rate-limit history)."""
        with self.lock:
            self._log.reset()
            self.creates_committed = self.customers_created = 0

    # ---- request lifecycle (the app's middleware) ----

    def begin(self) -> tuple[int, float, FaultDraw]:
        """A request arrived: its sequence number, arrival time and faults."""
        with self.lock:
            seq = self._log.begin()
            now = self.clock()
            return seq, now, draw(self._faults, seq, now - self.started_at)

    def admit(self, token: str | None, client: str, now: float) -> Refusal | None:
        """Rate limit: per working token; per client address for the rest."""
        with self.lock:
            if token is not None and token in self._tokens:
                return self._limiter.hit(token_hash(token), now) if self._limiter else None
            return self._bad_tokens.count_only(client, now) if self._bad_tokens else None

    def charge(self, token: str) -> float:
        """A batch's inner request, counted against its token's limit: 0.0 when counted now, else seconds to wait.
        ASSUMPTION: it leaves 1 % of the window (at least one request) to the token's own requests, so a
        client can still poll while its batches fill the window."""
        with self.lock:
            if self._limiter is None:
                return 0.0
            return self._limiter.take(token_hash(token), self.clock(), reserve=max(1, self._limiter.limit // 100))

    def finish(self, entry: LoggedRequest) -> None:
        with self.lock:
            self._log.finish(replace(entry, time=entry.time - self.started_at))

    # ---- the API's checks (the operations are the store's) ----

    def authorize(self, store_id: int, token: str | None, scope: str | None) -> None:
        """Ecwid's order of checks: store, token, plan, scope (None: any)."""
        with self.lock:
            store = self.find_store(store_id)
            if store is None:
                raise ApiError(404, f"Store #{store_id} not found", "STORE_NOT_FOUND")
            info = self._tokens.get(token) if token else None
            if info is None or info.store_id != store_id:
                raise ApiError(403, "Invalid access token in the request", "INVALID_API_TOKEN")
            if store.suspended:
                raise ApiError(402, "Store is suspended", "STORE_IS_SUSPENDED")
            if not store.plan_ok:
                raise ApiError(402, "Feature not available on current plan", "NOT_AVAILABLE_ON_CURRENT_PLAN")
            if scope is not None and scope not in info.scopes:
                raise ApiError(
                    403, f"Application doesn't have the required scope: {scope}", "INSUFFICIENT_APP_SCOPE"
                )
