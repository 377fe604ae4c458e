"""Issue 22: the one client (importer.ecwid.client.EcwidClient) against the sandbox app in-process.

httpx.ASGITransport is the one I/O seam: every case the sandbox can produce (a rate limit, a 5xx, a missing
scope, a create answered with nothing, an error page echoing the token) is its own, set by its seeded
fault settings; a MockTransport in front of it only for what it cannot (a read answered with nothing, a
refused connection). The client, its pacer, its liveness and the sandbox read one fake clock, so waits
cost no time and no assertion depends on the machine's load.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from fakeclock import FakeClock
from importer.ecwid import CREATE_SCOPE, READ_SCOPE, TOKEN_RUN, UPDATE_SCOPE
from importer.ecwid.answers import CREATED, count
from importer.ecwid.client import EcwidClient
from importer.ecwid.liveness import Liveness
from importer.ecwid.pacer import Pacer
from importer.ecwid.policy import Action
from importer.errors import RunStopped
from importer.records import Code
from importer.sandbox import SandboxConfig, SandboxState, create_app
from importer.sandbox.config import READ
from importer.sandbox.faults import FaultSettings, draw

TOKEN = "secret_client_0123456789abcdefTOKEN"
API = "http://sandbox/api/v3"
STORE = 1003
CONTACTS = "/customers/1/contacts"
EMAIL = {"contact": "ann@example.com", "type": "EMAIL"}


def sandbox(clock: FakeClock, **config) -> SandboxState:
    """A store of two customers on the fake clock, unlimited unless told; every scope unless told."""
    return SandboxState(SandboxConfig(token=TOKEN, **{"customers": 2, "rate_per_minute": None, **config}), clock=clock)


def seed_for(*faults: str, **settings) -> int:
    """A seed whose requests 1, 2, … meet `faults` ("fail", "blank" or "" for none) under `settings`."""
    for seed in range(10_000):
        draws = [draw(FaultSettings(**settings, seed=seed), seq, 0.0) for seq in range(1, len(faults) + 1)]
        met = ["fail" if d.fail_status else "blank" if d.blank else "" for d in draws]
        if met == list(faults):
            return seed
    raise AssertionError(f"no seed gives {faults}")


def run(state: SandboxState, clock: FakeClock, steps, *, rate: float | None = None, retries: int = 3,
        window_s: float = 60.0, transport: httpx.AsyncBaseTransport | None = None):  # fmt: skip
    """`await steps(client, pacer)` through the one client over the sandbox app, on the fake clock."""

    async def main():
        liveness = Liveness(API, window_s, clock=clock)
        pacer = Pacer(rate, clock=clock, sleep=clock.sleep)
        async with liveness.client(transport=transport or httpx.ASGITransport(app=create_app(state))) as http:
            api = EcwidClient(http, api_url=API, store_id=STORE, token=TOKEN, pacer=pacer, retries=retries,
                              sleep=clock.sleep, random=lambda: 0.0, liveness=liveness)  # fmt: skip
            return (await clock.run(steps(api, pacer)))[0]

    return asyncio.run(main())


def statuses(state: SandboxState) -> list[int | None]:
    return [r.status for r in state.requests]


def test_a_create_answered_create_count_1_is_created():
    clock = FakeClock(1000.0)
    state = sandbox(clock)
    reply = run(state, clock, lambda api, _: api.call("POST", CONTACTS, EMAIL, scope=CREATE_SCOPE, meaning=CREATED))
    assert (reply.action, reply.status, reply.value, reply.attempts, reply.lost) == (Action.SUCCESS, 200, 1, 1, False)
    assert [c["contact"] for c in state.contacts(1)] == ["ann@example.com"]
    assert statuses(state) == [200]


def test_a_429_pauses_every_request_sharing_the_pacer_until_retry_after():
    # The store admits 3 requests in any 6 s; we pace at 600/min (0.1 s apart): the 4th meets a 429.
    clock = FakeClock(1000.0)
    state = sandbox(clock, rate_per_minute=30, window_s=6.0)

    async def steps(api: EcwidClient, pacer: Pacer):
        for _ in range(3):
            assert (await api.call("GET", CONTACTS, scope=READ_SCOPE)).action is Action.SUCCESS
        limited = await api.exchange("GET", CONTACTS, scope=READ_SCOPE)
        limited_at, paused = clock.now, pacer.paused()
        # Another reader of the run (the same pacer, its own client): its request waits out the pause.
        other = EcwidClient(api.http, api_url=API, store_id=STORE, token=TOKEN, pacer=pacer, sleep=clock.sleep)
        after = await other.call("GET", CONTACTS, scope=READ_SCOPE)
        return limited, limited_at, paused, after, clock.now

    limited, limited_at, paused, after, after_at = run(state, clock, steps, rate=600)
    assert (limited.status, limited.action, limited.retry_after) == (429, Action.RETRY, 6.0)
    assert paused and after.action is Action.SUCCESS and after.attempts == 1
    assert after_at >= limited_at + 6.0  # nothing left during the pause Retry-After asked for
    assert statuses(state) == [200, 200, 200, 429, 200]


def test_a_429_is_counted_slows_the_pace_and_the_call_goes_on_after_the_pause():
    clock = FakeClock(1000.0)
    state = sandbox(clock, rate_per_minute=30, window_s=6.0)

    async def steps(api: EcwidClient, pacer: Pacer):
        replies = [await api.call("GET", CONTACTS, scope=READ_SCOPE) for _ in range(4)]
        return replies, api.limited, pacer.rate_per_minute

    replies, limited, rate = run(state, clock, steps, rate=600)
    assert [r.attempts for r in replies] == [1, 1, 1, 2] and all(r.action is Action.SUCCESS for r in replies)
    assert limited == 1 and rate == 480  # one episode: 600 a minute becomes 480 for the rest of the run
    arrivals = [r.time for r in state.requests]
    assert arrivals[4] - arrivals[3] >= 6.0


@pytest.mark.parametrize("status", [500, 502, 503])  # JSON, a proxy's HTML, an empty body
def test_a_5xx_is_retried_after_a_backoff_then_the_create_succeeds(status):
    clock = FakeClock(1000.0)
    settings = {"fail_rate": 0.5, "fail_statuses": (status,)}
    state = sandbox(clock, **settings, seed=seed_for("fail", "", **settings))
    reply = run(state, clock, lambda api, _: api.call("POST", CONTACTS, EMAIL, scope=CREATE_SCOPE, meaning=CREATED))
    assert (reply.action, reply.value, reply.attempts) == (Action.SUCCESS, 1, 2)
    assert reply.lost  # a 5xx may come after the change was made: the caller is told
    assert statuses(state) == [status, 200] and len(state.contacts(1)) == 1
    first, second = state.requests
    assert second.time - first.time == pytest.approx(0.5)  # the first backoff (no jitter here)


def test_a_403_for_a_missing_scope_stops_the_run_naming_the_scope_without_a_retry():
    clock = FakeClock(1000.0)
    state = sandbox(clock, scopes=frozenset({READ}))
    with pytest.raises(RunStopped) as stopped:
        run(state, clock, lambda api, _: api.call("POST", CONTACTS, EMAIL, scope=CREATE_SCOPE, meaning=CREATED))
    assert stopped.value.message == "the token lacks the create_customers scope (INSUFFICIENT_APP_SCOPE)"
    assert (stopped.value.error_code, stopped.value.http_status) == ("INSUFFICIENT_APP_SCOPE", 403)
    assert statuses(state) == [403] and state.contacts(1) == []


@pytest.mark.parametrize("body", ["empty", "{}", "html"])
def test_a_create_answered_2xx_without_a_count_is_in_doubt_and_not_resent(body):
    clock = FakeClock(1000.0)
    state = sandbox(clock, blank_rate=1.0, blank_body=body)  # blanks the answers of writes that commit

    async def steps(api: EcwidClient, _):
        await api.call("GET", CONTACTS, scope=READ_SCOPE)  # the API heard: what follows is not its absence
        one = await api.exchange("POST", CONTACTS, EMAIL, scope=CREATE_SCOPE, meaning=CREATED, resend=False)
        called = await api.call("POST", CONTACTS, EMAIL, scope=CREATE_SCOPE, meaning=CREATED, resend=False)
        return one, called

    for reply in run(state, clock, steps):
        assert (reply.action, reply.error_code, reply.lost, reply.attempts) == (Action.AMBIGUOUS, Code.AMBIGUOUS, True, 1)
        assert "the contact may exist" in reply.error and "createCount" in reply.error
    # Each was made: sending either again would have doubled it.
    assert statuses(state) == [200, 200, 200] and len(state.contacts(1)) == 2


def test_an_edit_by_id_answered_2xx_without_a_count_is_sent_again():
    clock = FakeClock(1000.0)
    state = sandbox(clock, customers=[{"id": 1, "contacts": "EMAIL:ann@example.com"}])
    contact_id = state.contacts(1)[0]["id"]
    state.set_fault(blank_rate=0.5, seed=seed_for("blank", "", blank_rate=0.5))
    reply = run(state, clock, lambda api, _: api.call("PUT", f"{CONTACTS}/{contact_id}", {"note": "VIP"},
                                                      scope=UPDATE_SCOPE, meaning=count("updateCount")))  # fmt: skip
    assert (reply.action, reply.value, reply.attempts, reply.lost) == (Action.SUCCESS, 1, 2, True)
    assert statuses(state) == [200, 200] and state.contacts(1)[0]["note"] == "VIP"


def test_a_read_answered_2xx_that_is_not_json_is_read_again():
    # The sandbox answers every read with its document; a proxy's page for the first is put in front of it.
    clock = FakeClock(1000.0)
    state = sandbox(clock)
    app = httpx.ASGITransport(app=create_app(state))
    seen: list[str] = []

    async def portal_once(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) == 1:
            return httpx.Response(200, html="<html><body>Welcome to the hotel's Wi-Fi</body></html>")
        return await app.handle_async_request(request)

    reply = run(state, clock, lambda api, _: api.call("GET", CONTACTS, scope=READ_SCOPE),
                transport=httpx.MockTransport(portal_once))  # fmt: skip
    assert (reply.action, reply.value, reply.attempts) == (Action.SUCCESS, {"items": []}, 2)
    assert seen == ["GET", "GET"] and statuses(state) == [200]


def _leaks(text: str) -> list[str]:
    """Every piece of the token (TOKEN_RUN characters or more) found in `text`."""
    return [TOKEN[i:i + TOKEN_RUN] for i in range(len(TOKEN) - TOKEN_RUN + 1) if TOKEN[i:i + TOKEN_RUN] in text]


@pytest.mark.parametrize("status", [400, 401, 500])  # a failed row, a stop, retries given up on
def test_an_error_page_echoing_the_token_leaves_no_piece_of_it_in_any_text(status, caplog):
    clock = FakeClock(1000.0)
    state = sandbox(clock, echo_rate=1.0, echo_status=status)

    async def steps(api: EcwidClient, _):
        await api.call("GET", CONTACTS, scope=READ_SCOPE)  # the API heard (echoes answer writes only)
        one = await api.exchange("POST", CONTACTS, EMAIL, scope=CREATE_SCOPE, meaning=CREATED, resend=False)
        try:
            last = await api.call("POST", CONTACTS, EMAIL, scope=CREATE_SCOPE, meaning=CREATED, resend=False)
        except RunStopped as stop:
            return one, None, stop
        return one, last, None

    caplog.set_level(logging.DEBUG)
    one, last, stop = run(state, clock, steps, retries=1)
    assert one.status == status and "Authorization: Bearer" in one.error  # the page is what the reply tells
    texts = [one.error, one.detail, one.error_code, caplog.text]
    texts += [last.error, last.detail, last.error_code] if last else []
    texts += [stop.message, stop.error_code, str(stop)] if stop else []
    assert [leak for text in texts for leak in _leaks(text)] == []
    assert (stop is not None) == (status == 401)  # a 401 stops the run; a 400 fails, 500s are given up on


def test_an_api_that_answers_only_proxy_pages_stops_the_run_once_as_unreachable():
    clock = FakeClock(1000.0)
    state = sandbox(clock, fail_rate=1.0, fail_statuses=(502,))
    with pytest.raises(RunStopped) as stopped:
        run(state, clock, lambda api, _: api.call("GET", "/customers", scope=READ_SCOPE), retries=2)
    assert stopped.value.error_code == "api-unreachable"
    assert stopped.value.message == "the answer is not Ecwid's: HTML from a proxy or captive portal?"
    assert statuses(state) == [502, 502, 502]  # every retry spent first: one bad answer stops nothing


def test_a_refused_connection_at_the_start_stops_the_run_as_unreachable():
    # No sandbox can refuse a connection in-process: a transport that does, as a closed port would.
    clock = FakeClock(1000.0)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    with pytest.raises(RunStopped) as stopped:
        run(sandbox(clock), clock, lambda api, _: api.call("GET", "/customers", scope=READ_SCOPE),
            transport=httpx.MockTransport(refused))  # fmt: skip
    assert (stopped.value.error_code, stopped.value.message) == ("api-unreachable",
                                                                 f"cannot reach {API}: connection refused")


def test_an_api_heard_then_gone_for_the_liveness_window_stops_the_run_mid_call():
    clock = FakeClock(1000.0)
    state = sandbox(clock)

    async def steps(api: EcwidClient, _):
        assert (await api.call("GET", CONTACTS, scope=READ_SCOPE)).action is Action.SUCCESS
        state.set_fault(fail_rate=1.0, fail_statuses=(503,))  # the API goes away: empty 503s from here on
        started = clock.now
        try:
            await api.call("GET", CONTACTS, scope=READ_SCOPE)
        except RunStopped as stop:
            return stop, clock.now - started
        raise AssertionError("the call did not stop")

    stop, took = run(state, clock, steps, retries=20, window_s=10.0)
    assert stop.error_code == "api-unreachable"
    assert stop.message.startswith(f"no answer from {API} for 10 s (last: the answer is not Ecwid's: an empty 503")
    assert 10.0 <= took < 30.0  # stopped once the window passed, long before 20 retries' backoffs


def test_a_create_whose_connection_is_cut_after_the_commit_is_in_doubt_and_not_resent():
    clock = FakeClock(1000.0)
    state = sandbox(clock, cut_rate=1.0)  # creates commit, then the connection drops without an answer

    async def steps(api: EcwidClient, _):
        await api.call("GET", CONTACTS, scope=READ_SCOPE)
        return await api.call("POST", CONTACTS, EMAIL, scope=CREATE_SCOPE, meaning=CREATED, resend=False)

    reply = run(state, clock, steps)
    assert (reply.action, reply.error_code, reply.lost, reply.attempts) == (Action.AMBIGUOUS, Code.AMBIGUOUS, True, 1)
    assert reply.error.startswith("no answer after the request was sent (RemoteProtocolError: Server disconnected")
    assert statuses(state) == [200, None] and len(state.contacts(1)) == 1
