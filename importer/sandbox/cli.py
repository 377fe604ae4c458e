"""`ecwid-contacts sandbox` / `python -m importer.sandbox`: serve until Ctrl-C.

The importer's CLI builds its `sandbox` subcommand from `add_arguments`,
`config_from_args` and `serve_forever`; `main` is the standalone entry.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TextIO

from importer.sandbox.batch import BatchSettings
from importer.sandbox.config import SandboxConfig, load_customers_csv
from importer.sandbox.faults import LATENCY_DISTS
from importer.sandbox.server import Sandbox


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=_port, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--store-id", type=int, default=1003, help="the store's id (default 1003)")
    parser.add_argument(
        "--customers",
        default="100",
        metavar="N|FILE.csv",
        help="N customers with ids 1..N, or a CSV with columns id,email,name[,contacts] "
        "(contacts: 'TYPE:value #note; ...' or a JSON list) (default 100)",
    )
    parser.add_argument(
        "--sandbox-customers", dest="customers", metavar="FILE.csv",
        help="the same as --customers FILE.csv (the import command's name for it)",
    )
    parser.add_argument(
        "--rate", type=int, default=600, help="requests per minute per token; 0 = unlimited (default 600)"
    )
    parser.add_argument("--window", type=float, default=60.0, metavar="S", help="rate-limit window in seconds")
    parser.add_argument(
        "--latency-ms",
        default="0",
        metavar="[DIST:]MS",
        help=f"added latency, e.g. 50 or exponential:50; DIST one of {', '.join(LATENCY_DISTS)}",
    )
    parser.add_argument("--slow-start", type=float, default=0.0, metavar="S", help="first S seconds are slower")
    parser.add_argument("--slow-start-ms", type=float, default=500.0, metavar="MS", help="… by this much")
    parser.add_argument("--fail-rate", type=_share, default=0.0, metavar="P", help="share answered 500/502/503")
    parser.add_argument(
        "--cut-rate", type=_share, default=0.0, metavar="P", help="share of creates stored, then connection cut"
    )
    parser.add_argument("--late-commit", type=float, default=0.0, metavar="MS",
                        help="creates commit this long after they arrive; reads answer at once")
    parser.add_argument("--late-rate", type=_share, default=1.0, metavar="P", help="share of creates that commit late")
    parser.add_argument("--blank-rate", type=_share, default=0.0, metavar="P",
                        help="share of writes stored, then answered 200 with --blank-body instead of the count")
    parser.add_argument("--blank-body", choices=("empty", "{}", "html"), default="empty",
                        help="what a --blank-rate answer holds (default empty)")
    parser.add_argument("--echo-rate", type=_share, default=0.0, metavar="P",
                        help="share of writes answered 400 with a long page echoing the request's headers (the token too)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the faults (default 0)")
    parser.add_argument("--plan-expired", action="store_true", help="answer 402 NOT_AVAILABLE_ON_CURRENT_PLAN")
    parser.add_argument("--batch-ms", type=float, default=20.0, metavar="MS",
                        help="batch API: how long each inner request takes (default 20)")
    parser.add_argument("--batch-counts", choices=("yes", "no"), default="yes",
                        help="batch API: whether inner requests count against the token's rate limit (default yes; "
                             "Ecwid's docs don't say)")
    parser.add_argument("--batch-stuck", action="store_true",
                        help="batch API: tickets stay QUEUED (a stuck queue)")


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    dist, _, ms = args.latency_ms.rpartition(":")
    try:
        # A CSV is read now, so a missing file or a bad row is a usage error.
        customers = int(args.customers) if args.customers.isdigit() else load_customers_csv(Path(args.customers))
        return SandboxConfig(
            store_id=args.store_id,
            customers=customers,
            rate_per_minute=args.rate or None,
            window_s=args.window,
            latency_ms=float(ms),
            latency_dist=dist or "fixed",
            slow_start_s=args.slow_start,
            slow_start_ms=args.slow_start_ms if args.slow_start else 0.0,
            fail_rate=args.fail_rate,
            cut_rate=args.cut_rate,
            late_commit_ms=args.late_commit,
            late_rate=args.late_rate,
            blank_rate=args.blank_rate,
            blank_body=args.blank_body,
            echo_rate=args.echo_rate,
            seed=args.seed,
            plan_ok=not args.plan_expired,
            batch=BatchSettings(processing_ms=args.batch_ms, counts=args.batch_counts == "yes", paused=args.batch_stuck),
        )
    except (ValueError, TypeError, OSError) as exc:  # a bad value or an unreadable CSV
        raise argparse.ArgumentTypeError(str(exc)) from exc


def serve_forever(
    config: SandboxConfig,
    port: int = 0,
    out: TextIO = sys.stdout,
    stop: threading.Event | None = None,
) -> None:
    """Serve on loopback, print where, block until Ctrl-C (or `stop` is set)."""
    with Sandbox(config, port=port) as sb:
        print("Ecwid sandbox running (Ctrl-C to stop)", file=out)
        print(f"  api url:   {sb.api_url}", file=out)
        print(f"  store id:  {sb.store_id}", file=out)
        print(f"  token:     {sb.token}", file=out)
        out.flush()
        try:
            if stop is None:
                sb.wait()
            else:
                stop.wait()
        except KeyboardInterrupt:
            pass
        print(f"  requests:  {sb.stats.requests} answered", file=out)  # what a client's run cost (bench/)
    print("Ecwid sandbox stopped", file=out)
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m importer.sandbox", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    serve_forever(config, port=args.port)
    return 0


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text}")
    return value
