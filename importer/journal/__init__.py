"""The journal: a store's SQLite memory of what every run sent, for resume, repeat runs, undo and --update.

    from importer.journal import Journal, SENDING, CREATED
    with Journal(path, store_id, run_id) as journal:   # JournalError (exit 2): locked, corrupt, not a journal
        journal.lookup(keys); journal.note(keys, SENDING); await journal.commit()
        ...
        journal.finish(summary_json)
    path, moved = locate(store_id, journal_option, report_dir)   # where it lives (importer.journal.home)

This package is the journal's one owner: one schema with one version and its migrations
(schema.py: every table is defined there), the file's opening, lock and the one durable write
(db.py), and the tables' reads and writes by what they remember, each a named method of `Journal`:

* contacts.py: a contact's state (`sending` before the request, the outcome after), group commit;
* runs.py: each run's start, end and summary (past_runs: read-only, for the page's History);
* customers.py: who an email is, a customer's emails, customers a run created;
* sent.py: the bodies as sent and Ecwid's contact ids (undo, --update);
* batches.py: batches handed to Ecwid's batch API and their tickets;
* undolist.py: an undo's work list.

No other module sees the database: a transaction is never handed out.
"""

from __future__ import annotations

from importer.journal.batches import Batches, OpenBatch
from importer.journal.contacts import ABSENT, CREATED, DELETED, FAILED, NOT_CREATED, SENDING, Entry, Key
from importer.journal.customers import Customers
from importer.journal.db import JournalError, JournalWriteError
from importer.journal.home import DATA_DIR_ENV, NO_JOURNAL, announce, default_path, locate
from importer.journal.runs import PastRun, Runs, past_runs
from importer.journal.schema import SCHEMA_VERSION
from importer.journal.sent import CREATE, UPDATE, Sent, SentBodies
from importer.journal.undolist import UndoLists, UndoRow

__all__ = [
    "Journal", "JournalError", "JournalWriteError", "Entry", "Key", "OpenBatch", "PastRun", "Sent", "UndoRow",
    "SENDING", "CREATED", "NOT_CREATED", "FAILED", "ABSENT", "DELETED", "CREATE", "UPDATE", "SCHEMA_VERSION",
    "DATA_DIR_ENV", "NO_JOURNAL", "announce", "default_path", "locate", "past_runs",
]  # fmt: skip


class Journal(Batches, UndoLists, Runs, SentBodies, Customers):
    """One run's handle on a store's journal; holds its exclusive lock while open (see the modules above)."""
