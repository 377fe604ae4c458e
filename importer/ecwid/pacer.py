"""Client-side pacing shared by every worker, separate from retrying.

Like aiolimiter's AsyncLimiter, but smooth rather than bursty: request starts
are spaced 60/rate seconds apart, so no window of any length sees more than
its share. `pause` holds every acquirer back (a 429 told us to wait), and
`slow_down` lowers the pace for the rest of the run.

Clock and sleep are injectable so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from importer.ecwid import policy


class Pacer:
    def __init__(
        self,
        rate_per_minute: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        if rate_per_minute is not None and rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive or None (unpaced)")
        self._rate = rate_per_minute
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")  # earliest start of the next request
        self._paused_until = float("-inf")
        self._episode_start = float("-inf")  # when the latest 429 episode began

    @property
    def rate_per_minute(self) -> float | None:
        return self._rate

    @property
    def interval(self) -> float:
        return 0.0 if self._rate is None else 60.0 / self._rate

    def paused(self) -> bool:
        return self._clock() < self._paused_until

    async def acquire(self) -> float:
        """Wait for this caller's turn; returns the (clock) time it was granted.

        Each caller reserves its own slot, so waiters leave in order, one per
        interval. A pause that begins while we wait sends us back in line.
        """
        while True:
            now = self._clock()
            start = max(now, self._next, self._paused_until)
            self._next = start + self.interval
            if start > now:
                await self._sleep(start - now)
                if self._clock() > start + self.interval / 2:
                    # Woke late (the event loop was busy): the slot has passed. Every waiter woke late with
                    # us, so going ahead would send a burst; take the next free slot instead.
                    continue
            if not self.paused():
                return start

    def pause(self, seconds: float) -> None:
        """No acquirer gets through until `seconds` from now (extends, never shortens)."""
        until = self._clock() + seconds
        if until > self._paused_until:
            self._paused_until = until

    def slow_down(self) -> None:
        if self._rate is not None:
            self._rate = policy.slowed_rate(self._rate)

    def rate_limited(self, pause_s: float, sent_at: float) -> bool:
        """A 429 arrived for a request granted at `sent_at`: pause everyone.

        Slows down once per episode: requests that left before the latest 429
        was seen were already on their way, so their 429s are the same episode.
        Returns whether this 429 began a new episode.
        """
        new_episode = sent_at >= self._episode_start
        if new_episode:
            self._episode_start = self._clock()
            self.slow_down()
        self.pause(pause_s)
        return new_episode
