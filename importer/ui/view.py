"""What the page shows, as plain values for the template (templates/page.html).

    context = page_context(session, key, request.query_params)

Numbers and words come from the library's own results (the check's and the run's
summary, importer.runs.columns' lines); nothing is worked out again here.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

from importer.records import Status
from importer.runs.columns import column_lines
from importer.ui.choices import MATCH_BY, REGIONS
from importer.ui.workspace import FIELD_CHOICES, KIND_CHOICES, SHOWN_ROWS, SUFFIXES

# The bar chart's order: what went in, then what did not.
STATUS_ORDER = [s.value for s in Status]
REPORT_FILES = ("results.csv", "results.xlsx", "errors.csv", "summary.json")


def page_context(session, key: str, query: Mapping[str, str]) -> dict:
    ws = session.ws
    code, column = query.get("code", ""), query.get("column", "")
    rows, matching = ws.rows_to_fix(code, column)
    codes, columns = ws.codes_and_columns()
    summary = ws.result.summary if ws.result is not None else None
    job = session.jobs.current
    return {
        "key": key,
        "flash": session.flash,
        "target": {"ready": session.target.ready, "store_id": session.target.store_id, "source": session.target.source},
        "suffixes": ",".join(SUFFIXES),
        "files": [{"name": p.name, "size": p.stat().st_size} for p in ws.files],
        "tables": [_table(ws, t, summary) for t in ws.tables],
        "field_choices": FIELD_CHOICES,
        "kind_choices": KIND_CHOICES,
        "chosen": dict(ws.fields),
        "choices": ws.choices, "match_by": MATCH_BY, "sheets_offered": ws.sheets_offered,
        "regions": REGIONS if ws.files else (),  # the empty page's first load stays small
        "command": _command(ws),
        "check_error": ws.error,
        "check": _summary(summary, ws.result.report_path) if summary else None,
        "rows": rows, "matching": matching, "shown_max": SHOWN_ROWS,
        "codes": codes, "columns": columns, "code": code, "column": column,
        "job": _job(job) if job is not None else None,
        "history": [
            {"target": t, "name": session.describe(t), "runs": session.history(t)}
            for t in ("sandbox", "store") if t == "sandbox" or session.target.ready
        ],
    }  # fmt: skip


def _command(ws) -> str:
    """The check as a terminal command: the same files, mapping and choices."""
    files = [p.name for p in ws.files]
    mapping = ["--mapping", f"{ws.files[0].stem}.mapping.csv"] if ws.fields and files else []
    return shlex.join(["ecwid-contacts", "import", *files, "--dry-run", *mapping, *ws.choices.flags()])


def _table(ws, table, summary: dict | None) -> dict:
    encodings = (summary or {}).get("encodings", {})
    return {
        "title": Path(table.file).name + (f", sheet {table.sheet}" if table.sheet else ""),
        "said": column_lines(table)[0].split(": ", 1)[-1],
        "preset": table.preset,
        "encoding": encodings.get(table.file, ""),
        "columns": ws.columns(table),
    }


def _summary(summary: dict, folder: Path | None) -> dict:
    counts = summary.get("counts", {})
    total = summary.get("total") or sum(counts.values()) or 1
    bars = [{"status": s, "n": counts[s], "pct": round(100 * counts[s] / total, 1)}
            for s in STATUS_ORDER if counts.get(s)]
    return {
        "run_id": summary.get("run_id") or summary.get("undo_of", ""),
        "folder": folder.name if folder else "",
        "files": [f for f in REPORT_FILES if folder and (folder / f).is_file()],
        "total": summary.get("total", 0), "bars": bars, "counts": counts,
        "notes": summary.get("notes", []), "stopped": summary.get("stopped"), "exit_code": summary.get("exit_code"),
        "dry_run": summary.get("dry_run"), "undo_of": summary.get("undo_of", ""),
        "elapsed_s": summary.get("elapsed_s"),
    }  # fmt: skip


def _job(job) -> dict:
    state = job.state()
    result = job.result
    state["run_id"], state["target"] = job.run_id, job.target
    state["summary"] = _summary(result.summary, result.report_path) if result is not None else None
    return state
