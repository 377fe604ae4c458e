"""The page's one run at a time: an import or an undo in a thread, its events, its stop.

    job = jobs.start("send", "Send to the sandbox", lambda on_event, stop: run_import(files, options,
                                                                                       on_event=on_event, stop=stop))
    job.state()        # {"running", "kind", "label", "done", "total", "counts", "line", ...}: what /events sends
    job.stop.set()     # as Ctrl-C: in-flight requests finish, the rest is not_sent, the report is written
    jobs.current       # the running or last job

A second start while one runs is refused (Busy): the page says so. Another process
running against the same store is refused by the journal's lock, with its message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from importer.ecwid import scrub_held
from importer.errors import ImporterError
from importer.events import Stop

log = logging.getLogger("importer")

Work = Callable[[Callable[[dict], None], Stop], Any]  # (on_event, stop) -> ImportResult | UndoResult


class Busy(ImporterError):
    """A run is already going in this page."""


@dataclass
class Job:
    kind: str  # "send", "undo-dry", "undo"
    label: str
    run_id: str = ""  # the run an undo is about
    target: str = ""  # "sandbox" or "store"
    stop: Stop = field(default_factory=Stop)
    started: float = field(default_factory=time.monotonic)
    progress: dict = field(default_factory=dict)  # the latest progress event
    note: str = ""  # the latest note event
    result: Any = None  # ImportResult / UndoResult when it ended
    error: str = ""  # a usage or input error: the CLI's message
    running: bool = True
    version: int = 0  # bumped on every change: /events sends when it moves
    thread: threading.Thread | None = field(default=None, repr=False)

    def on_event(self, event: dict) -> None:
        """Called from the run's thread: keep the latest numbers (the page polls them a few times a second)."""
        if event["event"] == "note":
            self.note = event["text"]
        else:
            self.progress = event
        self.version += 1

    def state(self) -> dict:
        p = self.progress
        total, done = p.get("total") or 0, p.get("done", 0)
        return {
            "running": self.running, "kind": self.kind, "label": self.label, "stopping": self.stop.is_set(),
            "done": done, "total": total, "percent": int(100 * done / total) if total else 0,
            "counts": p.get("counts", {}), "in_doubt": p.get("in_doubt", 0), "rate": p.get("rate", 0.0),
            "eta_s": p.get("eta_s"), "line": p.get("line", ""), "note": self.note,
            "elapsed_s": round(time.monotonic() - self.started, 1), "error": self.error,
        }  # fmt: skip


class Jobs:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: Job | None = None

    def ensure_free(self) -> None:
        """Busy while a run goes: one run at a time in this page."""
        job = self.current
        if job is not None and job.running:
            raise Busy(f"a run is going ({job.label}): wait for it to end, or stop it")

    def start(self, kind: str, label: str, work: Work, run_id: str = "", target: str = "") -> Job:
        with self._lock:
            self.ensure_free()
            job = self.current = Job(kind, label, run_id, target)
            job.thread = threading.Thread(target=self._run, args=(job, work), name=f"ui-{kind}", daemon=True)
        job.thread.start()
        return job

    def _run(self, job: Job, work: Work) -> None:
        try:
            job.result = work(job.on_event, job.stop)
        except ImporterError as exc:  # nothing was sent (or the journal is locked): the CLI's one line
            job.error = str(exc)
        except Exception as exc:  # a bug of ours: one line in the page, the traceback in the log
            log.exception("the page's run failed")
            job.error = f"internal error: {scrub_held(f'{type(exc).__name__}: {exc}')}"
        finally:
            job.running = False
            job.version += 1

    def stop(self, wait_s: float = 0.0) -> None:
        """Stop the run as Ctrl-C does; with `wait_s`, wait that long for it to write its report."""
        job = self.current
        if job is not None and job.running:
            job.stop.set()
            job.version += 1
            if wait_s and job.thread is not None:
                job.thread.join(wait_s)
