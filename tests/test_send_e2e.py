"""The sender against the real sandbox over a loopback socket."""

import asyncio
import logging
from collections import Counter

import pytest

from importer.deliver.send import SendConfig, send_records
from importer.records import Code, Status
from importer.sandbox import READ, Sandbox, SandboxConfig
from send_helpers import Collector, make_records


def sandbox(**kw) -> Sandbox:
    return Sandbox(SandboxConfig(**{"rate_per_minute": None, "customers": 10, **kw}))


def send(sb: Sandbox, records, *, token=None, cancel=None, on_result=None, **kw):
    cfg = dict(rate_per_minute=None, concurrency=4, retries=5, backoff_s=0.01, max_backoff_s=0.05,
               timeout_s=5.0, quiet=True, grace_s=2.0)  # fmt: skip
    config = SendConfig(api_url=sb.api_url, store_id=sb.store_id, token=token or sb.token, **{**cfg, **kw})
    collector = on_result or Collector()
    result = asyncio.run(send_records(records, config, on_result=collector, cancel=cancel))
    return result, collector


def stored(sb: Sandbox) -> Counter:
    """(customer, type, contact) -> how many times the store holds it."""
    return Counter((cid, c["type"], c["contact"]) for cid, items in sb.all_contacts().items() for c in items)


def keys(records) -> Counter:
    return Counter((r.customer_id, r.type, r.contact) for r in records)


def test_all_created_exactly_once():
    records = make_records(120)
    with sandbox() as sb:
        result, got = send(sb, iter(records))
        assert stored(sb) == keys(records)
        assert sb.stats.requests == 120 and sb.stats.max_in_flight <= 4
    assert got.statuses() == {Status.CREATED: 120}
    assert sorted(got.by_index()) == list(range(120))
    assert all(r.outcome.http_status == 200 and r.outcome.attempts == 1 for r in got.seen)
    assert result.stopped is None and result.requests == 120


def test_server_errors_and_latency_every_row_ends_right():
    records = make_records(120)
    with sandbox(fail_rate=0.2, latency_ms=5, latency_dist="uniform", seed=7) as sb:
        result, got = send(sb, records, retries=3)
        store = stored(sb)
        assert sb.stats.faults > 10  # the faults really happened
        assert sum(r.outcome.attempts for r in got.seen) == sb.stats.requests == result.requests
    by_status = got.statuses()
    assert set(by_status) <= {Status.CREATED, Status.FAILED}
    created = [r for r in got.seen if r.outcome.status is Status.CREATED]
    failed = [r for r in got.seen if r.outcome.status is Status.FAILED]
    assert store == keys(created)  # created ones exist once; failed ones not at all
    assert any(r.outcome.attempts > 1 for r in created)  # retried into success
    assert all(r.outcome.attempts == 4 and r.outcome.http_status >= 500 for r in failed)


def test_rate_limit_429_pauses_everyone_and_all_rows_get_created():
    # The sandbox admits 10 requests per 0.2 s (3000/min); we start at 4000/min.
    records = make_records(60)
    with sandbox(rate_per_minute=3000, window_s=0.2, block_after=20) as sb:
        result, got = send(sb, records, rate_per_minute=4000, concurrency=4, retries=5)
        log = sb.requests
        stats = sb.stats
        assert stored(sb) == keys(records)
    assert got.statuses() == {Status.CREATED: 60}
    assert stats.rate_limited >= 1 and result.rate_limited == stats.rate_limited
    assert stats.blocked == 0  # never sent so much while limited that the token got blocked
    assert [r.status for r in log].count(429) == stats.rate_limited
    # When each request starts after a 429 is checked on a fake clock, in test_pacing.py.


def test_cut_connections_are_ambiguous_and_never_resent():
    records = make_records(100)
    with sandbox(cut_rate=0.2, seed=3) as sb:
        result, got = send(sb, records)
        stats = sb.stats
        store = stored(sb)
    ambiguous = [r for r in got.seen if r.outcome.error_code == Code.AMBIGUOUS]
    created = [r for r in got.seen if r.outcome.status is Status.CREATED]
    assert stats.cuts == len(ambiguous) > 5
    assert all(r.outcome.status is Status.FAILED and r.outcome.attempts == 1 for r in ambiguous)
    assert stats.creates_committed == len(created) + len(ambiguous)
    assert max(store.values()) == 1  # nothing stored twice
    assert store == keys(created) + keys(ambiguous)
    assert result.ambiguous == len(ambiguous)


@pytest.mark.parametrize(
    "setup, token, message",
    [
        (lambda sb: None, "secret_wrong_token_123", "the token is invalid or revoked (INVALID_API_TOKEN)"),
        (lambda sb: sb.add_token("secret_read_only_456", [READ]), "secret_read_only_456",
         "the token lacks the create_customers scope"),
        (lambda sb: sb.set_store(plan_ok=False), None, "the store's plan does not allow this (NOT_AVAILABLE_ON_CURRENT_PLAN)"),
    ],
)  # fmt: skip
def test_auth_scope_and_plan_errors_stop_the_run(setup, token, message, caplog):
    caplog.set_level(logging.DEBUG)
    records = make_records(200)
    with sandbox(latency_ms=2) as sb:
        setup(sb)
        result, got = send(sb, records, token=token, concurrency=4)
        stats = sb.stats
        assert sb.all_contacts() == {} or all(not v for v in sb.all_contacts().values())
    assert stats.requests <= 4 + 1
    assert result.stopped is not None and result.stopped.message.startswith(message)
    assert sorted(got.by_index()) == list(range(200))
    counts = got.statuses()
    assert counts[Status.NOT_SENT] >= 195 and counts.get(Status.FAILED, 0) == stats.requests
    secret = token or "secret_sandbox_demo_token"
    assert secret not in caplog.text
    assert not any(secret in r.outcome.error for r in got.seen)
    assert secret not in str(result.stopped)


def test_unknown_store_stops_the_run():
    with sandbox() as sb:
        config = SendConfig(api_url=sb.api_url, store_id=999, token=sb.token, rate_per_minute=None, quiet=True)
        got = Collector()
        result = asyncio.run(send_records(make_records(30), config, on_result=got))
        assert sb.stats.requests <= config.concurrency + 1
    assert result.stopped.message.startswith("store 999 not found (STORE_NOT_FOUND)")
    assert got.statuses()[Status.NOT_SENT] >= 30 - config.concurrency


def test_cancel_mid_run_every_record_gets_exactly_one_outcome(caplog):
    caplog.set_level(logging.DEBUG)
    records = make_records(300)
    cancel = asyncio.Event()
    got = Collector()

    def on_result(record):
        got(record)
        if len(got.seen) == 20:
            cancel.set()

    with sandbox(latency_ms=20) as sb:
        result, _ = send(sb, (r for r in records), cancel=cancel, on_result=on_result)
        stats = sb.stats
        store = stored(sb)
    assert sorted(got.by_index()) == list(range(300))
    counts = got.statuses()
    assert counts[Status.CREATED] >= 20 and counts[Status.NOT_SENT] >= 250
    assert result.stopped is not None and result.stopped.error_code == "interrupted"
    created = [r for r in got.seen if r.outcome.status is Status.CREATED]
    ambiguous = [r for r in got.seen if r.outcome.error_code == Code.AMBIGUOUS]
    assert not keys(created) - store  # every created one is there ...
    assert not store - (keys(created) + keys(ambiguous))  # ... and nothing else but the maybe-sent
    assert stats.creates_committed <= len(created) + len(ambiguous)
    assert sb.token not in caplog.text


def test_in_flight_requests_are_abandoned_after_the_grace_period():
    records = make_records(10)
    cancel = asyncio.Event()

    async def main(sb):
        config = SendConfig(api_url=sb.api_url, store_id=sb.store_id, token=sb.token, rate_per_minute=None,
                            concurrency=2, quiet=True, grace_s=0.2)  # fmt: skip
        got = Collector()
        asyncio.get_running_loop().call_later(0.3, cancel.set)
        result = await send_records(records, config, on_result=got, cancel=cancel)
        return result, got

    with sandbox(latency_ms=1500) as sb:
        result, got = asyncio.run(main(sb))
    counts = got.statuses()
    assert counts == {Status.FAILED: 2, Status.NOT_SENT: 8}
    assert result.ambiguous == 2
    assert all(r.outcome.error_code == Code.AMBIGUOUS for r in got.seen if r.outcome.status is Status.FAILED)
    assert result.elapsed_s < 2.0
