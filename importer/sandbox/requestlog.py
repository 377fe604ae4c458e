"""The request log and its counts: what arrived, how it was answered, how many were in flight.

    log = RequestLog(limit=10_000)
    seq = log.begin()                  # a request arrived: its sequence number
    log.finish(LoggedRequest(...))     # answered (or cut): counted and logged
    log.stats(creates, customers)      # a SandboxStats snapshot
    log.entries(); log.reset()

Callers hold the sandbox's lock (`SandboxState` does); the log keeps no lock of its own.
`reset()` forgets counts and entries but not what is in flight, nor the sequence numbers
the seeded faults are drawn from.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxStats:
    requests: int  # answered or cut (not counting those still in flight)
    by_status: Counter  # HTTP status -> count; cut requests have none
    rate_limited: int  # 429s, blocked ones included
    blocked: int  # 429s answered during a long block
    faults: int  # injected 5xx answers
    cuts: int  # writes committed (a create, update or delete), then their connection dropped
    creates_committed: int  # contacts stored by POST (cut ones included)
    in_flight: int
    max_in_flight: int
    customers_created: int = 0  # by POST /customers (cut ones included)


@dataclass(frozen=True)
class LoggedRequest:
    seq: int
    method: str
    path: str
    query: str  # a `token` parameter's value is replaced by ***
    status: int | None  # None: the connection was cut
    token_hash: str | None  # never the token itself
    time: float  # arrival, seconds since the sandbox started
    duration_s: float
    body: str  # request body as text, truncated
    fault: str | None  # rate_limited | blocked | fail | cut


class RequestLog:
    def __init__(self, limit: int) -> None:
        self.seq = 0  # requests begun since the start (never reset: faults are drawn from it)
        self._log: deque[LoggedRequest] = deque(maxlen=limit)
        self.in_flight = 0
        self._reset_counters()

    def begin(self) -> int:
        self.seq += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return self.seq

    def finish(self, entry: LoggedRequest) -> None:
        """Count and log an answered (or cut) request; `entry.time` is already since the start."""
        self.in_flight -= 1
        self._requests += 1
        if entry.status is not None:
            self._by_status[entry.status] += 1
        if entry.fault in ("rate_limited", "blocked"):
            self._rate_limited += 1
        self._blocked += entry.fault == "blocked"
        self._fault_count += entry.fault == "fail"
        self._cuts += entry.fault == "cut"
        self._log.append(entry)

    def stats(self, creates_committed: int, customers_created: int) -> SandboxStats:
        return SandboxStats(
            requests=self._requests,
            by_status=Counter(self._by_status),
            rate_limited=self._rate_limited,
            blocked=self._blocked,
            faults=self._fault_count,
            cuts=self._cuts,
            creates_committed=creates_committed,
            in_flight=self.in_flight,
            max_in_flight=self.max_in_flight,
            customers_created=customers_created,
        )

    def entries(self) -> list[LoggedRequest]:
        return list(self._log)

    def reset(self) -> None:
        """Clear counters and entries; requests in flight stay counted (their finish comes)."""
        self._reset_counters()
        self._log.clear()

    def _reset_counters(self) -> None:
        self._requests = 0
        self._by_status: Counter = Counter()
        self._rate_limited = self._blocked = self._fault_count = self._cuts = 0
        self.max_in_flight = self.in_flight
