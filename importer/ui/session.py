"""One page's session: its files (importer.ui.workspace), its run (importer.ui.jobs), where it sends.

    session = Session(Target(store_id=1003, token=token, source="ECWID_TOKEN"), report_dir, folder)
    session.check()                                  # the columns and a dry run of the uploaded files
    session.send("sandbox" | "store", mode="direct", rate=None, create_customers=False, update=False)
    session.undo(run_id, "sandbox" | "store", dry_run=True)
    session.history("store")                         # the journal's runs; None while a run holds it
    session.close()                                  # the sandbox stops, the uploads are removed

Where a run goes: the store (store id and token from the environment or a token file,
read by the CLI before the page starts: never typed into the page, never in a URL, a
page or an event), or the page's own sandbox: one local emulator that lives while the
page runs, seeded before each send with the customers the file names (as `import
--sandbox` seeds its own), with a journal in the session's folder, so a run sent there
can be stopped, sent again (what was created is skipped) and undone. A send reads the
files with the check's choices (session.ws.choices); one that changes --create-customers or
--update checks again first, so the check shown is the send's dry run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from importer.ecwid import DEFAULT_API_URL
from importer.errors import UsageError
from importer.journal import PastRun, default_path, past_runs
from importer.records import Status
from importer.runs.pipeline import ImportOptions, run_import
from importer.ui.jobs import Job, Jobs
from importer.ui.workspace import Workspace

TARGETS = ("sandbox", "store")
STOP_WAIT_S = 60.0  # the page closing mid-run: in-flight requests finish, then the report is written
MODES = ("direct", "batch")
HISTORY_RUNS = 20  # the latest runs the page's History shows


@dataclass(frozen=True)
class Target:
    """The store the CLI was given: id, token (never shown), API base, and where the token came from."""

    store_id: int | None = None
    token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    source: str = ""  # "ECWID_TOKEN" or "--token-file": said in the page instead of the token

    @property
    def ready(self) -> bool:
        return bool(self.token) and self.store_id is not None


@dataclass(frozen=True)
class _Where:
    store_id: int
    token: str = field(repr=False)
    api_url: str
    journal: Path | None  # None: the store's default journal


class Session:
    def __init__(self, target: Target, report_dir: Path, folder: Path):
        self.target = target
        self.report_dir = Path(report_dir)
        self.ws = Workspace(folder)
        self.jobs = Jobs()
        self.flash = ""  # the last action's error, shown once in the page
        self._sandbox = None
        self._sandbox_lock = threading.Lock()

    # ---- files and check ----

    def check(self) -> None:
        """A dry run; it reads the store's customers when a store and token are there, as the CLI's does."""
        if self.target.ready:
            base = ImportOptions(store_id=self.target.store_id, token=self.target.token, api_url=self.target.api_url)
        else:
            base = ImportOptions()
        self.ws.check(base)

    # ---- send, undo ----

    def send(self, target: str, *, mode: str = "direct", rate: float | None = None, create_customers: bool = False,
             update: bool = False) -> Job:  # fmt: skip
        self.jobs.ensure_free()
        files = self.ws.files
        if not files:
            raise UsageError("no file to send: choose one first")
        chosen = replace(self.ws.choices, create_customers=create_customers, update=update)
        if self.ws.result is None or chosen != self.ws.choices:
            self.ws.choices = chosen
            self.check()
        where = self._where(target, seed=True)
        options = self.ws.options_for(ImportOptions(
            store_id=where.store_id, token=where.token, api_url=where.api_url, journal=where.journal,
            report_dir=self.report_dir, quiet=True, mode=mode, rate=rate,
        ))  # fmt: skip
        label = f"Sending {len(files)} file(s) to {self.describe(target)}"
        work = lambda on_event, stop: run_import(files, options, on_event=on_event, stop=stop)  # noqa: E731
        return self.jobs.start("send", label, work, target=target)

    def undo(self, run_id: str, target: str, *, dry_run: bool) -> Job:
        from importer.runs.undo import UndoOptions, run_undo

        self.jobs.ensure_free()
        where = self._where(target, seed=False)
        options = UndoOptions(store_id=where.store_id, token=where.token, api_url=where.api_url, journal=where.journal,
                              report_dir=self.report_dir, dry_run=dry_run, quiet=True)  # fmt: skip
        label = f"{'Checking what undo would delete' if dry_run else 'Undoing'} run {run_id} in {self.describe(target)}"
        work = lambda on_event, stop: run_undo(run_id, options, on_event=on_event, stop=stop)  # noqa: E731
        return self.jobs.start("undo-dry" if dry_run else "undo", label, work, run_id=run_id, target=target)

    def stop(self) -> None:
        self.jobs.stop()

    # ---- where ----

    def describe(self, target: str) -> str:
        if target == "store":
            return f"store {self.target.store_id}"
        return "the page's sandbox"

    def journal_path(self, target: str) -> Path | None:
        if target == "store":
            return default_path(self.target.store_id) if self.target.store_id is not None else None
        return self.ws.folder / "journal-sandbox.sqlite"

    def history(self, target: str) -> list[PastRun] | None:
        path = self.journal_path(target)
        return [] if path is None else past_runs(path, HISTORY_RUNS)

    def _where(self, target: str, *, seed: bool) -> _Where:
        if target not in TARGETS:
            raise UsageError(f"send to the sandbox or the store, not {target!r}")
        if target == "store":
            if not self.target.ready:
                raise UsageError("no store: start the page with ECWID_STORE_ID and ECWID_TOKEN set "
                                 "(or --store-id and --token-file), or send to the sandbox")  # fmt: skip
            return _Where(self.target.store_id, self.target.token, self.target.api_url, None)
        sandbox = self._started_sandbox()
        if seed:
            self._seed(sandbox)
        return _Where(sandbox.store_id, sandbox.token, sandbox.api_url, self.journal_path("sandbox"))

    def _started_sandbox(self):
        from importer.sandbox import Sandbox, SandboxConfig

        with self._sandbox_lock:
            if self._sandbox is None:
                # No rate limit of its own: the client paces itself as it would for Ecwid.
                self._sandbox = Sandbox(SandboxConfig(customers=0, rate_per_minute=None)).start()
            return self._sandbox

    def _seed(self, sandbox) -> None:
        """The customers the checked file names, as `import --sandbox` seeds its sandbox."""
        from importer.runs.remote import sandbox_customers
        from importer.sandbox.config import customer_from

        result = self.ws.result
        if result is None or result.table is None:
            return
        valid = [r for r in result.records if r.outcome.status == Status.VALID]
        wanted = self.ws.choices.apply(ImportOptions())  # --create-customers: those named by email are its to create
        customers = [customer_from(c) for c in sandbox_customers(wanted, result.table, valid)]
        named = {r.customer_id for r in valid if r.customer_id is not None}
        have = sandbox.customers()
        ids, emails = {c.id for c in have}, {c.email.lower() for c in have}
        new = [c for c in customers if c.id in named and c.id not in ids]
        if new:
            sandbox.add_customers([c.id for c in new], [c.email for c in new], [c.name for c in new])
        # Customers named by email get the next free ids, as in the CLI's sandbox, unless an earlier send added them.
        by_email = [c.email for c in customers if c.id not in named and c.email.lower() not in emails]
        if by_email:
            sandbox.add_customers(emails=by_email)

    def close(self) -> None:
        self.jobs.stop(wait_s=STOP_WAIT_S)
        if self._sandbox is not None:
            self._sandbox.stop()
        self.ws.clear()
