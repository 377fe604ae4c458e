"""The nightly job, as cron meets it: started from another folder, twice at once, its terminal closed, its
stderr closed, its export still being written; and undo after a person edited a contact. Each through the CLI
over HTTP against the sandbox, counting what the store holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import importer.input.textfile
from cli_support import ROOT, read_csv, run_dir, statuses
from exactly_once_helpers import SETTLE, run_main, start_cli, stored, wait_for, write_csv
from importer.journal import Journal
from importer.journal import default_path
from importer.journal import home as journalhome
from importer.sandbox import Sandbox, SandboxConfig

ROWS = 40


def _sandbox(**kw) -> Sandbox:
    return Sandbox(SandboxConfig(**{"rate_per_minute": None, "customers": 20, **kw}))


def _args(sb: Sandbox, csv: Path, *extra: object) -> list[str]:
    """The job's command, without --report-dir: its reports go to ./reports, wherever it starts."""
    return ["import", str(csv), "--api-url", sb.api_url, "--store-id", str(sb.store_id), "--rate", "100000",
            "--settle-window", SETTLE, *map(str, extra)]  # fmt: skip


def test_the_same_job_from_another_folder_or_with_its_own_report_dir_creates_nothing_twice(
        tmp_path, monkeypatch, capsys):  # fmt: skip
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(ROWS))
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir(), project.mkdir()
    with _sandbox() as sb:
        monkeypatch.chdir(project)  # by hand, from the project folder
        code_1, first, err_1 = run_main(sb, _args(sb, csv), monkeypatch, capsys)
        monkeypatch.chdir(home)  # cron: from $HOME
        code_2, second, err_2 = run_main(sb, _args(sb, csv), monkeypatch, capsys)
        code_3, third, _ = run_main(sb, _args(sb, csv, "--report-dir", tmp_path / "elsewhere"), monkeypatch, capsys)
        store = stored(sb)
    assert store == expected  # each contact once
    assert (code_1, code_2, code_3) == (0, 0, 0), err_2
    assert first["counts"] == {"created": ROWS}
    assert second["counts"] == third["counts"] == {"skipped": ROWS}
    journal = default_path(sb.store_id)
    assert first["journal"] == second["journal"] == third["journal"] == str(journal)
    assert err_1.splitlines()[0] == err_2.splitlines()[0] == f"Journal: {journal}"  # named first, every run
    assert not list(tmp_path.rglob("*.sqlite"))  # none in a report folder or the working directory


@pytest.mark.parametrize("report_dir", [None, "elsewhere"])
def test_a_journal_an_earlier_version_left_in_the_report_folder_is_carried_over_once(
        tmp_path, monkeypatch, capsys, report_dir):  # fmt: skip
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(ROWS))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(journalhome, "EARLIER_DEFAULT", Path("reports"))  # the real one (tests/conftest.py)
    old = Path("reports") / "journal-1003.sqlite"  # where the default used to be
    with _sandbox() as sb:
        earlier = _args(sb, csv.parent / "first.csv", "--journal", old)
        write_csv(csv.parent / "first.csv", range(ROWS // 2))
        run_main(sb, earlier, monkeypatch, capsys)  # an earlier version's run
        now = _args(sb, csv, *(["--report-dir", report_dir] if report_dir else []))  # the job, now with its own
        code, summary, err = run_main(sb, now, monkeypatch, capsys)
        _, _, err_again = run_main(sb, now, monkeypatch, capsys)
        store = stored(sb)
    new = default_path(1003)
    assert code == 0 and store == expected
    assert summary["counts"] == {"skipped": ROWS // 2, "created": ROWS - ROWS // 2}  # it remembered
    said = [line for line in err.splitlines() if "carried over" in line]
    assert said == [f"Journal: {new} (carried over from {old}, where earlier versions kept it; it stays here, "
                    "wherever the job starts)"] and err.splitlines()[0] == said[0]  # fmt: skip
    assert "carried over" not in err_again and not old.exists() and new.exists()


def test_two_journals_for_one_store_stop_the_run_before_anything_is_sent(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(10))
    monkeypatch.chdir(tmp_path)
    old, new = Path("reports") / "journal-1003.sqlite", default_path(1003)
    Journal(old, 1003, "earlier-version").close()
    Journal(new, 1003, "this-version").close()
    before = old.read_bytes(), new.read_bytes()
    with _sandbox() as sb:
        code, _, err = run_main(sb, _args(sb, csv), monkeypatch, capsys)
        requests = sb.stats.requests
    assert code == 2 and requests == 0 and (old.read_bytes(), new.read_bytes()) == before  # neither replaced
    assert "has two journals" in err and "--skip-existing" in err


def test_a_second_run_at_once_is_refused_without_advice_that_would_send_twice(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(10))
    monkeypatch.chdir(tmp_path)
    with _sandbox() as sb:
        with Journal(default_path(sb.store_id), sb.store_id, "the-other-run"):  # the other run holds the lock
            code, _, err = run_main(sb, _args(sb, csv), monkeypatch, capsys)
        creates = sb.stats.creates_committed
        code_nj, summary, err_nj = run_main(sb, _args(sb, csv, "--no-journal"), monkeypatch, capsys)
    assert code == 2 and creates == 0
    refusal = err.strip().splitlines()[-1]
    assert f"another run is importing into store {sb.store_id}" in refusal and "wait until it has ended" in refusal
    assert "--journal" not in err and "--no-journal" not in err  # following either created every row twice
    # --no-journal itself says what it costs, first, and in the report.
    warning = "nothing remembers what this run creates, so running it again creates everything again"
    assert code_nj == 0 and warning in err_nj.splitlines()[0] and any(warning in n for n in summary["notes"])


def test_sighup_stops_the_run_as_sigterm_does_with_a_report_and_the_rerun_sends_nothing_twice(
        tmp_path, monkeypatch, capsys):  # fmt: skip
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(200))
    with _sandbox(latency_ms=20) as sb:
        args = [*_args(sb, csv, "--concurrency", "2"), "--report-dir", str(tmp_path / "r")]
        proc = start_cli(sb, args)
        wait_for(lambda: sb.stats.creates_committed >= 10 or proc.poll() is not None)
        proc.send_signal(signal.SIGHUP)  # the terminal it ran in was closed
        _, err = proc.communicate(timeout=30)
        first = stored(sb)
        report = run_dir(tmp_path / "r")
        sb.set_fault(latency_ms=0)
        code, summary, _ = run_main(sb, args, monkeypatch, capsys)
        final = stored(sb)
    assert proc.returncode == 3, err
    assert "interrupted" in err and "Traceback" not in err
    rows = read_csv(report / "results.csv")
    assert len(rows) == 200 and statuses(rows).get("not_sent", 0) > 100  # every row reported
    assert json.loads((report / "summary.json").read_text("utf-8"))["stopped_code"] == "interrupted"
    assert 10 <= len(first) < 200 and max(first.values()) == 1
    assert code == 0 and final == expected and summary["counts"]["skipped"] >= len(first) - 2


@pytest.mark.parametrize("closed", [1, 2])
def test_a_closed_stdout_or_stderr_never_crashes_the_run(tmp_path, closed):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(20))
    with _sandbox() as sb:
        env = {**os.environ, "ECWID_TOKEN": sb.token, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(  # `2>&-` (or `1>&-`): the descriptor closed before the importer starts
            ["sh", "-c", f'exec "$@" {closed}>&-', "sh", sys.executable, "-m", "importer",
             *_args(sb, csv, "--report-dir", tmp_path / "r", "--json")],
            env=env, cwd=ROOT, timeout=60,
            stdout=subprocess.DEVNULL if closed == 2 else None, stderr=subprocess.DEVNULL if closed == 1 else None,
        )  # fmt: skip
        store = stored(sb)
    assert proc.returncode == 0  # the run's own exit code
    assert store == expected
    assert statuses(read_csv(run_dir(tmp_path / "r") / "results.csv")) == {"created": 20}  # the report is written


def test_a_stderr_that_breaks_mid_run_goes_quiet_and_the_run_finishes(tmp_path, monkeypatch):
    from importer.cli import main

    class Gone:  # a terminal closed, a `| head` that left: every write fails
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        flush = write

        def isatty(self):
            return False

    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(20))
    with _sandbox() as sb:
        monkeypatch.setenv("ECWID_TOKEN", sb.token)
        monkeypatch.setattr(sys, "stderr", Gone())
        code = main(_args(sb, csv, "--report-dir", tmp_path / "r"))
        store = stored(sb)
    assert code == 0 and store == expected
    assert statuses(read_csv(run_dir(tmp_path / "r") / "results.csv")) == {"created": 20}


def test_undo_keeps_a_contact_whose_value_was_edited_by_hand(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(12), customers=3)
    with _sandbox(customers=3) as sb:
        auth = {"Authorization": f"Bearer {sb.token}"}
        # Its own report folder: undo finds the import's journal all the same (the store's, in the data directory).
        target = ["--api-url", sb.api_url, "--store-id", str(sb.store_id), "--report-dir", str(tmp_path / "undo")]
        _, run, _ = run_main(sb, [*_args(sb, csv), "--report-dir", str(tmp_path / "r")], monkeypatch, capsys)
        mine = next(c for c in sb.contacts(2) if c["type"] == "EMAIL")
        httpx.put(f"{sb.api_url}/{sb.store_id}/customers/2/contacts/{mine['id']}", headers=auth,
                  json={"contact": "new.address@example.com"}).raise_for_status()  # same id, a new value
        httpx.post(f"{sb.api_url}/{sb.store_id}/customers/3/contacts", headers=auth,
                   json={"type": "EMAIL", "contact": "made.by.hand@example.com"}).raise_for_status()  # fmt: skip
        code, undo, _ = run_main(sb, ["undo", run["run_id"], *target], monkeypatch, capsys)
        forced, _, _ = run_main(sb, ["undo", run["run_id"], *target, "--force"], monkeypatch, capsys)
        left = stored(sb)
    assert code == 1 and undo["counts"] == {"deleted": 11, "kept": 1} and undo["already_gone"] == 0
    row = next(r for r in read_csv(Path(undo["report_dir"]) / "results.csv") if r["contact"] == mine["contact"])
    assert (row["status"], row["error_code"]) == ("kept", "changed-since")
    assert "new.address@example.com" in row["error"]
    # Still in the store, as is the one made by hand; --force does not delete on a guess either.
    assert forced == 1 and left == {(2, "EMAIL", "new.address@example.com"): 1,
                                    (3, "EMAIL", "made.by.hand@example.com"): 1}  # fmt: skip


def test_a_file_still_being_written_stops_the_run_before_anything_is_sent(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(20))
    read_text = importer.input.textfile.read_text

    def read_while_written(source, **kw):  # the exporter appends while the importer reads
        found = read_text(source, **kw)
        with open(source, "a", encoding="utf-8") as f:
            f.write("7,email,carol.smith@example.co\n")
        return found

    monkeypatch.setattr(importer.input.textfile, "read_text", read_while_written)
    with _sandbox() as sb:
        code, _, err = run_main(sb, [*_args(sb, csv), "--report-dir", str(tmp_path / "r")], monkeypatch, capsys)
        requests = sb.stats.requests
    assert code == 2 and requests == 0 and not (tmp_path / "r").exists()
    assert err.strip().splitlines() == [
        f"ecwid-contacts: error: {csv}: the file changed while it was read: is it still being written?"]
