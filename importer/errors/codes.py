"""The error catalogue: one entry per stable code (code, status, title, message template, description).

    Code.CUSTOMER_NOT_FOUND.outcome(detail=f"no customer {cid} in the store")   # an Outcome, status failed
    Code.TOO_LONG.error("Note", detail="...")                                   # a RecordError on a row
    raise Code.INTERRUPTED.stop(what="the run was cancelled ...")               # a RunStopped (exit 3)

A code is a `str` (results.csv's `error_code`, summary.json's `stopped_code`): users script against
it, so none is ever renamed; new codes join the list. Each entry says the status its rows usually
end in (a call site may say another: `status=`), a title, the message template its call sites fill
(`str.format` fields; a message a site words itself goes in `{detail}`), and one line of what it
means and what to do. The README's table of codes is made from these entries
(`python -m importer.errors.catalogue --markdown`); a test says the two agree.
(The models: frictionless' error classes, pydantic-core's error list.)
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from importer.errors.exceptions import RunStopped
from importer.records import Outcome, RecordError, Status

__all__ = ["Code", "Entry", "STOP", "interrupted", "not_sent"]

STOP = "stop"  # the status column of a stop reason: the run stopped, its unsent rows are `not_sent`


class Entry(NamedTuple):
    code: str
    status: str  # a Status value, or STOP
    title: str
    template: str  # str.format fields
    description: str


class Code(StrEnum):
    """Stable kebab-case error codes, each with its catalogue entry. Users script against these: never rename."""

    entry: Entry

    def __new__(cls, value: str, status: str, title: str, template: str, description: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.entry = Entry(value, str(status), title, template, description)
        return member

    def message(self, **values: object) -> str:
        """The entry's template filled with `values`."""
        return self.entry.template.format(**values)

    def outcome(self, *, status: Status | None = None, http_status: int | None = None, attempts: int = 0,
                create_count: int | None = None, **values: object) -> Outcome:
        """A row's outcome with this code: the entry's status (unless `status`), its message from `values`."""
        return Outcome(status or Status(self.entry.status), http_status, create_count, attempts, self, self.message(**values))

    def error(self, column: str, **values: object) -> RecordError:
        """A bad cell of an input row (a value, never an exception)."""
        return RecordError(self, column, self.message(**values))

    def stop(self, *, http_status: int | None = None, kind: type[RunStopped] = RunStopped, **values: object) -> RunStopped:
        """The reason a run stops (exit 3), for a code whose status is `stop`; `kind`: a RunStopped subclass."""
        return kind(self.message(**values), error_code=self, http_status=http_status)

    # input rows (normalize / validate)
    MISSING_CUSTOMER = ("missing-customer-id", Status.INVALID, "No customer", "{detail}", "The row names no customer: no customer id and no customer email.")
    INVALID_CUSTOMER_ID = ("invalid-customer-id", Status.INVALID, "Bad customer id",
                           "{value!r} is not a customer id (a positive whole number)",
                           "The customer id cell is not a positive whole number.")
    INVALID_CUSTOMER_EMAIL = ("invalid-customer-email", Status.INVALID, "Bad customer email", "{detail}",
                              "The email naming the row's customer is not an email address.")
    INVALID_STORE_ID = ("invalid-store-id", Status.INVALID, "Bad store id",
                        "{value!r} is not a store id (a positive whole number)",
                        "The row's store id cell is not a positive whole number.")
    STORE_MISMATCH = ("store-mismatch", Status.INVALID, "Another store's row",
                      "row is for store {found}, importing into {store_id}",
                      "The row's store id names another store than the one imported into.")
    MISSING_CONTACT = ("missing-contact", Status.INVALID, "No contact", "the contact is blank",
                       "The row's contact cell is blank.")
    MISSING_TYPE = ("missing-type", Status.INVALID, "No type",
                    "type is blank and cannot be told from {value!r}; use one of {types}",
                    "The type is blank and the value does not say which kind of contact it is.")
    UNKNOWN_TYPE = ("unknown-type", Status.INVALID, "Unknown type",
                    "unknown type {value!r}{hint}; use one of {types}", "The type names no Ecwid contact type.")
    INVALID_EMAIL = ("invalid-email", Status.INVALID, "Bad email", "{detail}",
                     "Not an email address (email-validator's reason follows).")
    INVALID_PHONE = ("invalid-phone", Status.INVALID, "Bad phone number", "{value!r} is not a phone number: {reason}",
                     "Not a phone number, or one with the wrong number of digits for its country.")
    PHONE_NEEDS_REGION = ("phone-needs-region", Status.INVALID, "Phone without country",
                          "{value!r} has no +country code: write it as +<country code> ..., give the row a country, "
                          "or pass --phone-region (e.g. US)",
                          "A number without +country code, and nothing says its country.")
    PHONE_AMBIGUOUS = ("phone-ambiguous", Status.INVALID, "Phone read two ways",
                       "{value!r} can be {international} (read with its country code first) or {national} "
                       "({region}, written {written}): write it with + and its country code",
                       "Digits only: an international number that lost its +, or a national one; the digits can't "
                       "tell which.")
    UNKNOWN_COUNTRY = ("unknown-country", Status.INVALID, "Unknown country",
                       "country {value!r} is not a country name or ISO code (like DE, DEU, Germany, Deutschland): "
                       "correct it, or write the phone numbers with +country code",
                       "The row's country, needed for a number without +country code, names no country.")
    LOST_DIGITS = ("lost-digits", Status.INVALID, "Digits lost by Excel",
                   "{value!r} is in scientific notation: Excel rounded the number and digits are lost; format the "
                   "column as Text and export again",
                   "1.77737E+08: Excel rounded a number; the digits are gone, never guessed.")
    INVALID_URL = ("invalid-url", Status.INVALID, "Bad link", "{value!r} is not a web address (expected https://host/...)",
                   "Not an http(s) link.")
    WRONG_NETWORK = ("wrong-network", Status.INVALID, "Another network's link",
                     "{value!r} links to {where}, not {type}{hint}", "A link to another network's domain.")
    INVALID_HANDLE = ("invalid-handle", Status.INVALID, "Bad profile name", "{detail}",
                      "The link or handle names no profile the network allows.")
    INVALID_DEFAULT = ("invalid-default", Status.INVALID, "Bad default",
                       "{value!r} is not true/false (also yes/no, 1/0, y/n, on/off)", "The default cell is not a yes/no.")
    INVALID_ORDER_BY = ("invalid-order-by", Status.INVALID, "Bad sort order",
                        "{value!r} is not a sort order (a whole number from 0)",
                        "The order cell is not a whole number from 0.")
    INVALID_TIMESTAMP = ("invalid-timestamp", Status.INVALID, "Bad date",
                         "{value!r} is not a date/time: use ISO 8601, e.g. 2025-03-26 11:07:12 or "
                         "2025-03-26T11:07:12+02:00", "The timestamp cell is not a date and time.")
    TOO_LONG = ("too-long", Status.INVALID, "Too long", "the {what} is {length} characters; at most {limit}{more}",
                "A cell longer than Ecwid (or Excel) takes.")
    BAD_ENCODING = ("bad-encoding", Status.INVALID, "Bytes not UTF-8",
                    "bytes that are not UTF-8{place} in a file that is UTF-8 elsewhere{more}: fix the cell or the "
                    "file's encoding", "Bytes that are not UTF-8 in a file that otherwise is.")
    DUPLICATE_DEFAULT = ("duplicate-default", Status.INVALID, "Two defaults",
                         "customer {customer} has more than one default {type}: also {others}; keep default=true on "
                         "one of them", "A customer's file rows mark more than one contact of a type as default.")
    DUPLICATE = ("duplicate", Status.DUPLICATE, "Repeated row", "same as {earlier}{customer}",
                 "The row repeats an earlier row's contact (emails in any case): sent once, from the first.")
    # sending
    AMBIGUOUS = ("ambiguous", Status.FAILED, "Sent, no answer", "{detail}",
                 "Sent, and the answer was lost: the contact may exist; never resent blindly, the store is checked.")
    UNEXPECTED_RESPONSE = ("unexpected-response", Status.FAILED, "Unreadable answer", "{detail}",
                           "Ecwid answered something the tool cannot read.")
    CUSTOMER_NOT_FOUND = ("customer-not-found", Status.FAILED, "No such customer", "{detail}",
                          "The store has no customer with the row's id (or email).")
    CUSTOMER_AMBIGUOUS = ("customer-ambiguous", Status.FAILED, "Customer not certain", "{detail}",
                          "Several customers fit the row (an email shared, emails naming different customers).")
    REJECTED = ("rejected", Status.FAILED, "Rejected by Ecwid", "{detail}", "Ecwid answered 400: the contact as sent.")
    HTTP_ERROR = ("http-error", Status.FAILED, "HTTP error", "{detail}", "Another final HTTP status from Ecwid.")
    RETRIES_EXHAUSTED = ("retries-exhausted", Status.FAILED, "Retries used up", "{detail}",
                         "A retryable failure on every attempt (sent again after a lost answer only when the store "
                         "was checked and lacks it).")
    CONNECTION_ERROR = ("connection-error", Status.FAILED, "No connection", "{detail}",
                        "The request could not reach Ecwid (it was not sent).")
    RUN_STOPPED = ("run-stopped", Status.NOT_SENT, "Run stopped first", "{lead}{reason}",
                   "The run stopped before this row was done (summary.json's stopped says why): run again.")
    BATCH_TIMEOUT = ("batch-timeout", STOP, "Batch without progress",
                     "batch ticket {ticket}: {why}; its {rows} rows stay in doubt under the ticket: the next run "
                     "polls it again before sending any of them",
                     "Stop: a batch ticket made no progress for --batch-timeout; the next run polls it again.")
    API_UNREACHABLE = ("api-unreachable", STOP, "API unreachable", "{detail}",
                       "Stop: no answer from Ecwid's API, at the start or for a while; rows in doubt are kept.")
    INTERRUPTED = ("interrupted", STOP, "Interrupted", "interrupted: {what}",
                   "Stop: Ctrl-C, SIGTERM, or a stop asked for on the page; run the same command again to continue.")
    INTERNAL_ERROR = ("internal-error", STOP, "Internal error", "internal error: {name}",
                      "Stop: a bug of the tool's; the report is still written.")
    JOURNAL_UNWRITABLE = ("journal-unwritable", STOP, "Journal unwritable",
                          "the journal {path} could not be written ({reason}): stopped, so that nothing is sent that "
                          "it cannot record", "Stop: the journal cannot record what is sent (a full disk).")
    # skipping
    ALREADY_IMPORTED = ("already-imported", Status.SKIPPED, "Already imported",
                        "already imported: created by run {run_id} on {when}", "The journal says a run created it.")
    EXISTS_IN_STORE = ("exists-in-store", Status.SKIPPED, "In the store already", "{detail}",
                       "The customer already has it (same type and value; emails in any case).")
    COLUMN_NOT_IMPORTED = ("column-not-imported", Status.SKIPPED, "Column left out",
                           "column {header!r} is not imported ({reason}); nothing of it is sent; --mapping "
                           "'{header},{kind}' imports it", "A cell of a contact-like column left out (Fax): said.")
    STORE_CHECK_FAILED = ("store-check-failed", Status.FAILED, "Store not checked", "{context}: {reason}",
                          "The customer's contacts could not be read, so the row was not sent.")
    # customers by email
    CUSTOMER_LOOKUP_FAILED = ("customer-lookup-failed", Status.FAILED, "Customer lookup failed",
                              "could not {what}: {reason}", "Reading the customer failed after retries.")
    CUSTOMER_MISMATCH = ("customer-mismatch", Status.INVALID, "Customer has another email", "{detail}",
                         "The id's customer has another email than the row's: nothing of the row is sent.")
    CUSTOMER_CREATE_FAILED = ("customer-create-failed", Status.FAILED, "Customer not created", "{detail}",
                              "--create-customers: POST /customers failed.")
    # undo and --update
    CHANGED_SINCE = ("changed-since", Status.KEPT, "Changed since the run", "kept: {why}",
                     "Undo: the contact's note, handle, default, order or value changed since the run (--force).")
    ALREADY_GONE = ("already-gone", Status.DELETED, "Already gone", "already gone{when}",
                    "Undo: the store no longer has the contact.")
    SENT_UNKNOWN = ("sent-unknown", Status.KEPT, "Fields sent unknown", "kept: {why}",
                    "Undo: the journal holds no record of the fields sent (an older journal).")
    UPDATE_FAILED = ("update-failed", Status.FAILED, "Update failed", "{detail}",
                     "--update: PUT of the changed fields failed.")
    DELETE_FAILED = ("delete-failed", Status.FAILED, "Delete failed", "{detail}", "Undo: DELETE failed.")


def not_sent(why: str, *, lead: str = "not sent: ", attempts: int = 0) -> Outcome:
    """A row the run never got to (status `not_sent`, code `run-stopped`): the one place this outcome is made.
    `why`: the stop's message; `lead`: what was not done (sent, undone, updated)."""
    return Code.RUN_STOPPED.outcome(attempts=attempts, lead=lead, reason=why)


def interrupted(what: str = "the run was cancelled before every row was sent") -> RunStopped:
    """Ctrl-C or SIGTERM: the reason a run stops early."""
    return Code.INTERRUPTED.stop(what=what)
