"""Small asyncio helpers shared by the store reads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from importer.errors import interrupted


async def bounded(
    items: Iterable, work: Callable[..., Awaitable[None]], concurrency: int, cancel: asyncio.Event | None = None
) -> None:
    """`work(item)` for every item, at most `concurrency` at once; the first exception stops the rest.

    A set `cancel` stops too, with RunStopped (interrupted): nothing has been created yet.
    """
    items = list(items)
    if not items:
        return
    pending = iter(items)

    async def worker() -> None:
        for item in pending:  # one shared iterator: each item taken once
            await work(item)

    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, min(concurrency, len(items))))]
    everything = asyncio.gather(*workers)
    waiters = {everything}
    stop = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    if stop is not None:
        waiters.add(stop)
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if everything.done():
            everything.result()  # re-raise the first failure (RunStopped, ...)
        else:
            raise interrupted("the run was cancelled while looking up customers")
    finally:
        for task in (*workers, *([stop] if stop else [])):
            task.cancel()
        await asyncio.gather(*workers, *([stop] if stop else []), return_exceptions=True)
        if not everything.done():
            everything.cancel()
