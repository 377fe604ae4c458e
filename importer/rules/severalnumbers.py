"""A phone cell that holds several numbers gives one contact each: "030 1234567 / 0171 2345678"; an email
cell that holds several addresses too: "a@x.com; b@y.com".

    values = split_numbers(values, country_cells, region)   # values indexed by line; exploded where a cell splits
    values = split_emails(values)                            # the same, for an email column
    keys = first_emails(cells)                               # a customer-key cell of several: its first address

A cell is split only where each part is a valid number on its own, read in the row's country (its
country cell, else --phone-region): "030 / 43224299" stays one number, and a cell whose parts are not
all numbers stays whole (and is one invalid-phone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from importer import rules
from importer.rules.emails import several_emails
from importer.rules.phones import several_numbers

_MAYBE_EMAILS = r"[;,\n]|\s/\s"  # rules.emails._EMAILS_BETWEEN's separators, looked for at once
_MAYBE = r"[/;,\n|]|\s(?:or|oder|ou|o|of|lub)\s"  # rules.phones._BETWEEN's separators, looked for at once


def split_numbers(values: pd.Series, country_cells: pd.Series | None, region: str | None) -> pd.Series:
    """`values` (a phone column's filled cells, indexed by their line) with each cell of several valid numbers
    replaced by its numbers, one entry each; `country_cells`: the sheet's country column, by line."""
    try:  # vectorized: a workbook's number cells are no text and hold one number
        maybe = values.str.contains(_MAYBE, regex=True, case=False, na=False).to_numpy(dtype=bool)
    except AttributeError:  # no text at all
        return values
    if not maybe.any():
        return values
    texts = values.map(lambda v: v if isinstance(v, str) else "")
    out = values.astype(object).copy()
    for k in np.flatnonzero(maybe).tolist():
        line = int(values.index[k])
        place = region
        if country_cells is not None and (written := rules.cell_text(country_cells.iat[line])):
            place = rules.country(written)[0]
        parts = several_numbers(rules.cell_text(texts.iat[k]), place)
        if parts:
            out.iat[k] = parts
    return out.explode() if any(isinstance(v, list) for v in out.tolist()) else values


def split_emails(values: pd.Series) -> pd.Series:
    """`values` (an email column's filled cells, indexed by their line) with each cell of several valid addresses
    replaced by its addresses, one entry each (rules.emails.several_emails, once per distinct cell)."""
    at, parts = _several_emails(values)
    if not parts:
        return values
    out = values.astype(object)  # a copy: a cell becomes a list
    out.iloc[at] = values.iloc[at].map(lambda v: parts.get(v, v)).to_numpy(dtype=object)
    return out.explode()


def first_emails(cells: pd.Series) -> pd.Series:
    """A customer-key column: a cell of several valid addresses names its customer by the first of them (the
    row's other addresses are its contacts; matching finds a row whose addresses name two customers)."""
    at, parts = _several_emails(cells)
    if not parts:
        return cells
    out = cells.astype(object)
    out.iloc[at] = cells.iloc[at].map(lambda v: parts[v][0] if v in parts else v).to_numpy(dtype=object)
    return out


def _several_emails(values: pd.Series) -> tuple[np.ndarray, dict[str, list[str]]]:
    """(the positions of cells with a separator, each such distinct cell that holds several valid addresses ->
    its addresses)."""
    try:  # vectorized: most cells hold no separator at all
        maybe = values.str.contains(_MAYBE_EMAILS, regex=True, na=False).to_numpy(dtype=bool)
    except AttributeError:  # no text at all
        return np.zeros(0, dtype=np.int64), {}
    at = np.flatnonzero(maybe)
    found = {c: several_emails(rules.cell_text(c)) for c in pd.unique(values.iloc[at]) if isinstance(c, str)}
    return at, {c: parts for c, parts in found.items() if parts}
