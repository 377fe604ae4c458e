"""--mode batch against the sandbox over loopback: every row once, through inner failures, lost answers,
kill -9 and a batch older than Ecwid's deduplication window.

Batches Ecwid accepted are honoured by every later run, direct or batch (issue 21, the wire): a ticket
that stays QUEUED (a stuck queue in the sandbox) stops the run after --batch-timeout with its rows in
doubt under the ticket; a rerun, in either mode, polls the ticket again before sending any of them.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import threading
import time
from collections import Counter

import pytest

from exactly_once_helpers import cli_args, run_main, start_cli, stored, wait_for, write_csv
from importer.deliver.batch import BatchSettings as ClientSettings
from importer.ecwid import policy
from importer.ecwid.batchpolicy import poll_wait
from importer.journal import default_path
from importer.runs.pipeline import run_import
from importer.sandbox import Sandbox, SandboxConfig
from importer.sandbox.batch import BatchSettings


FAST = 60_000


def _sandbox(clock=time.monotonic, **batch) -> Sandbox:
    settings = BatchSettings(**{"processing_ms": 0.0, "retry_s": 0.0, **batch})
    return Sandbox(SandboxConfig(customers=20, rate_per_minute=None, batch=settings), clock=clock)


def _import(sb: Sandbox, csv, tmp_path, **kw):
    options = dict(store_id=sb.store_id, token=sb.token, api_url=sb.api_url, report_dir=tmp_path / "reports",
                   rate=FAST, concurrency=6, quiet=True, mode="batch", batch_size=100)  # fmt: skip
    return run_import([csv], **{**options, **kw})


def _submitted(sb: Sandbox) -> Counter:
    """How many times each inner request (by id) was in a ticket Ecwid ran or holds."""
    return Counter(inner.id for t in sb.state.batches.tickets.values() for inner in t.inner)


def test_every_row_created_once_in_batches_with_few_requests(tmp_path):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(1050))
    with _sandbox() as sb:
        result = _import(sb, csv, tmp_path, batch_size=500)
        store, submitted, requests = stored(sb), _submitted(sb), sb.requests
    assert result.exit_code == 0 and result.counts == {"created": 1050}
    assert store == expected
    assert len(submitted) == 1050 and max(submitted.values()) == 1  # each row in one batch
    posts = [r for r in requests if r.method == "POST"]
    assert len(posts) == 3 and all(r.path.endswith("/batch") for r in posts)  # 500 + 500 + 50
    assert "stopOnFirstFailure=false" in posts[0].query and "deduplicationKey=" in posts[0].query
    assert result.summary["batch"]["batches"] == 3 and len(requests) < 30  # the customer page, submits, polls
    assert all(r.outcome.http_status == 200 and r.outcome.create_count == 1 for r in result.records)


def test_inner_failures_of_each_kind_end_right(tmp_path):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(300))
    with _sandbox(fail_rate=0.05, lost_rate=0.05, skip_rate=0.05, seed=3) as sb:
        result = _import(sb, csv, tmp_path)
        faults = Counter(i.fault for t in sb.state.batches.tickets.values() for i in t.inner)
        store = stored(sb)
        histories: dict[str, list] = {}
        for ticket in sorted(sb.state.batches.tickets.values(), key=lambda t: t.seq):
            for inner in ticket.inner:
                histories.setdefault(inner.id, []).append(inner.fault)
    assert faults["fail"] > 3 and faults["lost"] > 3 and faults["skip"] > 3  # the trouble really happened
    assert store == expected  # every contact once: the lost ones were not sent again
    confirmed = [r for r in result.records if "confirmed in the store" in r.outcome.error]
    assert len(confirmed) == faults["lost"]  # created, though their inner answer was a 500
    assert result.counts["created"] == 300
    for row_id, history in histories.items():  # the faults each row met, batch after batch
        *before, last = history
        assert last in (None, "lost")  # it ended where it was created ...
        assert all(f in ("fail", "skip") for f in before)  # ... and went into a later batch only after these
    assert result.summary["batch"]["not_executed"] >= 3 and result.summary["batch"]["inner_in_doubt"] >= 6
    doubt = result.summary["in_doubt"]  # a 500's row: checked in the store by the engine, sent again only if absent
    assert doubt["found_in_store"] == faults["lost"] and doubt["absent_sent_again"] == faults["fail"]


def test_an_inner_customer_not_found_fails_its_row_only(tmp_path, monkeypatch):
    csv = tmp_path / "contacts.csv"
    csv.write_text("customerId,type,contact\n1,email,a@example.com\n7,email,b@example.com\n2,email,c@example.com\n")
    with _sandbox() as sb:
        # The customer is settled as existing, then gone by the time its batch runs.
        real = sb.state.batches._dispatch

        async def dispatch(ticket, inner):
            if inner.path.startswith("/customers/7/"):
                inner.path = "/customers/12345/contacts"
            return await real(ticket, inner)

        monkeypatch.setattr(sb.state.batches, "_dispatch", dispatch)
        result = _import(sb, csv, tmp_path)
        store, submitted = stored(sb), _submitted(sb)
    rows = {r.contact: r.outcome for r in result.records}
    assert rows["b@example.com"].status == "failed" and rows["b@example.com"].http_status == 404
    assert rows["b@example.com"].error_code == "customer-not-found"
    assert rows["a@example.com"].status == rows["c@example.com"].status == "created"
    assert max(submitted.values()) == 1  # a 4xx is final: not sent again
    assert len(store) == 2


def test_a_submit_whose_answer_is_lost_is_not_created_twice(tmp_path):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(250))
    with _sandbox(cut_submits=1, processing_ms=2.0) as sb:
        result = _import(sb, csv, tmp_path)
        stats = sb.state.batches.stats
        store = stored(sb)
        cuts = sb.stats.cuts
    assert cuts == 1  # the first submit's answer never came
    assert stats.deduplicated == 1 and stats.tickets == 3  # its repeat got the first ticket
    assert store == expected and result.counts == {"created": 250}


@pytest.mark.parametrize("age_h, resubmitted", [(0.5, True), (2.0, False)])
def test_a_batch_left_without_a_ticket_is_resubmitted_with_its_key_only_within_the_window(tmp_path, age_h,
                                                                                             resubmitted):
    """A run whose submit got no answer (and no retry) leaves the batch in the journal without a ticket.
    The sandbox did accept it. Younger than the window: the rerun submits it again with its key and Ecwid
    answers the first ticket. Older: Ecwid has forgotten the key, so a resubmit would create every row
    twice: the rerun checks the store instead."""
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(60))
    offset = [0.0]
    with _sandbox(clock=lambda: time.monotonic() + offset[0], cut_submits=1) as sb:
        first = _import(sb, csv, tmp_path, retries=0)
        assert first.counts == {"failed": 60} and first.summary["ambiguous"] == 60
        wait_for(lambda: len(stored(sb)) == 60)  # Ecwid ran the batch whose answer was lost
        journal = default_path(sb.store_id)
        with contextlib.closing(sqlite3.connect(journal)) as db, db:  # the batch was submitted age_h hours ago (the journal's clock) ...
            db.execute("UPDATE batches SET created_at = created_at - ?", (age_h * 3600,))
        offset[0] = age_h * 3600  # ... and as long ago for the sandbox, which forgets keys after an hour
        gets_before = sum(r.method == "GET" and r.path.endswith("/contacts") for r in sb.requests)
        second = _import(sb, csv, tmp_path)
        stats = sb.state.batches.stats
        store = stored(sb)
        reads = sum(r.method == "GET" and r.path.endswith("/contacts") for r in sb.requests) - gets_before
    assert store == expected  # once each, either way
    assert second.counts == {"created": 60} and second.exit_code == 0
    assert stats.tickets == 1  # no new batch ran
    if resubmitted:
        assert stats.deduplicated == 1 and reads == 0
        assert all(r.outcome.http_status == 200 for r in second.records)
    else:
        assert stats.submits == 1 and reads == 20  # every customer read once, nothing resubmitted
        assert all("confirmed in the store" in r.outcome.error for r in second.records)
        # the engine's one doubt book, as in direct mode: checked at once (no ticket runs them any more)
        doubt = second.summary["in_doubt"]
        assert doubt["from_earlier_runs"] == doubt["found_in_store"] == 60 and not doubt["unchecked"]
        assert second.summary["resumed"]["in_doubt"] == 60 and second.summary["resumed"]["wait_s"] == 0


def _interrupt_mid_batch(sb: Sandbox, csv, tmp_path, sig: int, *extra: str) -> tuple[list[str], int, str]:
    """Start the CLI in batch mode, send `sig` while a ticket is half done; (its arguments, exit code, stderr)."""
    args = cli_args(sb, csv, tmp_path / "reports", "--rate", str(FAST), "--mode", "batch", "--batch-size", "100",
                    *extra)  # fmt: skip
    proc = start_cli(sb, args)
    tickets = sb.state.batches.tickets
    wait_for(lambda: any(20 < t.completed < len(t.inner) for t in list(tickets.values())) or proc.poll() is not None)
    assert proc.poll() is None, "the importer finished before it could be stopped: the test proved nothing"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)
    return args, proc.returncode, err


def _rerun(sb: Sandbox, args, expected, monkeypatch, capsys) -> dict:
    """The same command again: every row in the store once, and no row ever went to Ecwid twice."""
    code, summary, err = run_main(sb, args, monkeypatch, capsys)
    assert code == 0, err
    assert stored(sb) == expected
    submitted = _submitted(sb)
    assert len(submitted) == len(expected) and max(submitted.values()) == 1
    assert set(summary["counts"]) <= {"created", "skipped"} and sum(summary["counts"].values()) == len(expected)
    return summary


def test_kill_9_mid_batch_then_a_rerun_polls_the_open_tickets_and_gives_every_row_once(tmp_path, monkeypatch,
                                                                                        capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(600))
    with _sandbox(processing_ms=4.0) as sb:
        args, _, _ = _interrupt_mid_batch(sb, csv, tmp_path, signal.SIGKILL, "--quiet", "--batches-in-flight", "3")
        open_tickets = {t.ticket for t in sb.state.batches.tickets.values()}
        assert len(open_tickets) >= 2 and 0 < len(stored(sb)) < 600
        summary = _rerun(sb, args, expected, monkeypatch, capsys)
        polled = {r.query for r in sb.requests if r.method == "GET" and r.path.endswith("/batch")}
    assert summary["batch"]["resumed_batches"] == len(open_tickets)
    assert all(any(t in q for q in polled) for t in open_tickets)  # each open ticket was polled, not resubmitted


@pytest.mark.parametrize("remaining, per_s, previous, queued, expected", [
    (500, None, None, False, 0.5),  # pace unknown: the first poll soon
    (500, None, 0.5, False, 1.0),  # still unknown: doubling
    (500, None, 8.0, False, 15.0),  # ... up to the cap
    (500, 100.0, 0.5, False, 5.5),  # when the pace says it will be done, and a little more
    (1, 100.0, 5.5, False, 0.25),  # never a flood of polls near the end
    (500, 1.0, None, False, 15.0),  # never too long
    (500, 100.0, 2.0, True, 4.0),  # queued behind other batches: doubling, whatever the pace
    (10, 100.0, None, False, 0.11),  # a ticket's first poll: no floor (the one ahead took the time)
])  # fmt: skip
def test_poll_wait(remaining, per_s, previous, queued, expected):
    assert poll_wait(remaining, per_s, previous, queued, ClientSettings()) == pytest.approx(expected)


def test_ctrl_c_mid_batch_says_ecwid_keeps_running_what_it_accepted_and_the_rerun_collects_it(tmp_path, monkeypatch,
                                                                                               capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(400))
    with _sandbox(processing_ms=4.0) as sb:
        args, code, err = _interrupt_mid_batch(sb, csv, tmp_path, signal.SIGINT)
        assert code == 3, err
        assert "keep running there (the batch API has no cancel for them)" in err
        assert "run the same command again" in err
        wait_for(lambda: all(t.status == "COMPLETED" for t in sb.state.batches.tickets.values()))
        assert len(stored(sb)) == sum(len(t.inner) for t in sb.state.batches.tickets.values())  # they did run
        summary = _rerun(sb, args, expected, monkeypatch, capsys)
    assert summary["batch"]["resumed_batches"] >= 1


def test_a_batch_rerun_says_it_continues_an_earlier_run(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(10))
    with _sandbox() as sb:
        args = cli_args(sb, csv, tmp_path / "reports", "--rate", str(FAST), "--mode", "batch")
        code, first, err = run_main(sb, args, monkeypatch, capsys)
        assert code == 0 and first["counts"] == {"created": 10} and "resumed" not in first, err
        assert "Continuing an earlier run" not in err
        code, again, err = run_main(sb, args, monkeypatch, capsys)
    assert code == 0 and again["counts"] == {"skipped": 10} and again["mode"] == "batch"
    assert again["resumed"] == {"done": 10, "in_doubt": 0, "wait_s": 0.0} and "in_doubt" not in again
    assert "Continuing an earlier run (journal " in err and "10 rows already done" in err


def test_batch_size_over_ecwids_limit_is_a_usage_error(capsys):
    from cli_support import VALID, cli

    run = cli(capsys, "import", VALID, "--dry-run", "--batch-size", "501")
    assert run.code == 2 and "--batch-size must be between 1 and 500" in run.err


def test_sandbox_import_in_batch_mode_through_the_cli(tmp_path, capsys):
    from cli_support import VALID, VALID_ROWS, cli, summary

    run = cli(capsys, "import", VALID, "--sandbox", "--mode", "batch", "--batch-size", "20", "--report-dir", tmp_path)
    assert run.code == 0, run.err
    got = summary(tmp_path)
    assert got["counts"] == {"created": VALID_ROWS} and got["mode"] == "batch"
    assert got["batch"]["batches"] == 4 and got["requests"] < 20  # 63 rows: 20 + 20 + 20 + 3


def test_a_token_without_the_create_scope_stops_the_run_at_the_first_batch(tmp_path):
    from importer.sandbox import READ

    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(300))
    with _sandbox() as sb:
        sb.add_token("secret_read_only", [READ])
        result = _import(sb, csv, tmp_path, token="secret_read_only", batches_in_flight=1)
        tickets = sb.state.batches.stats.tickets
        assert not stored(sb)
    assert result.exit_code == 3 and "lacks the create_customers scope" in result.stopped.message
    assert tickets == 1  # no batch after the one that said so
    assert result.counts == {"failed": 100, "not_sent": 200}
    assert "secret_read_only" not in str(result.summary)


def _creates(sb: Sandbox) -> int:
    """Contact creates sent directly (not in a batch)."""
    return sum(1 for r in sb.requests if r.method == "POST" and r.path.endswith("/contacts"))


def test_a_stuck_batch_queue_stops_the_run_and_no_later_run_sends_its_rows_until_the_ticket_is_done(
    tmp_path, monkeypatch, capsys
):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(10))
    journal = ("--journal", str(tmp_path / "j.sqlite"), "--rate", "100000", "--settle-window", "0.05", "--batch-timeout", "0.2")
    config = SandboxConfig(rate_per_minute=None, customers=20, batch=BatchSettings(processing_ms=1, paused=True))
    with Sandbox(config) as sb:
        code, first, err = run_main(sb, cli_args(sb, csv, tmp_path / "r1", "--mode", "batch", *journal), monkeypatch,
                                    capsys)  # fmt: skip
        assert code == 3, err
        assert first["stopped_code"] == "batch-timeout" and "stay in doubt under the ticket" in err
        assert first["counts"] == {"failed": 10} and first["ambiguous"] == 10
        # The queue is still stuck: a direct rerun polls the ticket and sends none of its rows.
        code, second, err = run_main(sb, cli_args(sb, csv, tmp_path / "r2", *journal), monkeypatch, capsys)
        assert code == 3, err
        assert second["stopped_code"] == "batch-timeout"
        assert _creates(sb) == 0 and stored(sb) == {}
        sb.state.batches.resume()  # Ecwid gets to it
        code, third, err = run_main(sb, cli_args(sb, csv, tmp_path / "r3", *journal), monkeypatch, capsys)
        assert code == 0, err
        assert third["counts"] == {"created": 10}
        assert stored(sb) == expected and _creates(sb) == 0  # created once, by the batch
        assert third["earlier_batches"]["resumed_batches"] == 1


def test_a_direct_rerun_collects_a_batch_that_ecwid_finished_after_the_run_was_stopped(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(10))
    journal = ("--journal", str(tmp_path / "j.sqlite"), "--rate", "100000", "--settle-window", "0.05", "--batch-timeout", "0.2")
    config = SandboxConfig(rate_per_minute=None, customers=20,
                           batch=BatchSettings(processing_ms=1, paused=True, skip_rate=0.3, seed=4))  # fmt: skip
    with Sandbox(config) as sb:
        code, _, err = run_main(sb, cli_args(sb, csv, tmp_path / "r1", "--mode", "batch", *journal), monkeypatch,
                                capsys)  # fmt: skip
        assert code == 3, err
        sb.state.batches.resume()
        code, again, err = run_main(sb, cli_args(sb, csv, tmp_path / "r2", *journal), monkeypatch, capsys)
        assert code == 0, err
        assert stored(sb) == expected  # what the batch did not execute was sent directly, once
        assert 0 < _creates(sb) < 10
        assert "in_doubt" not in again  # what the ticket said was not executed is known absent: no store check


def test_the_api_gone_while_a_batch_is_polled_stops_the_run_and_the_rerun_collects_the_ticket(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(policy, "UNREACHABLE_S", 0.5)
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(10))
    journal = ("--journal", str(tmp_path / "j.sqlite"), "--rate", "100000", "--settle-window", "0.05",
               "--timeout", "0.2")  # the window is at least twice the timeout
    config = SandboxConfig(rate_per_minute=None, customers=20, batch=BatchSettings(processing_ms=1, paused=True))
    with Sandbox(config) as sb:
        def go_away() -> None:  # once Ecwid holds the batch, every request meets a gateway's page
            wait_for(lambda: sb.state.batches.stats.tickets >= 1)
            sb.set_fault(fail_rate=1.0, fail_statuses=(502,))

        threading.Thread(target=go_away, daemon=True).start()
        code, first, err = run_main(sb, cli_args(sb, csv, tmp_path / "r1", "--mode", "batch", *journal), monkeypatch,
                                    capsys)  # fmt: skip
        assert code == 3, err
        assert first["stopped_code"] == "api-unreachable" and first["ambiguous"] == 10
        sb.set_fault(fail_rate=0.0)
        sb.state.batches.resume()
        monkeypatch.setattr(policy, "UNREACHABLE_S", 60.0)
        code, again, err = run_main(sb, cli_args(sb, csv, tmp_path / "r2", *journal), monkeypatch, capsys)
        assert code == 0, err
        assert stored(sb) == expected and _creates(sb) == 0  # created once, by the batch the first run handed over
