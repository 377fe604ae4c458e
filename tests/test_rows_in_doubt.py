"""Rows in doubt (issue 15): settled by time and by the store, never by one early read.

First through the command line, against the sandbox over loopback, with the faults that leave a
create in doubt: writes that commit late while reads answer at once, answers cut off after
the commit, a 403 while the store is being checked, Ctrl-C while the run waits to check,
kill -9 while creates are still being committed; creates (contacts, customers, batches' inner
requests) that commit and are then answered with nothing readable (issue 21). Then the settle window
on a fake clock: when rows in doubt are read, and what a stop leaves.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import threading
from collections import Counter
from contextlib import closing
from pathlib import Path

import httpx

from cli_support import read_csv, run_dir, statuses
from exactly_once_helpers import cli_args, run_main, start_cli, stored, wait_for, write_csv
from fakeclock import FakeClock
from importer.deliver.doubt import EARLIER, LOST, DoubtBook
from importer.ecwid.pacer import Pacer
from importer.ecwid.store import StoreReader
from importer.journal import default_path
import importer.runs.remote  # noqa: F401 - loaded now, so a rerun "at once" starts in milliseconds
from importer.sandbox import CREATE, READ, Sandbox, SandboxConfig
from importer.sandbox.batch import BatchSettings
from send_helpers import make_records


FAST = ("--rate", "100000")  # the sandbox is unlimited: the pacer never waits


def _sandbox(**kw) -> Sandbox:
    return Sandbox(SandboxConfig(**{"rate_per_minute": None, "customers": 20, **kw}))


def _uncommitted(sb: Sandbox) -> int:
    """Creates that arrived and have not committed yet (the store has seen creates and the reads of
    the customers before them, which are answered: GETs in the log)."""
    stats = sb.stats
    reads = sum(1 for r in sb.requests if r.method == "GET")
    return stats.requests - reads + stats.in_flight - stats.creates_committed


def _journal_states(path: Path) -> dict[str, int]:
    """state -> rows; 'sending+sent_at' for rows in doubt whose send time is kept."""
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT state, sent_at IS NOT NULL FROM contacts").fetchall()
    out: dict[str, int] = {}
    for state, timed in rows:
        name = state + ("+sent_at" if state == "sending" and timed else "")
        out[name] = out.get(name, 0) + 1
    return out


def test_sandbox_late_commit_a_read_answers_before_the_write_commits():
    with _sandbox(late_commit_ms=1500) as sb:  # room for the read on a loaded machine (400 ms failed there)
        url = f"{sb.api_url}/{sb.store_id}/customers/1/contacts"
        auth = {"Authorization": f"Bearer {sb.token}"}
        with httpx.Client(timeout=5) as http:
            posting = threading.Thread(target=http.post, args=(url,), kwargs={"json": {"type": "EMAIL",
                                       "contact": "a@example.com"}, "headers": auth})  # fmt: skip
            posting.start()
            wait_for(lambda: sb.stats.in_flight == 1)
            during = httpx.get(url, headers=auth).json()["items"]  # served while the create waits
            posting.join()
            after = httpx.get(url, headers=auth).json()["items"]
    assert during == [] and [c["contact"] for c in after] == ["a@example.com"]


def test_a_create_slower_than_the_timeout_is_found_after_the_settle_window_not_sent_twice(
    tmp_path, monkeypatch, capsys
):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(8))
    # Every create commits 0.6 s after it arrives; the client gives up after 0.3 s.
    with _sandbox(late_commit_ms=600) as sb:
        args = cli_args(sb, csv, tmp_path / "r", "--timeout", "0.3", "--settle-window", "1.5", "--concurrency", "4",
                        *FAST)  # fmt: skip
        code, summary, err = run_main(sb, args, monkeypatch, capsys)
        wait_for(lambda: sb.stats.in_flight == 0)  # nothing more can commit
        store = stored(sb)
    assert store == expected  # 8 contacts for 8 rows (the early read gave 16)
    assert code == 0, err
    assert summary["counts"] == {"created": 8}
    assert summary["in_doubt"] == {
        "rows": 8, "from_earlier_runs": 0, "answers_lost": 8, "found_in_store": 8, "absent_sent_again": 0,
        "absent_not_sent": 0, "unchecked": 0, "settle_window_s": 1.5,
    }  # fmt: skip
    assert "8 rows in doubt (sent, no answer): checking the store by" in err
    rows = read_csv(Path(summary["report_dir"]) / "results.csv")
    assert all("the store has it (checked after the settle window)" in r["error"] for r in rows)
    assert "In doubt: 8 rows (8 answers lost): 8 found in the store" in err  # the terminal summary


def test_cut_answers_are_counted_and_settled(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(60))
    with _sandbox(cut_rate=0.25, seed=4) as sb:
        code, summary, err = run_main(sb, cli_args(sb, csv, tmp_path / "r", *FAST, "--settle-window", "0.2"), monkeypatch,
                                      capsys)  # fmt: skip
        cuts = sb.stats.cuts
        store = stored(sb)
    assert code == 0, err
    assert store == expected and cuts > 5
    doubt = summary["in_doubt"]
    assert doubt["answers_lost"] == doubt["found_in_store"] == doubt["rows"] == cuts
    assert summary["counts"] == {"created": 60} and summary["ambiguous"] == 0


def test_a_403_while_checking_leaves_the_rows_in_doubt_and_the_rerun_finds_them(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(40))
    journal = default_path(1003)
    create_only = "secret_create_only_4d1a"
    with _sandbox(cut_rate=0.2, seed=8) as sb:
        # The token reads the customers (verified before any create), then loses read_customers once
        # the creates begin: the check after a cut meets 403.
        sb.add_token(create_only, {CREATE, READ})
        args = cli_args(sb, csv, tmp_path / "r", *FAST)
        monkeypatch.setenv("ECWID_TOKEN", create_only)
        from importer.cli import main

        def revoke_read_once_creating() -> None:
            wait_for(lambda: any(r.method == "POST" for r in sb.requests))
            sb.add_token(create_only, {CREATE})

        revoker = threading.Thread(target=revoke_read_once_creating, daemon=True)
        revoker.start()
        capsys.readouterr()
        code = main([*args, "--json"])
        revoker.join(timeout=20)
        out, err = capsys.readouterr()
        first = json.loads(out)
        cuts = sb.stats.cuts
        states = _journal_states(journal)
        sb.set_fault(cut_rate=0.0)
        code2, second, err2 = run_main(sb, args, monkeypatch, capsys)  # the demo token reads too
        store = stored(sb)
    assert code == 3 and "lacks the read_customers scope" in err
    assert cuts > 3
    # Created, but their answers were cut: not 'not_sent', not journaled absent, but in doubt.
    assert first["in_doubt"]["unchecked"] == cuts and first["ambiguous"] == cuts
    assert first["counts"] == {"created": 40 - cuts, "failed": cuts}
    assert states == {"created": 40 - cuts, "sending+sent_at": cuts}
    rows = read_csv(Path(first["report_dir"]) / "results.csv")
    assert all("not checked (the token lacks the read_customers scope" in r["error"] for r in rows
               if r["status"] == "failed")  # fmt: skip

    assert code2 == 0, err2
    assert store == expected  # the rerun found them: nothing twice (the early verdict gave 8 duplicates of 40)
    assert second["resumed"]["done"] == 40 - cuts and second["resumed"]["in_doubt"] == cuts
    assert second["in_doubt"]["from_earlier_runs"] == second["in_doubt"]["found_in_store"] == cuts
    assert f"Continuing an earlier run (journal {journal}): {40 - cuts} rows already done, {cuts} in doubt" in err2


def test_ctrl_c_while_waiting_to_check_leaves_rows_in_doubt_and_progress_short_of_100(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(50))
    reports = tmp_path / "r"
    with _sandbox(cut_rate=0.2, seed=2) as sb:
        proc = start_cli(sb, cli_args(sb, csv, reports, *FAST, "--settle-window", "60"))
        watchdog = threading.Timer(60, proc.kill)
        watchdog.start()
        try:
            for line in proc.stderr:  # wait until it says it waits for the rows in doubt
                if "rows in doubt (sent, no answer): checking the store by" in line:
                    break
            proc.send_signal(signal.SIGINT)
            _, rest = proc.communicate(timeout=30)
        finally:
            watchdog.cancel()
        cuts = sb.stats.cuts
        states = _journal_states(default_path(1003))
        code, summary, err = run_main(sb, cli_args(sb, csv, reports, *FAST, "--settle-window", "0.2"), monkeypatch, capsys)
        store = stored(sb)
    assert proc.returncode == 3, rest
    assert "interrupted" in rest and "Traceback" not in rest
    progress = [line for line in rest.splitlines() if line.startswith("sent ")]
    assert progress and progress[-1].startswith(f"sent {50 - cuts}/50 rows") and f"{cuts} in doubt" in progress[-1]
    assert states == {"created": 50 - cuts, "sending+sent_at": cuts}  # in doubt, with when they were sent

    assert code == 0, err
    assert store == expected
    assert summary["resumed"]["in_doubt"] == summary["in_doubt"]["found_in_store"] == cuts
    assert summary["counts"] == {"skipped": 50 - cuts, "created": cuts}


def test_kill_9_while_creates_commit_late_then_an_immediate_rerun_creates_each_once(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(60))
    reports = tmp_path / "r"
    # Each create commits 2 s after it arrives; the rerun's window (3 s) outlasts that, with room for a slow machine.
    with _sandbox(late_commit_ms=2000) as sb:
        args = cli_args(sb, csv, reports, "--concurrency", "6", *FAST, "--settle-window", "3")
        proc = start_cli(sb, args)
        wait_for(lambda: _uncommitted(sb) >= 6 or proc.poll() is not None)
        proc.send_signal(signal.SIGKILL)
        pending, arrived = _uncommitted(sb), sb.stats.requests + sb.stats.in_flight
        proc.communicate(timeout=20)
        assert proc.returncode == -signal.SIGKILL and pending == 6, "the kill came too late"
        sb.set_fault(late_commit_ms=0)  # the rerun's own creates need not wait
        code, summary, err = run_main(sb, args, monkeypatch, capsys)  # at once: no pause before it
        wait_for(lambda: sb.stats.in_flight == 0)
        store = stored(sb)
        # The killed run's creates that committed after all (one whose body had not fully arrived does not).
        late = sum(1 for r in sb.requests if r.seq <= arrived and r.method == "POST" and r.status == 200)
    assert code == 0, err
    assert store == expected  # an immediate early read gave 30 duplicates
    doubt = summary["in_doubt"]
    assert late >= 1 and doubt["from_earlier_runs"] >= pending and doubt["found_in_store"] == late
    # every other row in doubt was absent and sent again: intents never sent, and a pending create whose body had
    # not fully arrived at the kill (under load), which never commits
    assert doubt["absent_sent_again"] == doubt["from_earlier_runs"] - late
    assert summary["resumed"]["in_doubt"] == doubt["from_earlier_runs"] and summary["resumed"]["wait_s"] > 2
    assert "Continuing an earlier run" in err and "once their requests can no longer commit" in err


API = "http://127.0.0.1:9/api/v3"


# Answers that say nothing (issue 21, the wire): creates that commit and are then answered 200 with an
# empty body, `{}` or an HTML page are doubt, not failure: checked in the store, never sent twice.


def _one_journal(sb: Sandbox, csv, tmp_path, report: str, *extra: str) -> list[str]:
    """One journal for every run of a test, whatever its report folder; rows in doubt checked at once
    (the sandbox commits before it answers)."""
    return cli_args(sb, csv, tmp_path / report, "--journal", str(tmp_path / "journal.sqlite"), *FAST,
                    "--settle-window", "0.05", *extra)  # fmt: skip


def test_a_create_committed_then_answered_with_nothing_readable_is_checked_in_the_store_never_sent_twice(
    tmp_path, monkeypatch, capsys
):  # an empty body here; HTML below (with customers); `{}` and the rest: test_sending.py
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(12))
    with _sandbox(blank_rate=0.5, blank_body="empty", seed=3) as sb:
        code, summary, err = run_main(sb, _one_journal(sb, csv, tmp_path, "r1"), monkeypatch, capsys)
        rows = read_csv(run_dir(tmp_path / "r1") / "results.csv")
        assert stored(sb) == expected  # every contact once
        assert code == 0, err
        assert statuses(rows) == {"created": 12}
        doubt = summary["in_doubt"]
        assert doubt["answers_lost"] == doubt["found_in_store"] >= 3 and doubt["absent_sent_again"] == 0
        sb.set_fault(blank_rate=0.0)
        code, summary, err = run_main(sb, _one_journal(sb, csv, tmp_path, "r2"), monkeypatch, capsys)
        assert stored(sb) == expected and code == 0
        assert summary["counts"] == {"skipped": 12}


def test_batch_inner_answers_that_say_nothing_are_checked_in_the_store_never_sent_twice(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(12))
    with _sandbox(batch=BatchSettings(processing_ms=1, blank_rate=0.5, seed=2)) as sb:
        code, summary, err = run_main(sb, _one_journal(sb, csv, tmp_path, "r1", "--mode", "batch"), monkeypatch,
                                      capsys)  # fmt: skip
        assert stored(sb) == expected
        assert code == 0, err
        assert summary["counts"] == {"created": 12}
        # the rows their inner answers left in doubt: settled by the one store check (in_doubt, as in direct mode)
        doubt = summary["in_doubt"]
        assert doubt["answers_lost"] == doubt["rows"] == summary["batch"]["inner_in_doubt"] > 0
        assert doubt["found_in_store"] + doubt["absent_sent_again"] == doubt["rows"] and not doubt["unchecked"]
        assert summary["batch"]["resent"] if "resent" in summary["batch"] else True
        code, summary, err = run_main(sb, _one_journal(sb, csv, tmp_path, "r2"), monkeypatch, capsys)
        assert stored(sb) == expected and summary["counts"] == {"skipped": 12}


def test_customers_and_contacts_whose_creates_are_answered_with_html_are_each_made_once(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "people.csv"
    csv.write_text("Name,Email,Phone\n" + "".join(f"Person {i},p{i}@example.com,+1415555{i:04d}\n" for i in range(6)))
    with _sandbox(blank_rate=1.0, blank_body="html") as sb:  # every write commits, then a proxy's page answers
        argv = _one_journal(sb, csv, tmp_path, "r1", "--match-by", "email", "--create-customers")
        code, summary, err = run_main(sb, argv, monkeypatch, capsys)
        emails = Counter(c.email for c in sb.state.customers())
        contacts = Counter((c["type"], c["contact"]) for items in sb.all_contacts().values() for c in items)
    assert code == 0, err
    assert [emails[f"p{i}@example.com"] for i in range(6)] == [1] * 6
    assert len(contacts) == 12 and max(contacts.values()) == 1


class Store:
    """GET /customers/{id}/contacts on the fake clock: a create of `commits_at` lands then."""

    def __init__(self, clock: FakeClock, records, commits_at: float, status: int = 200):
        self.clock, self.records, self.commits_at, self.status = clock, records, commits_at, status
        self.reads: list[tuple[float, int]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        cid = int(request.url.path.split("/")[-2])
        self.reads.append((self.clock(), cid))
        if self.status != 200:
            return httpx.Response(self.status, json={"errorMessage": "no", "errorCode": "INSUFFICIENT_APP_SCOPE"})
        landed = self.clock() >= self.commits_at
        items = [{"type": r.type, "contact": r.contact} for r in self.records if r.customer_id == cid and landed]
        return httpx.Response(200, json={"items": items})


def _settle(book: DoubtBook, store: Store, clock: FakeClock, *, cancel_at: float | None = None):
    async def main():
        async with httpx.AsyncClient(transport=httpx.MockTransport(store.handle)) as http:
            reader = StoreReader(http, api_url=API, store_id=1003, token="secret_t", pacer=Pacer(None), retries=1,
                                 sleep=clock.sleep)  # fmt: skip
            cancel = asyncio.Event()

            async def stop():
                await clock.sleep(cancel_at - clock())
                cancel.set()

            jobs = [book.settle(reader, cancel)] + ([stop()] if cancel_at is not None else [])
            return (await clock.run(*jobs))[0]

    return asyncio.run(main())


def _book(clock: FakeClock, settle_s: float, records, sent_at: float) -> DoubtBook:
    book = DoubtBook(settle_s, wall=clock, sleep=clock.sleep)
    for r in records:
        book.add(r, sent_at, LOST)
    return book


def test_an_absent_read_counts_only_after_the_window_so_a_late_commit_is_found():
    clock = FakeClock(start=1000.0)
    records = make_records(4, customers=2)
    store = Store(clock, records, commits_at=1030.0)  # the creates sent at 1000 land 30 s later
    checked = _settle(_book(clock, 60.0, records, sent_at=1000.0), store, clock)
    assert [t for t, _ in store.reads] == [1060.0, 1060.0]  # one read per customer, at the deadline
    assert len(checked.found) == 4 and not checked.absent and checked.stopped is None


def test_a_window_shorter_than_the_commit_would_have_said_absent():
    clock = FakeClock(start=1000.0)
    records = make_records(2, customers=1)
    store = Store(clock, records, commits_at=1030.0)
    checked = _settle(_book(clock, 10.0, records, sent_at=1000.0), store, clock)
    assert store.reads == [(1010.0, 1)] and len(checked.absent) == 2  # why the window must outlast a commit


def test_rows_are_read_as_each_deadline_passes():
    clock = FakeClock(start=1000.0)
    records = make_records(2, customers=2)
    book = DoubtBook(5.0, wall=clock, sleep=clock.sleep)
    book.add(records[0], 1000.0, EARLIER)
    book.add(records[1], 1003.0, LOST)
    store = Store(clock, records, commits_at=0.0)
    checked = _settle(book, store, clock)
    assert store.reads == [(1005.0, 1), (1008.0, 2)] and len(checked.found) == 2
    assert book.counts == {EARLIER: 1, LOST: 1}


def test_ctrl_c_while_waiting_leaves_every_row_in_doubt_unread():
    clock = FakeClock(start=1000.0)
    records = make_records(3)
    book = _book(clock, 60.0, records, sent_at=1000.0)
    store = Store(clock, records, commits_at=0.0)
    checked = _settle(book, store, clock, cancel_at=1020.0)
    assert checked.stopped is not None and checked.stopped.error_code == "interrupted"
    assert store.reads == [] and len(book) == 3 and not (checked.found or checked.absent)


def test_a_403_on_the_check_stops_and_leaves_the_rows_in_doubt():
    clock = FakeClock(start=1000.0)
    records = make_records(3, customers=1)
    book = _book(clock, 1.0, records, sent_at=1000.0)
    checked = _settle(book, Store(clock, records, commits_at=0.0, status=403), clock)
    assert "read_customers" in checked.stopped.message
    assert len(book) == 3 and not (checked.found or checked.absent or checked.unchecked)


def test_a_store_that_cannot_be_read_leaves_the_row_unchecked_not_absent():
    clock = FakeClock(start=1000.0)
    records = make_records(1)
    book = _book(clock, 1.0, records, sent_at=1000.0)
    checked = _settle(book, Store(clock, records, commits_at=0.0, status=503), clock)
    assert checked.stopped is None and not checked.absent
    assert [why for _, why in checked.unchecked] == ["the store could not be checked: GET /customers/1/contacts: "
                                                     "HTTP 503 INSUFFICIENT_APP_SCOPE no"]  # fmt: skip


def test_one_row_in_doubt_and_one_row_done_before_are_said_in_the_singular(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(1))
    with _sandbox(late_commit_ms=300) as sb:  # the create commits after the client gave up on its answer
        args = _one_journal(sb, csv, tmp_path, "r1", "--timeout", "0.15", "--settle-window", "0.6")
        code, summary, err = run_main(sb, args, monkeypatch, capsys)
        write_csv(csv, range(2))  # the same row, and one more
        again, _, err2 = run_main(sb, _one_journal(sb, csv, tmp_path, "r2"), monkeypatch, capsys)
    assert code == again == 0, err + err2
    assert summary["in_doubt"]["found_in_store"] == 1
    assert "\n1 row in doubt (sent, no answer): checking the store by " in err
    assert "\nIn doubt: 1 row (1 answer lost): 1 found in the store.\n" in err
    assert f"Continuing an earlier run (journal {tmp_path / 'journal.sqlite'}): 1 row already done\n" in err2
