"""The right customer (issue 11): ids verified, emails compared, missing customers created once.

Against the sandbox over loopback HTTP, through run_import and the CLI.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from pathlib import Path

import httpx

from cli_support import cli
from exactly_once_helpers import cli_args, run_main, start_cli, wait_for
from importer.customers.customers import Resolution, resolve_customers
from importer.customers.directory import Directory
from importer.ecwid.pacer import Pacer
from importer.ecwid.store import StoreReader
from importer.records import ContactRecord, Outcome, Source, Status
from importer.errors import Code
from importer.runs.pipeline import ImportOptions, run_import
from importer.sandbox import READ, Sandbox, SandboxConfig, create_app
from load_helpers import write_csv

FAST = dict(rate=60_000.0, concurrency=8, retries=2, quiet=True, no_journal=True)

# A store whose customer 1001 is not the German shop's customer 1001.
STORE = [
    {"id": 1001, "email": "someone.else@example.com", "name": "Someone Else"},
    {"id": 1002, "email": "bob@example.com", "name": "Bob"},
]


def sandbox(customers=STORE, **kw) -> Sandbox:
    return Sandbox(SandboxConfig(**{"rate_per_minute": None, "customers": customers, **kw}))


def run(sb: Sandbox, path: Path, tmp_path: Path, **kw):
    opts = {**FAST, "store_id": sb.store_id, "token": sb.token, "api_url": sb.api_url,
            "report_dir": tmp_path / "r", **kw}  # fmt: skip
    return run_import([str(path)], ImportOptions(**opts))


def stored(sb: Sandbox) -> set[tuple[int, str, str]]:
    return {(cid, c["type"], c["contact"]) for cid, items in sb.all_contacts().items() for c in items}


def outcomes(result) -> list[tuple[int, str, str, str]]:
    return [(r.source.row, r.type, r.outcome.status.value, r.outcome.error_code) for r in result.records]


def test_an_id_whose_customer_has_another_email_is_a_mismatch_and_nothing_of_its_row_is_sent(tmp_path):
    path = write_csv(tmp_path / "export.csv", ["Customer ID", "Email", "Phone"], [
        ["1001", "anna.mueller@example.de", "+4917112345678"],  # 1001 is someone else in this store
        ["1002", "BOB@example.com", "+14155550132"],  # the same person: case doesn't matter
    ])  # fmt: skip
    with sandbox() as sb:
        result = run(sb, path, tmp_path)
        assert stored(sb) == {(1002, "EMAIL", "BOB@example.com"), (1002, "PHONE", "+14155550132")}
        assert sb.contacts(1001) == []
    assert outcomes(result) == [
        (2, "EMAIL", "invalid", Code.CUSTOMER_MISMATCH),
        (2, "PHONE", "invalid", Code.CUSTOMER_MISMATCH),
        (3, "EMAIL", "created", ""),
        (3, "PHONE", "created", ""),
    ]
    error = result.records[0].outcome.error
    assert "someone.else@example.com" in error and "anna.mueller@example.de" in error and "--match-by email" in error
    assert result.exit_code == 1 and result.summary["customers"]["mismatch"] == 2


def test_two_swapped_ids_are_mismatches_not_a_guess_by_email(tmp_path):
    """Both ids are this store's, each naming the other row's customer: crossed rows, not another system's
    ids. Nothing is sent to either customer; each row says why (wrong data is worse than an error)."""
    store = [{"id": 1001, "email": "anna@example.com"}, {"id": 1002, "email": "bert@example.com"}]
    path = write_csv(tmp_path / "export.csv", ["Customer ID", "Email", "Phone"], [
        ["1001", "bert@example.com", "+4917112345678"],
        ["1002", "anna@example.com", "+14155550132"],
    ])  # fmt: skip
    with sandbox(store) as sb:
        result = run(sb, path, tmp_path)
        assert stored(sb) == set()
    assert {o[2:] for o in outcomes(result)} == {("invalid", Code.CUSTOMER_MISMATCH)}
    assert result.exit_code == 1


def test_a_customer_email_column_beside_the_id_is_compared_too(tmp_path):
    path = write_csv(tmp_path / "long.csv", ["Customer ID", "Customer Email", "Type", "Contact"], [
        ["1001", "anna.mueller@example.de", "PHONE", "+4917112345678"],
        ["1002", "bob@example.com", "EMAIL", "bob.work@example.com"],  # a second email for Bob: fine
        ["1002", "", "PHONE", "+14155550132"],  # no email to compare: the id is enough
    ])  # fmt: skip
    with sandbox() as sb:
        result = run(sb, path, tmp_path)
        assert stored(sb) == {(1002, "EMAIL", "bob.work@example.com"), (1002, "PHONE", "+14155550132")}
    assert [o[2:] for o in outcomes(result)] == [("invalid", Code.CUSTOMER_MISMATCH), ("created", ""), ("created", "")]


def test_a_dry_run_with_a_token_verifies_ids_with_reads_only(tmp_path):
    path = write_csv(tmp_path / "shopify.csv", ["Customer ID", "Email", "Phone"], [
        ["7012345678901", "ann@example.com", "+14155550101"],  # Shopify's own id: not in the store
        ["1002", "bob@example.com", "+14155550102"],
    ])  # fmt: skip
    with sandbox() as sb:
        sb.add_token("secret_read_only", {READ})
        result = run(sb, path, tmp_path, dry_run=True, token="secret_read_only")
        assert {r.method for r in sb.requests} == {"GET"} and sb.all_contacts() == {}
    assert outcomes(result) == [
        (2, "EMAIL", "failed", Code.CUSTOMER_NOT_FOUND),
        (2, "PHONE", "failed", Code.CUSTOMER_NOT_FOUND),
        (3, "EMAIL", "valid", ""),
        (3, "PHONE", "valid", ""),
    ]
    assert "no customer 7012345678901" in result.records[0].outcome.error and result.exit_code == 1


def test_most_ids_unknown_but_their_emails_known_are_matched_by_email_said_once(tmp_path, capsys, monkeypatch):
    # A Shopify export: its own ids, and emails of people who are customers of this store. With no flags the
    # customers are named by the emails (issue 19), said in one line; --match-by id keeps the ids and the hint.
    customers = [{"id": 50 + i, "email": f"person{i}@example.com"} for i in range(6)]
    rows = [[f"70123456789{i:02d}", f"person{i}@example.com", f"+1415555{i:04d}"] for i in range(6)]
    path = write_csv(tmp_path / "shopify.csv", ["Customer ID", "Email", "Phone"], rows)
    with sandbox(customers) as sb:
        sb_args = ("--store-id", sb.store_id, "--api-url", sb.api_url, "--report-dir", tmp_path / "r", "--dry-run")
        monkeypatch.setenv("ECWID_TOKEN", sb.token)
        first = cli(capsys, "import", path, *sb_args)
        reads = [r.query for r in sb.requests if r.method == "GET"]
        forced = cli(capsys, "import", path, *sb_args, "--match-by", "id")
    said = [line for line in first.err_lines if "not this store's" in line]
    assert said == ["Note: ids in 'Customer ID' are not this store's (6 of 6 unknown): customers matched by email; "
                    "--match-by id to use them"], first.err
    assert reads.count("limit=100&offset=0") == 1 and "email=" not in str(reads)  # the list, read once, answered
    # the ids and the emails (the other reads: whether each customer already has the row's email as a contact)
    hint = [line for line in forced.err_lines if "--match-by email" in line]
    assert len(hint) == 1 and "6 of the 6 customer ids" in hint[0], forced.err
    assert first.code == 0 and forced.code == 1, first.err


def test_create_customers_creates_each_missing_customer_once_with_the_rows_name(tmp_path):
    path = write_csv(tmp_path / "migration.csv", ["First Name", "Last Name", "Email", "Phone"], [
        ["Anna", "Müller", "anna.mueller@example.de", "+4917112345678"],
        ["Anna", "Müller", "anna.mueller@example.de", "+4930123456"],  # the same customer, two rows
        ["Bob", "", "bob@example.com", "+14155550132"],  # already a customer
    ])  # fmt: skip
    with sandbox() as sb:
        without = run(sb, path, tmp_path, match_by="email")
        assert sb.stats.customers_created == 0
        result = run(sb, path, tmp_path, match_by="email", create_customers=True)
        rerun = run(sb, path, tmp_path, match_by="email", create_customers=True, no_journal=False,
                    journal=tmp_path / "j.sqlite")  # fmt: skip
        customers = {c.email.lower(): c for c in sb.state.customers()}
        anna = customers["anna.mueller@example.de"]
        assert sb.stats.customers_created == 1 and len(customers) == 3
        assert anna.name == "Anna Müller"
        assert {(c["type"], c["contact"]) for c in sb.contacts(anna.id)} == {
            ("EMAIL", "anna.mueller@example.de"), ("PHONE", "+4917112345678"), ("PHONE", "+4930123456")}
    missing = [r.outcome for r in without.records if r.source.row in (2, 3) and r.outcome.error_code != "duplicate"]
    assert len(missing) == 3 and {o.error_code for o in missing} == {Code.CUSTOMER_NOT_FOUND}
    assert all("--create-customers" in o.error for o in missing)
    assert result.summary["customers"]["created"] == 1 and result.exit_code == 0
    assert rerun.summary["customers"]["created"] == 0  # found in the store: never created twice


def test_a_lost_answer_to_a_customer_create_does_not_create_a_second_customer(tmp_path):
    path = write_csv(tmp_path / "m.csv", ["Email", "Phone"], [
        [f"new{i}@example.com", f"+1415555{i:04d}"] for i in range(5)])  # fmt: skip
    # Every write commits, then its connection is cut: each create's answer is lost.
    with sandbox(cut_rate=1.0) as sb:
        # the contacts' answers are cut too: they are settled in the store after a short settle window
        result = run(sb, path, tmp_path, match_by="email", create_customers=True, settle_window=0.5)
        emails = Counter(c.email for c in sb.state.customers())
        searches = [r for r in sb.requests if r.method == "GET" and "email=" in r.query]
    assert all(emails[f"new{i}@example.com"] == 1 for i in range(5)), emails
    assert len(searches) >= 5  # each lost answer was followed by a search, not a resend
    assert result.summary["customers"]["created"] == 0  # none was confirmed by its own answer
    assert {r.outcome.status for r in result.records} <= {Status.CREATED, Status.SKIPPED}


def test_kill_9_while_creating_customers_then_a_rerun_creates_each_once(tmp_path, monkeypatch, capsys):
    n = 40
    path = write_csv(tmp_path / "m.csv", ["Name", "Email", "Phone"], [
        [f"Person {i}", f"p{i}@example.com", f"+1415555{i:04d}"] for i in range(n)])  # fmt: skip
    with sandbox(latency_ms=20, latency_dist="uniform") as sb:
        args = cli_args(sb, path, tmp_path / "r", "--quiet", "--rate", "60000", "--concurrency", "4",
                        "--match-by", "email", "--create-customers")  # fmt: skip
        proc = start_cli(sb, args)
        wait_for(lambda: sb.stats.customers_created >= 10 or proc.poll() is not None)
        killed = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
        assert killed, "the importer finished before it could be killed: the test proved nothing"
        code, summary, err = run_main(sb, args, monkeypatch, capsys)
        emails = Counter(c.email for c in sb.state.customers())
        contacts = Counter((c["type"], c["contact"]) for items in sb.all_contacts().values() for c in items)
    assert code == 0, err
    assert [emails[f"p{i}@example.com"] for i in range(n)] == [1] * n
    assert len(contacts) == 2 * n and max(contacts.values()) == 1
    assert summary["customers"]["created"] < n  # the rerun found those the killed run had made


def test_sandbox_customers_makes_a_trial_show_what_the_store_would_say(tmp_path, capsys):
    seed = tmp_path / "store-customers.csv"
    seed.write_text("id,email,name\n1001,someone.else@example.com,Someone\n1002,bob@example.com,Bob\n",
                    encoding="utf-8")
    path = write_csv(tmp_path / "export.csv", ["Customer ID", "Email", "Phone"], [
        ["1001", "anna.mueller@example.de", "+4917112345678"],
        ["1002", "bob@example.com", "+14155550132"],
        ["1003", "carl@example.com", "+14155550133"],
    ])  # fmt: skip
    common = ("--rate", "60000", "--report-dir", tmp_path / "r", "--json", "--quiet")
    trial = cli(capsys, "import", path, "--sandbox", "--sandbox-customers", seed, *common)
    dry = cli(capsys, "import", path, "--sandbox", "--sandbox-customers", seed, "--dry-run", *common)
    plain = cli(capsys, "import", path, "--sandbox", *common)  # every customer the file names exists
    by_id = cli(capsys, "import", path, "--sandbox", "--sandbox-customers", seed, "--match-by", "id", *common)
    # 1 of the 3 ids unknown, 1 naming another email's customer: too few for a pattern, so the ids are kept
    # and the crossed row is customer-mismatch, as with --match-by id (a guess by email could be wrong)
    assert json.loads(trial.out)["counts"] == {"created": 2, "invalid": 2, "failed": 2}
    assert json.loads(dry.out)["counts"] == {"valid": 2, "invalid": 2, "failed": 2}
    assert json.loads(by_id.out)["counts"] == {"created": 2, "invalid": 2, "failed": 2}  # customer-mismatch stays
    assert json.loads(plain.out)["counts"] == {"created": 6}
    assert trial.code == dry.code == by_id.code == 1 and plain.code == 0
    # --dry-run --sandbox-customers FILE checks the customers against FILE, without --sandbox (issue 19)
    alone = cli(capsys, "import", path, "--sandbox-customers", seed, "--dry-run", *common)
    assert json.loads(alone.out)["counts"] == {"valid": 2, "invalid": 2, "failed": 2} and alone.code == 1
    bad = cli(capsys, "import", path, "--sandbox-customers", seed, "--report-dir", tmp_path / "r")
    assert bad.code == 2 and "--sandbox-customers" in bad.err and "Traceback" not in bad.err


def test_the_sandbox_command_takes_the_same_customers_file(tmp_path):
    from importer.cli import build_parser
    from importer.sandbox.cli import config_from_args

    seed = tmp_path / "c.csv"
    seed.write_text("id,email\n7,ann@example.com\n", encoding="utf-8")
    args = build_parser().parse_args(["sandbox", "--sandbox-customers", str(seed)])
    customers = config_from_args(args).customers
    assert [(c.id, c.email) for c in customers] == [(7, "ann@example.com")]


def test_the_journal_remembers_verified_ids_so_a_nightly_run_reads_nothing(tmp_path):
    path = write_csv(tmp_path / "nightly.csv", ["Customer ID", "Email", "Phone"], [
        ["1002", "bob@example.com", "+14155550132"]])  # fmt: skip
    journal = tmp_path / "j.sqlite"
    with sandbox() as sb:
        first = run(sb, path, tmp_path, no_journal=False, journal=journal)
        sb.reset_stats()
        second = run(sb, path, tmp_path, no_journal=False, journal=journal)
        assert sb.stats.requests == 0
    assert first.counts == {"created": 2} and second.counts == {"skipped": 2}
    assert second.summary["customers"]["from_journal"] == 1


# -- the cheaper way to learn 5,000 customers: count the requests --------------------------------


def _resolve(sb: Sandbox, records: list[ContactRecord]) -> tuple[list[ContactRecord], dict, Directory]:
    transport = httpx.ASGITransport(app=create_app(sb.state))  # in process: thousands of reads in seconds

    async def go():
        async with httpx.AsyncClient(transport=transport) as http:
            reader = StoreReader(http, api_url="http://127.0.0.1/api/v3", store_id=sb.store_id, token=sb.token,
                                 pacer=Pacer(None))  # fmt: skip
            directory = Directory(reader)
            return await resolve_customers(records, Resolution(directory), results, concurrency=8), directory

    results: dict = {}
    out, directory = asyncio.run(go())
    return out, results, directory


def _by_ids(ids) -> list[ContactRecord]:
    return [ContactRecord(index=k, source=Source("f.csv", "", k + 2), customer_id=i, customer_email=None,
                          type="PHONE", contact=f"+1415{k:07d}", outcome=Outcome(Status.VALID))
            for k, i in enumerate(ids)]  # fmt: skip


def test_five_thousand_ids_in_a_store_of_three_thousand_read_the_list_in_thirty_pages():
    sb = sandbox(3000)
    out, results, directory = _resolve(sb, _by_ids(range(1, 5001)))
    assert sb.stats.requests == 30 == directory.stats.pages and directory.stats.id_reads == 0
    assert len(out) == 3000 and len(results) == 2000
    assert {r.outcome.error_code for r in results.values()} == {Code.CUSTOMER_NOT_FOUND}


def test_a_few_ids_in_a_big_store_are_read_one_by_one():
    sb = sandbox(20_000)
    ids = list(range(1, 20_001, 200))  # 100 ids; the list would be 200 pages
    out, results, directory = _resolve(sb, _by_ids(ids))
    assert directory.stats.pages == 1  # the first page says how big the store is
    assert sb.stats.requests == 1 + directory.stats.id_reads <= 1 + len(ids)
    assert len(out) == len(ids) and results == {}
