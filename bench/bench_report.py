"""Report writing cost per record: write_report on a dry run's records, µs per line.

    python bench/bench_report.py [ROWS] [--runs N] [--profile] [--keep DIR] [--against REV]

--against REV also times importer/report.py as of git revision REV, alternating
with the working tree's in the same process (the machine is shared and noisy),
and checks both write the same bytes.

Records come from the real pipeline (load -> normalize -> validate) on a
bench/gen.py long CSV, cached as a pickle in bench/out/ so only the report is timed.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pickle
import pstats
import shutil
import statistics
import subprocess
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


def _report_at(rev: str):
    """importer/report.py as of git revision `rev`, as a module of its own."""
    root = Path(__file__).resolve().parent.parent
    text = subprocess.run(["git", "show", f"{rev}:importer/report.py"], cwd=root, check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    spec = importlib.util.spec_from_loader(f"report_{rev}", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(text, f"report@{rev}", "exec"), module.__dict__)
    return module


def _time(write, recs: list, tmp: Path, run_id: str, profile: bool) -> float:
    t = time.perf_counter()
    if profile:
        prof = cProfile.Profile()
        prof.runcall(write, recs, {}, report_dir=tmp, run_id=run_id)
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    else:
        write(recs, {}, report_dir=tmp, run_id=run_id)
    return (time.perf_counter() - t) / len(recs) * 1e6


def _line(name: str, us: list[float]) -> str:
    return f"{name}: {statistics.median(us):.2f} µs/line (min {min(us):.2f}, max {max(us):.2f}, n={len(us)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", nargs="?", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--keep", type=Path, help="copy the last report's files here (to compare bytes)")
    ap.add_argument("--against", metavar="REV", help="also time importer/report.py of this git revision")
    args = ap.parse_args()
    recs = records(args.rows)
    writers = {"now": write_report}
    if args.against:
        writers[args.against] = _report_at(args.against).write_report
    us: dict[str, list[float]] = {name: [] for name in writers}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.runs):
            for name, write in writers.items() if k % 2 == 0 else reversed(writers.items()):
                us[name].append(_time(write, recs, Path(tmp), f"{name}-{k}", False))
        if args.profile:
            _time(write_report, recs, Path(tmp), "profile", True)
        last = args.runs - 1
        if args.against:
            for f in (Path(tmp) / f"now-{last}").glob("*.csv"):  # summary.json names its own folder
                if f.read_bytes() != (Path(tmp) / f"{args.against}-{last}" / f.name).read_bytes():
                    raise SystemExit(f"{f.name} differs from {args.against}'s")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in (Path(tmp) / f"now-{last}").iterdir():
                if f.suffix == ".csv":
                    shutil.copy(f, args.keep / f.name)
    print(f"{len(recs):,} records (report writing only)")
    for name in writers:
        print(_line(name, us[name]))
    if args.against:
        ratios = [a / b for a, b in zip(us[args.against], us["now"])]
        print(f"{args.against} / now: {statistics.median(ratios):.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    main()
