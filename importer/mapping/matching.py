"""Which customer a row names, decided from what the file holds and what the store says; no flags needed.

    plan = replanned(plan, cells, key, mapping, log, preset, country_column)   # all of the below, at load
    why = ids_not_whole(plan, cells, key)     # at load: "" or the note saying the ids can't be Ecwid's
    kinds = kinds_by_values(plan, cells)      # at load: {"Work": "PHONE"}: a header that says only which one
    dates = dates_not_read(plan, cells)       # at load: {"Date Created": ""}: a customer's date no rule reads
    names = links_not_read(plan, cells)       # at load: {"Web Site": "Main Website"}: a URL column of no web address
    left = contact_like_left_out(plan, cells) # at load: ((PHONE, 12, "Fax"),): contacts left out, each said on a line
    header = headerless_named(header, cells)  # a column of contacts with no header gets a name: said, not lost
    holds_no_contact(plan, cells)             # no contact cell is one (an instructions sheet): not a table of contacts
    written_kind(cell)                        # "PHONE": the kind a cell is written as, or None
    first_email(cells, columns)               # per row: the first cell of `columns` that holds an email
    row_email_lists(table)                    # {Source: the row's emails, in order}
    (importer.customers.storematch.settle: the decisions that need the store's answers)

What the values tell, at load (each said in a note of the plan):

* an id column whose values are mostly not positive whole numbers (Odoo's `__export__.res_partner_7_…`,
  Zoho's `zcrm_…`) is not this store's: the sheet is planned again with the customers named by the rows'
  emails (headers.plan_table(drop_ids=...)); `--match-by id` keeps it;
* a column whose header says only which one (Freshsales' `Work`) and whose values are all phone numbers,
  or all emails, is read as that kind; a wide sheet's date column whose values no rule reads is the
  customer's date, left out rather than failing every contact;
* a column left out whose values are contacts all the same (`Fax`) gives each cell a `skipped` line.

What needs the store (ids mostly unknown to it, several emails on a row) is importer.customers.storematch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from importer.mapping import headers
from importer.rules.words import is_postal, read_header, unnamed
from importer.records import ContactType, Source
from importer.rules import cell_text, infer_type, parse_customer_id, parse_timestamp

if TYPE_CHECKING:
    import logging

    from importer.mapping.headers import CustomerKey, Plan
    from importer.frame import Table

__all__ = ["replanned", "ids_not_whole", "kinds_by_values", "dates_not_read", "links_not_read", "contact_like_left_out",
           "headerless_named", "holds_no_contact", "written_kind", "first_email",
           "row_email_lists", "SWITCH_HINT"]

SWITCH_HINT = "customers matched by email; --match-by id to use them"
def _id_column(plan: Plan) -> int | None:
    return next((i for f, i in plan.fields if f == "customerId"), None)


def _has_emails(plan: Plan) -> bool:
    return any(k == ContactType.EMAIL for k, _, _ in plan.kinds) or any(f == "customerEmail" for f, _ in plan.fields)


def replanned(plan: Plan, cells: pd.DataFrame, key: CustomerKey, mapping: dict[str, str], log: logging.Logger,
              preset: str | None, country_column: str | None) -> Plan:
    """The plan again where the values tell what the headers could not (each said in plan.notes): ids that are
    not this store's, a `Work` column of phone numbers, a date column no rule reads; and the contact-like
    columns left out, whose cells get lines of their own (Plan.left_out)."""
    why = ids_not_whole(plan, cells, key)
    kinds = kinds_by_values(plan, cells)
    dates = dates_not_read(plan, cells)
    links = links_not_read(plan, cells)
    names = {h: "" for h in links if h not in mapping}
    if why or kinds or dates or names:
        plan = headers.plan_table(plan.table.file, plan.table.sheet, list(plan.table.headers),
                                  {**kinds, **dates, **names, **mapping}, log, key, preset=preset,
                                  country_column=country_column, drop_ids=why)  # fmt: skip
        where = plan.table.file + (f":{plan.table.sheet}" if plan.table.sheet else "")
        said = [f"{where}: column {h!r} read as {k}: its header says only which one, its values are "
                f"{'phone numbers' if k == 'PHONE' else 'emails'}" for h, k in kinds.items()]
        said += [f"{where}: column {h!r} not used as the contacts' timestamp: its values are not dates like "
                 "2025-03-26 11:07:12 (--mapping HEADER,timestamp after fixing them)"
                 for h in dates if h not in mapping]
        said += [f"{where}: column {h!r} left out: its values name no web address ({links[h]!r})" for h in names]
        why = [(h, f"its values are {'phone numbers' if k == 'PHONE' else 'emails'}") for h, k in kinds.items()]
        why += [(h, "its values are not dates like 2025-03-26 11:07:12") for h in dates if h not in mapping]
        why += [(h, f"its values name no web address ({links[h]!r})") for h in names]
        plan = replace(plan, notes=(*plan.notes, *said), table=replace(plan.table, reasons=tuple(why)))
    left = contact_like_left_out(plan, cells)
    return replace(plan, left_out=left) if left else plan


def ids_not_whole(plan: Plan, cells: pd.DataFrame, key: CustomerKey) -> str:
    """The note when most distinct ids of the id column are not positive whole numbers and the rows have emails
    to be named by instead (never with --match-by id); else ""."""
    at = _id_column(plan)
    if at is None or key.match_by == "id" or plan.table.layout != "wide" or not _has_emails(plan) or not len(cells):
        return ""
    texts = {cell_text(v) for v in pd.unique(cells[at].to_numpy(dtype=object)) if v is not None and v == v}
    texts.discard("")
    bad = sum(parse_customer_id(t)[1] is not None for t in texts)
    if not texts or bad * 2 <= len(texts):
        return ""
    header = plan.table.headers[at]
    where = f"{plan.table.file}:{plan.table.sheet}" if plan.table.sheet else plan.table.file
    counts = f"{bad} of {len(texts)} are not whole numbers"
    return f"{where}: ids in {header!r} are not this store's ({counts}): {SWITCH_HINT}"


_SAMPLE = 50  # distinct values looked at


def kinds_by_values(plan: Plan, cells: pd.DataFrame) -> dict[str, str]:
    """Columns left out whose header only says which one (Freshsales' `Work`, `Home`) and whose values are all
    phone numbers, or all emails: header -> that kind (their qualifier becomes the note)."""
    found = {}
    for at, header in enumerate(plan.table.headers):
        if not header or header in plan.table.field_of or not read_header(header).note:
            continue
        if read_header(header).target is not None or not len(cells):
            continue
        values = [cell_text(v) for v in pd.unique(cells[at].to_numpy(dtype=object))[: _SAMPLE * 2]
                  if isinstance(v, str) or isinstance(v, (int, float)) and v == v]
        values = [v for v in values if v][:_SAMPLE]
        kinds = {infer_type(v) for v in values}
        if values and len(kinds) == 1 and (kind := kinds.pop()) in (ContactType.PHONE, ContactType.EMAIL):
            found[header] = kind.value
    return found


def dates_not_read(plan: Plan, cells: pd.DataFrame) -> dict[str, str]:
    """One customer per row: a date column read as the contacts' timestamp (`Date Created`) whose values are
    mostly not dates the rule reads ("3/14/2024 10:22 AM") is the customer record's date, not worth every
    contact of the file: header -> "" (ignored), said in a note. Long layout keeps it: there it is per contact."""
    if plan.table.layout != "wide" or not len(cells):
        return {}
    found = {}
    for field, at in plan.fields:
        if field != "timestamp":
            continue
        values = [v for v in pd.unique(cells[at].to_numpy(dtype=object))[: _SAMPLE * 2] if isinstance(v, str)]
        values = [cell_text(v) for v in values if cell_text(v)][:_SAMPLE]
        if values and sum(parse_timestamp(v)[1] is not None for v in values) * 2 > len(values):
            found[plan.table.headers[at]] = ""
    return found


def links_not_read(plan: Plan, cells: pd.DataFrame) -> dict[str, str]:
    """Wide URL columns none of whose values holds a dot (Magento's `Web Site`: `Main Website`, the store view's
    site): header -> a value, as said. Not a web address anywhere in the column: a name, not a contact. Only
    beside other contact columns: a file's one contact column is reported cell by cell instead."""
    found = {}
    if len({at for _, at, _ in plan.kinds}) < 2:
        return found
    for kind, at, header in plan.kinds if plan.table.layout == "wide" else ():
        if kind != ContactType.URL.value or not len(cells):
            continue
        values = [cell_text(v) for v in pd.unique(cells[at].to_numpy(dtype=object))[: _SAMPLE * 2] if isinstance(v, str)]
        values = [v for v in values if v][:_SAMPLE]
        if values and not any("." in v for v in values):
            found[header] = values[0]
    return found


_IP = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def _contact_like(value: str) -> str | None:
    """The kind a left-out cell's value is written as: an email, a link, or a phone number written as one
    (`+`, or digits with spaces, dashes or brackets; not bare digits, which are as often an id)."""
    kind = infer_type(value)
    if kind != ContactType.PHONE:  # a sentence holding an '@' (errors.csv's own error column) is not an email
        return kind.value if kind is not None and not any(c.isspace() for c in value) else None
    if value.isdigit() or _IP.fullmatch(value) or parse_timestamp(value)[1] is None:
        return None
    return kind.value if value.startswith("+") or any(c in value for c in " -()") else None


def contact_like_left_out(plan: Plan, cells: pd.DataFrame) -> tuple[tuple[str, int, str], ...]:
    """Wide columns left out whose values are contacts all the same (`Fax`, `Asst Phone`, an unknown header):
    (kind, index, header) of each, where nine in ten of its first distinct values are written as one kind."""
    if plan.table.layout != "wide" or not len(cells):
        return ()
    found = []
    for at, header in enumerate(plan.table.headers):
        if not header or header in plan.table.field_of or is_postal(header):
            continue
        if (top := _contacts_in(cells[at])) is not None:
            found.append((top, at, header))
        elif headers.reading_of(header) == "contact" and _contacts_in(cells[at], any_kind=True) is not None:
            found.append(("", at, header))  # `Value` beside `Email`, phones and emails: each cell's own kind
    return tuple(found)


def written_kind(value: object) -> str | None:
    """The kind a cell is written as (an email, a link, a phone number written as one), else None."""
    return _contact_like(cell_text(value)) if isinstance(value, str) else None


def _contacts_in(column: pd.Series, any_kind: bool = False) -> str | None:
    """The kind nine in ten of a column's first distinct values are written as (a contact's), else None;
    `any_kind`: nine in ten are contacts of any kind (the most common kind)."""
    distinct = pd.unique(column.to_numpy(dtype=object))[: _SAMPLE * 2]
    values = [cell_text(v) for v in distinct if isinstance(v, str)]
    values = [v for v in values if v][:_SAMPLE]
    kinds = [_contact_like(v) for v in values]
    if any_kind:
        kinds = ["" if k is not None else None for k in kinds]
    top = max(set(kinds), key=kinds.count) if kinds else None
    return top if top is not None and kinds.count(top) * 10 >= len(kinds) * 9 else None


def holds_no_contact(plan: Plan, cells: pd.DataFrame) -> bool:
    """No cell of the sheet's contact columns is written as a contact (an instructions sheet whose line
    `Spalte B: E-Mail-Adresse` reads as a header, a sheet of drop-down lists: `Email`, `Phone`)."""
    columns = [at for _, at, _ in plan.kinds] if plan.table.layout == "wide" else [plan.contact_col]
    for at in columns:
        if at < 0 or at >= cells.shape[1]:
            continue
        for value in pd.unique(cells[at].to_numpy(dtype=object))[: _SAMPLE * 20]:
            text = cell_text(value) if isinstance(value, str) else ""
            kind = infer_type(text) if text else None  # a sentence holding an address is not one
            if kind is not None and (kind == ContactType.PHONE or not any(c.isspace() for c in text)):
                return False
    return True


def headerless_named(header: Sequence[str], cells: pd.DataFrame) -> list[str]:
    """The header, with a name (importer.rules.words.unnamed: `(no header: column D)`) for each column that has none (a
    blank header cell, or past the header's last) and holds contacts: it is then left out like any column of
    contacts no header word names, each cell on a line of its own, never dropped unsaid."""
    named = list(header)
    for at in range(cells.shape[1] if len(cells) else 0):
        if (at >= len(named) or not named[at]) and _contacts_in(cells[at]) is not None:
            named += [""] * (at + 1 - len(named))
            named[at] = unnamed(at)
    return named


def first_email(cells: pd.DataFrame, columns: Sequence[int]) -> pd.Series:
    """Per row, the first of `columns` whose cell holds an email ("@"), else the first column's cell."""
    out = cells[columns[0]].to_numpy(dtype=object, copy=True)
    for at in columns[1:]:
        have = pd.Series(out, dtype=object).map(lambda v: isinstance(v, str) and "@" in v).to_numpy(dtype=bool)
        out[~have] = cells[at].to_numpy(dtype=object)[~have]
    return pd.Series(out, index=cells.index, dtype=object)


def row_email_lists(table: Table) -> dict[Source, tuple[str, ...]]:
    """Every wide row's valid emails, lower-cased, in the row's order (the key columns first)."""
    frame = table.frame
    wide = np.array([s.table.layout == "wide" for s in table.sheets] or [False], dtype=bool)
    mask = (
        wide[frame["sheet_no"].to_numpy()]
        & (frame["type"] == ContactType.EMAIL.value).to_numpy(dtype=bool)
        & np.fromiter((not e for e in frame["errors"].tolist()), dtype=bool, count=len(frame))
    )
    out: dict[Source, list[str]] = {}
    for file, sheet, row, contact in frame.loc[mask, ["file", "sheet", "row", "contact"]].itertuples(index=False):
        emails = out.setdefault(Source(file, sheet, int(row)), [])
        if str(contact).lower() not in emails:
            emails.append(str(contact).lower())
    return {k: tuple(v) for k, v in out.items()}
