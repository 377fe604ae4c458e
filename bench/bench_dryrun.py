"""A 1,000,000-row long-layout CSV dry run through the CLI vs `frictionless validate` (issues 2 and 10).

Both run as child processes on the same file in the same round (alternating
which goes first); wall time and each child's own peak RSS (wait4). With
`--against REV` the importer of an earlier git revision runs in the same rounds too.
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
from common import OUT, ROOT, importer_at, median, run_measured, say, spread, tool, write_result

MEMORY_TARGET = 400.0  # MiB (issue 10)


def _ours(path: Path, report_dir: Path, rev: str | None = None) -> tuple[list[str], Path]:
    cmd, cwd = importer_at(rev)
    return [*cmd, "import", str(path), "--dry-run", "--quiet", "--report-dir", str(report_dir)], cwd


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


def run(runs: int, quick: bool, command: str, against: str | None = None) -> list[Path]:
    rows = 100_000 if quick else 1_000_000
    say(f"  generating {rows:,} rows (cached in bench/out/)")
    path = gen.long_csv(rows)
    report_dir = OUT / "reports-dryrun"
    fr_out = OUT / "frictionless.json"
    who_all = ("ours", "frictionless", *(("before",) if against else ()))
    got: dict[str, list] = {who: [] for who in who_all}
    ratios, cpu_ratios, before_ratios = [], [], []
    summary: dict = {}
    fr_errors = None
    for k in range(runs):
        shutil.rmtree(report_dir, ignore_errors=True)
        results = {}
        for who in who_all if k % 2 == 0 else reversed(who_all):
            if who == "frictionless":
                results[who] = run_measured(_frictionless(path), stdout_path=fr_out)
                fr_errors = _frictionless_stats(fr_out, rows)["errors"]
                continue
            cmd, cwd = _ours(path, report_dir, against if who == "before" else None)
            results[who] = run_measured(cmd, cwd=cwd)
            if who == "ours":
                summary = _summary(report_dir)
            shutil.rmtree(report_dir, ignore_errors=True)  # a million-line results.csv: don't keep many
        for who, proc in results.items():
            if proc.returncode not in (0, 1):
                raise RuntimeError(f"{who} failed ({proc.returncode}): {proc.stderr_tail}")
            got[who].append(proc)
        o, f = results["ours"], results["frictionless"]
        ratios.append(f.wall_s / o.wall_s)
        cpu_ratios.append(f.cpu_s / o.cpu_s)
        if against:
            before_ratios.append(results["before"].wall_s / o.wall_s)
        say(f"  round {k + 1}/{runs}: " + ", ".join(
            f"{who} {p.wall_s:.1f} s ({p.cpu_s:.1f} s CPU) {p.max_rss_mib:.0f} MiB" for who, p in results.items()))

    ours = got["ours"]
    peak = max(p.max_rss_mib for p in ours)
    counts = summary.get("counts", {})
    names = {"ours": "`ecwid-contacts import FILE --dry-run --quiet`",
             "frictionless": "`frictionless validate --limit-errors 1e9 --json FILE`",
             "before": f"the same command at `{against}`"}
    body = [
        f"## {rows:,}-row long-layout CSV, dry run through the CLI vs frictionless validate",
        "",
        f"File: `{path.relative_to(path.parents[2])}` ({path.stat().st_size / 1e6:.0f} MB, made by `bench/gen.py`:",
        "9-digit customer ids, emails mostly unique, +CC phones in several styles, WhatsApp, Instagram handles",
        f"and links, Facebook links, websites; ~3 % planted mistakes). The importer found {counts}.",
        "",
        "| command | wall s | CPU s (user+sys) | peak RSS MiB |",
        "|---|---:|---:|---:|",
        *(f"| {names[who]} | {spread([p.wall_s for p in got[who]], '{:.1f}')} | "
          f"{spread([p.cpu_s for p in got[who]], '{:.1f}')} | {spread([p.max_rss_mib for p in got[who]], '{:.0f}')} |"
          for who in who_all),
        "",
        f"- frictionless time / importer time, wall (per round; ≥ 1 means the importer is at least as fast): "
        f"**{spread(ratios)}** — target ≥ 1: {'met' if median(ratios) >= 1 else 'MISSED'}",
        f"- the same ratio in CPU time: {spread(cpu_ratios)} (both run in one process)",
        f"- importer peak memory: **{peak:.0f} MiB** (max over rounds) — target < {MEMORY_TARGET:.0f} MiB: "
        f"{'met' if peak < MEMORY_TARGET else 'MISSED'}",
        f"- importer rows/s: {rows / median([p.wall_s for p in ours]):,.0f} (process start and report included)",
    ]
    if against:
        body.append(f"- `{against}` time / today's time, wall: {spread(before_ratios)}")
    if fr_errors is not None:
        body.append(f"- frictionless reported {fr_errors:,} errors (cell types only: customer ids that are not integers)")
    body += [
        "- results.xlsx is not written above 50,000 records (results.csv has every line), so report time here",
        "  is results.csv, errors.csv and summary.json.",
        "",
    ]
    return [write_result("dryrun", "Dry run of a large CSV", body, quick=quick, command=command)]
