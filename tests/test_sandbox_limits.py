"""The sandbox's rate limit: the window, Retry-After, the long block, bad tokens.

Over a real socket, with the sandbox's clock faked so windows pass instantly;
the limiter's rules also as properties over a fake clock.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.sandbox import ALL_SCOPES, Sandbox, SandboxConfig
from importer.sandbox.ratelimit import SlidingWindowLimiter
from test_sandbox_support import FakeClock, auth, contacts_url


def get(client: httpx.Client, sb: Sandbox, token: str | None = None) -> httpx.Response:
    return client.get(contacts_url(sb, 1), headers=auth(token or sb.token))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client():
    with httpx.Client(timeout=5) as c:
        yield c


def test_a_window_admits_the_limit_then_answers_429_with_retry_after(clock, client):
    # 10 a minute: ten requests one second apart pass, the eleventh waits for
    # the first to leave the window at t=60.
    with Sandbox(SandboxConfig(customers=1, rate_per_minute=10), clock=clock) as sb:
        for _ in range(10):
            assert get(client, sb).status_code == 200
            clock.advance(1.0)
        clock.advance(-0.5)  # t = 9.5
        r = get(client, sb)
        assert r.status_code == 429
        assert r.json() == {"errorMessage": "Too many requests, rate limit exceeded", "errorCode": "RATE_LIMITED"}
        assert r.headers["Retry-After"] == "51"  # ceil(60 - 9.5)

        clock.advance(50.4)  # t = 59.9: the first is still in the window
        assert get(client, sb).status_code == 429
        clock.advance(0.1)  # t = 60.0: it has left
        assert get(client, sb).status_code == 200
        assert sb.stats.rate_limited == 2
        assert sb.stats.by_status[429] == 2


def test_each_token_has_its_own_limit(clock, client):
    with Sandbox(SandboxConfig(customers=1, rate_per_minute=2), clock=clock) as sb:
        sb.add_token("secret_second", ALL_SCOPES)
        assert [get(client, sb).status_code for _ in range(3)] == [200, 200, 429]
        assert [get(client, sb, "secret_second").status_code for _ in range(3)] == [200, 200, 429]


def test_a_token_that_keeps_sending_while_limited_is_blocked_for_longer(clock, client):
    cfg = SandboxConfig(customers=1, rate_per_minute=5, block_after=3, block_s=600)
    with Sandbox(cfg, clock=clock) as sb:
        sb.add_token("secret_polite", ALL_SCOPES)
        assert [get(client, sb).status_code for _ in range(5)] == [200] * 5
        refused = [get(client, sb) for _ in range(3)]
        assert all(r.status_code == 429 and int(r.headers["Retry-After"]) <= 60 for r in refused)
        fourth = get(client, sb)  # one 429 more than block_after: blocked
        assert fourth.status_code == 429
        assert fourth.headers["Retry-After"] == "600"

        clock.advance(61)  # the window is empty again, the block is not over
        r = get(client, sb)
        assert (r.status_code, r.headers["Retry-After"]) == (429, "539")
        assert get(client, sb, "secret_polite").status_code == 200  # others are not blocked

        clock.advance(539)
        assert get(client, sb).status_code == 200
        assert sb.stats.blocked == 2
        assert sb.stats.rate_limited == 5


def test_block_lasts_five_windows_by_default():
    assert SandboxConfig().block_seconds == 300
    assert SandboxConfig(window_s=2, rate_per_minute=600).block_seconds == 10


def test_many_requests_with_a_bad_token_from_one_address_are_blocked(clock, client):
    cfg = SandboxConfig(customers=1, bad_token_limit=3, block_s=120)
    with Sandbox(cfg, clock=clock) as sb:
        assert [get(client, sb, "secret_wrong").status_code for _ in range(3)] == [403] * 3
        r = get(client, sb, "secret_wrong")
        assert (r.status_code, r.json()["errorCode"], r.headers["Retry-After"]) == (429, "RATE_LIMITED", "120")
        assert client.get(contacts_url(sb, 1)).status_code == 429  # no token at all: same address
        assert get(client, sb).status_code == 200  # a working token still works


def test_unlimited_rate_never_answers_429(clock, client):
    with Sandbox(SandboxConfig(customers=1, rate_per_minute=None), clock=clock) as sb:
        assert {get(client, sb).status_code for _ in range(50)} == {200}


def test_the_real_clock_drives_the_window(client):
    # 600 a minute in a 1 s window: 10 per second. Eleven quick requests take
    # milliseconds, far less than the window.
    with Sandbox(SandboxConfig(customers=1, rate_per_minute=600, window_s=1.0)) as sb:
        statuses = [get(client, sb).status_code for _ in range(11)]
        assert statuses == [200] * 10 + [429]


def test_set_rate_changes_the_limit_at_run_time(clock, client):
    with Sandbox(SandboxConfig(customers=1, rate_per_minute=None), clock=clock) as sb:
        sb.set_rate(1)
        assert [get(client, sb).status_code for _ in range(2)] == [200, 429]


@pytest.mark.parametrize("rate, window", [(100, 1.0), (600, 0.05), (0, 60)])
def test_a_window_must_hold_a_whole_number_of_requests(rate, window):
    with pytest.raises(ValueError):
        SandboxConfig(rate_per_minute=rate, window_s=window)


# ---- the limiter's rules, over a fake clock --------------------------------


def run(limiter: SlidingWindowLimiter, times: list[float]) -> list[bool]:
    return [limiter.hit("k", t) is None for t in times]


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 700),
    window=st.sampled_from([0.5, 1.0, 10.0, 60.0]),
    factor=st.floats(0.5, 1.0),
    offset=st.floats(0, 1000),
)
def test_smooth_pacing_at_or_under_the_rate_is_never_refused(limit, window, factor, offset):
    limiter = SlidingWindowLimiter(limit, window, block_after=0, block_s=1e9)
    spacing = window / limit / factor
    times = [offset + i * spacing for i in range(3 * limit + 5)]
    assert all(run(limiter, times))


def test_pacing_at_095_of_600_a_minute_for_ten_minutes_is_never_refused():
    limiter = SlidingWindowLimiter(600, 60.0, block_after=20, block_s=300)
    times = [i * 60.0 / 570 for i in range(5700)]
    assert all(run(limiter, times))


def test_pacing_over_the_rate_is_refused():
    limiter = SlidingWindowLimiter(600, 60.0, block_after=10**6, block_s=300)
    times = [i * 60.0 / 630 for i in range(1260)]
    admitted = run(limiter, times)
    assert 1150 <= sum(admitted) < 1260


@settings(max_examples=100, deadline=None)
@given(
    limit=st.integers(1, 8),
    gaps=st.lists(st.floats(0, 0.6), min_size=1, max_size=60),
)
def test_any_window_holds_at_most_the_limit_and_refusals_only_when_full(limit, gaps):
    window = 1.0
    limiter = SlidingWindowLimiter(limit, window, block_after=10**6, block_s=1e9)
    now, admitted = 0.0, []
    for gap in gaps:
        now += gap
        in_window = [t for t in admitted if t > now - window + 1e-9]
        ok = limiter.hit("k", now) is None
        assert ok == (len(in_window) < limit)
        if ok:
            admitted.append(now)
