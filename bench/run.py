"""Run the benchmarks of issues 2 and 4; results go to bench/results/*.md.

    python bench/run.py                 # all of them (~15 min on 2 cores)
    python bench/run.py --quick         # smaller inputs, shorter runs (~4 min)
    python bench/run.py dryrun          # one (or several): dryrun xlsx overhead budget latency cost batch reads
    python bench/run.py --runs 5 budget
    python bench/run.py dryrun xlsx --against e0b7f55   # and an earlier revision, in the same rounds

Needs the bench extra: pip install -e '.[bench]' (frictionless, the dry run's baseline).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ modules
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the importer, when not installed

import bench_batch  # noqa: E402
import bench_dryrun  # noqa: E402
import bench_reads  # noqa: E402
import bench_send  # noqa: E402
import bench_xlsx  # noqa: E402
from common import say  # noqa: E402

SEND = ("overhead", "budget", "latency", "cost")
ALL = ("dryrun", "xlsx", *SEND, "batch", "reads")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", metavar="NAME", help=f"any of {', '.join(ALL)} (default all)")
    parser.add_argument("--quick", action="store_true", help="smaller files, shorter runs, fewer rounds")
    parser.add_argument("--runs", type=int, help="rounds per benchmark (default 3, with --quick 2)")
    parser.add_argument("--against", metavar="REV", help="dryrun, xlsx: also time the importer of this git revision; "
                        "reads: the baseline's revision (default the one before issue 20)")
    args = parser.parse_args(argv)
    if unknown := set(args.which) - set(ALL):
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; choose from {', '.join(ALL)}")
    which = set(args.which or ALL)
    runs = args.runs or (2 if args.quick else 3)
    command = ("python bench/run.py" + (" --quick" if args.quick else "") + "".join(f" {w}" for w in args.which)
               + (f" --against {args.against}" if args.against else ""))

    paths = []
    if "dryrun" in which:
        say("dryrun: CSV dry run vs frictionless validate")
        paths += bench_dryrun.run(runs, args.quick, command, args.against)
    if "xlsx" in which:
        say("xlsx: workbook dry run, where the time goes")
        paths += bench_xlsx.run(runs, args.quick, command, args.against)
    if which & set(SEND):
        paths += bench_send.run(which, runs, args.quick, command)
    if "reads" in which:
        paths += bench_reads.run(runs, args.quick, command, args.against)
    if "batch" in which:
        say("batch: direct vs batch mode (issue 13)")
        paths += bench_batch.run(runs, args.quick, command)
    for path in paths:
        say(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
        print(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
