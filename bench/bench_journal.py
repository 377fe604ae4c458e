"""Issue 5: what the journal costs. The importer's requests/s with and without it.

    python bench/bench_journal.py            # 3000 contacts, 5 runs each way (~1-2 min)
    python bench/bench_journal.py --rows 1000 --runs 3

The whole pipeline (`run_import`: file in, report out) against the unlimited
sandbox in its own process over loopback, so the network costs as little as it
ever will and the journal's share is as large as it can be. Runs with and without
the journal alternate, each with a fresh journal and contacts the store lacks,
so both see the same machine. Results go to bench/results/journal.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ modules
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the importer, when not installed

from bench_send import CUSTOMERS, SandboxProcess  # noqa: E402
from common import median, say, spread, write_result  # noqa: E402
from importer.runs.pipeline import run_import  # noqa: E402
from importer.ecwid.policy import DEFAULT_CONCURRENCY  # noqa: E402

UNPACED = 1e7  # requests a minute: --rate high enough that the pacer never waits


def write_input(path: Path, rows: int, tag: str) -> None:
    lines = ["customerId,type,contact"]
    lines += [f"{1 + i % CUSTOMERS},email,{tag}.{i}@example.com" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def one_run(sb: SandboxProcess, work: Path, rows: int, tag: str, journal: bool) -> dict:
    csv = work / f"{tag}.csv"
    write_input(csv, rows, tag)
    result = run_import(
        [csv], store_id=sb.store_id, token=sb.token, api_url=sb.api_url, rate=UNPACED, quiet=True,
        report_dir=work / "reports", journal=work / f"journal-{tag}.sqlite", no_journal=not journal,
    )  # fmt: skip
    summary = result.summary
    if summary["counts"] != {"created": rows}:
        raise SystemExit(f"run {tag}: expected {rows} created, got {summary['counts']}")
    return {
        "requests_per_s": summary["requests"] / summary["send_s"],
        "send_s": summary["send_s"],
        "wall_s": summary["elapsed_s"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/bench_journal.py", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with_j: list[dict] = []
    without: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess() as sb:
        work = Path(tmp)
        one_run(sb, work, 200, "warm-up", True)  # connections, imports, caches: not measured
        for i in range(args.runs):
            # Alternate which goes first, so a drift in machine load hits both alike.
            order = (True, False) if i % 2 == 0 else (False, True)
            for journal in order:
                got = one_run(sb, work, args.rows, f"r{i}-{'j' if journal else 'n'}", journal)
                (with_j if journal else without).append(got)
                say(f"run {i + 1} {'with' if journal else 'without'} journal: {got['requests_per_s']:.0f} req/s")
    rps_with = [r["requests_per_s"] for r in with_j]
    rps_without = [r["requests_per_s"] for r in without]
    ratios = [w / n for w, n in zip(rps_with, rps_without)]
    cost = 1 - median(rps_with) / median(rps_without)
    body = [
        f"{args.rows} email contacts over {CUSTOMERS} customers, `run_import` from a CSV file, default concurrency "
        f"({DEFAULT_CONCURRENCY}), unpaced, against `python -m importer.sandbox --rate 0` (no limit, no latency) "
        "on loopback; every run a fresh journal and contacts the store lacks.",
        "",
        "| | requests/s | send phase, s | whole run, s |",
        "|---|---|---|---|",
        f"| without journal (`--no-journal`) | {spread(rps_without, '{:.0f}')} | "
        f"{spread([r['send_s'] for r in without])} | {spread([r['wall_s'] for r in without])} |",
        f"| with journal | {spread(rps_with, '{:.0f}')} | "
        f"{spread([r['send_s'] for r in with_j])} | {spread([r['wall_s'] for r in with_j])} |",
        "",
        f"Journal cost: **{cost:.1%}** of requests/s (median with / median without = {1 - cost:.3f}; "
        f"per round: {', '.join(f'{r:.3f}' for r in ratios)}). Target: under 10 %.",
        "",
        "Against Ecwid (~600 requests a minute, 0.3-1 s a request) the pacer, not the journal, sets the pace.",
    ]
    command = " ".join(["python bench/bench_journal.py", *(sys.argv[1:] if argv is None else argv)])
    path = write_result("journal", "Journal overhead (issue 5)", body, quick=False, command=command)
    print("\n".join(body))
    say(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
