"""The runs a journal knows, for the page's History: read-only, never waiting for a run that holds it.

    runs = journal_runs(path)     # list[PastRun], newest first; None while a run holds the journal

The journal is the record of what each run created (importer.journal); its `runs` table
holds each run's start, end and the counts it finished with. A run holds the journal's
lock while it goes (one run at a time per store), so reading it then is refused: the
page says a run is going instead of waiting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from importer.journal import past_runs

SHOWN = 20


@dataclass(frozen=True)
class PastRun:
    run_id: str
    started_at: str
    finished_at: str
    counts: dict = field(default_factory=dict)
    stopped: str = ""
    undo_of: str = ""  # an undo's run: which import it undid
    dry_run: bool = False


def journal_runs(path: Path) -> list[PastRun] | None:
    rows = past_runs(path, SHOWN)  # None: held by a run (its exclusive lock), or not readable: say so, don't wait
    return None if rows is None else [_past(*row) for row in rows]


def _past(run_id: str, started_at: str, finished_at: str | None, summary: str | None) -> PastRun:
    try:
        data = json.loads(summary) if summary else {}
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    return PastRun(run_id, started_at, finished_at or "", data.get("counts") or {}, data.get("stopped") or "",
                   data.get("undo_of") or "", bool(data.get("dry_run")))  # fmt: skip
