"""`ecwid-contacts undo RUN_ID`: delete the contacts one run created, and only those.

    from importer.runs.undo import run_undo
    result = run_undo("20261126-214501-3f2a", store_id=1003, token=token)   # or dry_run=True
    result.exit_code, result.summary["counts"], result.report_path

Ecwid's create answers no id, so the undo reads each affected customer's contacts (paced
and retried like every request) and matches what the journal says the run sent: the id if
a read learnt it, else type and value (compared normalized). Then, per contact:

* the store no longer has it: `deleted`, error code `already-gone`; but if its id was never read, one of its
  type the journal doesn't know, with the other fields sent and no older than the run, is taken for it with
  its value edited by hand: `kept`, `changed-since`, never deleted on that guess, even with `force`;
* its note, handle, default or order (or its value, under the same id) is not what was
  sent: `kept`, `changed-since`, unless `force`; fields never recorded (a journal older
  than undo): `kept`, `sent-unknown`, unless `force`;
* otherwise `DELETE …/contacts/{id}`: `deleted`, or `failed`.

The undo is a run of its own in the journal, with a work list (importer.journal.undolist) written
before its first DELETE and `deleting` committed before each: killed, it resumes when run
again, deletes nothing twice (a contact whose DELETE was sent and is gone counts as
deleted) and reports every row. A deleted contact becomes `deleted` in the journal, so
importing the same file again sends it again. Customers the run created
(`--create-customers`) are listed; with `delete_customers`, each is deleted (DELETE
/customers/{id}, `update_customers`) when it has no orders and, after the undo, no
contact but its own email.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from importer.checks.contactfields import changed_since, item_value, pick
from importer.deliver.edits import DONE, GONE, ContactEditor
from importer.deliver.progress import UNDO, UNDO_CHECK, Progress
from importer.deliver.send import SendConfig
from importer.deliver.tasks import bounded
from importer.ecwid.client import connection
from importer.ecwid.store import StoreReadError, StoreReader
from importer.errors import Code, RunStopped, UsageError, not_sent
from importer.journal import Journal, UndoRow, announce
from importer.journal import undolist as undo_states
from importer.options import Groups, Pacing, Target, Watch
from importer.records import Outcome, Status
from importer.report import REPORT_COLUMNS, new_run_id, write_frame_report
from importer.report.errors import ERRORS_CSV
from importer.report.results import write_results_csv
from importer.events import watching

log = logging.getLogger("importer")

__all__ = ["UndoOptions", "UndoResult", "run_undo"]

_PROBLEMS = frozenset({Status.KEPT, Status.FAILED, Status.NOT_SENT})


@dataclass(frozen=True)
class UndoOptions(Target, Pacing, Watch, Groups):
    """What `undo` is given: the store and pacing as for import (importer.options), and its own flags."""

    report_dir: Path = Path("reports")
    dry_run: bool = False  # read and match; delete nothing
    force: bool = False  # delete contacts changed since the run too
    delete_customers: bool = False  # delete the customers the run created, once they are empty
    quiet: bool = False


@dataclass
class UndoResult:
    summary: dict
    report_path: Path
    exit_code: int
    stopped: RunStopped | None = None
    frame: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        return self.summary["counts"]


def run_undo(run_id: str, options: UndoOptions | None = None, **kwargs) -> UndoResult:
    """Undo `run_id` (see the module docstring); always writes a report. Raises UsageError (exit 2) before
    anything is read or deleted: no store, token or journal, or a run the journal doesn't know."""
    options = replace(options or UndoOptions(), **kwargs)
    with watching(options.on_event, options.stop):
        return _run_undo(run_id, options)


def _run_undo(run_id: str, options: UndoOptions) -> UndoResult:
    if options.store_id is None:
        raise UsageError("no store id: pass --store-id N or set ECWID_STORE_ID")
    if not options.token:
        raise UsageError("no token: set ECWID_TOKEN or pass --token-file PATH (undo reads the store, even dry)")
    config = SendConfig.given(options, options.api_url, options.store_id, options.token)
    path = announce(options.store_id, options.journal, options.report_dir, quiet=options.quiet)
    if not Path(path).exists():
        raise UsageError(f"no journal at {path}: undo works from the journal the import wrote (--journal PATH)")
    started, started_at = time.monotonic(), datetime.now(timezone.utc)
    undo_id = new_run_id(datetime.now())
    with Journal(path, options.store_id, undo_id) as journal:
        if not journal.run_started_at(run_id):
            raise UsageError(f"run {run_id} is not in the journal {path}: {_runs(journal, undo_id)}")
        rows = journal.undo_rows(run_id)
        if not options.dry_run:
            journal.list_undo(run_id, rows)
        undo = _Undo(run_id, rows, journal, options)
        asyncio.run(undo.session(config))
        counts = undo.counts()
        journal.finish(json.dumps({"undo_of": run_id, "dry_run": options.dry_run, "counts": counts,
                                   "stopped": undo.stopped and undo.stopped.message}))  # fmt: skip

    frame = undo.frame()
    stopped = undo.stopped
    problems = any(counts.get(s.value) for s in _PROBLEMS) or any(c["status"] == "failed" for c in undo.customers)
    exit_code = 3 if stopped else 1 if problems else 0
    gone = int((frame["error_code"] == Code.ALREADY_GONE.value).sum())
    notes = list(undo.notes)
    if options.dry_run and counts.get(Status.VALID.value):
        notes.insert(0, f"{counts[Status.VALID.value]} contact(s) would be deleted (status valid)")
    if counts.get(Status.KEPT.value):
        notes.append(f"{counts[Status.KEPT.value]} contact(s) kept: changed since the run, or what was sent is not on "
                     "record (errors.csv says which); --force deletes them")  # fmt: skip
    if gone:
        notes.append(f"{gone} contact(s) were already gone from the store (error_code already-gone)")
    summary = {
        "run_id": undo_id, "undo_of": run_id, "started_at": started_at.isoformat(timespec="seconds"),
        "dry_run": options.dry_run, "force": options.force, "api_url": config.api_url, "store_id": config.store_id,
        "files": list(dict.fromkeys(row.file for row in undo.rows if row.file)),  # the undone run's, as it read them
        "journal": str(path), "rate_per_minute": config.rate_per_minute, "concurrency": config.concurrency,
        "retries": config.retries, "requests": undo.requests, "rate_limited": undo.rate_limited,
        "achieved_rate_per_minute": round(undo.requests * 60.0 / undo.session_s, 1) if undo.session_s > 0 else 0.0,
        "total": len(frame), "counts": counts, "already_gone": gone, "customers": undo.customers, "notes": notes,
        "stopped": stopped.message if stopped else None, "stopped_code": stopped.error_code if stopped else None,
        "exit_code": exit_code,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - started, 3),
    }  # fmt: skip
    folder = _write_report(frame, summary, Path(options.report_dir) / undo_id)
    return UndoResult(summary, folder, exit_code, stopped, frame)


def _runs(journal: Journal, this: str) -> str:
    recent = [r for r in journal.latest_runs(6) if r != this][:5]
    return "its latest runs are " + ", ".join(recent) if recent else "it holds no other run"


class _Undo:
    def __init__(self, run_id: str, rows: list[UndoRow], journal: Journal, options: UndoOptions):
        self.run_id, self.rows, self.journal, self.options = run_id, rows, journal, options
        self.done: dict[int, Outcome] = _Outcomes(len(rows), self.options.dry_run)  # row position -> outcome
        self.customers: list[dict] = []
        self.notes: list[str] = []
        self.stopped: RunStopped | None = None
        self.requests = self.rate_limited = 0
        self.session_s = 0.0  # reads and deletes: what the achieved rate is over
        self.run_started_at = journal.run_started_at(run_id)
        for row in rows:  # finished by an earlier undo of the same run
            if row.state in undo_states.FINAL:
                self.done[row.position] = _earlier(row)

    async def session(self, config: SendConfig) -> None:
        from importer.runs.remote import interrupt_event

        started = time.monotonic()

        async with connection(config) as (http, liveness):
            with interrupt_event() as cancel:
                reader = StoreReader.of(http, config, liveness)
                reader.on_contacts = self.journal.learn_ids
                editor = ContactEditor(reader)
                todo: dict[int | None, list[UndoRow]] = defaultdict(list)
                for row in self.rows:
                    if row.position not in self.done:
                        todo[row.customer_id].append(row)
                for row in todo.pop(None, []):
                    self.done[row.position] = Code.MISSING_CUSTOMER.outcome(
                        status=Status.FAILED, detail="no customer id on record")
                try:
                    await bounded(todo.items(), lambda item: self._customer(*item, reader, editor),
                                  config.concurrency, cancel,
                                  cancelled="the undo was cancelled before every row was done")  # fmt: skip
                    await self._customers_created(reader, editor)
                except RunStopped as exc:
                    self.stopped = exc
                self.requests, self.rate_limited = reader.api.requests, reader.api.limited
                self.session_s = time.monotonic() - started

    async def _customer(self, cid: int, rows: list[UndoRow], reader: StoreReader, editor: ContactEditor) -> None:
        try:
            items = await reader.contacts(cid, fresh=True)
        except StoreReadError as exc:
            if exc.status != 404:
                for row in rows:
                    self.done[row.position] = Code.STORE_CHECK_FAILED.outcome(
                        context="could not read the customer's contacts", reason=exc)
                return
            items = []  # the customer is gone, and its contacts with it
        taken: set[int] = set()
        plan: list[tuple[UndoRow, int]] = []
        finished: list[tuple[UndoRow, str, int | None, Outcome]] = []
        ids = {item.get("id") for item in items}
        for row in rows:
            item = pick(items, row.key[1], row.key[2], contact_id=row.contact_id, sent=row.body, taken=taken)
            if row.contact_id is not None and row.contact_id not in ids:
                item = None  # the one it created is gone; a contact with its value now is someone else's
            edited = self._edited(row, rows, items, taken) if item is None and row.contact_id is None else None
            if edited is not None:
                taken.add(edited.get("id"))
                finished.append((row, undo_states.KEPT, None, Code.CHANGED_SINCE.outcome(why=(  # id: a guess
                    f"changed since the run: contact, now {edited.get('contact')!r} (contact id {edited.get('id')}"
                    ", known by its type and fields: its id was never read); not deleted, even with --force"))))
                continue
            if item is None:
                if row.state == undo_states.DELETING:  # our DELETE went out; its answer was lost
                    finished.append((row, undo_states.DELETED, None, Outcome(
                        Status.DELETED, error="deleted (an earlier attempt of this undo; its answer was lost)")))
                else:
                    finished.append((row, undo_states.GONE, None, Code.ALREADY_GONE.outcome(
                        when=": the store no longer has this contact")))
                continue
            taken.add(item.get("id"))
            kept = self._kept(row, item)
            if kept is not None:
                finished.append((row, undo_states.KEPT, item.get("id"), kept))
            else:
                plan.append((row, item.get("id")))
        if not self.options.dry_run:
            self.journal.set_undo(self.run_id, [(row.key, state, cid_, d.error) for row, state, cid_, d in finished]
                                  + [(row.key, undo_states.DELETING, contact_id, "") for row, contact_id in plan])
        for row, _, _, done in finished:
            self.done[row.position] = done
        if self.options.dry_run:
            for row, contact_id in plan:
                self.done[row.position] = Outcome(Status.VALID, error=f"would delete contact id {contact_id}")
            return
        outcomes: list[tuple[UndoRow, str, int | None, Outcome]] = []
        try:
            for row, contact_id in plan:
                edit = await editor.delete(cid, contact_id)
                sent = {"http_status": edit.http_status, "attempts": edit.attempts}
                state = {DONE: undo_states.DELETED, GONE: undo_states.GONE}.get(edit.result, undo_states.FAILED)
                if edit.result == DONE:
                    done = Outcome(Status.DELETED, error=f"deleted contact id {contact_id}", **sent)
                elif edit.result == GONE:
                    done = Code.ALREADY_GONE.outcome(when=": removed while the undo ran", **sent)
                else:
                    done = Code.DELETE_FAILED.outcome(detail=edit.detail, **sent)
                outcomes.append((row, state, contact_id, done))
                self.done[row.position] = done
        finally:  # interrupted or not: what was done is on record (the rest stays `deleting`: checked next time)
            if outcomes:
                self.journal.set_undo(self.run_id, [(row.key, state, c, d.error) for row, state, c, d in outcomes])

    def _edited(self, row: UndoRow, rows: list[UndoRow], items: list[dict], taken: set[int]) -> dict | None:
        """The row's contact with its value edited by hand, when its id was never read (module docstring)."""
        if row.body is None or row.state == undo_states.DELETING:
            return None
        claimed, known = self.journal.journaled(row.customer_id), {r.contact_id for r in rows} | taken
        start = _when(self.run_started_at)
        since = start - _SKEW if start else None
        found = [i for i in items if isinstance(i, dict) and i.get("id") not in known
                 and item_value(i)[0] == row.key[1] and item_value(i) not in claimed
                 and changed_since(i, row.body) == ["contact"]
                 and (since is None or not _when(i.get("timestamp")) or _when(i.get("timestamp")) >= since)]
        return max(found, key=lambda i: i.get("id") if isinstance(i.get("id"), int) else -1, default=None)

    def _kept(self, row: UndoRow, item: dict) -> Outcome | None:
        if row.body is None:
            why = "the journal has no record of the fields this run sent (it predates undo)"
            code = Code.SENT_UNKNOWN
        else:
            changed = changed_since(item, row.body)
            if not changed:
                return None
            why = "changed since the run: " + ", ".join(changed)
            code = Code.CHANGED_SINCE
        if self.options.force:
            return None
        return code.outcome(why=f"{why} (--force deletes it)")

    async def _customers_created(self, reader: StoreReader, editor: ContactEditor) -> None:
        created = self.journal.created_customers(self.run_id)
        for email, cid in created:
            entry = {"id": cid, "email": email}
            self.customers.append(entry)
            if not self.options.delete_customers:
                entry.update(status="kept", why="created by the run; --delete-customers deletes it once it is empty")
                continue
            rows = [r for r in self.rows if r.customer_id == cid]
            gone = (Status.DELETED, Status.VALID) if self.options.dry_run else (Status.DELETED,)
            left = [r for r in rows if self.done.get(r.position, Outcome(Status.NOT_SENT)).status not in gone]
            if left:
                entry.update(status="kept", why=f"{len(left)} of its contacts from the run are still there")
                continue
            if self.options.dry_run:
                entry.update(status="valid", why="would be deleted if, once its contacts from the run are, it has "
                                                 "no other contact and no order")  # fmt: skip
                continue
            customer = await reader.customer(cid)
            if customer is None:
                entry.update(status="deleted", why="already gone")
                self.journal.forget_customer(email, cid)
                continue
            contacts = await reader.contacts(cid, fresh=True)
            others = [c for c in contacts if str(c.get("contact", "")).lower() != email.lower()]
            if others or customer.get("totalOrderCount"):
                entry.update(status="kept", why=f"it has {len(others)} other contact(s) and "
                                                f"{customer.get('totalOrderCount') or 0} order(s)")  # fmt: skip
                continue
            edit = await editor.delete_customer(cid)
            if edit.result in (DONE, GONE):
                entry.update(status="deleted", why="deleted" if edit.result == DONE else "already gone")
                self.journal.forget_customer(email, cid)
            else:
                entry.update(status="failed", why=edit.detail)
        if created:
            kept = sum(c["status"] == "kept" for c in self.customers)
            self.notes.append(f"the run created {len(created)} customer(s): {kept} kept, "
                              f"{sum(c['status'] == 'deleted' for c in self.customers)} deleted (summary.json lists them)")

    def counts(self) -> dict[str, int]:
        return dict(Counter(self._outcome(row).status.value for row in self.rows))

    def _outcome(self, row: UndoRow) -> Outcome:
        why = self.stopped.message if self.stopped else "the undo stopped first"
        return self.done.get(row.position) or not_sent(f"{why}; run the same undo again", lead="not undone: ")

    def frame(self) -> pd.DataFrame:
        """results.csv's columns, one line per row of the undone run, in the run's order."""
        lines = []
        for row in self.rows:
            done = self._outcome(row)
            body = row.body or {}
            lines.append({
                "file": row.file, "sheet": row.sheet, "row": row.row, "customer_id": row.customer_id,
                "customer_email": "", "type": row.key[1], "contact": row.key[2], "handle": body.get("handle", ""),
                "source_contact": "", "status": done.status.value, "http_status": done.http_status,
                "create_count": None, "attempts": done.attempts, "error_code": str(done.error_code),
                "error": done.error, "duplicate_of": "",
            })  # fmt: skip
        frame = pd.DataFrame(lines, columns=list(REPORT_COLUMNS))
        for name in ("row", "customer_id", "http_status", "create_count"):
            frame[name] = frame[name].astype("Int64")
        frame["attempts"] = frame["attempts"].astype("int64")
        return frame


_SKEW = timedelta(minutes=10)  # our clock against the store's: a contact stamped this much before the run may be its


def _when(stamp: object) -> datetime | None:
    """A journal's or a contact's timestamp ('2025-03-26 11:07:12 +0000'); None if it is not one."""
    try:
        return datetime.strptime(str(stamp), "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return None


class _Outcomes(dict):
    """Row position -> outcome; each outcome set is counted as progress (events for a watcher, nothing printed)."""

    def __init__(self, total: int, dry_run: bool):
        super().__init__()
        self.progress = Progress(total, quiet=True, wording=UNDO_CHECK if dry_run else UNDO)

    def __setitem__(self, position: int, done: Outcome) -> None:
        fresh = position not in self  # a row is counted once, as it first ends
        super().__setitem__(position, done)
        if fresh:
            self.progress.update(done.status)


def _earlier(row: UndoRow) -> Outcome:
    if row.state == undo_states.GONE:
        return Code.ALREADY_GONE.outcome(when=f" (undo run {row.undo_run})")
    return Outcome(Status.DELETED, error=f"deleted by undo run {row.undo_run}")


def _write_report(frame: pd.DataFrame, summary: dict, folder: Path) -> Path:
    """results.csv, results.xlsx, errors.csv (the rows not undone: kept, failed, not_sent), summary.json."""
    failing = frame[frame["status"].isin([s.value for s in _PROBLEMS]).to_numpy(dtype=bool)]

    def errors(folder: Path) -> tuple[list[str], int]:
        if not len(failing):
            return [], 0
        write_results_csv(failing, folder / ERRORS_CSV)
        return [ERRORS_CSV], len(failing)

    return write_frame_report(frame, summary, folder, errors)
