"""What every benchmark here shares: timed child processes, medians, result files."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
RESULTS = BENCH / "results"
PY = sys.executable
BIN = Path(sys.executable).parent


def tool(name: str, module: str) -> list[str]:
    """The console script next to this Python if installed, else `python -m module`."""
    script = BIN / name
    return [str(script)] if script.exists() else [PY, "-m", module]


@dataclass(frozen=True)
class Proc:
    wall_s: float
    cpu_s: float  # user + system: less sensitive than wall time to a busy machine
    max_rss_mib: float  # this child's own peak resident set (wait4), not the max over all children
    returncode: int
    stderr_tail: str


def at_revision(rev: str) -> Path:
    """The importer package as of git revision `rev`, unpacked under bench/out/ (a baseline to run beside today's)."""
    where = OUT / f"rev-{rev}"
    if not (where / "importer").is_dir():
        where.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", rev, "importer"], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where


def importer_at(rev: str | None) -> tuple[list[str], Path]:
    """(command, working directory) that run `python -m importer` of `rev` (None: this checkout's).

    The revision's package is found first because `-m` puts the working directory at the
    head of sys.path (before this checkout's editable install); give the command absolute paths.
    """
    if rev is None:
        return tool("ecwid-contacts", "importer"), ROOT
    return [PY, "-m", "importer"], at_revision(rev)


def run_measured(cmd: Sequence[str], *, stdout_path: Path | None = None, cwd: Path = ROOT) -> Proc:
    """Run a command to completion; wall time and the child's own peak RSS."""
    with tempfile.TemporaryFile() as err, open(stdout_path or os.devnull, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)  # per-child rusage; RUSAGE_CHILDREN would be a max over all
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
    return Proc(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, tail)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    """'median (min–max, n runs)' as quoted in the results."""
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))}, n={len(values)})"


def machine() -> str:
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, load average {load} at the end"


def write_result(name: str, title: str, body: list[str], *, quick: bool, command: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}{'-quick' if quick else ''}.md"
    head = [
        f"# {title}",
        "",
        f"`{command}` — {dt.datetime.now().isoformat(timespec='seconds')}; {machine()}.",
        "The machine is shared and noisy: numbers are medians (min–max) of several runs, each compared",
        "with its baseline measured in the same round.",
        "",
    ]
    path.write_text("\n".join(head + body) + "\n", encoding="utf-8")
    return path


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
