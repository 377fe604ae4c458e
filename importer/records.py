"""Contact types, statuses, and the record one row travels as; `Code` (the stable error codes) is
importer.errors' catalogue, importable from here too.

The run's rows live in one pandas frame (importer.input.table); a frozen `ContactRecord` is
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
    preset: str = ""  # the known export it was read as (importer.mapping.presets), "" if none
    header_row: int = 1  # the header's Excel row (importer.input.tablefind: found where it is)
    skipped: tuple[tuple[tuple[int, ...], str, str], ...] = ()  # rows that are not rows: (Excel rows, what, text)
    reasons: tuple[tuple[str, str], ...] = ()  # (header, why): a reading its values decided, not its header


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


def __getattr__(name: str) -> Any:
    # `from importer.records import Code`: the codes moved to the catalogue (importer.errors.codes), which builds
    # this module's Outcome and RecordError, so it is imported when first asked for, not at the top.
    if name == "Code":
        from importer.errors.codes import Code

        return Code
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
