"""Pacing: the shared pacer alone, then the sender, the pacer and the sandbox app together, all on one
virtual clock (no real sleeping), so no assertion depends on how loaded the machine is.

End to end, the sandbox runs in-process (httpx.ASGITransport) with its rate limit: each request is
answered within the loop turn it starts in, and time moves only when every worker is asleep. Wall-clock
pacing, with a real server in its own process, is measured by bench/run.py (budget, latency).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeclock import FakeClock
from importer.deliver.send import SendConfig, send_records
from importer.ecwid import policy
from importer.ecwid.pacer import Pacer
from importer.records import Status
from importer.sandbox import SandboxConfig, SandboxState, create_app
from send_helpers import Collector, make_records


def acquire_all(pacer: Pacer, clock: FakeClock, n: int, *, at=None) -> list[float]:
    """n workers acquire at once; returns the clock time each one got through."""
    times: list[float] = []

    async def one():
        await pacer.acquire()
        times.append(clock())

    async def main():
        await clock.run(*(one() for _ in range(n)))

    asyncio.run(main())
    return sorted(times)


def gaps(times):
    return [round(b - a, 9) for a, b in zip(times, times[1:])]


def test_acquires_are_spaced_evenly_across_workers():
    clock = FakeClock()
    pacer = Pacer(600, clock=clock, sleep=clock.sleep)
    times = acquire_all(pacer, clock, 12)
    assert times[0] == 0.0
    assert gaps(times) == [0.1] * 11


def test_sequential_acquires_are_spaced_too():
    clock = FakeClock()
    pacer = Pacer(120, clock=clock, sleep=clock.sleep)

    async def main():
        out = []
        for _ in range(4):
            await pacer.acquire()
            out.append(clock())
        return out

    assert asyncio.run(clock.run(main()))[0] == [0.0, 0.5, 1.0, 1.5]


def test_idle_time_is_not_banked_into_a_burst():
    clock = FakeClock()
    pacer = Pacer(60, clock=clock, sleep=clock.sleep)
    acquire_all(pacer, clock, 1)
    clock.now = 100.0  # idle for a long time
    times = acquire_all(pacer, clock, 3)
    assert times == [100.0, 101.0, 102.0]


def test_a_stall_of_the_event_loop_is_not_followed_by_a_burst():
    # Twelve waiters hold slots 0.1 s apart; the loop then stalls (a long GC, a busy core) and wakes
    # everyone at 0.55 s. Those whose slot passed take new ones: still 0.1 s apart, never a burst.
    clock = FakeClock()
    pacer = Pacer(600, clock=clock, sleep=clock.sleep)
    real_sleep = clock.sleep

    async def stalled_sleep(seconds: float) -> None:
        await real_sleep(seconds)
        if 0.1 < clock.now < 0.55:
            clock.now = 0.55  # this waiter wakes late

    pacer._sleep = stalled_sleep
    times = acquire_all(pacer, clock, 12)
    assert len(times) == 12 and min(gaps(times)) >= 0.05
    assert sum(t <= 0.6 for t in times) <= 7  # at most 0.6 s / 0.1 s + 1 starts by 0.6 s


def test_unpaced_never_sleeps():
    clock = FakeClock()
    pacer = Pacer(None, clock=clock, sleep=clock.sleep)
    assert acquire_all(pacer, clock, 50) == [0.0] * 50
    assert clock.slept == []


def test_pause_holds_everyone_until_it_ends():
    clock = FakeClock()
    pacer = Pacer(600, clock=clock, sleep=clock.sleep)
    acquire_all(pacer, clock, 3)  # 0.0, 0.1, 0.2
    pacer.pause(5.0)  # at 0.2: nobody before 5.2
    assert pacer.paused()
    times = acquire_all(pacer, clock, 4)
    assert times[0] == pytest.approx(5.2)
    assert gaps(times) == [0.1] * 3


def test_a_pause_that_begins_while_waiting_sends_waiters_back_in_line():
    clock = FakeClock()
    pacer = Pacer(60, clock=clock, sleep=clock.sleep)  # 1 s apart
    times: list[float] = []

    async def worker():
        await pacer.acquire()
        times.append(clock())

    async def limiter():
        await clock.sleep(1.5)  # a 429 arrives between the 2nd and 3rd slot
        pacer.pause(10.0)

    asyncio.run(clock.run(*(worker() for _ in range(4)), limiter()))
    assert times[:2] == [0.0, 1.0]
    assert min(times[2:]) >= 11.5  # nobody left during the pause
    assert gaps(sorted(times)[2:]) == [1.0]


def test_pause_never_shortens_a_longer_one():
    clock = FakeClock()
    pacer = Pacer(None, clock=clock, sleep=clock.sleep)
    pacer.pause(10.0)
    pacer.pause(2.0)
    assert acquire_all(pacer, clock, 1) == [10.0]


def test_slow_down_lowers_the_rate():
    clock = FakeClock()
    pacer = Pacer(600, clock=clock, sleep=clock.sleep)
    pacer.slow_down()
    assert pacer.rate_per_minute == pytest.approx(480)
    times = acquire_all(pacer, clock, 3)
    assert gaps(times) == [0.125, 0.125]


def test_one_slow_down_per_429_episode():
    clock = FakeClock()
    pacer = Pacer(600, clock=clock, sleep=clock.sleep)
    granted = acquire_all(pacer, clock, 3)  # three requests in flight
    clock.now = 0.5
    # all three come back 429: one episode, one slow-down, one pause
    assert [pacer.rate_limited(2.0, t) for t in granted] == [True, False, False]
    assert pacer.rate_per_minute == pytest.approx(480)
    later = acquire_all(pacer, clock, 1)[0]
    assert later == pytest.approx(2.5)
    assert pacer.rate_limited(2.0, later)  # a request sent after the pause: a new episode
    assert pacer.rate_per_minute == pytest.approx(384)


def test_slow_down_stops_at_the_floor():
    pacer = Pacer(40, clock=lambda: 0.0)
    for _ in range(10):
        pacer.slow_down()
    assert pacer.rate_per_minute == policy.MIN_RATE


@settings(max_examples=30, deadline=None)
@given(rate=st.integers(1, 900), n=st.integers(1, 80), pause_at=st.integers(0, 79), pause_s=st.floats(0, 30))
def test_never_more_than_rate_requests_in_any_minute(rate, n, pause_at, pause_s):
    clock = FakeClock()
    pacer = Pacer(rate, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def worker():
        await pacer.acquire()
        times.append(clock())
        if len(times) == pause_at:
            pacer.pause(pause_s)

    asyncio.run(clock.run(*(worker() for _ in range(n))))
    times.sort()
    for i, start in enumerate(times):  # the half-open minute starting at each request
        in_window = sum(1 for t in times[i:] if t < start + 60 - 1e-9)
        assert in_window <= rate
    assert all(g >= 60 / rate - 1e-9 for g in gaps(times))


def test_rejects_a_non_positive_rate():
    with pytest.raises(ValueError):
        Pacer(0)


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
