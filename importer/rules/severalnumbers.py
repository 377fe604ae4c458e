"""A phone cell that holds several numbers gives one contact each: "030 1234567 / 0171 2345678".

    values = split_numbers(values, country_cells, region)   # values indexed by line; exploded where a cell splits

A cell is split only where each part is a valid number on its own, read in the row's country (its
country cell, else --phone-region): "030 / 43224299" stays one number, and a cell whose parts are not
all numbers stays whole (and is one invalid-phone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from importer import rules
from importer.rules.phones import several_numbers

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
