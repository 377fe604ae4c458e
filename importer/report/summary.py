"""summary.json, the terminal summary, and run ids.

    run = RunSummary(run_id, started_at, ...)       # an import's summary, every key in one place
    run.note("..."); run.store = send_summary; run.finish(frame, stopped, exit_code, elapsed_s)
    summary = run.to_json()                         # the dict summary.json holds (write_report adds where it is)
    write_summary(folder / SUMMARY_JSON, summary)   # atomic: a tmp file, then os.replace
    print_summary(summary, folder, stream=sys.stderr)
    run_id = new_run_id()                           # 20261126-214501-3f2a
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from importer.errors import Code, RunStopped
from importer.records import Status
from importer.report.results import RESULTS_CSV

__all__ = ["SUMMARY_JSON", "STATUS_ORDER", "RunSummary", "write_summary", "print_summary", "new_run_id"]

SUMMARY_JSON = "summary.json"

STATUS_ORDER = (
    Status.CREATED,
    Status.UPDATED,
    Status.DELETED,
    Status.KEPT,
    Status.NOT_CREATED,
    Status.SKIPPED,
    Status.VALID,
    Status.DUPLICATE,
    Status.INVALID,
    Status.FAILED,
    Status.NOT_SENT,
)


@dataclass
class RunSummary:
    """An import's summary.json: what was read, what talking to the store did, how the rows ended."""

    run_id: str
    started_at: str
    dry_run: bool
    sandbox: bool
    files: list[str]
    tables: list[dict]  # each table's layout and columns (importer.runs.pipeline)
    encodings: dict[str, str]
    hidden_sheets_skipped: list[str]
    rows: int
    blank_rows: int
    read_s: float
    limit: int | None = None  # --limit N; no key without it
    notes: list[str] | None = None  # None: no key
    store: dict[str, Any] = field(default_factory=dict)  # what the store half did (importer.runs.remote), in its order
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    skipped_by_reason: dict[str, int] = field(default_factory=dict)  # why rows were skipped: the nightly's question
    ambiguous: int = 0
    stopped: str | None = None
    stopped_code: str | None = None
    exit_code: int = 0
    finished_at: str = ""
    elapsed_s: float = 0.0

    def note(self, *lines: str) -> None:
        self.notes = [*(self.notes or ()), *lines]

    def finish(self, frame: pd.DataFrame, stopped: RunStopped | None, exit_code: int, elapsed_s: float) -> None:
        """How the rows of the run's frame ended, and why the run stopped, if it did."""
        counts = frame["status"].value_counts()
        self.total = len(frame)
        self.counts = {s.value: int(counts[s.value]) for s in Status if counts.get(s.value, 0)}
        skipped = frame.loc[frame["status"] == Status.SKIPPED.value, "error_code"].value_counts()
        self.skipped_by_reason = {str(k): int(v) for k, v in skipped.items() if v}
        self.ambiguous = int((frame["error_code"] == Code.AMBIGUOUS.value).sum())
        self.stopped = stopped.message if stopped else None
        self.stopped_code = stopped.error_code if stopped else None
        self.exit_code = exit_code
        self.finished_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.elapsed_s = round(elapsed_s, 3)

    def to_json(self) -> dict[str, Any]:
        """summary.json's keys, in its order; the store half's notes join the run's (where the run has none,
        they stay where the store half put them)."""
        head = ("run_id", "started_at", "dry_run", "sandbox", "files", "tables", "encodings", "hidden_sheets_skipped",
                "rows", "blank_rows", "read_s")  # fmt: skip
        out = {name: getattr(self, name) for name in head}
        if self.limit is not None:
            out["limit"] = self.limit
        store = dict(self.store)
        if unused := set(store.pop("ids_unused", ())):  # id columns not this store's: ignored, not customerId
            out["tables"] = [_ignoring(t, unused) for t in out["tables"]]
        if self.notes is not None:
            out["notes"] = [*self.notes, *store.pop("notes", ())]
        tail = ("total", "counts", "skipped_by_reason", "ambiguous", "stopped", "stopped_code", "exit_code",
                "finished_at", "elapsed_s")  # fmt: skip
        return {**out, **store, **{name: getattr(self, name) for name in tail}}


def _ignoring(table: dict[str, Any], headers: set[str]) -> dict[str, Any]:
    """A table's entry with these used columns listed as ignored instead."""
    gone = headers & table["columns"].keys()
    if not gone:
        return table
    columns = {h: f for h, f in table["columns"].items() if h not in gone}
    return {**table, "columns": columns, "ignored": [*table["ignored"], *(h for h in table["columns"] if h in gone)]}


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """`summary` as indented JSON (dates ISO, paths and enums as text); never half-written."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=_json_default) + "\n", "utf-8")
    os.replace(tmp, path)


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)  # Path, Enum, ...


def print_summary(summary: dict[str, Any], path: Path, *, stream: TextIO = sys.stderr) -> None:
    """A short table of non-zero statuses, the total, and where the report is."""
    counts = {str(k): int(v) for k, v in (summary.get("counts") or {}).items() if v}
    order = [s.value for s in STATUS_ORDER if s.value in counts] + [k for k in counts if k not in STATUS_ORDER]
    total = int(summary.get("total", sum(counts.values())))
    width = max(6, len(f"{total}"), *(len(f"{counts[k]}") for k in order))
    name_width = max([11, *(len(k) + 2 for k in order)])
    lines = [f" {'status':<{name_width}}{'rows':>{width}}"]
    lines += [f" {k:<{name_width}}{counts[k]:>{width}}" for k in order]
    total_line = f" {'total':<{name_width}}{total:>{width}}"
    if summary.get("blank_rows"):
        n = summary["blank_rows"]
        total_line += f"   ({n} blank row{'s' if n != 1 else ''} skipped)"
    lines.append(total_line)
    if summary.get("skipped_by_reason"):
        why = ", ".join(f"{n} {code or 'other'}" for code, n in summary["skipped_by_reason"].items())
        lines.append(f"Skipped: {why}.")
    if summary.get("dry_run"):
        lines.append("Dry run: nothing was sent.")
    if summary.get("in_doubt"):
        lines.append(_doubt_line(summary["in_doubt"]))
    if summary.get("ambiguous"):
        n = summary["ambiguous"]
        lines.append(
            f"{n} sent without a clear answer (error_code ambiguous): they may exist in the store; "
            "check them before importing errors.csv again."
        )
    for table in summary.get("tables", ()):
        where = Path(table["file"]).name + (f", sheet {table['sheet']}" if table.get("sheet") else "")
        if table.get("preset"):  # a known export: say which, so a wrong guess is seen (--preset overrides)
            lines.append(f"Read as: {table['preset']} export ({where})")
        if table.get("ignored"):  # every column accounted for: say what was left out
            lines.append(f"Columns not imported ({where}): {', '.join(table['ignored'])}")
    lines += [f"Note: {note}" for note in summary.get("notes", ())]
    files = summary.get("report_files") or [RESULTS_CSV]
    if len(files) == 1:
        lines.append(f"Report: {Path(path) / files[0]}")
    else:  # every file written, by name: errors.csv is the one to fix and import again
        lines.append(f"Report: {Path(path)}{os.sep} {', '.join(files)}")
    stream.write("\n".join(lines) + "\n")


def _doubt_line(doubt: dict[str, Any]) -> str:
    """How many rows were in doubt (sent, answer lost) and how each was settled."""
    lost = doubt.get("answers_lost")
    why = [f"{lost} answer{'s' if lost != 1 else ''} lost" if lost else "",
           f"{doubt['from_earlier_runs']} left by an earlier run" if doubt.get("from_earlier_runs") else ""]
    how = {"found_in_store": "found in the store", "absent_sent_again": "absent after the settle window, sent again",
           "absent_not_sent": "absent, not sent again", "unchecked": "not checked (the next run checks them first)"}
    settled = [f"{doubt[k]} {text}" for k, text in how.items() if doubt.get(k)]
    rows = f"{doubt['rows']} row{'s' if doubt['rows'] != 1 else ''}"
    return f"In doubt: {rows} ({', '.join(filter(None, why))}): {', '.join(settled)}."


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20261126-214501-3f2a``: local time, so ids sort by start, plus 4 random hex digits."""
    now = now or dt.datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
