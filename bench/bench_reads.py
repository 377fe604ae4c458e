"""Issue 20: what learning the store costs (requests, CPU) and what the customers already have.

Each measurement starts a sandbox of its own (`python -m importer.sandbox`, its own process, seeded
from a customers CSV whose `contacts` column gives some customers an email and a phone already),
then runs the CLI against it as a child process (wait4: its own CPU and peak RSS). The sandbox
says how many requests it answered when it stops.

- big: 25,000 rows (Email, Phone; --match-by email, one customer a row) against a 50,000-customer
  store, dry run; today's importer and a baseline (the revision before issue 20, or --against REV)
  in the same rounds: requests and CPU, medians of the rounds.
- names: 8,000 rows naming 4,000 customers by email (an email and a phone each) against a
  20,000-customer store where 400 of them hold those two contacts already (the email in other
  capitals, the phone written another way with another note): the dry run, then the run.
- wide: 3,000 one-customer rows (Email, Phone, Country; national numbers) against the same store.
- latency: 200 rows at 300 ms a request, the sandbox and the importer at 20 requests/s: the share
  of the budget the whole run used (requests / (elapsed × 20/s)).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

from bench_send import SandboxProcess
from common import OUT, importer_at, median, run_measured, say, spread, write_result

BASELINE = "7bc437e"  # main before issue 20
FIRST = ["Kevin", "Ana", "Bruno", "Chloe", "Dmitri", "Elif", "Fatima", "Giulia", "Hiro", "Ingrid"]
LAST = ["Garcia", "Muller", "Rossi", "Dubois", "Nowak", "Silva", "Tanaka", "Berg", "Costa", "Smith"]
HOLDS_EVERY = 10  # every tenth customer of the file already has the file's email and phone


def _email(i: int) -> str:
    return f"{FIRST[i % 10]}.{LAST[i // 10 % 10]}{i}@example.com"  # as the store writes it: capitals


def _phone(i: int) -> str:
    return f"+1415555{i % 10_000:04d}"


def store_csv(customers: int, holders: int) -> Path:
    """Customers 1..N; of customers 1..holders, every tenth holds its email (other capitals) and phone."""
    path = OUT / f"store-{customers}-{holders}.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "email", "name", "contacts"])
            for i in range(1, customers + 1):
                held = ""
                if i <= holders and i % HOLDS_EVERY == 0:
                    e, p = _email(i), _phone(i)
                    held = f"EMAIL:{e.upper()}; PHONE:+1 (415) 555-{p[-4:]} #Mobile"
                w.writerow([i, _email(i), f"{FIRST[i % 10]} {LAST[i // 10 % 10]}", held])
    return path


def long_csv(customers: int) -> Path:
    """Two rows a customer, by email (lower-cased): the email itself and a phone noted Cell."""
    path = OUT / f"names-{customers}.csv"
    if not path.exists():
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["Customer Email", "Type", "Contact", "Note"])
            for i in range(1, customers + 1):
                w.writerow([_email(i).lower(), "EMAIL", _email(i).lower(), ""])
                w.writerow([_email(i).lower(), "PHONE", _phone(i), "Cell"])
    return path


def wide_csv(customers: int, *, national: bool) -> Path:
    """One customer a row: Email, Phone (national with a Country column, or +1)."""
    path = OUT / f"wide-{customers}-{'national' if national else 'e164'}.csv"
    if not path.exists():
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["Email", "Phone", "Country"] if national else ["Email", "Phone"])
            for i in range(1, customers + 1):
                p = _phone(i)
                w.writerow([_email(i).lower(), f"(415) 555-{p[-4:]}", "US"] if national else [_email(i).lower(), p])
    return path


class CountingSandbox(SandboxProcess):
    """The sandbox process; `answered` is the number of requests it answered, read when it stops."""

    answered = 0

    def __exit__(self, *exc: object) -> None:
        import signal

        self.proc.send_signal(signal.SIGINT)
        rest = self.proc.stdout.read()
        self.proc.wait(15)
        self.proc.stdout.close()
        found = re.search(r"requests:\s+(\d+)", rest)
        self.answered = int(found[1]) if found else -1


def _import(sb: SandboxProcess, path: Path, *args: str, rev: str | None = None, rate: int = 1_000_000):
    """The CLI against `sb`: (Proc, summary.json)."""
    token = OUT / "sandbox-token"
    token.write_text(sb.token, encoding="utf-8")
    reports = OUT / "reports-reads"
    shutil.rmtree(reports, ignore_errors=True)
    cmd, cwd = importer_at(rev)
    proc = run_measured([*cmd, "import", str(path), "--store-id", str(sb.store_id), "--api-url", sb.api_url,
                         "--token-file", str(token), "--rate", str(rate), "--quiet", "--report-dir", str(reports),
                         "--journal", str(reports / "journal.sqlite"), *args], cwd=cwd)  # fmt: skip
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"import failed ({proc.returncode}): {proc.stderr_tail}")
    found = sorted(reports.glob("*/summary.json"))
    return proc, json.loads(found[-1].read_text(encoding="utf-8"))


def _big(runs: int, quick: bool, against: str) -> list[str]:
    customers, rows = (10_000, 5_000) if quick else (50_000, 25_000)
    store, path = store_csv(customers, rows), wide_csv(rows, national=False)
    got: dict[str, list] = {"ours": [], "before": []}
    for k in range(runs):
        for who in ("ours", "before") if k % 2 == 0 else ("before", "ours"):
            with CountingSandbox(extra=("--customers", str(store))) as sb:
                proc, summary = _import(sb, path, "--dry-run", "--match-by", "email",
                                        rev=None if who == "ours" else against)  # fmt: skip
            got[who].append((sb.answered, proc, summary))
        say(f"  big round {k + 1}/{runs}: " + ", ".join(
            f"{who} {v[-1][0]:,} requests, {v[-1][1].cpu_s:.1f} s CPU, {v[-1][1].wall_s:.1f} s" for who, v in got.items()))
    ours, before = got["ours"], got["before"]
    req, cpu = [r for r, _, _ in ours], [p.cpu_s for _, p, _ in ours]
    b_req, b_cpu = [r for r, _, _ in before], [p.cpu_s for _, p, _ in before]
    ratio = [b.cpu_s / o.cpu_s for (_, o, _), (_, b, _) in zip(ours, before)]
    counts = ours[-1][2].get("counts", {})
    return [
        f"## {rows:,} email-keyed rows against a {customers:,}-customer store, dry run",
        "",
        f"`ecwid-contacts import wide.csv --dry-run --match-by email` (Email, Phone; one customer a row; every",
        f"tenth customer holds both already) against `python -m importer.sandbox --customers store.csv`; found {counts}.",
        "",
        "| importer | requests | CPU s | wall s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|",
        f"| this checkout | {spread(req, '{:.0f}')} | {spread(cpu, '{:.1f}')} | "
        f"{spread([p.wall_s for _, p, _ in ours], '{:.1f}')} | {spread([p.max_rss_mib for _, p, _ in ours], '{:.0f}')} |",
        f"| `{against}` (before issue 20) | {spread(b_req, '{:.0f}')} | {spread(b_cpu, '{:.1f}')} | "
        f"{spread([p.wall_s for _, p, _ in before], '{:.1f}')} | {spread([p.max_rss_mib for _, p, _ in before], '{:.0f}')} |",
        "",
        f"- requests: **{median(req):,.0f}** (before: {median(b_req):,.0f}) — target ≤ {rows // 50 + 20:,}: "
        f"{'met' if median(req) <= rows // 50 + 20 else 'MISSED'}",
        f"- CPU: **{median(cpu):.1f} s** — target < 15 s: {'met' if median(cpu) < 15 else 'MISSED'}; "
        f"before / today, per round: {spread(ratio)}",
        "",
    ]


def _names(quick: bool) -> list[str]:
    customers, named = (4_000, 800) if quick else (20_000, 4_000)
    store, path = store_csv(customers, named), long_csv(named)
    with CountingSandbox(extra=("--customers", str(store))) as dry_sb:
        _, dry = _import(dry_sb, path, "--dry-run")
    with CountingSandbox(extra=("--customers", str(store))) as sb:
        proc, run = _import(sb, path)
    with CountingSandbox(extra=("--customers", str(store))) as wide_sb:
        _, wide = _import(wide_sb, wide_csv(named * 3 // 4, national=True), "--dry-run", "--match-by", "email",
                          "--country-column", "Country")  # fmt: skip
    held = named // HOLDS_EVERY * 2
    limit_dry, limit_run = customers // 100 + 20, 2 * named - held + customers // 100 + 20
    return [
        f"## {2 * named:,} rows naming {named:,} customers by email, {held} of them contacts the store has",
        "",
        f"Store: {customers:,} customers; {named // HOLDS_EVERY} of them hold the file's email (in capitals) and phone",
        "(written `+1 (415) 555-…`, note Mobile; the file's note is Cell).",
        "",
        "| run | requests | counts | reads (requests, pages, seconds) |",
        "|---|---:|---|---|",
        f"| dry run | {dry_sb.answered:,} | {dry['counts']} | {dry.get('reads')} |",
        f"| run | {sb.answered:,} | {run['counts']} | {run.get('reads')} |",
        f"| dry run, {named * 3 // 4:,} one-customer rows (Email, Phone, Country) | {wide_sb.answered:,} | "
        f"{wide['counts']} | {wide.get('reads')} |",
        "",
        f"- dry run ≤ {limit_dry}: {'met' if dry_sb.answered <= limit_dry else 'MISSED'}; the run created "
        f"{run['counts'].get('created', 0):,} and skipped {run['counts'].get('skipped', 0):,} (target "
        f"{2 * named - held:,} and {held}), {sb.answered:,} requests ≤ {limit_run:,}: "
        f"{'met' if sb.answered <= limit_run and run['counts'].get('created') == 2 * named - held else 'MISSED'};",
        f"  the one-customer rows' dry run ≤ {limit_dry}: {'met' if wide_sb.answered <= limit_dry else 'MISSED'}",
        f"- the run's wall time {proc.wall_s:.1f} s, peak RSS {proc.max_rss_mib:.0f} MiB (unpaced sandbox)",
        "",
    ]


def _latency(runs: int) -> list[str]:
    store = store_csv(2_000, 0)
    path = wide_csv(200, national=False)
    used, reqs, secs = [], [], []
    for k in range(runs):
        with CountingSandbox(rate=1200, latency_ms=300, extra=("--customers", str(store))) as sb:
            _, summary = _import(sb, path, "--match-by", "email", rate=1200)
        used.append(sb.answered / (summary["elapsed_s"] * 20))
        reqs.append(sb.answered)
        secs.append(summary["elapsed_s"])
        say(f"  latency round {k + 1}/{runs}: {sb.answered} requests in {summary['elapsed_s']:.1f} s "
            f"({used[-1]:.0%} of 20/s), {summary['counts']}")
    return [
        "## 200 rows at 300 ms a request, 20 requests/s",
        "",
        "Sandbox `--rate 1200 --latency-ms 300` with 2,000 customers; `import wide.csv --match-by email --rate 1200`",
        "(default concurrency).",
        "",
        f"- requests {spread(reqs, '{:.0f}')}, the whole run (summary `elapsed_s`, reads included) {spread(secs, '{:.1f}')} s",
        f"- budget used: **{median(used):.0%}** ({spread([u * 100 for u in used], '{:.0f}')} %) — target ≥ 90 %: "
        f"{'met' if median(used) >= 0.9 else 'MISSED'}",
        "",
    ]


def run(runs: int, quick: bool, command: str, against: str | None = None) -> list[Path]:
    say("reads: the store's customers and what they hold (issue 20)")
    body = _big(runs, quick, against or BASELINE) + _names(quick) + _latency(runs)
    return [write_result("reads", "Reads cost pages, and what the customers have", body, quick=quick, command=command)]
