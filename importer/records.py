"""Contact types, statuses, the stable error codes, and the record one row travels as.

The run's rows live in one pandas frame (importer.table); a frozen `ContactRecord` is
built only where one row travels alone: the sender, the journal, `result.records`.
Bad data is a value (`RecordError` on the row), never an exception.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ContactType(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    FACEBOOK = "FACEBOOK"
    INSTAGRAM = "INSTAGRAM"
    TWITTER = "TWITTER"
    YOUTUBE = "YOUTUBE"
    TIKTOK = "TIKTOK"
    PINTEREST = "PINTEREST"
    VK = "VK"
    FB_MESSENGER = "FB_MESSENGER"
    WHATSAPP = "WHATSAPP"
    TELEGRAM = "TELEGRAM"
    VIBER = "VIBER"
    URL = "URL"
    OTHER = "OTHER"


class Status(StrEnum):
    CREATED = "created"  # createCount 1
    NOT_CREATED = "not_created"  # createCount 0
    FAILED = "failed"  # an error after retries
    INVALID = "invalid"  # rejected before sending
    DUPLICATE = "duplicate"  # repeats an earlier record of the same run
    SKIPPED = "skipped"  # already imported (journal or store)
    VALID = "valid"  # dry run: would be sent
    NOT_SENT = "not_sent"  # the run stopped first
    PENDING = "pending"  # internal: valid, not yet sent; never in a finished report
    UPDATED = "updated"  # --update: a contact the customer had, with changed fields, was updated (PUT)
    DELETED = "deleted"  # undo: the contact the run created is gone from the store
    KEPT = "kept"  # undo: the contact was left in the store (changed since the run)


class Code(StrEnum):
    """Stable kebab-case error codes. Users script against these: never rename."""

    # input rows (normalize / validate)
    MISSING_CUSTOMER = "missing-customer-id"
    INVALID_CUSTOMER_ID = "invalid-customer-id"
    INVALID_CUSTOMER_EMAIL = "invalid-customer-email"
    INVALID_STORE_ID = "invalid-store-id"
    STORE_MISMATCH = "store-mismatch"
    MISSING_CONTACT = "missing-contact"
    MISSING_TYPE = "missing-type"
    UNKNOWN_TYPE = "unknown-type"
    INVALID_EMAIL = "invalid-email"
    INVALID_PHONE = "invalid-phone"
    PHONE_NEEDS_REGION = "phone-needs-region"
    PHONE_AMBIGUOUS = "phone-ambiguous"  # digits only: an international number that lost its +, or a national one
    UNKNOWN_COUNTRY = "unknown-country"  # a country cell that names no country, for a number without +country code
    LOST_DIGITS = "lost-digits"  # 1.77737E+08: Excel rounded a number
    INVALID_URL = "invalid-url"
    WRONG_NETWORK = "wrong-network"  # a link to another network's domain
    INVALID_HANDLE = "invalid-handle"
    INVALID_DEFAULT = "invalid-default"
    INVALID_ORDER_BY = "invalid-order-by"
    INVALID_TIMESTAMP = "invalid-timestamp"
    TOO_LONG = "too-long"
    BAD_ENCODING = "bad-encoding"  # bytes that are not UTF-8 in a file that otherwise is
    DUPLICATE_DEFAULT = "duplicate-default"
    DUPLICATE = "duplicate"
    # sending
    AMBIGUOUS = "ambiguous"  # sent, no answer: the contact may exist
    UNEXPECTED_RESPONSE = "unexpected-response"
    CUSTOMER_NOT_FOUND = "customer-not-found"
    CUSTOMER_AMBIGUOUS = "customer-ambiguous"
    REJECTED = "rejected"  # 400 from Ecwid
    HTTP_ERROR = "http-error"  # other final HTTP status
    RETRIES_EXHAUSTED = "retries-exhausted"
    CONNECTION_ERROR = "connection-error"
    RUN_STOPPED = "run-stopped"
    BATCH_TIMEOUT = "batch-timeout"  # the run stopped: a batch ticket made no progress for --batch-timeout
    API_UNREACHABLE = "api-unreachable"  # the run stopped: no answer from Ecwid's API (at the start, or for a while)
    # skipping
    ALREADY_IMPORTED = "already-imported"  # the journal says a run created it
    EXISTS_IN_STORE = "exists-in-store"  # the customer already has it (same type and value; emails in any case)
    COLUMN_NOT_IMPORTED = "column-not-imported"  # a cell of a contact-like column left out (Fax): skipped, said
    STORE_CHECK_FAILED = "store-check-failed"  # the customer's contacts could not be read
    # customers by email
    CUSTOMER_LOOKUP_FAILED = "customer-lookup-failed"  # GET /customers?email= failed after retries
    CUSTOMER_MISMATCH = "customer-mismatch"  # the id's customer has another email than the row's
    CUSTOMER_CREATE_FAILED = "customer-create-failed"  # --create-customers: POST /customers failed
    # undo and --update
    CHANGED_SINCE = "changed-since"  # undo: the contact's note, handle, default or order changed since the run
    ALREADY_GONE = "already-gone"  # undo: the store no longer has the contact
    SENT_UNKNOWN = "sent-unknown"  # undo: the journal holds no record of the fields sent (an older journal)
    UPDATE_FAILED = "update-failed"  # --update: PUT of the changed fields failed
    DELETE_FAILED = "delete-failed"  # undo: DELETE failed


# Canonical field names (the API's own spelling) the loader maps headers onto.
FIELDS = (
    "customerId",
    "customerEmail",
    "storeId",
    "type",
    "contact",
    "handle",
    "note",
    "default",
    "orderBy",
    "timestamp",
    # the customer's name: used only for a customer --create-customers creates
    "customerName",
    "firstName",
    "lastName",
    "country",  # the region of the row's phone numbers without +country code
)

Cell = str | bool | dt.datetime  # loader values: text, or Excel's typed booleans/dates


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from, as a person sees it in Excel (header = row 1)."""

    file: str
    sheet: str  # "" for text files
    row: int

    def __str__(self) -> str:
        """'row 12 (file.csv)' or 'row 12 (book.xlsx, sheet Contacts)': the one way a row is named."""
        where = os.path.basename(self.file) or self.file
        if self.sheet:
            where += f", sheet {self.sheet}"
        return f"row {self.row} ({where})"


@dataclass(frozen=True, slots=True)
class SourceTable:
    """One sheet or text file: its own header, its layout, and what each header was read as."""

    file: str
    sheet: str
    headers: tuple[str, ...]  # as written in the file
    layout: str  # "long" | "wide"
    field_of: dict[str, str] = field(default_factory=dict)  # header -> canonical field or wide ContactType
    key_column: str = ""  # wide, --match-by email: the header that is the customer's key and one of their contacts
    preset: str = ""  # the known export it was read as (importer.presets), "" if none
    header_row: int = 1  # the header's Excel row (importer.tablefind: found where it is)
    skipped: tuple[tuple[tuple[int, ...], str, str], ...] = ()  # rows that are not rows: (Excel rows, what, text)


@dataclass(frozen=True, slots=True)
class RecordError:
    code: str  # a Code value
    column: str  # the header as written in the file (or canonical field name)
    message: str  # what a person should do about it

    def __str__(self) -> str:
        return f"{self.column}: {self.message}" if self.column else self.message


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    http_status: int | None = None
    create_count: int | None = None
    attempts: int = 0
    error_code: str = ""
    error: str = ""


PENDING = Outcome(Status.PENDING)


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """A normalized contact: what would be sent, where it came from, what happened."""

    index: int  # 0-based position in the run: the report's order
    source: Source
    customer_id: int | None
    customer_email: str | None  # lower-cased; stands in for the id until resolved
    type: str  # a ContactType value when valid; as far as normalization got otherwise
    contact: str  # as sent: E.164 phones, canonical links
    handle: str = ""
    note: str = ""
    default: bool | None = None
    order_by: int | None = None
    timestamp: str | None = None
    source_contact: str = ""  # as written in the file
    errors: tuple[RecordError, ...] = ()
    outcome: Outcome = PENDING
    duplicate_of: Source | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def customer_key(self) -> str:
        """The customer as the file names it: id if known, else the email."""
        if self.customer_id is not None:
            return str(self.customer_id)
        return f"email:{self.customer_email or ''}"

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity of a contact within a store: customer, type, normalized value."""
        return (self.customer_key, self.type, self.contact)

    def body(self) -> dict[str, Any]:
        """The JSON body of POST /customers/{id}/contacts; blank fields are not sent."""
        body: dict[str, Any] = {"contact": self.contact, "type": self.type}
        if self.handle:
            body["handle"] = self.handle
        if self.note:
            body["note"] = self.note
        if self.default is not None:
            body["default"] = self.default
        if self.order_by is not None:
            body["orderBy"] = self.order_by
        if self.timestamp:
            body["timestamp"] = self.timestamp
        return body
