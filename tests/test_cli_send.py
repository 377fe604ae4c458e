"""Issue 4 through the real command line, against a sandbox on a loopback socket.

Each test starts its own Sandbox and runs `ecwid-contacts import` at it; the
token comes from ECWID_TOKEN, as a user sets it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from cli_support import (
    ROOT, VALID, VALID_CUSTOMERS, VALID_ROWS, child_env, cli, cli_process, read_csv, results, run_dir, statuses, summary,
)  # fmt: skip
from importer.journal import default_path
from importer.sandbox import READ, Sandbox, SandboxConfig

FAST = ("--rate", "100000")  # the test sandboxes are unlimited unless a test paces


@pytest.fixture(autouse=True)
def _no_ecwid_env(monkeypatch):
    for name in ("ECWID_TOKEN", "ECWID_STORE_ID", "ECWID_API_URL"):
        monkeypatch.delenv(name, raising=False)


def sandbox(**kw) -> Sandbox:
    return Sandbox(SandboxConfig(**{"rate_per_minute": None, "customers": VALID_CUSTOMERS, **kw}))


def target(sb: Sandbox, report_dir: Path) -> list[object]:
    return ["--api-url", sb.api_url, "--store-id", sb.store_id, "--report-dir", report_dir]


def stored(sb: Sandbox) -> Counter:
    """(customer, type, contact) -> how many times the store holds it."""
    return Counter((cid, c["type"], c["contact"]) for cid, items in sb.all_contacts().items() for c in items)


def keys(rows) -> Counter:
    return Counter((int(r["customer_id"]), r["type"], r["contact"]) for r in rows)


def test_all_created(tmp_path, capsys, monkeypatch):
    with sandbox() as sb:
        monkeypatch.setenv("ECWID_TOKEN", sb.token)
        run = cli(capsys, "import", VALID, *target(sb, tmp_path), *FAST)
        store, api_url = stored(sb), sb.api_url
    assert run.code == 0, run.err
    rows = results(tmp_path)
    assert len(rows) == VALID_ROWS and statuses(rows) == {"created": VALID_ROWS}
    assert all(r["http_status"] == "200" and r["create_count"] == "1" and r["attempts"] == "1" for r in rows)
    assert store == keys(rows) and max(store.values()) == 1  # every contact once, nothing else
    assert not (run_dir(tmp_path) / "errors.csv").exists()
    s = summary(tmp_path)
    assert s["counts"] == {"created": VALID_ROWS} and s["exit_code"] == 0 and s["requests"] == VALID_ROWS
    assert s["store_id"] == sb.store_id and s["api_url"] == api_url


def test_second_run_skips_what_the_first_created(tmp_path, capsys, monkeypatch):
    with sandbox() as sb:
        monkeypatch.setenv("ECWID_TOKEN", sb.token)
        assert cli(capsys, "import", VALID, *target(sb, tmp_path / "r"), *FAST).code == 0
        sb.reset_stats()
        run = cli(capsys, "import", VALID, *target(sb, tmp_path / "r"), *FAST, "--json", "--quiet")
        assert sb.stats.requests == 0 and max(stored(sb).values()) == 1
    assert run.code == 0 and run.err == ""  # --quiet: nothing on stderr for a clean run
    assert json.loads(run.out)["counts"] == {"skipped": VALID_ROWS}


def test_rate_option_reaches_the_pacer(tmp_path, capsys, monkeypatch):
    # Spacing and 429s are checked on a fake clock (test_pacing.py); here only what a loaded machine
    # cannot break: paced at --rate, 63 requests take at least 62 intervals, so never above the rate.
    with sandbox() as sb:
        monkeypatch.setenv("ECWID_TOKEN", sb.token)
        run = cli(capsys, "import", VALID, *target(sb, tmp_path), "--rate", "6000", "--concurrency", "8")
        requests = sum(1 for r in sb.requests if r.method == "POST")  # creates; the customers' read is a GET
    assert run.code == 0, run.err
    s = summary(tmp_path)
    assert s["rate_per_minute"] == 6000 and s["requests"] == requests == VALID_ROWS
    assert s["achieved_rate_per_minute"] <= 6000 * VALID_ROWS / (VALID_ROWS - 1) + 1


def test_server_faults_and_latency_every_row_ends_right(tmp_path, capsys, monkeypatch):
    with sandbox(fail_rate=0.2, latency_ms=5, latency_dist="uniform", seed=3) as sb:
        monkeypatch.setenv("ECWID_TOKEN", sb.token)
        run = cli(capsys, "import", VALID, *target(sb, tmp_path), *FAST, "--retries", "1", "--concurrency", "8")
        store, stats = stored(sb), sb.stats
        posts = sum(1 for r in sb.requests if r.method == "POST")
    rows = results(tmp_path)
    assert stats.faults > 5  # the faults really happened
    by_status = statuses(rows)
    assert set(by_status) <= {"created", "failed"} and sum(by_status.values()) == VALID_ROWS
    created = [r for r in rows if r["status"] == "created"]
    failed = [r for r in rows if r["status"] == "failed"]
    assert store == keys(created)  # created ones exist once; failed ones not at all
    assert any(r["attempts"] == "2" for r in created)  # retried into success
    assert all(r["attempts"] == "2" and r["http_status"].startswith("5") and r["error"] for r in failed)
    assert sum(int(r["attempts"]) for r in rows) == posts
    assert run.code == (1 if failed else 0)
    if failed:  # the failed rows are ready to import again
        assert len(read_csv(run_dir(tmp_path) / "errors.csv")) == len(failed)


@pytest.mark.parametrize(
    "setup, token, message",
    [
        (lambda sb: None, "secret_wrong_token_8c1d", "the token is invalid"),
        (lambda sb: sb.add_token("secret_read_only_77ab", {READ}), "secret_read_only_77ab",
         "lacks the create_customers scope"),
    ],
)  # fmt: skip
def test_token_problems_stop_the_run_at_once(tmp_path, setup, token, message):
    concurrency = 4
    with sandbox(latency_ms=2) as sb:
        setup(sb)
        run = cli_process("import", VALID, *target(sb, tmp_path), *FAST, "--concurrency", concurrency,
                          env={"ECWID_TOKEN": token})  # fmt: skip
        stats = sb.stats
        assert not any(sb.all_contacts().values())
    assert run.code == 3
    assert stats.requests <= concurrency + 1
    said = [line for line in run.err_lines if message in line]
    assert len(said) == 1, run.err  # said once, not once per row or per layer
    assert_nowhere(token, tmp_path, run.out, run.err)
    rows = results(tmp_path)
    assert len(rows) == VALID_ROWS
    assert statuses(rows)["not_sent"] >= VALID_ROWS - concurrency
    assert set(statuses(rows)) <= {"failed", "not_sent"}
    assert all(message in r["error"] for r in rows if r["status"] == "not_sent")  # every row says why
    assert all(r["http_status"] == "403" and r["error"] for r in rows if r["status"] == "failed")


def _wait_for(condition, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_ctrl_c_stops_with_a_complete_report_and_says_how_to_continue(tmp_path):
    with sandbox(latency_ms=150) as sb:
        argv = ["import", VALID, *target(sb, tmp_path), *FAST, "--concurrency", "2", "--settle-window", "0.2"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "importer", *map(str, argv)], env=child_env({"ECWID_TOKEN": sb.token}), cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            _wait_for(lambda: sb.stats.creates_committed >= 4)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        store = stored(sb)
        report = run_dir(tmp_path)
        rows = read_csv(report / "results.csv")

        assert proc.returncode == 3, err
        assert "Traceback" not in err
        assert len(rows) == VALID_ROWS  # every input row has a line and a final status
        counts = statuses(rows)
        assert set(counts) <= {"created", "not_sent", "failed"} and counts["created"] >= 4 and counts["not_sent"] > 20
        maybe = [r for r in rows if r["status"] == "failed"]
        assert all(r["error_code"] == "ambiguous" for r in maybe)  # only requests cut off in flight
        created = [r for r in rows if r["status"] == "created"]
        assert not keys(created) - store and not store - (keys(created) + keys(maybe))
        assert summary(tmp_path)["stopped"].startswith("interrupted")
        assert "interrupted" in err and "to continue" in err  # what happened, and what to do next
        progress = [line for line in err.splitlines() if line.startswith("sent ")]
        assert progress and f"{VALID_ROWS}/{VALID_ROWS}" not in progress[-1]  # stopped short of 100 %
        assert f"{counts['not_sent']} not sent" in progress[-1]

        # The advice works: the same command again creates the rest, nothing twice.
        sb.set_fault(latency_ms=0)
        again = cli_process(*argv, "--json", env={"ECWID_TOKEN": sb.token})
        final = stored(sb)
    assert again.code == 0, again.err
    second = read_csv(Path(json.loads(again.out)["report_dir"]) / "results.csv")
    assert set(statuses(second)) <= {"created", "skipped"} and statuses(second)["skipped"] >= len(created)
    assert final == keys(second)  # all 63 there, each once


def assert_nowhere(secret: str, folder: Path, *outputs: str) -> None:
    """The token is in no output and in no file's bytes (reports, xlsx, journal)."""
    for text in outputs:
        assert secret not in text
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert secret.encode() not in data and secret.encode("utf-16-le") not in data, path


def test_token_never_appears_in_reports_or_output(tmp_path):
    token = "secret_leak_canary_5e0b9d71c3"
    with sandbox(token=token, fail_rate=0.2, cut_rate=0.05, seed=11) as sb:
        run = cli_process("import", VALID, *target(sb, tmp_path), *FAST, "--retries", "0", "--verbose", "--json",
                          "--settle-window", "0.2",
                          env={"ECWID_TOKEN": token})  # fmt: skip
        stats = sb.stats
    assert run.code == 1 and stats.faults and stats.cuts  # failed rows carry the server's error texts
    assert "INFO" in run.err  # --verbose really logged
    files = {p.name for p in tmp_path.rglob("*")}
    assert {"results.csv", "results.xlsx", "errors.csv", "summary.json"} <= files
    journal = default_path(sb.store_id)
    assert journal.exists()
    assert_nowhere(token, tmp_path, run.out, run.err)
    assert_nowhere(token, journal.parent)


def test_sandbox_mode_imports_everything(tmp_path, capsys):
    # The embedded sandbox admits 600 requests a minute; 63 requests fit any rate we pick.
    run = cli(capsys, "import", VALID, "--sandbox", "--rate", "3000", "--report-dir", tmp_path)
    assert run.code == 0, run.err
    rows = results(tmp_path)
    assert statuses(rows) == {"created": VALID_ROWS}
    s = summary(tmp_path)
    assert s["sandbox"] is True and s["rate_limited"] == 0 and s["requests"] == VALID_ROWS


def test_a_dry_run_stopped_by_a_bad_token_says_to_run_it_again_not_to_import_a_file_it_did_not_write(
    tmp_path, capsys, monkeypatch
):
    """A dry run with a token checks the customers; a refused token stops it (exit 3). What to do next must
    name nothing that is not there: a dry run writes no errors.csv of rows not sent, and has nothing to resume."""
    with sandbox() as sb:
        monkeypatch.setenv("ECWID_TOKEN", "secret_wrong_token_5e2a")
        run = cli(capsys, "import", VALID, "--dry-run", *target(sb, tmp_path))
        assert not any(sb.all_contacts().values())
    assert run.code == 3, run.err
    assert "ecwid-contacts: stopped: the token is invalid" in run.err
    folder = run_dir(tmp_path)
    assert not (folder / "errors.csv").exists()
    advice = run.err_lines[-1]
    assert "errors.csv" not in advice, advice
    assert advice == "ecwid-contacts: once that is fixed, run the same command again (a dry run sends nothing)"
