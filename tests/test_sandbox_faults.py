"""Injected faults: 5xx answers, cut connections after a commit, latency.

Seeded: the same seed gives the same faults to the same requests.
"""

from __future__ import annotations

import statistics
import time

import httpx
import pytest

from importer.sandbox import FaultSettings, Sandbox, SandboxConfig
from importer.sandbox.faults import draw
from test_sandbox_support import FakeClock, auth, contacts_url, create

CUT_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError)


@pytest.fixture
def client():
    with httpx.Client(timeout=5) as c:
        yield c


def statuses_of_gets(client: httpx.Client, cfg: SandboxConfig, n: int) -> list[int]:
    with Sandbox(cfg) as sb:
        got = [client.get(contacts_url(sb, 1), headers=auth(sb.token)).status_code for _ in range(n)]
        assert sb.stats.faults == sum(s >= 500 for s in got)
        return got


def test_server_errors_are_seeded_and_reproducible(client):
    cfg = SandboxConfig(customers=1, rate_per_minute=None, fail_rate=0.3, seed=7)
    first = statuses_of_gets(client, cfg, 40)
    again = statuses_of_gets(client, cfg, 40)
    other_seed = statuses_of_gets(client, SandboxConfig(customers=1, rate_per_minute=None, fail_rate=0.3, seed=8), 40)
    assert first == again
    assert first != other_seed
    assert set(first) <= {200, 500, 502, 503}
    assert 4 <= sum(s >= 500 for s in first) <= 24


def test_each_server_error_looks_like_what_ecwid_or_its_proxy_sends(client):
    with Sandbox(SandboxConfig(customers=1, fail_rate=1.0, seed=1)) as sb:
        seen: dict[int, httpx.Response] = {}
        for _ in range(40):
            r = client.get(contacts_url(sb, 1), headers=auth(sb.token))
            seen.setdefault(r.status_code, r)
        assert set(seen) == {500, 502, 503}
        assert seen[500].json() == {"errorMessage": "Internal server error", "errorCode": "INTERNAL_ERROR"}
        assert seen[502].headers["content-type"].startswith("text/html")
        assert seen[503].content == b""


def test_a_failed_create_stores_nothing(client):
    with Sandbox(SandboxConfig(customers=1, fail_rate=1.0)) as sb:
        assert create(client, sb, 1).status_code >= 500
        assert sb.contacts(1) == []
        assert sb.stats.creates_committed == 0


def test_a_cut_create_is_stored_but_the_client_gets_no_answer(client):
    with Sandbox(SandboxConfig(customers=1, cut_rate=1.0)) as sb:
        with pytest.raises(CUT_ERRORS):
            create(client, sb, 1, {"contact": "cut@example.com", "type": "EMAIL"})
        assert [c["contact"] for c in sb.contacts(1)] == ["cut@example.com"]
        stats = sb.stats
        assert (stats.cuts, stats.creates_committed, stats.in_flight) == (1, 1, 0)
        entry = sb.requests[-1]
        assert (entry.status, entry.fault) == (None, "cut")
        # The server is fine afterwards, and only committed creates are cut.
        assert client.get(contacts_url(sb, 1), headers=auth(sb.token)).status_code == 200
        assert create(client, sb, 1, {"contact": "x", "type": "FAX"}).status_code == 400
        assert sb.stats.cuts == 1


def cut_pattern(client: httpx.Client, seed: int) -> list[bool]:
    with Sandbox(SandboxConfig(customers=1, cut_rate=0.5, seed=seed)) as sb:
        pattern = []
        for i in range(20):
            try:
                create(client, sb, 1, {"contact": f"c{i}@example.com", "type": "EMAIL"})
                pattern.append(False)
            except CUT_ERRORS:
                pattern.append(True)
        # every create was committed, answered or not
        assert [c["contact"] for c in sb.contacts(1)] == [f"c{i}@example.com" for i in range(20)]
        assert sb.stats.cuts == sum(pattern)
        return pattern


def test_cuts_are_seeded_and_reproducible(client):
    first = cut_pattern(client, seed=3)
    assert first == cut_pattern(client, seed=3)
    assert 2 <= sum(first) <= 18


def test_fixed_latency_delays_every_answer(client):
    with Sandbox(SandboxConfig(customers=1, latency_ms=80)) as sb:
        t0 = time.perf_counter()
        client.get(contacts_url(sb, 1), headers=auth(sb.token))
        assert time.perf_counter() - t0 >= 0.08


def test_faults_change_at_run_time(client):
    with Sandbox(SandboxConfig(customers=1)) as sb:
        assert create(client, sb, 1).status_code == 200
        sb.set_fault(fail_rate=1.0)
        assert create(client, sb, 1).status_code >= 500
        sb.set_fault(fail_rate=0.0, cut_rate=1.0)
        with pytest.raises(CUT_ERRORS):
            create(client, sb, 1)
        sb.set_fault(cut_rate=0.0, latency_ms=60)
        t0 = time.perf_counter()
        assert create(client, sb, 1).status_code == 200
        assert time.perf_counter() - t0 >= 0.06
        assert len(sb.contacts(1)) == 3


def test_slow_start_slows_only_the_first_seconds(client):
    clock = FakeClock()
    cfg = SandboxConfig(customers=1, slow_start_s=10, slow_start_ms=80)
    with Sandbox(cfg, clock=clock) as sb:
        t0 = time.perf_counter()
        client.get(contacts_url(sb, 1), headers=auth(sb.token))
        assert time.perf_counter() - t0 >= 0.08
    assert draw(FaultSettings(slow_start_s=10, slow_start_ms=80), 1, 9.9).latency_s == pytest.approx(0.08)
    assert draw(FaultSettings(slow_start_s=10, slow_start_ms=80), 1, 10.0).latency_s == 0


# ---- the draws themselves ---------------------------------------------------


def test_draws_depend_on_seed_and_sequence_only():
    s = FaultSettings(fail_rate=0.5, cut_rate=0.5, latency_ms=10, latency_dist="exponential", seed=42)
    assert [draw(s, n, 0) for n in range(50)] == [draw(s, n, 0) for n in range(50)]
    assert [draw(s, n, 0) for n in range(50)] != [draw(FaultSettings(**{**s.__dict__, "seed": 43}), n, 0)
                                                   for n in range(50)]
    # switching latency on does not move which requests fail
    no_latency = FaultSettings(fail_rate=0.5, cut_rate=0.5, seed=42)
    assert [draw(s, n, 0).fail_status for n in range(50)] == [draw(no_latency, n, 0).fail_status for n in range(50)]


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_rates_zero_and_one_are_never_and_always(rate):
    s = FaultSettings(fail_rate=rate, cut_rate=rate)
    draws = [draw(s, n, 0) for n in range(200)]
    assert all((d.fail_status is not None) == (rate == 1.0) for d in draws)
    assert all(d.cut == (rate == 1.0) for d in draws)


@pytest.mark.parametrize("dist, low, high", [("fixed", 20, 20), ("uniform", 0, 40), ("exponential", 0, float("inf"))])
def test_latency_distributions_have_the_configured_mean(dist, low, high):
    s = FaultSettings(latency_ms=20, latency_dist=dist, seed=5)
    ms = [draw(s, n, 0).latency_s * 1000 for n in range(4000)]
    assert all(low <= m <= high for m in ms)
    assert statistics.fmean(ms) == pytest.approx(20, rel=0.08)
    if dist == "exponential":
        assert statistics.median(ms) == pytest.approx(20 * 0.693, rel=0.1)


@pytest.mark.parametrize(
    "bad",
    [{"fail_rate": 1.5}, {"cut_rate": -0.1}, {"latency_dist": "normal"}, {"latency_ms": -1}, {"fail_statuses": (404,)}],
)
def test_bad_fault_settings_are_refused(bad):
    with pytest.raises(ValueError):
        SandboxConfig(**bad)
