"""Helpers for the CLI tests: run `ecwid-contacts` in-process or as a process, read its report."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from importer.cli import main
from importer.journal import DATA_DIR_ENV

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
VALID = SAMPLES / "contacts_valid.csv"
LONG = SAMPLES / "contacts_long.csv"
VALID_CUSTOMERS = list(range(1001, 1018))  # contacts_valid.csv names customers 1001..1017
VALID_ROWS = 63


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def cli(capsys, *argv: object) -> Run:
    """`ecwid-contacts ARGV` in this process; stdout/stderr as the user sees them."""
    capsys.readouterr()  # drop anything printed before
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return Run(code, out, err)


def cli_process(*argv: object, env: dict[str, str] | None = None, timeout: float = 60) -> Run:
    """`python -m importer ARGV` as a child process (real exit code, real logging)."""
    proc = subprocess.run(
        [sys.executable, "-m", "importer", *map(str, argv)],
        env=child_env(env), capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip
    return Run(proc.returncode, proc.stdout, proc.stderr)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    # The store's settings go; the data directory stays (tests/conftest.py: never the real one).
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECWID_") or k == DATA_DIR_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, **(extra or {})}


def run_dir(report_dir: Path) -> Path:
    """The one run folder a single run leaves under --report-dir."""
    runs = [p for p in Path(report_dir).iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def results(report_dir: Path) -> list[dict[str, str]]:
    return read_csv(run_dir(report_dir) / "results.csv")


def summary(report_dir: Path) -> dict:
    return json.loads((run_dir(report_dir) / "summary.json").read_text("utf-8"))


def statuses(rows: list[dict[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts
