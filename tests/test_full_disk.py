"""Issue 15.7: a disk that fills up during a run. The importer as a real process whose files may
not grow past a size (RLIMIT_FSIZE: a write past it fails with EFBIG, as a full disk fails with
ENOSPC), against the sandbox over loopback.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from cli_support import ROOT, child_env, read_csv, statuses
from exactly_once_helpers import cli_args, run_main, stored, write_csv
from importer.journal import default_path
from importer.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="needs RLIMIT_FSIZE")

ROWS = 300


def _run(sb: Sandbox, args: list[str], max_file_bytes: int | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    def limit() -> None:  # in the child: no file it writes may grow past this
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "importer", *args], cwd=cwd, env=child_env({"ECWID_TOKEN": sb.token}),
        capture_output=True, text=True, timeout=120, preexec_fn=limit if max_file_bytes else None,
    )  # fmt: skip


def _sandbox() -> Sandbox:
    return Sandbox(SandboxConfig(rate_per_minute=None, customers=20))


def test_a_report_that_cannot_be_written_says_what_was_done_and_a_rerun_writes_it(tmp_path, monkeypatch, capsys):
    # The disk fills up once every row is sent: results.csv's write fails as a full disk fails it.
    # (Under RLIMIT_FSIZE the journal, which now keeps what each row sent, outgrows the report.)
    import errno

    import importer.report as report

    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(ROWS))
    reports = tmp_path / "reports"
    real_write = report.write_results_csv

    def full_disk(frame, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with _sandbox() as sb:
        args = cli_args(sb, csv, reports, "--rate", "100000", "--quiet")
        monkeypatch.setattr(report, "write_results_csv", full_disk)
        code_1, _, err_1 = run_main(sb, args, monkeypatch, capsys)
        after_first = stored(sb)
        left = sorted(p.name for p in reports.iterdir() if not p.name.endswith("-journal"))
        monkeypatch.setattr(report, "write_results_csv", real_write)
        code, summary, err = run_main(sb, args, monkeypatch, capsys)  # the same command, room made
        requests = sum(1 for r in sb.requests if r.method == "POST")  # creates; the customers' read is a GET
    assert after_first == expected  # every row was created, once
    assert code_1 == 3, err_1
    lines = err_1.strip().splitlines()
    assert len(lines) == 1, err_1  # one line: no traceback
    assert "the report could not be written" in lines[0] and "No space left on device" in lines[0]
    assert f"rows: {ROWS} created" in lines[0] and "all recorded in the journal" in lines[0]
    assert "run the same command again" in lines[0]
    # No half-written report is left behind: no run folder at all (the journal is in the data directory).
    assert left == []

    assert code == 0, err
    assert summary["counts"] == {"skipped": ROWS} and requests == ROWS  # the rerun sent nothing
    rows = read_csv(Path(summary["report_dir"]) / "results.csv")
    assert len(rows) == ROWS and statuses(rows) == {"skipped": ROWS}


def test_a_disk_full_mid_run_stops_the_run_and_a_rerun_finishes_it_once(tmp_path, monkeypatch, capsys):
    rows_in = 200
    expected = write_csv(tmp_path / "contacts.csv", range(rows_in))
    with _sandbox() as sb:
        # The journal holds every row's body before the first send (~85 KB for 200 rows) and grows as rows
        # are sent: it fills up mid-run (measured: 90-100 KB passes), and then the report cannot be written.
        args = cli_args(sb, Path("contacts.csv"), Path("reports"), "--rate", "100000")
        run = _run(sb, args, max_file_bytes=95_000, cwd=tmp_path)
        first = stored(sb)
        monkeypatch.chdir(tmp_path)
        code, summary, err = run_main(sb, args, monkeypatch, capsys)  # the same command, room made
        final = stored(sb)
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert "the report could not be written" in last and f"the journal {default_path(1003)} could not be" in last
    assert "run the same command again" in last and "checked in the store before anything is sent again" in last
    assert 0 < len(first) < rows_in and max(first.values()) == 1  # stopped early, nothing twice

    assert code == 0, err
    counts = summary["counts"]
    assert counts["created"] + counts.get("skipped", 0) == rows_in
    assert final == expected  # the rest created by the rerun, nothing twice
