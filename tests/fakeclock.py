"""A virtual clock for asyncio tests: sleeping advances time instantly, in order."""

from __future__ import annotations

import asyncio
import heapq
import itertools


class FakeClock:
    def __init__(self, start: float = 0.0):
        self.now = start
        self.slept: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._seq), future))
        await future

    async def run(self, *coros):
        """Run coroutines to completion, jumping the clock to the next wake-up whenever all are asleep."""
        tasks = [asyncio.ensure_future(c) for c in coros]
        while not all(t.done() for t in tasks):
            await _until_idle()  # every task has reached its next sleep (or is done)
            if self._sleepers and not all(t.done() for t in tasks):
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                if not future.done():
                    future.set_result(None)
        return [t.result() for t in tasks]


async def _until_idle(most: int = 100_000) -> None:
    """Yield until no task is ready to run: all wait for a fake wake-up, a future or real I/O.

    In-process work (an httpx.ASGITransport request through the whole sandbox app) takes many
    loop turns; waking sleepers before it is done would move time under a request in progress.
    """
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)  # CPython's queue of callbacks to run on the next turn
    for turn in range(most):
        await asyncio.sleep(0)
        if (not ready if ready is not None else turn >= 20):
            return
