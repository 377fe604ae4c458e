"""The sandbox's batch API over a real loopback socket: tickets, FIFO, dedup, parallel mode, counting, faults."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from exactly_once_helpers import wait_for
from importer.sandbox import Sandbox, SandboxConfig
from importer.sandbox.batch import BatchSettings
from test_sandbox_support import auth


def _sandbox(clock=time.monotonic, **batch) -> Sandbox:
    settings = BatchSettings(**{"processing_ms": 1.0, "retry_s": 0.0, **batch})
    return Sandbox(SandboxConfig(customers=10, rate_per_minute=None, batch=settings), clock=clock)


def _requests(n: int, start: int = 0, customer=lambda i: 1 + i % 10) -> list[dict]:
    return [{"id": f"r{i}", "path": f"/customers/{customer(i)}/contacts", "method": "POST",
             "body": {"type": "EMAIL", "contact": f"p{i}@example.com"}} for i in range(start, start + n)]  # fmt: skip


def _submit(c: httpx.Client, sb: Sandbox, requests: list[dict], **params) -> httpx.Response:
    query = {"stopOnFirstFailure": "false", **params}
    return c.post(f"{sb.api_url}/{sb.store_id}/batch", params=query, json=requests, headers=auth(sb.token))


def _poll(c: httpx.Client, sb: Sandbox, ticket: str, escaped: bool = True) -> dict:
    r = c.get(f"{sb.api_url}/{sb.store_id}/batch", params={"ticket": ticket, "escapedJson": str(escaped).lower()},
              headers=auth(sb.token))  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()


def _done(c: httpx.Client, sb: Sandbox, ticket: str, escaped: bool = True) -> dict:
    answers: list[dict] = []
    wait_for(lambda: answers.append(_poll(c, sb, ticket, escaped)) or answers[-1]["status"] == "COMPLETED")
    return answers[-1]


def _stored(sb: Sandbox) -> int:
    return sum(len(v) for v in sb.all_contacts().values())


def test_a_batch_runs_and_answers_each_inner_request_by_its_id():
    with _sandbox() as sb, httpx.Client(timeout=5) as c:
        r = _submit(c, sb, _requests(20))
        assert r.status_code == 200 and set(r.json()) == {"ticket"}
        done = _done(c, sb, r.json()["ticket"])
        plain = _poll(c, sb, r.json()["ticket"], escaped=False)
        assert _stored(sb) == 20
    assert done["totalRequests"] == done["completedRequests"] == 20
    assert [x["id"] for x in done["responses"]] == [f"r{i}" for i in range(20)]
    for x in done["responses"]:
        assert x["status"] == "COMPLETED" and x["httpStatusCode"] == 200
        assert json.loads(x["escapedHttpBody"]) == {"createCount": 1}
    assert plain["responses"][0]["httpBody"] == {"createCount": 1}


def test_tickets_of_a_store_run_first_in_first_out():
    with _sandbox(processing_ms=5.0) as sb, httpx.Client(timeout=5) as c:
        tickets = [_submit(c, sb, _requests(40, start=40 * n)).json()["ticket"] for n in range(2)]
        first, second = (sb.state.batches.find(sb.store_id, t) for t in tickets)
        seen = []
        while not seen or seen[-1][2] != "COMPLETED":
            with sb.state.lock:  # one consistent look at both
                seen.append((first.status, second.completed, second.status))
    assert any(a == "IN_PROGRESS" for a, _, _ in seen)  # caught the first one running ...
    for a, b_done, b in seen:  # ... while the second waited its turn
        if a != "COMPLETED":
            assert b == "QUEUED" and b_done == 0


def test_parallel_mode_runs_inner_requests_at_once_and_plain_mode_one_by_one():
    with _sandbox(processing_ms=20.0) as sb, httpx.Client(timeout=5) as c:
        _done(c, sb, _submit(c, sb, _requests(10)).json()["ticket"])
        one_by_one = sb.state.batches.stats.max_running
        _done(c, sb, _submit(c, sb, _requests(150, start=10), allowParallelMode="true").json()["ticket"])
        parallel = sb.state.batches.stats.max_running
        assert _stored(sb) == 160
    assert one_by_one == 1
    assert 1 < parallel <= 100


def test_a_repeated_deduplication_key_returns_the_first_ticket_for_an_hour():
    offset = [0.0]
    with _sandbox(clock=lambda: time.monotonic() + offset[0]) as sb, httpx.Client(timeout=5) as c:
        first = _submit(c, sb, _requests(5), deduplicationKey="k1").json()["ticket"]
        again = _submit(c, sb, _requests(5), deduplicationKey="k1").json()["ticket"]
        assert again == first
        _done(c, sb, first)
        offset[0] = 3599.0
        assert _submit(c, sb, _requests(5), deduplicationKey="k1").json()["ticket"] == first
        assert _stored(sb) == 5
        offset[0] = 3601.0  # forgotten: the same key is a new batch, and creates again
        later = _submit(c, sb, _requests(5), deduplicationKey="k1").json()["ticket"]
        _done(c, sb, later)
        assert later != first and _stored(sb) == 10
        assert sb.state.batches.stats.deduplicated == 2


@pytest.mark.parametrize("counts", [True, False])
def test_inner_requests_count_against_the_rate_limit_only_when_switched_on(counts):
    config = SandboxConfig(customers=10, rate_per_minute=600, window_s=2.0, block_after=1000,
                           batch=BatchSettings(processing_ms=1.0, counts=counts))  # fmt: skip
    with Sandbox(config) as sb, httpx.Client(timeout=5) as c:  # 20 requests per 2 s
        ticket = _submit(c, sb, _requests(25)).json()["ticket"]  # one request of the 20
        batches = sb.state.batches
        if counts:  # 18 inner requests fill the window but for one request kept for the token's own ...
            wait_for(lambda: batches.stats.inner_executed >= 18)
            gets = [c.get(f"{sb.api_url}/{sb.store_id}/customers/1", headers=auth(sb.token)).status_code
                    for _ in range(2)]  # fmt: skip
            assert gets == [200, 429]  # ... and the rest waits for room
            assert batches.stats.inner_executed == 18 and batches.find(sb.store_id, ticket).status == "IN_PROGRESS"
        else:
            wait_for(lambda: batches.find(sb.store_id, ticket).status == "COMPLETED")
            assert c.get(f"{sb.api_url}/{sb.store_id}/customers/1", headers=auth(sb.token)).status_code == 200
        wait_for(lambda: batches.find(sb.store_id, ticket).status == "COMPLETED")  # in the next window if counted
        assert batches.stats.inner_executed == 25


def test_inner_failures_of_each_kind():
    with _sandbox(fail_rate=0.2, lost_rate=0.2, skip_rate=0.2, seed=4, retries=2) as sb, httpx.Client(timeout=5) as c:
        requests = _requests(60) + [{"id": "bad", "path": "/customers/999/contacts", "method": "POST",
                                     "body": {"type": "EMAIL", "contact": "x@example.com"}},
                                    {"id": "wrong", "path": "/customers/1/contacts", "method": "POST",
                                     "body": {"type": "NOPE", "contact": "x"}}]  # fmt: skip
        done = _done(c, sb, _submit(c, sb, requests).json()["ticket"])
        faults = {inner.id: inner.fault for inner in sb.state.batches.tickets.values().__iter__().__next__().inner}
        store = {c["contact"] for items in sb.all_contacts().values() for c in items}
    by_id = {x["id"]: x for x in done["responses"]}
    assert len(by_id) == 62 and done["completedRequests"] == 62
    assert by_id["bad"]["status"] == "FAILED" and by_id["bad"]["httpStatusCode"] == 404
    assert by_id["wrong"]["status"] == "FAILED" and by_id["wrong"]["httpStatusCode"] == 400
    assert set(faults.values()) == {None, "fail", "lost", "skip"}  # every kind drawn
    for i in range(60):
        x, fault, contact = by_id[f"r{i}"], faults[f"r{i}"], f"p{i}@example.com"
        if fault == "skip":
            assert x["status"] == "NOT_EXECUTED" and "httpStatusCode" not in x and contact not in store
        elif fault in ("fail", "lost"):  # a lost one was stored although it answered 500
            assert (x["status"], x["httpStatusCode"]) == ("FAILED", 500)
            assert (contact in store) == (fault == "lost")
        else:
            assert x["status"] == "COMPLETED" and contact in store


def test_stop_on_first_failure_leaves_the_rest_not_executed():
    with _sandbox() as sb, httpx.Client(timeout=5) as c:
        requests = _requests(3) + [{"id": "bad", "path": "/customers/999/contacts", "method": "POST",
                                    "body": {"type": "EMAIL", "contact": "x@example.com"}}] + _requests(3, start=3)
        done = _done(c, sb, _submit(c, sb, requests, stopOnFirstFailure="true").json()["ticket"])
    assert [x["status"] for x in done["responses"]] == ["COMPLETED"] * 3 + ["FAILED"] + ["NOT_EXECUTED"] * 3


def test_cancel_group_and_delete_stop_what_has_not_run():
    with _sandbox(processing_ms=20.0) as sb, httpx.Client(timeout=5) as c:
        running = _submit(c, sb, _requests(50), groupId="g").json()["ticket"]
        queued = _submit(c, sb, _requests(5, start=50)).json()["ticket"]
        grouped = _submit(c, sb, _requests(5, start=55), groupId="g").json()["ticket"]
        wait_for(lambda: _poll(c, sb, running)["completedRequests"] > 0)
        r = c.delete(f"{sb.api_url}/{sb.store_id}/batch", params={"ticketId": queued}, headers=auth(sb.token))
        assert r.status_code == 200 and r.json() == {"deleteCount": 5}
        r = c.post(f"{sb.api_url}/{sb.store_id}/batch/cancel-group", params={"groupId": "g"}, headers=auth(sb.token))
        assert r.status_code == 200 and r.json()["cancelledRequests"] > 5
        statuses = {t: _done(c, sb, t) for t in (running, queued, grouped)}
        stored = _stored(sb)
    ran = sum(x["status"] == "COMPLETED" for x in statuses[running]["responses"])
    assert 0 < ran < 50 and stored == ran
    assert {x["status"] for t in (queued, grouped) for x in statuses[t]["responses"]} == {"NOT_EXECUTED"}


def test_bad_submits_and_unknown_tickets():
    with _sandbox() as sb, httpx.Client(timeout=5) as c:
        assert _submit(c, sb, _requests(501)).status_code == 400
        assert _submit(c, sb, []).status_code == 400
        r = c.get(f"{sb.api_url}/{sb.store_id}/batch", params={"ticket": "nope"}, headers=auth(sb.token))
        assert r.status_code == 404 and r.json()["errorCode"] == "TICKET_NOT_FOUND"
        r = c.post(f"{sb.api_url}/{sb.store_id}/batch", json=_requests(1), headers=auth("secret_wrong"))
        assert r.status_code == 403
        assert sb.state.batches.stats.tickets == 0
