"""Section headings inside a hand-made table: a line like `Nord` or `Region: South` with rows right under it.

    at = section_headings(cells, rows, drop, is_value)   # positions of the headings (importer.input.tablefind)
    at = subtotal_lines(cells, rows, drop, total, row, is_total, is_note)   # positions of the subtotals
    header = grouped_header(header, group_row, norm)     # repeated header cells named with their group

A line inside the table is a row, reported if bad, with two exceptions named here; the first: a line whose only filled
cell is its first one, a short text that is no value a row would hold (no contact, no number, no id) nor a
note's start (`Exported by …`, which stays a row: `is_value` says both), directly above a row of the table (no blank line between) that holds more than its first cell. It holds no
contact, so nothing is lost; it is skipped and named in the output and summary.json, as notes are.
So is a subtotal line inside the table (`Zwischensumme Nord | 2`: a total's first cell, no contact in it) right
above another line of the table (a heading or a row); one ending the table is a note below (importer.input.tablefind).
Sections of columns too: a group row over header cells that repeat (`Privat` over `E-Mail | Telefon`, `Geschäftlich`
over them again) names each of them with its group (`Privat E-Mail`): the columns differ, and the group's word is
what it is (a qualifier: the note of their contacts; importer.mapping.headers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["grouped_header", "section_headings", "subtotal_lines"]


def section_headings(cells: pd.DataFrame, rows: np.ndarray, drop: np.ndarray, is_value: Callable[[str], bool],
                     blank_rows: Callable[[pd.DataFrame], np.ndarray],
                     is_note: Callable[[str], bool] = lambda _: False) -> np.ndarray:
    """Positions of the section headings among `cells` (the lines under the header; `rows` their Excel rows;
    `drop` the lines already skipped); `blank_rows(frame)`: the positions of its blank rows, column by column;
    `is_note(text)`: a first cell that starts a note (Total, Exported by …)."""
    n = len(cells)
    if n < 2 or cells.shape[1] < 2:
        return np.zeros(0, dtype=np.int64)
    lone = every_lone = blank_rows(cells.iloc[:, 1:])  # nothing past their first cell
    first = cells.iloc[lone, 0].tolist()
    texts = np.array([isinstance(v, str) and 0 < len(v.split()) <= 5 and not is_value(v.strip()) for v in first],
                     dtype=bool)
    lone = lone[texts & ~drop[lone]]
    below = lone + 1
    fits = below < n
    lone, below = lone[fits], below[fits]
    # the line below is a row of the table: more than a first cell (a note's "Exported by …" under "Acme Inc." is not)
    under = (rows[below] - rows[lone] == 1) & ~drop[below] & ~np.isin(below, every_lone)
    # ... and no note's start (`Summe | | 3` under "Acme Inc." below the table)
    under &= ~np.array([isinstance(v, str) and is_note(v.strip()) for v in cells.iloc[below, 0].tolist()], dtype=bool)
    return lone[under]


def subtotal_lines(cells: pd.DataFrame, rows: np.ndarray, drop: np.ndarray, total: str,
                   row: Callable[[int], list[str]], is_total: Callable[[list[str]], bool],
                   is_note: Callable[[list[str]], bool]) -> np.ndarray:
    """Positions of the subtotal lines among `cells` (the lines under the header; `rows` their Excel rows; `drop`
    the lines already skipped): a first cell matching `total` (a regex: `Zwischensumme`), `is_total(row(p))` (a
    totals line holding no contact), right above a line that is skipped (a heading) or `not is_note` (a row)."""
    first = cells.iloc[:, 0]
    if first.dtype == object:  # a workbook's cells: a date or bool cell is no total's word
        first = first.where(first.map(type) == str, "").astype("str")
    starts = first.str.match(total, case=False)
    at = np.flatnonzero(starts.to_numpy(dtype=bool, na_value=False)[:-1] & ~drop[:-1])
    at = at[rows[at + 1] - rows[at] == 1]  # right above another line: inside the table, not its end
    return np.array([p for p in at.tolist() if is_total(row(p)) and (drop[p + 1] or not is_note(row(p + 1)))],
                    dtype=np.int64)


def grouped_header(header: list[str], group: Sequence[str], norm: Callable[[str], str]) -> list[str]:
    """`header` with each cell that repeats (as `norm` compares) and stands under a group cell read with it
    (`Privat E-Mail`); a merged group cell's value is in its first column. Only up to a blank header cell (a table
    beside it is another table, not a group of this one); unchanged when that leaves them alike."""
    end = header.index("") if "" in header else len(header)
    keys = [norm(h) for h in header[:end]]
    out, over = list(header), ""
    for i, h in enumerate(header[:end]):
        over = group[i] if i < len(group) and group[i] else over
        out[i] = f"{over} {h}" if over and keys.count(keys[i]) > 1 else h
    named = [norm(h) for h in out if h]
    return out if out != header and len(set(named)) == len(named) else header
