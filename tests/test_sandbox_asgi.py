"""The sandbox app in-process through httpx.ASGITransport: no socket, fast."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from importer.sandbox import SandboxConfig, SandboxState, create_app
from importer.sandbox.config import DEMO_TOKEN
from test_sandbox_support import FakeClock, auth

CONTACTS = "/api/v3/1003/customers/1/contacts"


def call(app: Any, fn: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=auth(DEMO_TOKEN)) as c:
            return await fn(c)

    return asyncio.run(main())


def test_create_then_list_in_process():
    app = create_app(SandboxConfig(customers=2))

    async def steps(c: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        created = await c.post(CONTACTS, json={"contact": "+4930123456", "type": "WHATSAPP", "default": True})
        return created, await c.get(CONTACTS)

    created, listed = call(app, steps)
    assert created.json() == {"createCount": 1}
    assert [x["contact"] for x in listed.json()["items"]] == ["+4930123456"]
    assert app.state_obj.contacts(1)[0]["type"] == "WHATSAPP"
    assert app.state_obj.stats.by_status[200] == 2


def test_default_config_when_given_nothing():
    app = create_app()
    r = call(app, lambda c: c.get("/api/v3/1003/customers/100"))
    assert r.status_code == 200 and r.json()["id"] == 100


def test_a_cut_raises_into_the_in_process_client_after_the_commit_as_over_a_socket():
    app = create_app(SandboxConfig(customers=1, cut_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError, match="^Server disconnected without sending a response"):
        call(app, lambda c: c.post(CONTACTS, json={"contact": "a@example.com", "type": "EMAIL"}))
    assert len(app.state_obj.contacts(1)) == 1
    assert app.state_obj.stats.cuts == 1


def test_rate_limit_with_a_shared_state_and_fake_clock():
    clock = FakeClock()
    state = SandboxState(SandboxConfig(customers=1, rate_per_minute=3), clock=clock)
    app = create_app(state)

    async def burst(c: httpx.AsyncClient) -> list[int]:
        return [(await c.get(CONTACTS)).status_code for _ in range(4)]

    assert call(app, burst) == [200, 200, 200, 429]
    clock.advance(60)
    assert call(app, burst) == [200, 200, 200, 429]


def test_errors_in_process_match_the_socket_contract():
    app = create_app(SandboxConfig(customers=1))

    async def steps(c: httpx.AsyncClient) -> list[tuple[int, str | None]]:
        answers = [
            await c.post(CONTACTS, json={"contact": "a@example.com", "type": "NOPE"}),
            await c.post("/api/v3/1003/customers/2/contacts", json={"contact": "a@example.com", "type": "EMAIL"}),
            await c.get(CONTACTS, headers={"Authorization": "Bearer secret_wrong"}),
            await c.get("/api/v3/1/customers/1/contacts"),
        ]
        return [(r.status_code, r.json().get("errorCode")) for r in answers]

    assert call(app, steps) == [
        (400, "WRONG_PARAMETER"),
        (404, None),
        (403, "INVALID_API_TOKEN"),
        (404, "STORE_NOT_FOUND"),
    ]


def test_customers_from_dicts_and_from_a_csv(tmp_path):
    csv_path = tmp_path / "customers.csv"
    csv_path.write_text("ID,Email,Name\n177737165,ann@shop.test,Ann\n277137633,bob@shop.test,\n", encoding="utf-8")
    state = SandboxState(SandboxConfig(customers=csv_path))
    assert [(c.id, c.email, c.name) for c in state.customers()] == [
        (177737165, "ann@shop.test", "Ann"),
        (277137633, "bob@shop.test", "Customer 277137633"),
    ]
    state = SandboxState(SandboxConfig(customers=[{"id": 9, "email": "x@y.z"}, 12]))
    assert [(c.id, c.email) for c in state.customers()] == [(9, "x@y.z"), (12, "customer12@example.com")]


def test_add_customers_by_ids_or_by_emails():
    state = SandboxState(SandboxConfig(customers=3))
    assert state.add_customers(ids=[50, 51], emails=["a@x.test", None]) == [50, 51]
    assert state.add_customers(emails=["new@x.test"]) == [52]
    emails = {c.id: c.email for c in state.customers()}
    assert (emails[50], emails[51], emails[52]) == ("a@x.test", "customer51@example.com", "new@x.test")
    with pytest.raises(ValueError):
        state.add_customers(ids=[1, 2], emails=["only-one@x.test"])


def test_reset_stats_clears_counters_and_log_but_not_contacts():
    app = create_app(SandboxConfig(customers=1))
    call(app, lambda c: c.post(CONTACTS, json={"contact": "a@example.com", "type": "EMAIL"}))
    app.state_obj.reset_stats()
    assert app.state_obj.stats.requests == 0 and app.state_obj.requests == []
    assert len(app.state_obj.contacts(1)) == 1


def test_the_sandbox_imports_only_itself_the_stdlib_starlette_and_uvicorn():
    # It checks the client, so it must not share the client's code (or bugs).
    import ast
    import sys
    from pathlib import Path

    import importer.sandbox

    allowed = set(sys.stdlib_module_names) | {"starlette", "uvicorn"}
    for path in Path(importer.sandbox.__file__).parent.rglob("*.py"):  # its folders too (batch/)
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                # httpx in app.py alone: in process, a cut raises what httpx raises for a cut socket (no logic shared)
                assert (name.startswith("importer.sandbox") or name.split(".")[0] in allowed
                        or (name, path.name) == ("httpx", "app.py")), (path.name, name)
