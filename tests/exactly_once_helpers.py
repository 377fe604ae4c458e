"""Shared by the exactly-once tests: input files, the importer as a process, store counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from importer.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]


def write_csv(path: Path, rows: range, customers: int = 20) -> dict[tuple[int, str, str], int]:
    """A long-layout file with one contact per row; returns what the store should hold."""
    lines = ["customerId,type,contact"]
    expected: dict[tuple[int, str, str], int] = {}
    for i in rows:
        cid = 1 + i % customers
        if i % 4 == 3:  # a phone written the way people write them; sent as E.164
            lines.append(f'{cid},phone,"+1 (415) 555-{i:04d}"')
            expected[(cid, "PHONE", f"+1415555{i:04d}")] = 1
        else:
            lines.append(f"{cid},email,Person{i}@Example.COM")
            expected[(cid, "EMAIL", f"Person{i}@example.com")] = 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return expected


def stored(sb: Sandbox) -> Counter:
    """(customer, type, contact) -> how many times the store holds it."""
    return Counter((cid, c["type"], c["contact"]) for cid, items in sb.all_contacts().items() for c in items)


# Rows in doubt wait this long after their request left before the store is checked. The
# sandbox commits before it answers unless told to commit late, and a killed run's last
# requests are done within milliseconds: half a second is ample. Tests with late commits
# pass their own --settle-window (the last one given wins).
SETTLE = "0.5"


def cli_args(sb: Sandbox, csv: Path, report_dir: Path, *extra: str) -> list[str]:
    return [
        "import", str(csv), "--api-url", sb.api_url, "--store-id", str(sb.store_id),
        "--report-dir", str(report_dir), "--settle-window", SETTLE, *extra,
    ]  # fmt: skip


def start_cli(sb: Sandbox, args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "ECWID_TOKEN": sb.token, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "importer", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def run_main(sb: Sandbox, args: list[str], monkeypatch, capsys) -> tuple[int, dict, str]:
    """The same command, in this process (saves a process start); (exit code, --json summary, stderr)."""
    from importer.cli import main

    monkeypatch.setenv("ECWID_TOKEN", sb.token)
    capsys.readouterr()
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll an observable condition (not a sleep for timing); fail if it never holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)
