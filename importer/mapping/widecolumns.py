"""What a wide sheet's records take from columns besides their own contact column (importer.input.table).

    paired_countries(columns, plan, cells, line, column)   # `Shipping Phone` read in `Shipping Country`
    labels, primary = paired_labels(labels, plan, cells, line, column)  # `E-mail 1 - Label` notes `E-mail 1 - Value`
    left_out_lines(values, raw, left_out)                  # a Fax cell: one `skipped` line, never sent

They follow headers.Plan: `country_pairs` (keycolumns.choose_country), `label_pairs` and `left_out`
(matching.contact_like_left_out).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from importer.errors import Code
from importer.mapping.headers import Plan
from importer.rules.words import read_header

__all__ = ["paired_countries", "paired_labels", "left_out_lines"]


def paired_countries(columns: dict[str, pd.Series], plan: Plan, cells: pd.DataFrame, line: np.ndarray,
                      column: np.ndarray) -> None:
    """A phone column paired with its own country column (`Shipping Phone`, `Shipping Country`): read there."""
    if not plan.country_pairs:
        return
    country = columns["country"].to_numpy(dtype=object, copy=True)
    for phones, place in plan.country_pairs:
        mine = column == phones
        country[mine] = cells[place].to_numpy(dtype=object)[line[mine]]
    columns["country"] = pd.Series(country)


def paired_labels(labels: np.ndarray, plan: Plan, cells: pd.DataFrame, line: np.ndarray,
                  column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each record's label (the note where the row has none), its label column's cell where that is filled:
    Google's `* Home` -> `Home`; a label of several (` ::: `) says no one's. And which records' label was starred:
    the `* ` marks the primary (importer.input.contactrows makes the first value of such a cell the default)."""
    primary = np.zeros(len(labels), dtype=bool)
    if not plan.label_pairs:
        return labels, primary
    labels = labels.copy()
    for contacts, label in plan.label_pairs:
        mine = np.flatnonzero(column == contacts)
        said = pd.Series(cells[label].to_numpy(dtype=object)[line[mine]], dtype="str").str.strip()
        primary[mine] = said.str.match(r"\*\s").to_numpy(dtype=bool, na_value=False)
        said = said.str.removeprefix("*").str.strip()
        use = said.notna().to_numpy() & (said != "").to_numpy(dtype=bool, na_value=False) & \
            ~said.str.contains(":::", regex=False).to_numpy(dtype=bool, na_value=False)
        labels[mine[use]] = said.to_numpy(dtype=object)[use]
    return labels, primary


def left_out_lines(values: pd.DataFrame, raw: pd.DataFrame, left_out: Sequence[tuple]) -> None:
    """A cell of a contact-like column left out (headers.Plan.left_out) is said, not sent: its one error is
    column-not-imported (validate makes it `skipped`), whatever else its value has."""
    if not any(left_out):
        return
    errors = values["errors"].to_numpy(copy=True)
    sheet_no, column = raw["sheet_no"].to_numpy(), raw["source_column"].astype(object).to_numpy()
    types = raw["type"].astype(object).to_numpy()
    for n, columns in enumerate(left_out):
        for kind, _, header in columns:
            said = {kind: (Code.COLUMN_NOT_IMPORTED.error(header, header=header, reason=read_header(header).reason,
                                                          kind=kind),)} if kind else {}
            for k in np.flatnonzero((sheet_no == n) & (column == header)).tolist():
                if types[k] not in said:  # a column of several kinds (`Value`): each cell's own
                    said[types[k]] = (Code.COLUMN_NOT_IMPORTED.error(header, header=header, kind=types[k],
                                                                     reason=read_header(header).reason),)
                errors[k] = said[kind or types[k]]
    values["errors"] = errors
