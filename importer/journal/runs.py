"""The runs a journal knows (`runs`): each run's start (written when it opens the journal), end and summary.

    journal.run_started_at(run_id) -> str ("" if unknown); journal.run_finished(run_id) -> bool
    journal.latest_runs(limit) -> [run_id, newest first]
    journal.finish(summary_json)                       # the run's end, with the states still queued
    past_runs(path, limit) -> [PastRun] | None        # newest first, read-only, never waiting (the page's History)
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from importer.journal.contacts import ContactStates
from importer.journal.db import JournalWriteError, now

log = logging.getLogger("importer")


class Runs(ContactStates):
    def run_finished(self, run_id: str) -> bool:
        """Whether that run ended in order (a stop included), rather than dying."""
        row = self._read("SELECT finished_at FROM runs WHERE run_id=?", (run_id,))
        return bool(row and row[0][0])

    def run_started_at(self, run_id: str) -> str:
        row = self._read("SELECT started_at FROM runs WHERE run_id=?", (run_id,))
        return row[0][0] if row else ""

    def latest_runs(self, limit: int = 5) -> list[str]:
        return [run for (run,) in self._read("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT ?", (limit,))]

    def finish(self, summary_json: str | None = None) -> None:
        """The run's end, with the outcomes still queued. A journal that can't take them (a full disk)
        is not the report's problem: the rows stay `sending`, which the next run checks in the store."""
        try:
            self.flush()
            self._write(("UPDATE runs SET finished_at=?, summary=? WHERE run_id=?",
                         [(now(), summary_json, self.run_id)]))  # fmt: skip
        except JournalWriteError as exc:
            log.warning("%s; the next run checks the rows in doubt against the store", exc.message)


@dataclass(frozen=True)
class PastRun:
    run_id: str
    started_at: str
    finished_at: str
    counts: dict = field(default_factory=dict)
    stopped: str = ""
    undo_of: str = ""  # an undo's run: which import it undid
    dry_run: bool = False


def past_runs(path: Path, limit: int) -> list[PastRun] | None:
    """The latest runs of the journal at `path` with what their summaries say, read-only: [] if there is none,
    None while a run holds it (its exclusive lock) or it cannot be read: the caller says so rather than waiting."""
    if not Path(path).is_file():
        return []
    try:
        db = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True, timeout=0.2)
        try:
            rows = db.execute("SELECT run_id, started_at, finished_at, summary FROM runs "
                              "ORDER BY started_at DESC LIMIT ?", (limit,)).fetchall()  # fmt: skip
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return [_past(*row) for row in rows]


def _past(run_id: str, started_at: str, finished_at: str | None, summary: str | None) -> PastRun:
    try:
        data = json.loads(summary) if summary else {}
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    return PastRun(run_id, started_at, finished_at or "", data.get("counts") or {}, data.get("stopped") or "",
                   data.get("undo_of") or "", bool(data.get("dry_run")))  # fmt: skip
