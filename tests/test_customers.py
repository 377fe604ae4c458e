"""Customers named by email (issue 6): found in the store, once per email, against the sandbox."""

from __future__ import annotations

import asyncio
import csv
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.cli import main
from importer.customers.customers import Resolution, resolve_customers
from importer.customers.directory import Directory
from importer.ecwid.pacer import Pacer
from importer.ecwid.store import StoreReader, StoreReadError
from importer.errors import Code, InputError
from importer.journal import Journal
from importer.records import ContactRecord, Outcome, Source, Status
from importer.runs.pipeline import ImportOptions, run_import
from importer.sandbox import CREATE, READ, Sandbox, SandboxConfig, create_app
from load_helpers import load_records
from test_customers_load import write_csv

FAST = dict(rate=60_000.0, concurrency=8, retries=2, quiet=True, no_journal=True)

CUSTOMERS = [
    {"id": 11, "email": "Ann.Lee@Example.COM"},
    {"id": 12, "email": "bob@example.com"},
    {"id": 13, "email": "twin@example.com"},
    {"id": 14, "email": "TWIN@example.com"},  # same address, another customer: ambiguous
]


def sandbox(customers=CUSTOMERS, **kw) -> Sandbox:
    return Sandbox(SandboxConfig(**{"rate_per_minute": None, "customers": customers, **kw}))


def run(sb: Sandbox, paths, tmp_path: Path, **kw):
    opts = {**FAST, "store_id": sb.store_id, "token": sb.token, "report_dir": tmp_path / "r", **kw}
    if "api_url" not in opts:
        opts["api_url"] = sb.api_url
    return run_import([str(p) for p in paths], ImportOptions(**opts))


def lookups(sb: Sandbox) -> list[str]:
    """The emails the sandbox was asked for, in arrival order."""
    return [r.query for r in sb.requests if r.method == "GET" and r.path.endswith("/customers")]


def stored(sb: Sandbox) -> set[tuple[int, str, str]]:
    return {(cid, c["type"], c["contact"]) for cid, items in sb.all_contacts().items() for c in items}


def by_row(result) -> dict[int, ContactRecord]:
    return {r.source.row: r for r in result.records}


def test_rows_by_email_are_created_on_the_right_customers_from_one_page_of_the_customer_list(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Customer Email", "Type", "Contact"], [
        ["ANN.LEE@example.com", "PHONE", "+14155550101"],  # case differs from the store's
        ["ann.lee@EXAMPLE.com", "INSTAGRAM", "ann_lee"],
        ["bob@example.com", "EMAIL", "bob.work@example.com"],
        ["Bob@Example.com", "PHONE", "+14155550102"],
    ])  # fmt: skip
    with sandbox() as sb:
        result = run(sb, [path], tmp_path)
        assert stored(sb) == {
            (11, "PHONE", "+14155550101"),
            (11, "INSTAGRAM", "https://www.instagram.com/ann_lee"),
            (12, "EMAIL", "bob.work@example.com"),
            (12, "PHONE", "+14155550102"),
        }
        # four customers: the first page of the list answers both emails in one read
        assert lookups(sb) == ["limit=100&offset=0"]
    assert result.exit_code == 0 and result.counts == {"created": 4}
    rows = by_row(result)
    assert [rows[n].customer_id for n in (2, 3, 4, 5)] == [11, 11, 12, 12]
    assert (result.summary["customers"]["pages"], result.summary["customers"]["email_reads"]) == (1, 0)
    # the report shows the id that was used beside the email as written (lower-cased)
    with open(result.report_path / "results.csv", encoding="utf-8-sig") as f:
        lines = list(csv.DictReader(f))
    assert [(line["customer_id"], line["customer_email"]) for line in lines][:2] == [("11", "ann.lee@example.com")] * 2


def test_unknown_and_ambiguous_emails_fail_their_rows_and_name_the_ids(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Customer Email", "Type", "Contact"], [
        ["nobody@example.com", "PHONE", "+14155550101"],
        ["twin@example.com", "PHONE", "+14155550102"],
        ["bob@example.com", "PHONE", "+14155550103"],
    ])  # fmt: skip
    with sandbox() as sb:
        result = run(sb, [path], tmp_path)
        assert stored(sb) == {(12, "PHONE", "+14155550103")}
        posts = [r for r in sb.requests if r.method == "POST"]
    assert len(posts) == 1  # the failed rows were never sent
    rows = by_row(result)
    assert (rows[2].outcome.status, rows[2].outcome.error_code) == (Status.FAILED, Code.CUSTOMER_NOT_FOUND)
    assert "nobody@example.com" in rows[2].outcome.error
    assert (rows[3].outcome.status, rows[3].outcome.error_code) == (Status.FAILED, Code.CUSTOMER_AMBIGUOUS)
    assert "13, 14" in rows[3].outcome.error
    assert rows[4].outcome.status is Status.CREATED
    assert result.exit_code == 1
    summary = json.loads((result.report_path / "summary.json").read_text())
    assert summary["customers"] == {
        "ids": 0, "emails": 3, "from_journal": 0, "id_reads": 0, "email_reads": 0, "pages": 1, "contact_reads": 0,
        "not_found": 1, "ambiguous": 1, "failed": 0, "mismatch": 0, "created": 0, "would_create": 0,
    }  # fmt: skip


def test_a_row_by_email_repeating_a_row_by_id_is_a_duplicate(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Customer ID", "Customer Email", "Type", "Contact"], [
        ["12", "", "PHONE", "+14155550101"],
        ["", "BOB@example.com", "PHONE", "+1 (415) 555-0101"],  # the same contact of customer 12
    ])  # fmt: skip
    with sandbox() as sb:
        result = run(sb, [path], tmp_path)
        assert [c["contact"] for c in sb.contacts(12)] == ["+14155550101"]
    rows = by_row(result)
    assert rows[2].outcome.status is Status.CREATED
    assert rows[3].outcome.status is Status.DUPLICATE and rows[3].duplicate_of == rows[2].source
    assert rows[3].customer_id == 12 and result.exit_code == 0


def test_lookups_wait_at_the_same_pacer_as_the_creates(tmp_path):
    # The sandbox admits 10 requests per 0.25 s (2400/min); we pace all requests at half that.
    # Unpaced lookups (16 emails, 8 at a time) would burst past it and meet 429s.
    n = 16  # in a store of 2,000 customers: reading 16 emails one by one beats 20 pages
    customers = [{"id": i, "email": f"p{i}@example.com"} for i in range(1, 2001)]
    path = write_csv(tmp_path / "c.csv", ["Customer Email", "Type", "Contact"],
                     [[f"p{i}@example.com", "PHONE", f"+1415555{i:04d}"] for i in range(1, n + 1)])  # fmt: skip
    with sandbox(customers, rate_per_minute=2400, window_s=0.25) as sb:
        result = run(sb, [path], tmp_path, rate=1200.0)
        log = sorted(sb.requests, key=lambda r: r.time)
        stats = sb.stats
    assert result.counts == {"created": n}
    assert stats.rate_limited == 0
    assert Counter(r.method for r in log) == {"GET": n + 1, "POST": n}  # the first page, then one read an email
    # 2n request starts spaced 50 ms apart take at least (2n - 1) intervals (some slack for arrival jitter)
    assert log[-1].time - log[0].time >= (2 * n - 1) * 0.050 * 0.8


def test_ten_thousand_rows_for_a_thousand_customers_read_the_customer_list_in_ten_pages(tmp_path):
    customers = [{"id": 100 + i, "email": f"user{i}@example.com"} for i in range(1000)]
    rows = [[f"USER{i % 1000}@example.com" if i % 2 else f"user{i % 1000}@example.com", "EMAIL", f"c{i}@example.org"]
            for i in range(10_000)]  # fmt: skip
    path = write_csv(tmp_path / "big.csv", ["Customer Email", "Type", "Contact"], rows)
    records = load_records(path)
    # The sandbox app in process (no socket, no report): a thousand loopback round trips and a
    # 10,000-line results.xlsx would be most of this file's time; the other tests go over loopback.
    sb = sandbox(customers)
    transport = httpx.ASGITransport(app=create_app(sb.state))

    async def resolve():
        async with httpx.AsyncClient(transport=transport) as http:
            reader = StoreReader(http, api_url="http://127.0.0.1/api/v3", store_id=sb.store_id, token=sb.token,
                                 pacer=Pacer(None))  # fmt: skip
            return await resolve_customers(records, Resolution(Directory(reader)), results, concurrency=8)

    results: dict = {}
    resolved = asyncio.run(resolve())
    # a thousand emails one by one would be a thousand reads; the list is ten pages
    assert lookups(sb) == [f"limit=100&offset={n}" for n in range(0, 1000, 100)] and sb.stats.requests == 10
    assert results == {} and len(resolved) == 10_000
    assert all(r.customer_id == 100 + (r.source.row - 2) % 1000 for r in resolved)


def test_the_journal_remembers_emails_for_later_runs(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Customer Email", "Type", "Contact"], [
        ["ann.lee@example.com", "PHONE", "+14155550101"],
        ["bob@example.com", "PHONE", "+14155550102"],
    ])  # fmt: skip
    journal = tmp_path / "journal.sqlite"
    with sandbox() as sb:
        first = run(sb, [path], tmp_path, no_journal=False, journal=journal)
        assert len(lookups(sb)) == 1  # one page of the list
        sb.reset_stats()
        second = run(sb, [path], tmp_path, no_journal=False, journal=journal)
        assert lookups(sb) == [] and sb.stats.requests == 0
    assert first.counts == {"created": 2}
    assert second.counts == {"skipped": 2}  # journal keys use the resolved id
    assert {r.outcome.error_code for r in second.records} == {Code.ALREADY_IMPORTED}
    assert second.summary["customers"]["from_journal"] == 2
    with Journal(journal, 1003, "check") as j:
        assert (j.customer_for_email("ann.lee@example.com"), j.customer_for_email("bob@example.com")) == (11, 12)


def test_token_without_read_customers_stops_the_run_with_exit_3(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Customer Email", "Type", "Contact"], [["bob@example.com", "PHONE", "+14155550101"]])
    with sandbox() as sb:
        sb.add_token("secret_create_only", {CREATE})
        result = run(sb, [path], tmp_path, token="secret_create_only")
        assert sb.all_contacts() == {} and len(sb.requests) == 1  # stopped at the first 403
    assert result.exit_code == 3
    assert "the token lacks the read_customers scope" in result.stopped.message
    assert result.counts == {"not_sent": 1}


def test_cli_exit_3_and_message_for_missing_read_scope(tmp_path, capsys, monkeypatch):
    path = write_csv(tmp_path / "c.csv", ["Customer Email", "Type", "Contact"], [["bob@example.com", "PHONE", "+14155550101"]])
    with sandbox() as sb:
        sb.add_token("secret_create_only", {CREATE})
        monkeypatch.setenv("ECWID_TOKEN", "secret_create_only")
        code = main(["import", str(path), "--store-id", str(sb.store_id), "--api-url", sb.api_url,
                     "--report-dir", str(tmp_path / "r"), "--no-journal"])  # fmt: skip
    assert code == 3
    err = capsys.readouterr().err
    assert "the token lacks the read_customers scope" in err and "secret_create_only" not in err


def test_dry_run_with_a_token_looks_up_and_shows_the_rows_that_would_fail(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Customer Email", "Type", "Contact"], [
        ["bob@example.com", "PHONE", "+14155550101"],
        ["nobody@example.com", "PHONE", "+14155550102"],
        ["twin@example.com", "PHONE", "+14155550103"],
    ])  # fmt: skip
    with sandbox() as sb:
        sb.add_token("secret_read_only", {READ})
        result = run(sb, [path], tmp_path, dry_run=True, token="secret_read_only")
        assert {r.method for r in sb.requests} == {"GET"} and sb.all_contacts() == {}
    rows = by_row(result)
    assert (rows[2].outcome.status, rows[2].customer_id) == (Status.VALID, 12)
    assert [rows[n].outcome.error_code for n in (3, 4)] == [Code.CUSTOMER_NOT_FOUND, Code.CUSTOMER_AMBIGUOUS]
    assert result.exit_code == 1


def test_dry_run_without_a_token_says_the_lookups_were_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ECWID_TOKEN", raising=False)
    path = write_csv(tmp_path / "c.csv", ["Customer Email", "Type", "Contact"], [
        ["bob@example.com", "PHONE", "+14155550101"],
        ["12", "PHONE", "+14155550102"],  # not an email: invalid, not counted
    ])  # fmt: skip
    code = main(["import", str(path), "--dry-run", "--store-id", "5", "--report-dir", str(tmp_path / "r")])
    assert code == 1  # the invalid row
    summary = json.loads(next((tmp_path / "r").glob("*/summary.json")).read_text())
    assert summary["notes"] == ["customers not checked against a store (no token and store id): a dry run with a "
                                "token (or --sandbox-customers) also verifies each customer id and email"]
    assert summary["counts"] == {"valid": 1, "invalid": 1}
    assert "customers not checked against a store" in capsys.readouterr().err


def test_match_by_email_wide_layout_key_column_is_also_a_contact_unless_the_store_has_it(tmp_path):
    # A CRM export: its own ID column is not Ecwid's; the Email column is the key.
    path = write_csv(tmp_path / "wide.csv", ["ID", "Name", "Email", "Phone"], [
        ["9001", "Ann", "ann.lee@example.com", "+14155550101"],
        ["9002", "Bob", "Bob@Example.com", "+14155550102"],
    ])  # fmt: skip
    with sandbox() as sb:
        sb.state.create_contact(sb.store_id, 12, {"contact": "bob@example.com", "type": "EMAIL"})
        result = run(sb, [path], tmp_path, match_by="email")
        assert stored(sb) == {
            (11, "EMAIL", "ann.lee@example.com"),
            (11, "PHONE", "+14155550101"),
            (12, "EMAIL", "bob@example.com"),  # was there; not added again
            (12, "PHONE", "+14155550102"),
        }
        assert len(sb.contacts(12)) == 2
    statuses = [(r.source.row, r.type, r.customer_id, r.outcome.status, r.outcome.error_code) for r in result.records]
    assert statuses == [
        (2, "EMAIL", 11, Status.CREATED, ""),
        (2, "PHONE", 11, Status.CREATED, ""),
        (3, "EMAIL", 12, Status.SKIPPED, Code.EXISTS_IN_STORE),
        (3, "PHONE", 12, Status.CREATED, ""),
    ]
    assert result.exit_code == 0


def test_customer_key_names_the_email_column(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Kundenmail", "Type", "Contact"], [["bob@example.com", "PHONE", "+14155550101"]])
    with sandbox() as sb:
        result = run(sb, [path], tmp_path, customer_key="kundenmail")
        with pytest.raises(InputError, match=r"no column 'Mail' \(--customer-key\)"):
            run(sb, [path], tmp_path, customer_key="Mail")
        assert stored(sb) == {(12, "PHONE", "+14155550101")}
    assert result.counts == {"created": 1}


def test_cli_sandbox_seeds_the_customers_the_file_names_by_email(tmp_path, capsys):
    path = write_csv(tmp_path / "c.csv", ["Customer ID", "Customer Email", "Type", "Contact"], [
        ["", "new.person@example.com", "PHONE", "+14155550101"],
        ["1", "", "PHONE", "+14155550102"],
        ["", "customer1@example.com", "PHONE", "+14155550103"],  # the generated email of seeded id 1
    ])  # fmt: skip
    code = main(["import", str(path), "--sandbox", "--rate", "60000", "--report-dir", str(tmp_path / "r"), "--quiet", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["counts"] == {"created": 3}
    with open(next((tmp_path / "r").glob("*/results.csv")), encoding="utf-8-sig") as f:
        assert [line["customer_id"] for line in csv.DictReader(f)] == ["2", "1", "1"]


# -- the rule, over any file: one lookup per distinct email, whatever its case ---------------------


class FakeReader:
    """The StoreReader calls the resolver makes; counts lookups."""

    def __init__(self, store: dict[str, list[int]]):
        self.store = store
        self.asked: list[str] = []

    async def customers_by_email(self, email: str) -> list[dict]:
        self.asked.append(email)
        if email == "broken@example.com":
            raise StoreReadError("HTTP 500")
        return [{"id": i, "email": email} for i in self.store.get(email, [])]

    async def contacts(self, customer_id: int) -> list[dict]:
        return []

    async def customers_page(self, offset: int) -> tuple[int, list[dict]]:
        return 100_000, []  # a big store: reading each email beats reading the list


emails = st.sampled_from(["a@x.com", "b@x.com", "twin@x.com", "none@x.com", "broken@example.com"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(emails, st.integers(0, 3)), max_size=40))
def test_resolution_rule(rows):
    store = {"a@x.com": [1], "b@x.com": [2], "twin@x.com": [3, 4]}
    records = [
        ContactRecord(index=i, source=Source("f.csv", "", i + 2), customer_id=None,
                      customer_email=email, type="PHONE", contact=f"+1415555{n:04d}", outcome=Outcome(Status.VALID))
        for i, (email, n) in enumerate(rows)
    ]  # fmt: skip
    reader, results = FakeReader(store), {}
    out = asyncio.run(resolve_customers(records, Resolution(Directory(reader)), results, concurrency=3))
    assert sorted(reader.asked) == sorted({r.customer_email for r in records})  # once each
    assert len(out) + len(results) == len(records)
    seen = set()
    for r in records:
        done = results.get(r.index)
        expected = {"twin@x.com": Code.CUSTOMER_AMBIGUOUS, "none@x.com": Code.CUSTOMER_NOT_FOUND,
                    "broken@example.com": Code.CUSTOMER_LOOKUP_FAILED}.get(r.customer_email)  # fmt: skip
        if expected:
            assert done is not None and done.outcome.error_code == expected
            continue
        key = (r.customer_email, r.contact)
        if key in seen:
            assert done is not None and done.outcome.status is Status.DUPLICATE
        else:
            assert done is None and [o.customer_id for o in out if o.index == r.index] == store[r.customer_email]
        seen.add(key)
