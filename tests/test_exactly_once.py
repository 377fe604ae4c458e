"""Exactly once: each contact created once, whatever happens to the run.

First as a model: any interleaving of outcomes leaves the journal and the store consistent. A record's
life is a script of events at a fake store: a create answered, refused (503), refused so that the run
stops (403), applied with its answer cut off, lost before it arrived, a read that fails, and the process
dying at any of those points (its queued journal writes lost with it). The real Journal, the real engine
and the real sender run against it, run after run, until a final run meets no more trouble. Throughout:
the store never holds a contact twice, the journal never claims a contact the store lacks, and never
forgets one the store has. At the end: each contact exactly once, and the journal says created.

Then through a faulty network, repeated runs, growing files and what the store has already:
`run_import`, the library call behind the CLI, against the sandbox over loopback.

Last across crashes: the importer as a real process, killed mid-run, then rerun. The sandbox lives in
the test process, so it outlives every importer it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import signal
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from exactly_once_helpers import cli_args, run_main, start_cli, stored, wait_for, write_csv
from importer import journal as states
from importer.deliver.engine import Engine
from importer.deliver.send import DirectChannel, SendConfig
from importer.ecwid.pacer import Pacer
from importer.ecwid.store import StoreReader, StoreReadError
from importer.errors import RunStopped
from importer.journal import CREATED, Journal, default_path
from importer.records import ContactRecord, Outcome, Source, Status
from importer.runs.pipeline import run_import
from importer.sandbox import Sandbox, SandboxConfig


API, STORE, TOKEN = "http://127.0.0.1:9/api/v3", 1003, "secret_model_token"
POST_EVENTS = ["ok", "503", "403", "cut", "lost", "crash-before", "crash-after"]
GET_EVENTS = ["ok", "503", "403", "crash"]  # 403: the run stops while it checks the store


class Crash(Exception):
    """The process dies here."""


class FakeStore:
    """Ecwid's contacts endpoints, doing what the script says, then behaving."""

    def __init__(self, script: list[tuple[str, str]]):
        self.script = list(script)  # (method, event), consumed in order of matching method
        self.contacts: dict[int, list[dict]] = {}

    def _event(self, method: str) -> str:
        for i, (m, event) in enumerate(self.script):
            if m == method:
                del self.script[i]
                return event
        return "ok"

    def handle(self, request: httpx.Request) -> httpx.Response:
        cid = int(request.url.path.split("/")[-2])
        event = self._event(request.method)
        if event == "503":
            return httpx.Response(503, json={"errorMessage": "busy"})
        if event == "403":  # the run stops; the rows it did not send are not in doubt
            return httpx.Response(403, json={"errorMessage": "token revoked", "errorCode": "INVALID_API_TOKEN"})
        if request.method == "GET":
            if event == "crash":
                raise Crash
            return httpx.Response(200, json={"items": list(self.contacts.get(cid, []))})
        if event in ("ok", "cut", "crash-after"):
            self.contacts.setdefault(cid, []).append(json.loads(request.content))
        if event == "cut":
            raise httpx.RemoteProtocolError("server disconnected without sending a response")
        if event == "lost":
            raise httpx.ReadTimeout("timed out")  # it never arrived, but the client cannot know
        if event.startswith("crash"):
            raise Crash
        return httpx.Response(200, json={"createCount": 1})

    def count(self) -> Counter:
        return Counter((str(cid), c["type"], c["contact"]) for cid, items in self.contacts.items() for c in items)


def _records(n: int) -> list[ContactRecord]:
    return [
        ContactRecord(
            index=i, source=Source("f.csv", "", i + 2), customer_id=1 + i % 2, customer_email=None,
            type="EMAIL", contact=f"p{i}@example.com", outcome=Outcome(Status.VALID),
        )  # fmt: skip
        for i in range(n)
    ]


async def _no_sleep(_: float) -> None:
    return None


async def _run(journal: Journal, store: FakeStore, records: list[ContactRecord], skip_existing: bool) -> dict:
    config = SendConfig(api_url=API, store_id=STORE, token=TOKEN, rate_per_minute=None, concurrency=1,
                        retries=2, backoff_s=0.0, quiet=True)  # fmt: skip
    results: dict[int, ContactRecord] = {}
    async with httpx.AsyncClient(transport=httpx.MockTransport(store.handle)) as http:
        pacer = Pacer(None)
        reader = StoreReader(http, api_url=API, store_id=STORE, token=TOKEN, pacer=pacer, retries=2, sleep=_no_sleep)
        # The fake store commits before it answers (or never): no window to wait out.
        engine = Engine(journal, reader, results, settle_s=0.0, quiet=True, sleep=_no_sleep)
        channel = DirectChannel(config, client=http, pacer=pacer, sleep=_no_sleep)
        to_send = await engine.prepare(list(records))
        try:  # skip what the customer has already, as importer.customers.instore does before the engine sends
            to_send = [r for r in to_send if not (skip_existing and await _held(reader, r))]
        except RunStopped as exc:
            engine.give_up(exc, channel)
            return results
        await engine.run(to_send, channel)
    return results


async def _held(reader: StoreReader, record: ContactRecord) -> bool:
    """Whether the store has it; a read that fails: not sent (as a store check that failed)."""
    try:
        return await reader.has_contact(record)
    except StoreReadError:
        return True


def _check_consistent(path, store: FakeStore, records: list[ContactRecord]) -> dict:
    held = store.count()
    assert max(held.values(), default=0) <= 1, f"stored twice: {held}"
    with Journal(path, STORE, "inspect") as j:
        entries = j.lookup(r.key for r in records)
    for r in records:
        state = entries[r.key].state if r.key in entries else None
        if state == states.CREATED:
            assert held[r.key] == 1, f"{r.key}: the journal says created, the store lacks it"
        if held[r.key]:
            # Any other state would let the next run resend it without a look at the store.
            assert state in (states.SENDING, states.CREATED), f"{r.key}: in the store, journal says {state}"
    return entries


@pytest.fixture(scope="module")
def shm(tmp_path_factory):
    """Journals in memory-backed files where there are some: this test is about logic, not disks."""
    base = Path("/dev/shm")
    if base.is_dir():
        with tempfile.TemporaryDirectory(dir=base) as d:
            yield d
    else:
        yield tmp_path_factory.mktemp("model")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, 3),
    script=st.lists(
        st.one_of(st.tuples(st.just("POST"), st.sampled_from(POST_EVENTS)),
                  st.tuples(st.just("GET"), st.sampled_from(GET_EVENTS))),
        max_size=12,
    ),  # fmt: skip
    lose_queued=st.lists(st.booleans(), min_size=8, max_size=8),
    skip_existing=st.lists(st.booleans(), min_size=8, max_size=8),
)
# A stop must not clear the doubt about rows it never reached (row 1 here, stored by a run that died).
@example(n=2, script=[("POST", "503")] * 3 + [("POST", "crash-after"), ("GET", "ok"), ("POST", "403")],
         lose_queued=[False] * 8, skip_existing=[False] * 8)  # fmt: skip
def test_any_interleaving_ends_with_each_contact_once(shm, n, script, lose_queued, skip_existing):
    path = Path(tempfile.mkdtemp(dir=shm)) / "journal.sqlite"
    store = FakeStore(script)
    records = _records(n)
    for run in range(8):
        if not store.script:
            break
        journal = Journal(path, STORE, f"run-{run}")
        try:
            asyncio.run(_run(journal, store, records, skip_existing[run]))
        except Crash:
            journal._pending.clear()  # died before the queued outcomes were committed
        if lose_queued[run]:
            journal._pending.clear()  # killed after its last answer, before its last commit
        journal.close()
        _check_consistent(path, store, records)
    store.script.clear()
    with Journal(path, STORE, "final") as journal:  # the plain rerun, meeting no trouble
        final = asyncio.run(_run(journal, store, records, skip_existing=False))
    entries = _check_consistent(path, store, records)
    assert store.count() == Counter(r.key for r in records)
    assert all(entries[r.key].state == states.CREATED for r in records)
    assert {r.outcome.status for r in final.values()} <= {Status.CREATED, Status.SKIPPED}


FAST = 60_000  # requests a minute: the pacer never waits unless the sandbox says 429


def _import(sb: Sandbox, csv, tmp_path, **kw):
    options = dict(store_id=sb.store_id, token=sb.token, api_url=sb.api_url, report_dir=tmp_path / "reports",
                   rate=FAST, concurrency=6, quiet=True, settle_window=0.2)  # fmt: skip
    return run_import([csv], **{**options, **kw})


def test_503s_cut_creates_and_429_bursts_every_row_exactly_once(tmp_path):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(250))
    # 10 requests per 0.1 s (6000/min) while the importer starts at twice that: 429 bursts.
    config = SandboxConfig(customers=20, rate_per_minute=6000, window_s=0.1, fail_rate=0.05, cut_rate=0.03, seed=11)
    with Sandbox(config) as sb:
        result = _import(sb, csv, tmp_path, rate=12_000)
        stats = sb.stats
        if result.exit_code != 0:  # a row that met 503 on every attempt: the rerun finishes it
            result = _import(sb, csv, tmp_path)
        store = stored(sb)
    # the trouble really happened (about 12 faults and 7 cuts are expected; how many draws fall on creates varies
    # with the 429s, so the bounds leave room: cuts > 3 failed about one run in twenty)
    assert stats.faults >= 3 and stats.cuts >= 2 and stats.rate_limited > 0
    assert result.exit_code == 0, result.counts
    assert store == expected  # every contact, each exactly once
    assert result.summary["total"] == sum(result.counts.values()) == 250  # every row accounted for
    assert result.summary["ambiguous"] == 0
    confirmed = [r for r in result.records if "confirmed in the store" in r.outcome.error]
    created = [r for r in result.records if r.outcome.status == "created"]
    assert len(created) + result.counts.get("skipped", 0) == 250 and not confirmed  # cuts resolved in-run


def test_the_second_run_of_the_same_file_sends_nothing(tmp_path):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(120))
    with Sandbox(SandboxConfig(customers=20, rate_per_minute=None)) as sb:
        first = _import(sb, csv, tmp_path)
        requests = sb.stats.requests
        second = _import(sb, csv, tmp_path)
        assert sb.stats.requests == requests  # not a create, not a read
        assert stored(sb) == expected
    assert first.counts == {"created": 120} and first.exit_code == 0
    assert second.counts == {"skipped": 120} and second.exit_code == 0
    assert second.summary["skipped_by_reason"] == {"already-imported": 120}
    day = first.summary["started_at"][:10]
    for r in second.records:  # which run created it, and when
        assert r.outcome.error_code == "already-imported"
        assert re.search(rf"created by run {first.summary['run_id']} on {day} \d\d:\d\d:\d\d", r.outcome.error)
    assert "already-imported" in (second.report_path / "results.csv").read_text(encoding="utf-8")


def test_a_growing_export_sends_only_the_new_rows(tmp_path):
    csv = tmp_path / "export.csv"
    with Sandbox(SandboxConfig(customers=20, rate_per_minute=None)) as sb:
        write_csv(csv, range(100))
        assert _import(sb, csv, tmp_path).counts == {"created": 100}
        before = sb.stats.requests
        expected = write_csv(csv, range(150))  # the next night's export: yesterday's rows and 50 new
        tonight = _import(sb, csv, tmp_path)
        # the 50 creates, and one page of the customer list: what the customers hold now (the journal
        # answers who they are, not what someone else gave them since)
        assert sb.stats.requests - before == 51
        assert stored(sb) == expected
    assert tonight.counts == {"created": 50, "skipped": 100}
    assert [r.source.row for r in tonight.records if r.outcome.status == "created"] == list(range(102, 152))


def test_contacts_the_store_has_are_skipped_by_default_compared_normalized_from_the_customer_list(tmp_path):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(60), customers=10)
    # Someone else put two of them in already, written their own way.
    with Sandbox(SandboxConfig(customers=10, rate_per_minute=None)) as sb:
        theirs = [(2, {"type": "EMAIL", "contact": "Person1@EXAMPLE.COM"}),
                  (4, {"type": "PHONE", "contact": "+1 415-555-0003"})]  # fmt: skip
        for cid, body in theirs:
            url = f"{sb.api_url}/{sb.store_id}/customers/{cid}/contacts"
            httpx.post(url, json=body, headers={"Authorization": f"Bearer {sb.token}"}).raise_for_status()
        sb.reset_stats()
        result = _import(sb, csv, tmp_path, no_journal=True)  # --skip-existing: no longer needed
        gets = [r.path for r in sb.requests if r.method == "GET"]
        store = stored(sb)
    assert gets == [f"/api/v3/{sb.store_id}/customers"]  # one page of the list: the ids and their contacts
    assert result.counts == {"created": 58, "skipped": 2}
    assert result.summary["skipped_by_reason"] == {"exists-in-store": 2}
    skipped = {(r.customer_id, r.contact) for r in result.records if r.outcome.status == "skipped"}
    assert skipped == {(2, "Person1@example.com"), (4, "+14155550003")}
    assert len(store) == 60 and max(store.values()) == 1  # theirs kept as written, nothing doubled
    assert set(expected) - set(store) == {(2, "EMAIL", "Person1@example.com"), (4, "PHONE", "+14155550003")}


ROWS = 400


def _sandbox() -> Sandbox:
    # Latency, so a kill lands while requests are in flight.
    return Sandbox(SandboxConfig(rate_per_minute=None, customers=20, latency_ms=15, latency_dist="uniform"))


def _assert_exactly_once(sb: Sandbox, expected: dict) -> None:
    store = stored(sb)
    assert set(store) == set(expected), "a contact is missing from the store, or one nobody asked for is there"
    assert max(store.values()) == 1, f"stored twice: {[k for k, n in store.items() if n > 1]}"


def test_kill_9_at_random_points_then_a_plain_rerun_creates_each_contact_once(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(ROWS))
    reports = tmp_path / "reports"
    rng = random.Random(5)
    with _sandbox() as sb:
        args = cli_args(sb, csv, reports, "--quiet", "--rate", "60000", "--concurrency", "6")
        kills = 0
        for _ in range(3):
            target = sb.stats.creates_committed + rng.randint(0, 70)
            proc = start_cli(sb, args)
            wait_for(lambda: sb.stats.creates_committed >= target or proc.poll() is not None)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.communicate(timeout=20)
            assert max(stored(sb).values(), default=0) <= 1  # never doubled, even before the end
        assert kills >= 2, "the importer finished before it could be killed: the test proved nothing"
        partial = len(stored(sb))
        assert 0 < partial < ROWS

        reads_before = sum(1 for r in sb.requests if r.method == "GET")
        code, summary, err = run_main(sb, args, monkeypatch, capsys)
        assert code == 0, err
        _assert_exactly_once(sb, expected)
        assert sum(1 for r in sb.requests if r.method == "GET") > reads_before  # doubt resolved by reading
    # The default journal path, one per store, was used by every run.
    # The journal is the store's, in the data directory, not in the report folder.
    assert default_path(sb.store_id).exists() and not list(reports.glob("*.sqlite"))
    counts = summary["counts"]
    assert sum(counts.values()) == summary["total"] == ROWS
    assert set(counts) <= {"created", "skipped"}
    # What the killed runs had confirmed is skipped; what they left in doubt was checked, not resent.
    assert counts.get("skipped", 0) == summary["skipped_by_reason"].get("already-imported", 0) > 0
    assert counts["created"] >= ROWS - partial


def test_ctrl_c_stops_with_a_report_and_the_same_command_continues(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(ROWS))
    journal = tmp_path / "my-journal.sqlite"
    with _sandbox() as sb:
        args = cli_args(sb, csv, tmp_path / "r", "--rate", "60000", "--concurrency", "4",
                        "--journal", str(journal))  # fmt: skip
        proc = start_cli(sb, args)
        wait_for(lambda: sb.stats.creates_committed >= 60 or proc.poll() is not None)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 3, err
        assert "run the same command again" in err
        first = stored(sb)
        assert 60 <= len(first) < ROWS and max(first.values()) == 1

        code, summary, err = run_main(sb, args, monkeypatch, capsys)
        assert code == 0, err
        _assert_exactly_once(sb, expected)
    assert summary["counts"] == {"created": ROWS - len(first), "skipped": len(first)}
    assert summary["skipped_by_reason"] == {"already-imported": len(first)}
    assert "already-imported" in err  # the terminal summary says why rows were skipped


def _damaged_journal(path, store_id: int) -> None:
    """A real journal with a page in the middle overwritten: its header still looks fine."""
    with Journal(path, store_id, "earlier") as j:
        j.note([(str(i), "EMAIL", f"p{i}@example.com") for i in range(3000)], CREATED)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\xff" * 8192)


@pytest.mark.parametrize("kind", ["locked", "not-a-journal", "damaged", "another-database", "empty"])
def test_a_journal_that_cannot_be_used_stops_before_sending(tmp_path, kind, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(10))
    journal = tmp_path / "j.sqlite"
    with _sandbox() as sb:
        args = cli_args(sb, csv, tmp_path / "r", "--journal", str(journal))
        if kind == "locked":
            with Journal(journal, sb.store_id, "someone-else"):
                code, _, err = run_main(sb, args, monkeypatch, capsys)
        else:
            if kind == "damaged":
                _damaged_journal(journal, sb.store_id)
            elif kind == "another-database":
                with contextlib.closing(sqlite3.connect(journal)) as db, db:
                    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total TEXT)")
            elif kind == "empty":  # truncated to 0 bytes: not a new journal
                journal.write_bytes(b"")
            else:
                journal.write_bytes(b"not a journal at all " * 300)
            before = journal.read_bytes()
            code, _, err = run_main(sb, args, monkeypatch, capsys)
            assert journal.read_bytes() == before  # never overwritten
        assert sb.stats.requests == 0
    assert code == 2
    said = {"locked": "locked", "another-database": "holds no journal", "empty": "is empty (0 bytes)"}
    assert said.get(kind, "corrupt") in err and "Traceback" not in err
    if kind in ("another-database", "empty"):  # and how to start afresh on purpose
        assert "move it aside or delete it" in err and "--journal NEW_PATH" in err


def test_kill_9_then_the_journals_side_files_lost_still_nothing_twice(tmp_path, monkeypatch, capsys):
    """Commits live in the journal's main file: a side file deleted after kill -9 loses none."""
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(200))
    reports = tmp_path / "reports"
    with _sandbox() as sb:
        args = cli_args(sb, csv, reports, "--quiet", "--rate", "60000", "--concurrency", "6")
        proc = start_cli(sb, args)
        wait_for(lambda: sb.stats.creates_committed >= 100 or proc.poll() is not None)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
        assert proc.returncode == -signal.SIGKILL, "finished before the kill: the test proved nothing"
        created = len(stored(sb))
        main = default_path(sb.store_id)
        lost = [p for p in main.parent.glob(main.name + "-*") if _holds_no_transaction(p)]
        for side in lost:  # what `rm journal-*.sqlite-*` or a crash of the file system leaves
            side.unlink()
        code, summary, err = run_main(sb, args, monkeypatch, capsys)
        assert code == 0, err
        _assert_exactly_once(sb, expected)
    # What the killed run recorded is still known: only the rows it had in flight were checked again.
    assert summary["counts"]["skipped"] >= created - 40


def _holds_no_transaction(side) -> bool:
    """A -wal or -shm file, or a rollback journal whose header is zeroed (no transaction in progress):
    SQLite's docs say a hot rollback journal is part of the database, so that one is kept."""
    return not side.name.endswith("-journal") or side.read_bytes()[:8] == bytes(8)
