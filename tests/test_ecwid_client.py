"""Issue 22: the one client of Ecwid's API, from one answer's meaning to what a user sees.

What one answer means, for every caller alike (importer.ecwid.answers: pure, a table of cases). The only
thing a caller says is what a 2xx means and whether a request that may have been applied may go again
(`resend`); the rest (retry, fail, stop, doubt) is the API's and the same for every request.

The client (importer.ecwid.client.EcwidClient) against the sandbox app in-process. httpx.ASGITransport is
the one I/O seam: every case the sandbox can produce (a rate limit, a 5xx, a missing scope, a create
answered with nothing, an error page echoing the token) is its own, set by its seeded fault settings; a
MockTransport in front of it only for what it cannot (a read answered with nothing, a refused connection).
The client, its pacer, its liveness and the sandbox read one fake clock, so waits cost no time and no
assertion depends on the machine's load.

What the client gives every run for free, seen by a user: a page of the customer list that cannot be
read for good (an error page echoing the request's headers, the token among them) stops the run cleanly:
exit 3, a report, the token nowhere. A bug's last line names no token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from cli_support import VALID, VALID_ROWS, cli, results, statuses, summary
from fakeclock import FakeClock
from importer.deliver.edits import DONE, FAILED, ContactEditor, Edit
from importer.ecwid import CREATE_SCOPE, READ_SCOPE, TOKEN_RUN, UPDATE_SCOPE
from importer.ecwid.answers import CREATED, DOCUMENT, NEW_ID, TICKET, count, json_int, reply_for, reply_for_exception
from importer.ecwid.client import EcwidClient
from importer.ecwid.liveness import Liveness
from importer.ecwid.pacer import Pacer
from importer.ecwid.policy import Action
from importer.ecwid.store import StoreReader
from importer.errors import Code, RunStopped
from importer.sandbox import Sandbox, SandboxConfig, SandboxState, create_app
from importer.sandbox.config import READ
from importer.sandbox.faults import FaultSettings, draw
from send_helpers import QuietHTTPServer


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


def answered(state: SandboxState) -> list[int | None]:
    return [r.status for r in state.requests]


def test_a_create_answered_create_count_1_is_created():
    clock = FakeClock(1000.0)
    state = sandbox(clock)
    reply = run(state, clock, lambda api, _: api.call("POST", CONTACTS, EMAIL, scope=CREATE_SCOPE, meaning=CREATED))
    assert (reply.action, reply.status, reply.value, reply.attempts, reply.lost) == (Action.SUCCESS, 200, 1, 1, False)
    assert [c["contact"] for c in state.contacts(1)] == ["ann@example.com"]
    assert answered(state) == [200]


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
    assert answered(state) == [200, 200, 200, 429, 200]


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
    assert answered(state) == [status, 200] and len(state.contacts(1)) == 1
    first, second = state.requests
    assert second.time - first.time == pytest.approx(0.5)  # the first backoff (no jitter here)


class _AnsweredAfterTheWrite(httpx.AsyncBaseTransport):
    """The sandbox app, its first create answered `status` with `content` once it has committed (a 5xx after
    the write: what the sandbox's own faults never do, they store nothing)."""

    def __init__(self, state: SandboxState, status: int, content: bytes, content_type: str):
        self.app = httpx.ASGITransport(app=create_app(state))
        self.status, self.content, self.content_type, self.left = status, content, content_type, 1

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.app.handle_async_request(request)
        if request.method != "POST" or not self.left:
            return response
        self.left -= 1
        await response.aread()  # committed
        return httpx.Response(self.status, content=self.content, headers={"Content-Type": self.content_type})


@pytest.mark.parametrize("status, content, content_type, error_code, methods", [
    (500, b'{"errorMessage": "Internal error"}', "application/json", "", ["POST", "GET"]),  # Ecwid's own
    (503, b'{"errorCode": "INTERNAL_ERROR"}', "application/json", "", ["POST", "GET"]),
    (502, b"<html><body>502 Bad Gateway</body></html>", "text/html", Code.AMBIGUOUS, ["POST"]),  # a gateway's
    (504, b"", "text/plain", Code.AMBIGUOUS, ["POST"]),
])  # fmt: skip
def test_a_create_answered_5xx_after_the_write_is_never_sent_again(status, content, content_type, error_code, methods):
    """Ecwid's own 5xx: it is done with the request, so the store is read (after the backoff) before any
    resend: the contact is there, the row created. A gateway's page: its backend may still commit, so the
    row is in doubt (the engine checks it after the settle window), not resent."""
    from importer.deliver.send import SendConfig, send_records
    from send_helpers import Collector, make_records

    clock = FakeClock(1000.0)
    state = sandbox(clock)
    got = Collector()

    async def main():
        transport = _AnsweredAfterTheWrite(state, status, content, content_type)
        async with httpx.AsyncClient(transport=transport) as http:
            config = SendConfig(api_url="http://localhost/api/v3", store_id=STORE, token=TOKEN, rate_per_minute=None,
                                quiet=True)  # fmt: skip
            return await clock.run(send_records(make_records(1), config, on_result=got, client=http, clock=clock,
                                                sleep=clock.sleep, random=lambda: 0.0))  # fmt: skip

    asyncio.run(main())
    outcome = got.seen[0].outcome
    assert (outcome.http_status, outcome.attempts, outcome.error_code) == (status, 1, error_code)
    assert outcome.status.value == ("created" if not error_code else "failed")
    assert [r.method for r in state.requests] == methods and len(state.contacts(1)) == 1  # made once
    if not error_code:
        assert outcome.error.startswith(f"confirmed in the store after HTTP {status}")
        first, check = state.requests
        assert check.time - first.time == pytest.approx(0.5)  # read after the usual backoff, not at once


@pytest.mark.parametrize("status, content", [(500, b'{"errorMessage": "Internal error"}'), (502, b"<html>502</html>")])
def test_a_customer_create_answered_5xx_after_the_write_is_found_by_its_email_not_made_again(status, content):
    """POST /customers: made safe to resend by the search by email before any resend (newcustomers.py)."""
    from importer.customers.newcustomers import CustomerCreator

    clock = FakeClock(1000.0)
    state = sandbox(clock)

    async def main():
        transport = _AnsweredAfterTheWrite(state, status, content, "text/html" if status == 502 else "application/json")
        async with httpx.AsyncClient(transport=transport) as http:
            reader = StoreReader(http, api_url=API, store_id=STORE, token=TOKEN, pacer=Pacer(None, clock=clock),
                                 sleep=clock.sleep, random=lambda: 0.0)  # fmt: skip
            return (await clock.run(CustomerCreator(reader, None).create("new.person@example.com", "New")))[0]

    customer = asyncio.run(main())
    assert customer.email == "new.person@example.com"
    asked = [(r.method, r.path.rsplit("/", 1)[-1]) for r in state.requests]
    assert asked == [("POST", "customers"), ("GET", "customers")]  # the search, after the backoff: found
    assert state.stats.customers_created == 1  # made once


def test_a_403_for_a_missing_scope_stops_the_run_naming_the_scope_without_a_retry():
    clock = FakeClock(1000.0)
    state = sandbox(clock, scopes=frozenset({READ}))
    with pytest.raises(RunStopped) as stopped:
        run(state, clock, lambda api, _: api.call("POST", CONTACTS, EMAIL, scope=CREATE_SCOPE, meaning=CREATED))
    assert stopped.value.message == "the token lacks the create_customers scope (INSUFFICIENT_APP_SCOPE)"
    assert (stopped.value.error_code, stopped.value.http_status) == ("INSUFFICIENT_APP_SCOPE", 403)
    assert answered(state) == [403] and state.contacts(1) == []


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
    assert answered(state) == [200, 200, 200] and len(state.contacts(1)) == 2


def test_an_edit_by_id_answered_2xx_without_a_count_is_sent_again():
    clock = FakeClock(1000.0)
    state = sandbox(clock, customers=[{"id": 1, "contacts": "EMAIL:ann@example.com"}])
    contact_id = state.contacts(1)[0]["id"]
    state.set_fault(blank_rate=0.5, seed=seed_for("blank", "", blank_rate=0.5))
    reply = run(state, clock, lambda api, _: api.call("PUT", f"{CONTACTS}/{contact_id}", {"note": "VIP"},
                                                      scope=UPDATE_SCOPE, meaning=count("updateCount")))  # fmt: skip
    assert (reply.action, reply.value, reply.attempts, reply.lost) == (Action.SUCCESS, 1, 2, True)
    assert answered(state) == [200, 200] and state.contacts(1)[0]["note"] == "VIP"


def test_a_delete_answered_with_an_empty_body_is_tried_again_and_found_done():
    async def main(sb: Sandbox) -> tuple[Edit, Edit]:
        async with httpx.AsyncClient(timeout=5) as http:
            reader = StoreReader(http, api_url=sb.api_url, store_id=sb.store_id, token=sb.token, pacer=Pacer(None),
                                 retries=2, sleep=lambda s: asyncio.sleep(0))  # fmt: skip
            editor = ContactEditor(reader)
            ids = [c["id"] for c in sb.contacts(1)]
            return await editor.delete(1, ids[0]), await editor.update(1, ids[1], {"note": "VIP"})

    with Sandbox(SandboxConfig(rate_per_minute=None, customers=20, blank_rate=1.0)) as sb:
        for i in range(2):
            sb.state.create_contact(sb.store_id, 1, {"type": "EMAIL", "contact": f"x{i}@example.com"})
        deleted, updated = asyncio.run(main(sb))
        left = sb.contacts(1)
    assert deleted.result == DONE and deleted.attempts == 2  # answered blank, then 404: the first one did it
    assert [c["note"] for c in left] == ["VIP"]
    assert updated.result == FAILED and "empty body instead of updateCount" in updated.detail  # never `done` unseen



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
    assert seen == ["GET", "GET"] and answered(state) == [200]


def _leaks(text: str) -> list[str]:
    """Every piece of the token (TOKEN_RUN characters or more) found in `text`."""
    return [TOKEN[i:i + TOKEN_RUN] for i in range(len(TOKEN) - TOKEN_RUN + 1) if TOKEN[i:i + TOKEN_RUN] in text]


@pytest.mark.parametrize("status", [400, 401, 500])  # a failed row, a stop, a create in doubt
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
    # the page is what the reply tells (a create's 5xx page: in its detail, for the row in doubt)
    assert one.status == status and "Authorization: Bearer" in (one.detail if status == 500 else one.error)
    texts = [one.error, one.detail, one.error_code, caplog.text]
    texts += [last.error, last.detail, last.error_code] if last else []
    texts += [stop.message, stop.error_code, str(stop)] if stop else []
    assert [leak for text in texts for leak in _leaks(text)] == []
    assert (stop is not None) == (status == 401)  # a 401 stops the run; a 400 fails, a 500 page is in doubt


def test_an_api_that_answers_only_proxy_pages_stops_the_run_once_as_unreachable():
    clock = FakeClock(1000.0)
    state = sandbox(clock, fail_rate=1.0, fail_statuses=(502,))
    with pytest.raises(RunStopped) as stopped:
        run(state, clock, lambda api, _: api.call("GET", "/customers", scope=READ_SCOPE), retries=2)
    assert stopped.value.error_code == "api-unreachable"
    assert stopped.value.message == "the answer is not Ecwid's: HTML from a proxy or captive portal?"
    assert answered(state) == [502, 502, 502]  # every retry spent first: one bad answer stops nothing


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
    assert answered(state) == [200, None] and len(state.contacts(1)) == 1


ANSWERS_TOKEN = "secret_answers_0123456789"
REQ = httpx.Request("POST", "https://app.ecwid.com/api/v3/1/customers")


def answer(status: int, body: object = None, text: str | None = None, **headers: str) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    "response, meaning, resend, action, value, lost",
    [
        (answer(200, {"createCount": 1}), CREATED, False, Action.SUCCESS, 1, False),
        (answer(200, {"createCount": 0}), CREATED, False, Action.SUCCESS, 0, False),
        (answer(200, {"createCount": True}), CREATED, False, Action.AMBIGUOUS, None, True),  # a bool is no count
        (answer(200, {}), CREATED, False, Action.AMBIGUOUS, None, True),  # a create that says nothing: in doubt
        (answer(200, text=""), count("updateCount"), True, Action.RETRY, None, True),  # an edit: sent again
        (answer(200, {"updateCount": 1}), count("updateCount"), True, Action.SUCCESS, 1, False),
        (answer(200, {"id": 77}), NEW_ID, True, Action.SUCCESS, 77, False),
        (answer(200, {"id": 0}), NEW_ID, True, Action.RETRY, None, True),  # no id is no customer
        (answer(200, {"ticket": "t-1"}), TICKET, True, Action.SUCCESS, "t-1", False),
        (answer(200, {"ticket": ""}), TICKET, True, Action.RETRY, None, True),
        (answer(200, {"items": []}), DOCUMENT, True, Action.SUCCESS, {"items": []}, False),
        (answer(200, text="<html>portal</html>"), DOCUMENT, True, Action.RETRY, None, True),
        (answer(503, {"errorCode": "INTERNAL"}), CREATED, False, Action.RETRY, None, True),  # may have been applied
        # ... and is Ecwid's own: retried once the store is read; a gateway's page (HTML, empty): its backend may
        # still commit, so a create's is in doubt; a request that may go again is retried as ever
        (answer(408, {"errorCode": "TIMEOUT"}), CREATED, False, Action.RETRY, None, True),
        (answer(502, text="<html>Bad Gateway</html>"), CREATED, False, Action.AMBIGUOUS, None, True),
        (answer(503, text=""), CREATED, False, Action.AMBIGUOUS, None, True),
        (answer(504, text="upstream timed out"), CREATED, False, Action.AMBIGUOUS, None, True),
        (answer(502, text="<html>Bad Gateway</html>"), NEW_ID, True, Action.RETRY, None, True),
        (answer(500, text=""), count("deleteCount"), True, Action.RETRY, None, True),
        (answer(429, text="<html>slow down</html>"), CREATED, False, Action.RETRY, None, False),  # refused before
        (answer(429, {"errorCode": "RATE_LIMITED"}, **{"Retry-After": "3"}), CREATED, False, Action.RETRY, None, False),
        (answer(400, {"errorMessage": "bad phone"}), CREATED, False, Action.FAIL, None, False),
        (answer(404, {"errorMessage": "Customer #5 not found"}), CREATED, True, Action.FAIL, None, False),
    ],
)
def test_reply_for(response, meaning, resend, action, value, lost):
    reply = reply_for(response, token=ANSWERS_TOKEN, meaning=meaning, resend=resend, store_id=1003)
    assert (reply.action, reply.value, reply.lost) == (action, value, lost)
    assert reply.stop is None


@pytest.mark.parametrize(
    "status, body, scope, message",
    [
        (403, {"errorCode": "INVALID_API_TOKEN"}, "read_customers", "the token is invalid or revoked (INVALID_API_TOKEN)"),
        (403, {"errorCode": "INSUFFICIENT_APP_SCOPE"}, "update_customers",
         "the token lacks the update_customers scope (INSUFFICIENT_APP_SCOPE)"),
        (401, None, "create_customers", "the token is invalid or revoked (HTTP 401)"),
        (402, {"errorCode": "STORE_IS_SUSPENDED"}, "create_customers", "store 1003 is suspended (STORE_IS_SUSPENDED)"),
        (404, {"errorCode": "STORE_NOT_FOUND"}, "read_customers",
         "store 1003 not found (STORE_NOT_FOUND): check --store-id and --api-url"),
    ],
)
def test_a_stop_names_what_to_fix_and_the_scope_the_request_needed(status, body, scope, message):
    reply = reply_for(answer(status, body), token=ANSWERS_TOKEN, store_id=1003, scope=scope)
    assert reply.action is Action.STOP and reply.stop is not None and reply.stop.message == message


@pytest.mark.parametrize(
    "exc, resend, action, lost",
    [
        (httpx.ConnectError("refused", request=REQ), False, Action.RETRY, False),  # never left: safe
        (httpx.ReadTimeout("slow", request=REQ), False, Action.AMBIGUOUS, True),  # a create: in doubt
        (httpx.ReadTimeout("slow", request=REQ), True, Action.RETRY, True),  # a read or an edit: again
        (httpx.UnsupportedProtocol("ftp", request=REQ), False, Action.FAIL, False),
    ],
)
def test_reply_for_exception(exc, resend, action, lost):
    reply = reply_for_exception(exc, token=ANSWERS_TOKEN, resend=resend)
    assert (reply.action, reply.lost) == (action, lost)
    assert reply.error_code == (Code.AMBIGUOUS if action is Action.AMBIGUOUS else Code.CONNECTION_ERROR)


def test_every_text_of_a_reply_is_scrubbed():
    page = f"<html>echo: Authorization: Bearer {ANSWERS_TOKEN}</html>"
    for response in (answer(400, text=page), answer(200, text=page), answer(403, text=page)):
        for resend in (True, False):
            reply = reply_for(response, token=ANSWERS_TOKEN, resend=resend)
            texts = (reply.error, reply.detail, reply.error_code, reply.stop.message if reply.stop else "")
            assert not any(ANSWERS_TOKEN[:12] in t or ANSWERS_TOKEN[-12:] in t for t in texts), texts
    cut = httpx.ReadError(f"cut after {ANSWERS_TOKEN}", request=REQ)
    reply = reply_for_exception(cut, token=ANSWERS_TOKEN, resend=True)
    assert ANSWERS_TOKEN not in reply.detail + reply.error


@pytest.mark.parametrize("body, expected", [({"n": 3}, 3), ({"n": -1}, None), ({"n": "3"}, None), ({"n": False}, None),
                                            ([1], None), (None, None)])  # fmt: skip
def test_json_int_is_an_int_or_nothing(body, expected):
    assert json_int(answer(200, body), "n") == expected


ECHOED_TOKEN = "secret_0123456789abcdefECHOED"


class _EchoingList(BaseHTTPRequestHandler):
    """A store of 250 customers whose list's first page reads, and whose later pages are a proxy's error
    page echoing the request's headers."""

    def do_GET(self):  # noqa: N802 - http.server's name
        offset = int(parse_qs(urlsplit(self.path).query).get("offset", ["0"])[0])
        if offset == 0:
            self._answer(200, "application/json", json.dumps({"total": 250, "count": 0, "items": []}).encode())
        else:
            echoed = "".join(f"<li>{k}: {v}</li>" for k, v in self.headers.items())
            self._answer(400, "text/html", f"<html><body><h1>Bad Request</h1><ul>{echoed}</ul></body></html>".encode())

    def _answer(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def echoing_list():
    server = QuietHTTPServer(("127.0.0.1", 0), _EchoingList)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    server.shutdown()
    server.server_close()


def test_a_customer_list_page_that_fails_for_good_stops_the_run_with_a_report(tmp_path, monkeypatch, capsys,
                                                                               echoing_list):  # fmt: skip
    monkeypatch.setenv("ECWID_TOKEN", ECHOED_TOKEN)
    run = cli(capsys, "import", VALID, "--api-url", echoing_list, "--store-id", "5", "--report-dir", tmp_path / "r",
              "--journal", tmp_path / "j.sqlite", "--retries", "1")  # fmt: skip
    assert run.code == 3, run.err
    assert "internal error" not in run.err and "Traceback" not in run.err
    assert any(line.startswith("ecwid-contacts: stopped: the store's customer list could not be read (offset")
               and "HTTP 400" in line for line in run.err_lines), run.err  # fmt: skip
    assert statuses(results(tmp_path / "r")) == {"not_sent": VALID_ROWS}
    assert summary(tmp_path / "r")["stopped_code"] == "customer-lookup-failed"
    written = run.out + run.err + "".join(p.read_text() for p in (tmp_path / "r").rglob("*.*") if p.suffix != ".xlsx")
    assert ECHOED_TOKEN not in written and ECHOED_TOKEN[8:20] not in written


def test_a_bugs_last_line_names_no_token(tmp_path, monkeypatch, capsys):
    from importer.runs import remote

    def broken(*args, **kwargs):
        raise RuntimeError(f"a bug holding the header: Authorization: Bearer {ECHOED_TOKEN}")

    monkeypatch.setattr(remote, "send", broken)
    monkeypatch.setenv("ECWID_TOKEN", ECHOED_TOKEN)
    run = cli(capsys, "import", VALID, "--api-url", "http://127.0.0.1:9/api/v3", "--store-id", "5",
              "--report-dir", tmp_path / "r", "--no-journal", "--verbose")  # fmt: skip
    assert run.code == 1
    assert "ecwid-contacts: internal error: RuntimeError: a bug holding the header: Authorization: Bearer ***" in run.err
    assert ECHOED_TOKEN not in run.err and ECHOED_TOKEN[8:20] not in run.err
