"""Small asyncio helpers shared by the store reads and the engine: work that a set `cancel` ends.

    await bounded(customers, read, concurrency=8, cancel=cancel)   # RunStopped (interrupted) if cancelled
    if await unless_cancelled(cancel, reads): ...                  # `reads` was cancelled
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from importer.errors import interrupted


async def bounded(items: Iterable, work: Callable[..., Awaitable[None]], concurrency: int,
                  cancel: asyncio.Event | None = None, *,
                  cancelled: str = "the run was cancelled while looking up customers") -> None:  # fmt: skip
    """`work(item)` for every item, at most `concurrency` at once; the first exception stops the rest.

    A set `cancel` stops too, with RunStopped (interrupted, saying `cancelled`).
    """
    items = list(items)
    pending = iter(items)

    async def worker() -> None:
        for item in pending:  # one shared iterator: each item taken once
            await work(item)

    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, min(concurrency, len(items))))]
    everything = asyncio.gather(*workers)
    try:
        if await unless_cancelled(cancel, everything):
            raise interrupted(cancelled)
        everything.result()  # re-raise the first failure (RunStopped, ...)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def unless_cancelled(cancel: asyncio.Event | None, work: Awaitable[object]) -> bool:
    """Run `work` unless `cancel` is set first (then `work` is cancelled): whether it was."""
    task = asyncio.ensure_future(work)
    if cancel is None:
        await task
        return False
    stop = asyncio.ensure_future(cancel.wait())
    try:
        await asyncio.wait([task, stop], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if task.done():
        return False
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return True
