"""Issue 2: a 1,000,000-row long-layout CSV dry run through the CLI vs `frictionless validate`.

Both run as child processes on the same file in the same round (alternating
which goes first); wall time and each child's own peak RSS (wait4).
frictionless gets `--limit-errors` high enough to read the whole file (its
default stops at 1,000 errors) and `--json` (its table output of thousands of
errors would time the terminal renderer). It infers a schema from a sample and
checks cell types; the importer normalizes, validates and writes the report.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gen
from common import OUT, ROOT, median, run_measured, say, spread, tool, write_result

GIB = 1024.0  # MiB


def _ours(path: Path, report_dir: Path) -> list[str]:
    return [*tool("ecwid-contacts", "importer"), "import", str(path), "--dry-run", "--quiet",
            "--report-dir", str(report_dir)]  # fmt: skip


def _frictionless(path: Path) -> list[str]:
    # A path relative to the working directory (ROOT): frictionless refuses absolute ones as "not safe".
    return [*tool("frictionless", "frictionless"), "validate", "--limit-errors", "1000000000", "--json",
            str(path.relative_to(ROOT))]  # fmt: skip


def _frictionless_stats(out: Path, rows: int) -> dict:
    """Its own stats; refuse a run that did not read every row (a resource error, a limit)."""
    task = json.loads(out.read_text(encoding="utf-8"))["tasks"][0]
    stats = task["stats"]
    if stats.get("rows") != rows:
        raise RuntimeError(f"frictionless did not read the whole file: {stats}, {task['errors'][:1]}")
    return stats


def _summary(report_dir: Path) -> dict:
    found = sorted(report_dir.glob("*/summary.json"))
    return json.loads(found[-1].read_text(encoding="utf-8")) if found else {}


def run(runs: int, quick: bool, command: str) -> list[Path]:
    rows = 100_000 if quick else 1_000_000
    say(f"  generating {rows:,} rows (cached in bench/out/)")
    path = gen.long_csv(rows)
    report_dir = OUT / "reports-dryrun"
    fr_out = OUT / "frictionless.json"
    ours, theirs, ratios, cpu_ratios = [], [], [], []
    summary: dict = {}
    fr_errors = None
    for k in range(runs):
        shutil.rmtree(report_dir, ignore_errors=True)
        first_ours = k % 2 == 0
        results = {}
        for who in (("ours", "frictionless") if first_ours else ("frictionless", "ours")):
            if who == "ours":
                results[who] = run_measured(_ours(path, report_dir))
                summary = _summary(report_dir)
                shutil.rmtree(report_dir, ignore_errors=True)  # a million-line results.csv: don't keep many
            else:
                results[who] = run_measured(_frictionless(path), stdout_path=fr_out)
                fr_errors = _frictionless_stats(fr_out, rows)["errors"]
        o, f = results["ours"], results["frictionless"]
        if o.returncode not in (0, 1):
            raise RuntimeError(f"the importer failed ({o.returncode}): {o.stderr_tail}")
        if f.returncode not in (0, 1):
            raise RuntimeError(f"frictionless failed ({f.returncode}): {f.stderr_tail}")
        ours.append(o)
        theirs.append(f)
        ratios.append(f.wall_s / o.wall_s)
        cpu_ratios.append(f.cpu_s / o.cpu_s)
        say(f"  round {k + 1}/{runs}: importer {o.wall_s:.1f} s ({o.cpu_s:.1f} s CPU) {o.max_rss_mib:.0f} MiB, "
            f"frictionless {f.wall_s:.1f} s ({f.cpu_s:.1f} s CPU) {f.max_rss_mib:.0f} MiB")  # fmt: skip

    peak = max(p.max_rss_mib for p in ours)
    counts = summary.get("counts", {})
    body = [
        f"## {rows:,}-row long-layout CSV, dry run through the CLI vs frictionless validate",
        "",
        f"File: `{path.relative_to(path.parents[2])}` ({path.stat().st_size / 1e6:.0f} MB, made by `bench/gen.py`:",
        "9-digit customer ids, emails mostly unique, +CC phones in several styles, WhatsApp, Instagram handles",
        f"and links, Facebook links, websites; ~3 % planted mistakes). The importer found {counts}.",
        "",
        "| command | wall s | CPU s (user+sys) | peak RSS MiB |",
        "|---|---:|---:|---:|",
        f"| `ecwid-contacts import FILE --dry-run --quiet` | {spread([p.wall_s for p in ours], '{:.1f}')} | "
        f"{spread([p.cpu_s for p in ours], '{:.1f}')} | {spread([p.max_rss_mib for p in ours], '{:.0f}')} |",
        f"| `frictionless validate --limit-errors 1e9 --json FILE` | {spread([p.wall_s for p in theirs], '{:.1f}')} | "
        f"{spread([p.cpu_s for p in theirs], '{:.1f}')} | {spread([p.max_rss_mib for p in theirs], '{:.0f}')} |",
        "",
        f"- frictionless time / importer time, wall (per round; ≥ 1 means the importer is at least as fast): "
        f"**{spread(ratios)}** — target ≥ 1: {'met' if median(ratios) >= 1 else 'MISSED'}",
        f"- the same ratio in CPU time: {spread(cpu_ratios)} (the importer uses both cores: a file this big is read "
        "in two parts by two processes, and results.csv is written by two; frictionless uses one)",
        f"- importer peak memory: **{peak:.0f} MiB** (max over rounds) — target < 1 GiB: "
        f"{'met' if peak < GIB else 'MISSED'}",
        f"- importer rows/s: {rows / median([p.wall_s for p in ours]):,.0f} (process start and report included)",
    ]
    if fr_errors is not None:
        body.append(f"- frictionless reported {fr_errors:,} errors (cell types only: customer ids that are not integers)")
    body += [
        "- results.xlsx is not written above 50,000 records (results.csv has every line), so report time here",
        "  is results.csv, errors.csv and summary.json.",
        "",
    ]
    return [write_result("dryrun", "Issue 2: dry run of a large CSV", body, quick=quick, command=command)]
