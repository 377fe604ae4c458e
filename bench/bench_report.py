"""Report writing cost per record: write_report on a dry run's records, µs per line.

    python bench/bench_report.py [ROWS] [--runs N] [--profile] [--keep DIR]

Records come from the real pipeline (load -> normalize -> validate) on a
bench/gen.py long CSV, cached as a pickle in bench/out/ so only the report is timed.
"""

from __future__ import annotations

import argparse
import cProfile
import pickle
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gen  # noqa: E402
from common import OUT  # noqa: E402

from importer.load import LoadStats, load  # noqa: E402
from importer.normalize import Normalizer  # noqa: E402
from importer.report import write_report  # noqa: E402
from importer.validate import validate  # noqa: E402


def records(rows: int) -> list:
    cache = OUT / f"records-{rows}.pickle"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    path = gen.long_csv(rows)
    normalizer = Normalizer()
    out = validate([normalizer(raw, i) for i, raw in enumerate(load([str(path)], stats=LoadStats()))])
    cache.write_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", nargs="?", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--keep", type=Path, help="copy the last report's files here (to compare bytes)")
    args = ap.parse_args()
    recs = records(args.rows)
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.runs):
            run_id = f"run{k}"
            t = time.perf_counter()
            if args.profile and k == args.runs - 1:
                prof = cProfile.Profile()
                prof.runcall(write_report, recs, {}, report_dir=Path(tmp), run_id=run_id)
                pstats.Stats(prof).sort_stats("tottime").print_stats(15)
            else:
                write_report(recs, {}, report_dir=Path(tmp), run_id=run_id)
                times.append(time.perf_counter() - t)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in (Path(tmp) / run_id).iterdir():
                if f.suffix == ".csv":
                    shutil.copy(f, args.keep / f.name)
    us = [t / len(recs) * 1e6 for t in times]
    print(f"{len(recs):,} records: {statistics.median(us):.2f} µs/line (min {min(us):.2f}, max {max(us):.2f}, n={len(us)})")


if __name__ == "__main__":
    main()
