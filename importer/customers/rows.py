"""What a source row says about its customer besides the key: its emails, its name.

    row_emails(table)              -> {Source: emails}  wide rows with a customer id: their Email contacts
    customer_names(table, emails)  -> {email: name}     the name columns of the first row naming each email

Used when customers are settled: a row's emails are checked against its id's customer
(customer-mismatch), and a customer created by --create-customers gets the row's name.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from importer.frame import Table
from importer.mapping.headers import NAME_FIELDS
from importer.records import ContactType, Source, Status
from importer.rules import cell_text


def row_emails(table: Table) -> dict[Source, frozenset[str]]:
    """Wide rows that name their customer by id: the (valid) emails among their contacts."""
    frame = table.frame
    wide = np.array([s.table.layout == "wide" for s in table.sheets] or [False], dtype=bool)
    mask = (
        wide[frame["sheet_no"].to_numpy()]
        & frame["customer_id"].notna().to_numpy(dtype=bool)
        & (frame["type"] == ContactType.EMAIL.value).to_numpy(dtype=bool)
        & (frame["status"] != Status.INVALID.value).to_numpy(dtype=bool)
    )
    if not mask.any():
        return {}
    rows = frame.loc[mask, ["file", "sheet", "row", "contact"]]
    out: dict[Source, set[str]] = {}
    for file, sheet, row, contact in rows.itertuples(index=False, name=None):
        out.setdefault(Source(file, sheet, int(row)), set()).add(str(contact).lower())
    return {k: frozenset(v) for k, v in out.items()}


def customer_names(table: Table, emails: Collection[str]) -> dict[str, str]:
    """Each email's name, from the name columns (full name, or first and last) of the first row naming it."""
    frame = table.frame
    wanted = frame["customer_email"].isin(list(emails)).to_numpy(dtype=bool)
    if not wanted.any():
        return {}
    first = frame.loc[wanted, ["customer_email", "sheet_no", "line"]].drop_duplicates("customer_email")
    names: dict[str, str] = {}
    for email, sheet_no, line in first.itertuples(index=False, name=None):
        sheet = table.sheets[int(sheet_no)]
        cols = {f: sheet.table.headers.index(h) for h, f in sheet.table.field_of.items() if f in NAME_FIELDS}
        cell = {f: _text(sheet.cells.iat[int(line), i]) for f, i in cols.items()}
        name = cell.get("customerName") or " ".join(filter(None, (cell.get("firstName"), cell.get("lastName"))))
        if name:
            names[email] = name
    return names


def _text(value) -> str:
    return "" if value is None or value != value else cell_text(value)  # NaN: a cell past a short row
