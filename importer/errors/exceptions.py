"""Exceptions: only for "the run must stop". Bad rows are data (records.RecordError).

Each carries the exit code the CLI turns it into (2 = nothing was sent
because the input or the usage is bad; 3 = the run stopped early).
"""

from __future__ import annotations


class ImporterError(Exception):
    exit_code = 2


class UsageError(ImporterError):
    """Bad options or environment (missing store id, token on the command line, ...)."""


class InputError(ImporterError):
    """A file cannot be read as input: missing, empty, corrupt, no contact column, ..."""

    def __init__(self, path: str, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class RunStopped(ImporterError):
    """The run stopped early: auth, scope, plan, store not found, or interrupted.

    Raised inside the sender; the pipeline marks unsent rows `not_sent`, writes the
    report and re-raises so the CLI exits 3 with `message`.
    """

    exit_code = 3

    def __init__(self, message: str, *, error_code: str = "", http_status: int | None = None):
        # error_code: a stop reason of the catalogue (Code.X.stop builds it), or the code Ecwid answered
        self.message = message
        self.error_code = error_code
        self.http_status = http_status
        super().__init__(message)


class ReportNotWritten(ImporterError):
    """The run is over (sent, journaled) but its report could not be written: a full disk, a
    report folder that turned read-only. `summary` is what summary.json would have held."""

    exit_code = 3

    def __init__(self, message: str, summary: dict):
        self.summary = summary
        super().__init__(message)
