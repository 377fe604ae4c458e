"""Issue 20 over HTTP against the sandbox: what a customer already has is never created again, and the
reads that tell it cost pages, not rows (each read path counted by the sandbox)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_support import cli
from fakeclock import FakeClock
from importer.customers.customers import Resolution, resolve_customers
from importer.customers.directory import Directory
from importer.customers.instore import skip_in_store
from importer.ecwid.pacer import Pacer
from importer.ecwid.store import StoreReader
from importer.records import Status
from importer.errors import Code
from importer.runs import remote
from importer.runs.pipeline import run_import
from importer.sandbox import Sandbox, SandboxConfig, SandboxState, create_app
from importer.sandbox.config import contacts_from, load_customers_csv
from load_helpers import load_records, write_csv

FAST = dict(rate=60_000.0, concurrency=8, retries=1, quiet=True, no_journal=True)

# Customers holding contacts at start, written their own way.
HOLDING = [
    {"id": 11, "email": "kevin.garcia84@example.com", "contacts": [
        {"type": "EMAIL", "contact": "Kevin.Garcia84@Example.com"},
        {"type": "PHONE", "contact": "+1 (415) 555-0101", "note": "Mobile"},
    ]},
    {"id": 12, "email": "ann@example.com", "contacts": [
        {"type": "PHONE", "contact": "+1 415-555-0102"},
        {"type": "INSTAGRAM", "contact": "https://instagram.com/ann_lee/", "handle": "ann_lee"},
    ]},
    {"id": 13, "email": "bob@example.com"},
]  # fmt: skip
ROWS = [
    ["11", "EMAIL", "kevin.garcia84@example.com", ""],  # other capitals: the same email
    ["11", "PHONE", "+14155550101", "Cell"],  # the same phone, another note
    ["11", "PHONE", "+14155550199", ""],  # new
    ["12", "PHONE", "(415) 555-0102", ""],  # the same phone, written nationally
    ["12", "INSTAGRAM", "ann_lee", ""],  # the same profile, as a handle
    ["13", "EMAIL", "Bob.Work@example.com", ""],  # new ...
    ["13", "EMAIL", "bob.work@EXAMPLE.com", ""],  # ... and the same again in other capitals: a duplicate
]


def _csv(tmp_path, rows=ROWS):
    return write_csv(tmp_path / "c.csv", ["Customer ID", "Type", "Contact", "Note"], rows)


def _run(sb: Sandbox, path, tmp_path, **kw):
    opts = {**FAST, "store_id": sb.store_id, "token": sb.token, "api_url": sb.api_url, "report_dir": tmp_path / "r",
            "phone_region": "US", **kw}  # fmt: skip
    return run_import([str(path)], **opts)


def _gets(sb: Sandbox) -> list[str]:
    return [r.path.split(f"/{sb.store_id}", 1)[1] + (f"?{r.query}" if r.query else "")
            for r in sb.requests if r.method == "GET"]  # fmt: skip


def _by_row(result) -> dict:
    return {r.source.row: r for r in result.records}


def test_contacts_the_customer_has_are_skipped_by_default_and_their_lines_say_what_differs(tmp_path):
    with Sandbox(SandboxConfig(customers=HOLDING, rate_per_minute=None)) as sb:
        result = _run(sb, _csv(tmp_path), tmp_path)
        gets, posts = _gets(sb), [r for r in sb.requests if r.method == "POST"]
        held = {cid: len(sb.contacts(cid)) for cid in (11, 12, 13)}
    assert gets == ["/customers?limit=100&offset=0"]  # one page: the ids and what each holds
    assert len(posts) == 2 and held == {11: 3, 12: 2, 13: 1}
    rows = _by_row(result)
    assert {n: (r.outcome.status, r.outcome.error_code) for n, r in rows.items()} == {
        2: (Status.SKIPPED, Code.EXISTS_IN_STORE), 3: (Status.SKIPPED, Code.EXISTS_IN_STORE),
        4: (Status.CREATED, ""), 5: (Status.SKIPPED, Code.EXISTS_IN_STORE), 6: (Status.SKIPPED, Code.EXISTS_IN_STORE),
        7: (Status.CREATED, ""), 8: (Status.DUPLICATE, Code.DUPLICATE),
    }  # fmt: skip
    assert "written 'Kevin.Garcia84@Example.com' there" in rows[2].outcome.error
    assert "note 'Mobile' in the store, 'Cell' in the file (--update changes it)" in rows[3].outcome.error
    assert "differs" not in rows[5].outcome.error and "differs" not in rows[6].outcome.error
    assert result.exit_code == 0 and result.summary["skipped_by_reason"] == {"exists-in-store": 4}
    assert result.summary["reads"]["requests"] == 1 and result.summary["reads"]["pages"] == 1


def test_update_changes_the_differing_note_and_a_dry_run_says_it_would(tmp_path):
    path = _csv(tmp_path, ROWS[:2])
    with Sandbox(SandboxConfig(customers=HOLDING, rate_per_minute=None)) as sb:
        dry = _run(sb, path, tmp_path, update=True, dry_run=True)
        sb.reset_stats()
        result = _run(sb, path, tmp_path, update=True)
        methods = [r.method for r in sb.requests]
        phone = next(c for c in sb.contacts(11) if c["type"] == "PHONE")
    assert [r.outcome.status for r in dry.records] == [Status.SKIPPED, Status.VALID]
    assert "--update would update note 'Mobile' → 'Cell'" in dry.records[1].outcome.error
    assert methods == ["GET", "PUT"]  # the page, then the update: the contact's id came with the page
    assert [r.outcome.status for r in result.records] == [Status.SKIPPED, Status.UPDATED]
    assert phone["note"] == "Cell" and phone["contact"] == "+1 (415) 555-0101"


def test_one_customer_is_read_by_id_and_its_contacts_come_with_it(tmp_path):
    with Sandbox(SandboxConfig(customers=HOLDING, rate_per_minute=None)) as sb:
        result = _run(sb, _csv(tmp_path, ROWS[:3]), tmp_path)
        assert _gets(sb) == ["/customers/11"]
    assert result.counts == {"skipped": 2, "created": 1}


def test_customers_searched_by_email_bring_their_contacts(tmp_path):
    # 300 customers (3 pages): two emails are cheaper read one by one than the two pages left
    customers = [*HOLDING, *({"id": 100 + i} for i in range(297))]
    path = write_csv(tmp_path / "e.csv", ["Customer Email", "Type", "Contact"], [
        ["KEVIN.GARCIA84@example.com", "EMAIL", "kevin.garcia84@EXAMPLE.com"],
        ["ann@example.com", "PHONE", "+14155550102"],
        ["ann@example.com", "PHONE", "+14155550103"],
    ])  # fmt: skip
    with Sandbox(SandboxConfig(customers=customers, rate_per_minute=None)) as sb:
        result = _run(sb, path, tmp_path)
        gets = _gets(sb)
    assert gets[0] == "/customers?limit=100&offset=0" and len(gets) == 3
    assert sorted(g.split("&")[0] for g in gets[1:]) == ["/customers?email=ann%40example.com",
                                                         "/customers?email=kevin.garcia84%40example.com"]
    assert result.counts == {"skipped": 2, "created": 1}


def test_many_customers_read_the_list_concurrently_and_nothing_twice(tmp_path):
    customers = [*HOLDING, *({"id": 100 + i, "email": f"p{i}@example.com"} for i in range(497))]  # 5 pages
    rows = [[f"P{i}@example.com", "PHONE", f"+1415555{i:04d}"] for i in range(60)]
    rows += [["kevin.garcia84@example.com", "PHONE", "+1 415 555 0101"]]
    path = write_csv(tmp_path / "e.csv", ["Customer Email", "Type", "Contact"], rows)
    with Sandbox(SandboxConfig(customers=customers, rate_per_minute=None)) as sb:
        result = _run(sb, path, tmp_path, dry_run=True)
        gets = _gets(sb)
    assert sorted(gets) == [f"/customers?limit=100&offset={n}" for n in range(0, 500, 100)]
    assert result.counts == {"valid": 60, "skipped": 1}
    assert result.summary["customers"]["contact_reads"] == 0


class _WithoutContacts(httpx.AsyncBaseTransport):
    """The sandbox app, its customer answers stripped of `contacts` (a server that does not send them)."""

    def __init__(self, app):
        self.inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = json.loads(await response.aread() or b"null")
        if not request.url.path.endswith("/contacts") and isinstance(body, dict):
            for item in body.get("items", [body]):
                item.pop("contacts", None)
        return httpx.Response(response.status_code, json=body)


def _records(tmp_path, rows):
    return load_records(write_csv(tmp_path / "r.csv", ["Customer ID", "Type", "Contact"], rows))


def _check(state, records, transport, *, pacer=None):
    """resolve_customers, then skip_in_store, through a StoreReader over `transport`: (to send, results)."""
    results: dict = {}

    async def go():
        async with httpx.AsyncClient(transport=transport) as http:
            reader = StoreReader(http, api_url="http://127.0.0.1/api/v3", store_id=state.config.store_id,
                                 token=state.config.token, pacer=pacer or Pacer(None))  # fmt: skip
            directory = Directory(reader)
            resolved = await resolve_customers(records, Resolution(directory), results, concurrency=4)
            return await skip_in_store(resolved, directory, results, update=False, dry_run=True, concurrency=4)

    return asyncio.run(go()), results


def test_without_a_contacts_field_each_customer_named_has_its_contacts_read_once(tmp_path):
    state = SandboxState(SandboxConfig(customers=HOLDING, rate_per_minute=None))
    records = _records(tmp_path, [["11", "EMAIL", "KEVIN.garcia84@example.com"], ["11", "PHONE", "+14155550101"],
                                  ["12", "PHONE", "+14155550102"], ["13", "PHONE", "+14155550103"]])  # fmt: skip
    to_send, results = _check(state, records, _WithoutContacts(create_app(state)))
    paths = sorted(r.path.rsplit("/v3/1003", 1)[1] for r in state.requests)
    assert paths == ["/customers", "/customers/11/contacts", "/customers/12/contacts", "/customers/13/contacts"]
    assert [r.contact for r in to_send] == ["+14155550103"]
    assert {r.outcome.error_code for r in results.values()} == {Code.EXISTS_IN_STORE}


def test_the_list_s_pages_are_read_concurrently_each_at_its_turn_of_the_pace(tmp_path):
    clock = FakeClock(start=100.0)
    customers = [{"id": i, "email": f"p{i}@example.com"} for i in range(1, 1001)]  # 10 pages
    state = SandboxState(SandboxConfig(customers=customers, rate_per_minute=None), clock=clock)
    inner = httpx.ASGITransport(app=create_app(state))
    starts: list[float] = []

    class Slow(httpx.AsyncBaseTransport):  # one second a request, on the fake clock
        async def handle_async_request(self, request):
            starts.append(clock())
            await clock.sleep(1.0)
            return await inner.handle_async_request(request)

    path = write_csv(tmp_path / "e.csv", ["Customer Email", "Type", "Contact"],
                     [[f"p{i}@example.com", "PHONE", f"+1415555{i:04d}"] for i in range(1, 41)])  # fmt: skip
    records = load_records(path)
    results: dict = {}

    async def go():
        async with httpx.AsyncClient(transport=Slow()) as http:
            reader = StoreReader(http, api_url="http://127.0.0.1/api/v3", store_id=state.config.store_id,
                                 token=state.config.token, pacer=Pacer(600, clock=clock, sleep=clock.sleep))  # fmt: skip
            return await clock.run(resolve_customers(records, Resolution(Directory(reader)), results, concurrency=4))

    resolved = asyncio.run(go())[0]
    assert len(resolved) == 40 and not results
    assert len(starts) == 10  # the first page, then nine: fewer than the forty emails one by one
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 0.1 - 1e-9  # 600 a minute: every read waits its turn
    # one after another, ten pages would take 10 s; four at a time at the pace, about 1 + 3 × 1 s
    assert clock() - 100.0 <= 4.5


def test_sandbox_customers_csv_holds_contacts_in_either_form(tmp_path):
    path = tmp_path / "store.csv"
    path.write_text('id,email,contacts\n1,a@example.com,"EMAIL:A@Example.com; PHONE:+1 415 555 0101 #Mobile"\n'
                    '2,b@example.com,"[{""type"": ""PHONE"", ""contact"": ""+14155550102"", ""default"": true}]"\n'
                    "3,c@example.com,\n", encoding="utf-8")  # fmt: skip
    customers = load_customers_csv(path)
    assert [list(c.contacts) for c in customers] == [
        [{"type": "EMAIL", "contact": "A@Example.com"}, {"type": "PHONE", "contact": "+1 415 555 0101", "note": "Mobile"}],
        [{"type": "PHONE", "contact": "+14155550102", "default": True}],
        [],
    ]
    with Sandbox(SandboxConfig(customers=customers, rate_per_minute=None)) as sb:
        assert [(c["contact"], c["default"], c["orderBy"]) for c in sb.contacts(1)] == [
            ("A@Example.com", False, 0), ("+1 415 555 0101", False, 1)]
    with pytest.raises(ValueError, match="TYPE:value"):
        contacts_from("just-a-value")


def test_cli_sandbox_seeded_with_contacts_skips_them_and_says_what_reads_cost(tmp_path, capsys, monkeypatch):
    store = tmp_path / "store.csv"
    store.write_text('id,email,contacts\n7,kim@example.com,"EMAIL:KIM@example.com"\n', encoding="utf-8")
    path = write_csv(tmp_path / "c.csv", ["Customer ID", "Type", "Contact"], [["7", "EMAIL", "kim@example.com"],
                                                                              ["7", "PHONE", "+14155550101"]])
    monkeypatch.setattr(remote, "READS_NOTE_S", 0.0)  # any read "took long": the line is printed
    run = cli(capsys, "import", path, "--sandbox", "--sandbox-customers", store, "--rate", "60000",
              "--report-dir", tmp_path / "r", "--skip-existing")  # accepted, no effect
    assert run.code == 0
    assert "Skipped: 1 exists-in-store." in run.err
    assert "Note: reading the store took" in run.err and "1 requests, 0 of them pages" in run.err
    with pytest.raises(SystemExit):
        cli(capsys, "import", "--help")
    assert "accepted, no effect" in " ".join(capsys.readouterr().out.split())


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ann", "bob", "o.neil"]), st.integers(0, 2**12)), min_size=1, max_size=12))
def test_an_email_repeated_in_other_capitals_is_a_duplicate_of_its_first_row(tmp_path_factory, emails):
    def cased(text: str, bits: int) -> str:
        return "".join(c.upper() if bits >> k & 1 else c for k, c in enumerate(text))

    rows = [["7", "EMAIL", cased(f"{name}@example.com", bits)] for name, bits in emails]
    path = write_csv(tmp_path_factory.mktemp("dup") / "d.csv", ["Customer ID", "Type", "Contact"], rows)
    records = load_records(path)
    firsts = {}
    for r in records:
        firsts.setdefault(r.contact.lower(), r.source)
    for r in records:
        first = firsts[r.contact.lower()]
        assert (r.outcome.status == Status.DUPLICATE) == (first != r.source)
        assert r.duplicate_of == (first if first != r.source else None)
