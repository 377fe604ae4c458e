"""Where a store's journal lives: one per store, in the user's data directory, wherever a job starts.

    path, moved = locate(store_id, journal=None, report_dir=Path("reports"))
    # path: --journal as given, else <data dir>/journal-<store>.sqlite
    # moved: one line to show the user when a journal an earlier version kept was carried over, else ""
    announce(store_id, journal, report_dir, quiet=False)  # the same, and says so: a run's first line

The data directory is platformdirs' user data directory for `ecwid-contacts` (on Linux
~/.local/share/ecwid-contacts), or the folder `ECWID_CONTACTS_DATA_DIR` names. A cron job
started in $HOME, a run from the project folder and a run with its own --report-dir all
meet the same memory of what was created.

Earlier versions kept the journal in the report folder (`<report-dir>/journal-<store>.sqlite`, by
default ./reports): both places are looked at.
Such a journal is carried over once: moved (a hard link, then the old name removed; a copy
across file systems, built beside the new path and linked into place), never copied so
that two memories could drift apart. If the data directory already has one too, the run
stops: using either alone could create again what only the other remembers.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import platformdirs

from importer.journal.db import JournalError, link_into_place

log = logging.getLogger("importer")

APP = "ecwid-contacts"
DATA_DIR_ENV = "ECWID_CONTACTS_DATA_DIR"
EARLIER_DEFAULT = Path("reports")  # where earlier versions kept it when no --report-dir was given
_SIDE = "-journal"  # SQLite's rollback file beside the database: moved with it, or a crash's undo is lost

__all__ = ["APP", "DATA_DIR_ENV", "NO_JOURNAL", "data_dir", "default_path", "announce", "locate"]

NO_JOURNAL = "--no-journal: nothing remembers what this run creates, so running it again creates everything again"


def data_dir() -> Path:
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(env).expanduser() if env else platformdirs.user_data_path(APP, appauthor=False)


def default_path(store_id: int) -> Path:
    return data_dir() / f"journal-{store_id}.sqlite"


def locate(store_id: int | None, journal: Path | None, report_dir: Path) -> tuple[Path, str]:
    """The journal a run uses, and a line saying it was carried over ("" if not). JournalError when
    an earlier version's journal and the data directory's both exist, or two earlier ones do."""
    if journal is not None:
        return Path(journal), ""
    path = default_path(store_id)
    found: list[Path] = [path] if path.exists() else []
    for old in (Path(report_dir) / path.name, EARLIER_DEFAULT / path.name):  # --report-dir's, and ./reports
        if old.is_file() and not any(os.path.samefile(old, other) for other in found):
            found.append(old)
    if len(found) > 1:
        earlier = found[-1]
        raise JournalError(
            f"store {store_id} has two journals: {found[0]} and {earlier} (in a report folder, where earlier "
            "versions kept it); each may remember contacts the other doesn't, so using either alone could create "
            f"them twice. Move {earlier} aside and run once with --skip-existing: the store is read for the "
            "contacts it already has, so none is created again"
        )
    if not found or found[0] == path:
        return path, ""
    _move(found[0], path)
    return path, (f"carried over from {found[0]}, where earlier versions kept it; it stays here, wherever the job "
                  "starts")  # fmt: skip


def announce(store_id: int | None, journal: Path | None, report_dir: Path, *, quiet: bool,
             no_journal: bool = False) -> Path | None:  # fmt: skip
    """A sending run's first line, on stderr: the journal it uses, that one was carried over, or that there is
    none. With `quiet` only the last two are said, as logged warnings. Returns the journal's path."""
    path, moved = (None, "") if no_journal else locate(store_id, journal, report_dir)
    line = f"Journal: none ({NO_JOURNAL})" if no_journal else f"Journal: {path}" + (f" ({moved})" if moved else "")
    if not quiet:
        print(line, file=sys.stderr)
    elif no_journal or moved:
        log.warning("%s", line)
    return path


def _move(old: Path, new: Path) -> None:
    new.parent.mkdir(parents=True, exist_ok=True)
    side_old, side_new = Path(f"{old}{_SIDE}"), Path(f"{new}{_SIDE}")
    try:
        if side_old.exists():
            _place(side_old, side_new)
        _place(old, new)
    except OSError as exc:
        raise JournalError(f"journal {old}: cannot carry it over to {new}: {exc}") from None


def _place(old: Path, new: Path) -> None:
    """`old` at `new`, never over an existing file, never half there; then gone from `old`."""
    try:
        os.link(old, new)
    except FileExistsError:
        raise
    except OSError:  # another file system, or none with hard links: a full copy, then linked into place
        tmp = new.with_name(f".{new.name}.{os.getpid()}.new")
        try:
            shutil.copy2(old, tmp)
            link_into_place(tmp, new)
        finally:
            tmp.unlink(missing_ok=True)
    old.unlink()
