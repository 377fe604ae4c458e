"""A 100,000-row XLSX dry run: its time, and what dominates it (issues 2 and 10).

- time: the CLI dry run of the workbook, and of the same rows as CSV in the same round
  (so the ratio shows what the workbook format itself costs);
- floor: python-calamine alone reading the sheet into Python values;
- profile: run_import under cProfile, its own time summed per stage (module), plus
  the cumulative time of each stage's entry point. cProfile slows Python code more
  than C code (calamine), so the shares are read with the floor beside them;
- with --against REV, the importer of an earlier git revision on the same workbook, same rounds.
"""

from __future__ import annotations

import cProfile
import pstats
import re
import shutil
import time
from collections import defaultdict
from pathlib import Path

import gen
from common import OUT, importer_at, median, run_measured, say, spread, write_result

STAGES = {  # stage -> (module file, entry point function names) as cProfile names them
    "load (calamine, header mapping, layout)": ("importer/input/workbook.py", ("read_workbook",)),
    "normalize": ("importer/checks/normalize.py", ("normalize",)),
    "validate": ("importer/checks/validate.py", ("validate",)),
    "report": ("importer/report/__init__.py", ("write_report",)),
}


def _cli(path: Path, report_dir: Path, rev: str | None = None) -> tuple[list[str], Path]:
    cmd, cwd = importer_at(rev)
    return [*cmd, "import", str(path), "--dry-run", "--quiet", "--report-dir", str(report_dir)], cwd


def calamine_floor(path: Path) -> float:
    import python_calamine

    started = time.perf_counter()
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()
    return time.perf_counter() - started


def profile(path: Path, report_dir: Path) -> tuple[float, dict[str, float], dict[str, float], list[str]]:
    """(profiled seconds, own time per module, cumulative per stage entry point, top functions)."""
    from importer.runs.pipeline import run_import

    prof = cProfile.Profile()
    prof.enable()
    run_import([str(path)], dry_run=True, quiet=True, report_dir=report_dir)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    own: dict[str, float] = defaultdict(float)
    cumulative: dict[str, float] = {}
    rows = []
    for (file, line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        own[_module(file, func)] += tt
        for stage, (stage_file, entries) in STAGES.items():
            if file.endswith(stage_file) and func in entries:
                cumulative[stage] = cumulative.get(stage, 0.0) + ct
        rows.append((tt, f"{_short(file)}:{line}({func})"))
    top = [f"| {name} | {tt:.2f} |" for tt, name in sorted(rows, reverse=True)[:12]]
    return total, dict(own), cumulative, top


def _module(file: str, func: str) -> str:
    if "/importer/" in file:
        return "importer/" + file.rsplit("/importer/", 1)[1]
    if "calamine" in file or "calamine" in func.lower():
        return "python-calamine (C)"
    if file == "~":
        return "builtins (C: str, re, csv, dict, ...)"
    if "/site-packages/" in file:
        return file.rsplit("/site-packages/", 1)[1].split("/", 1)[0]
    return "standard library (Python)"


def _short(file: str) -> str:
    for marker in ("/importer/", "/site-packages/"):
        if marker in file:
            return file.rsplit(marker, 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", file)


def run(runs: int, quick: bool, command: str, against: str | None = None) -> list[Path]:
    rows = 20_000 if quick else 100_000
    say(f"  generating {rows:,} rows as XLSX and CSV (cached in bench/out/)")
    xlsx, csv_path = gen.long_xlsx(rows), gen.long_csv(rows)
    report_dir = OUT / "reports-xlsx"
    x_runs, c_runs, b_runs, ratios, floors, before = [], [], [], [], [], []
    cases = [("xlsx", xlsx, x_runs, None), ("csv", csv_path, c_runs, None)]
    if against:
        cases.append(("before", xlsx, b_runs, against))
    for k in range(runs):
        for who, path, into, rev in cases[:: 1 if k % 2 == 0 else -1]:
            cmd, cwd = _cli(path, report_dir, rev)
            proc = run_measured(cmd, cwd=cwd)
            shutil.rmtree(report_dir, ignore_errors=True)
            if proc.returncode not in (0, 1):
                raise RuntimeError(f"dry run of {path} failed ({proc.returncode}): {proc.stderr_tail}")
            into.append(proc)
        ratios.append(x_runs[-1].wall_s / c_runs[-1].wall_s)
        if against:
            before.append(b_runs[-1].wall_s / x_runs[-1].wall_s)
        floors.append(calamine_floor(xlsx))
        say(f"  round {k + 1}/{runs}: xlsx {x_runs[-1].wall_s:.1f} s, csv {c_runs[-1].wall_s:.1f} s, "
            f"calamine alone {floors[-1]:.2f} s")  # fmt: skip
    say("  profiling one run in process")
    total, own, cumulative, top = profile(xlsx, report_dir)
    shutil.rmtree(report_dir, ignore_errors=True)

    stage_rows = [f"| {stage} | {cumulative.get(stage, 0.0):.2f} | {100 * cumulative.get(stage, 0.0) / total:.0f} % |"
                  for stage in STAGES]  # fmt: skip
    module_rows = [f"| {m} | {t:.2f} | {100 * t / total:.0f} % |" for m, t in sorted(own.items(), key=lambda kv: -kv[1])[:10]]
    body = [
        f"## {rows:,}-row XLSX (long layout), dry run through the CLI",
        "",
        f"File: `{xlsx.relative_to(xlsx.parents[2])}` ({xlsx.stat().st_size / 1e6:.1f} MB), the same rows as the CSV",
        "benchmark (customer ids as number cells). results.xlsx is skipped above 50,000 records.",
        "",
        "| input | wall s | CPU s | peak RSS MiB |",
        "|---|---:|---:|---:|",
        f"| XLSX | {spread([p.wall_s for p in x_runs])} | {spread([p.cpu_s for p in x_runs])} | "
        f"{spread([p.max_rss_mib for p in x_runs], '{:.0f}')} |",
        f"| same rows as CSV | {spread([p.wall_s for p in c_runs])} | {spread([p.cpu_s for p in c_runs])} | "
        f"{spread([p.max_rss_mib for p in c_runs], '{:.0f}')} |",
        "",
        f"- XLSX time / CSV time (same round): **{spread(ratios)}**",
        *([f"- the same XLSX dry run at `{against}`: {spread([p.wall_s for p in b_runs])} s, "
           f"{spread([p.max_rss_mib for p in b_runs], '{:.0f}')} MiB; its time / today's: **{spread(before)}** "
           "(target ≥ 1: no slower than before)"] if against else []),
        f"- python-calamine alone reading the sheet: {spread(floors)} s "
        f"({100 * median(floors) / median([p.wall_s for p in x_runs]):.0f} % of the XLSX dry run)",
        "",
        f"### Where the time goes (cProfile, one run, {total:.1f} s profiled)",
        "",
        "Cumulative time of each stage's entry point (load is a generator: only its own turns count):",
        "",
        "| stage | s | share |",
        "|---|---:|---:|",
        *stage_rows,
        "",
        "Own time by module:",
        "",
        "| module | s | share |",
        "|---|---:|---:|",
        *module_rows,
        "",
        "Top functions by own time:",
        "",
        "| function | s |",
        "|---|---:|",
        *top,
        "",
    ]
    return [write_result("xlsx", "Dry run of a large workbook", body, quick=quick, command=command)]
