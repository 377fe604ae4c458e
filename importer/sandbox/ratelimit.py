"""Per-key sliding-window rate limit with Ecwid's "blocked for longer" rule.

A sliding log, not fixed buckets: a key is admitted when fewer than `limit`
admitted requests lie in the last `window_s` seconds, the window open at its old
end, `(now - window_s, now]`. So a client spacing requests exactly
`window_s / limit` apart is never refused, and one at 0.95 of that rate has room
to spare; fixed buckets would refuse a smooth client near a bucket edge.

Refused requests do not fill the window (Ecwid: "subsequent requests will be
ignored"), but a key that is refused more than `block_after` times within one
window is blocked for `block_s` (Ecwid: "will block it for much longer").

Not thread-safe by itself: the owner holds a lock. Time comes from the caller,
so tests can drive it with a fake clock.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Refusal:
    retry_after_s: float  # exact time until a request would be admitted
    blocked: bool  # True: the long block, not just a full window

    @property
    def retry_after_header(self) -> int:
        """Whole seconds, rounded up, at least 1: waiting that long suffices."""
        return max(1, math.ceil(self.retry_after_s - 1e-9))


@dataclass
class _Key:
    admitted: deque[float] = field(default_factory=deque)
    refused: deque[float] = field(default_factory=deque)
    blocked_until: float = -math.inf


class SlidingWindowLimiter:
    def __init__(self, limit: int, window_s: float, block_after: int, block_s: float) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self.block_after = block_after
        self.block_s = block_s
        self._keys: dict[str, _Key] = {}

    def hit(self, key: str, now: float) -> Refusal | None:
        """Count one request; None if admitted, else why and for how long not."""
        k = self._keys.setdefault(key, _Key())
        if now < k.blocked_until:
            return Refusal(k.blocked_until - now, blocked=True)
        _drop_before(k.admitted, now - self.window_s)
        if len(k.admitted) < self.limit:
            k.admitted.append(now)
            return None
        return self._strike(k, k.refused, self.block_after, now) or Refusal(
            k.admitted[0] + self.window_s - now, blocked=False
        )

    def take(self, key: str, now: float, reserve: int = 0) -> float:
        """Count one request if the window has room beyond `reserve` (0.0); else the seconds until it has.
        Never a strike: for work the server itself holds back (the batch API's inner requests), not a
        client's request; the reserve keeps room for the client's own requests."""
        k = self._keys.setdefault(key, _Key())
        _drop_before(k.admitted, now - self.window_s)
        if len(k.admitted) < self.limit - reserve:
            k.admitted.append(now)
            return 0.0
        return max(k.admitted[len(k.admitted) - (self.limit - reserve)] + self.window_s - now, 1e-3)

    def count_only(self, key: str, now: float) -> Refusal | None:
        """For requests that are refused anyway (a non-working token): count
        them, and block the key once more than `limit` came within a window."""
        k = self._keys.setdefault(key, _Key())
        if now < k.blocked_until:
            return Refusal(k.blocked_until - now, blocked=True)
        return self._strike(k, k.admitted, self.limit, now)

    def _strike(self, k: _Key, times: deque[float], allowed: int, now: float) -> Refusal | None:
        """Note one more strike; more than `allowed` in a window starts the block."""
        _drop_before(times, now - self.window_s)
        times.append(now)
        if len(times) <= allowed:
            return None
        k.blocked_until = now + self.block_s
        times.clear()
        return Refusal(self.block_s, blocked=True)

    def reset(self) -> None:
        self._keys.clear()


_EPS = 1e-9  # float noise: a request exactly one window later finds room


def _drop_before(times: deque[float], cutoff: float) -> None:
    # Times at or before the cutoff have left the half-open window.
    while times and times[0] <= cutoff + _EPS:
        times.popleft()
