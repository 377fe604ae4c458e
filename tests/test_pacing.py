"""Pacing end to end on a fake clock: the sender, the pacer and the sandbox app (with its rate
limit) all read one virtual clock, so no assertion depends on how loaded the machine is.

The sandbox runs in-process (httpx.ASGITransport): each request is answered within the loop
turn it starts in, and time moves only when every worker is asleep. Wall-clock pacing, with
a real server in its own process, is measured by bench/run.py (budget, latency).
"""

from __future__ import annotations

import asyncio

import httpx

from fakeclock import FakeClock
from importer.deliver.send import SendConfig, send_records
from importer.records import Status
from importer.sandbox import SandboxConfig, SandboxState, create_app
from send_helpers import Collector, make_records


def _send(records, *, rate: float, store_rate: int, window_s: float, concurrency: int = 8):
    """Send `records` on a fake clock to a sandbox app limited to `store_rate` a minute."""
    clock = FakeClock(start=1000.0)
    state = SandboxState(SandboxConfig(customers=10, rate_per_minute=store_rate, window_s=window_s), clock=clock)
    config = SendConfig(api_url="http://127.0.0.1/api/v3", store_id=state.config.store_id, token=state.config.token,
                        rate_per_minute=rate, concurrency=concurrency, retries=5, quiet=True)  # fmt: skip
    got = Collector()

    async def main():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state))) as http:
            send = send_records(records, config, on_result=got, client=http, clock=clock, sleep=clock.sleep,
                                random=lambda: 0.5)  # fmt: skip
            return (await clock.run(send))[0]

    result = asyncio.run(main())
    return result, got, state


def test_requests_start_60_over_rate_apart_and_the_store_never_says_429():
    # The store admits 10 requests in any 0.4 s (1500/min); we send at 1200/min with 8 workers.
    result, got, state = _send(make_records(63), rate=1200, store_rate=1500, window_s=0.4)
    arrivals = [r.time for r in state.requests]
    assert got.statuses() == {Status.CREATED: 63}
    assert state.stats.rate_limited == 0 and result.rate_limited == 0
    gaps = [round(b - a, 9) for a, b in zip(arrivals, arrivals[1:])]
    assert gaps == [0.05] * 62  # evenly spaced, never a burst, whatever the concurrency
    assert result.achieved_rate_per_minute <= 1200 * 63 / 62 + 1e-6


def test_a_pace_above_the_limit_meets_429s_which_pause_everyone_until_retry_after():
    # The same check can fail: 4000/min against a store that admits 3000/min (10 per 0.2 s).
    result, got, state = _send(make_records(60), rate=4000, store_rate=3000, window_s=0.2, concurrency=4)
    log = state.requests
    assert got.statuses() == {Status.CREATED: 60}  # every row created in the end
    limited = [r.time for r in log if r.status == 429]
    assert limited and result.rate_limited == len(limited) and state.stats.blocked == 0
    for t in limited:  # Retry-After is at least 1 s: nothing starts before it has passed
        assert not [r for r in log if t < r.time < t + 1.0], f"requests arrived during the pause after {t:.3f}"
    assert len(limited) <= 4 * 3  # at most the requests in flight per episode, and few episodes
