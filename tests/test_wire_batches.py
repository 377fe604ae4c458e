"""Issue 21 (the wire): batches Ecwid accepted are honoured by every later run, direct or batch.

A ticket that stays QUEUED (a stuck queue in the sandbox) stops the run after --batch-timeout with its
rows in doubt under the ticket; a rerun, in either mode, polls the ticket again before sending any of them.
"""

from __future__ import annotations

import threading

from exactly_once_helpers import cli_args, run_main, stored, wait_for, write_csv
from importer.ecwid import policy
from importer.sandbox import Sandbox, SandboxConfig
from importer.sandbox.batch import BatchSettings


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
