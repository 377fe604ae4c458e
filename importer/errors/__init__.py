"""Errors: the catalogue of stable codes (importer.errors.codes) and the exceptions that stop a run.

    from importer.errors import Code, InputError, UsageError, RunStopped, interrupted
    Code.CUSTOMER_NOT_FOUND.outcome(detail="no customer 7 in the store")   # bad data is a value
    raise UsageError("no input file given")                                # exit 2: nothing was sent

`python -m importer.errors.catalogue --markdown` prints the README's table of codes.
"""

from importer.errors.codes import STOP, Code, Entry, interrupted, not_sent
from importer.errors.exceptions import ImporterError, InputError, ReportNotWritten, RunStopped, UsageError

__all__ = ["Code", "Entry", "STOP", "interrupted", "not_sent", "ImporterError", "InputError", "ReportNotWritten", "RunStopped",
           "UsageError"]
