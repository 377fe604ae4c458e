"""Cells of a contact column that say in words that there is nothing: `n/a`, `-`, `—`, `keine`, `k.A.`, `./.`.

    empty = says_nothing(cells, "PHONE")   # per row: the cell stands for a blank one
    says_nothing_text("n. a.")             # True; says_nothing_text("nil", words=False): False

A hand-kept sheet fills a blank with a dash or a word, in the sheet's language. In a column of emails or phone
numbers that is no contact and no error of the row's: it reads as blank (a row with nothing else is missing its
contact, as a blank one is). Only whole cells, compared without case, spaces and dots: `-` or `keine`, never
`keine Angabe, 0170 …`, which stays a cell to read. Words only in columns of emails and numbers, which no word
is: a handle may be `nil` or `na`; there, only dashes and slashes say nothing.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["says_nothing", "says_nothing_text"]

# Compared after dropping case, spaces and dots: "k. A." = "ka", "n.v.t." = "nvt".
_NOTHING = frozenset({
    "", "-", "--", "---", "–", "—", "/", "./", "?", "n/a", "na", "nn", "none", "nil", "null", "no", "nothing",
    "unknown", "tbd", "keine", "keiner", "kein", "ka", "nichts", "unbekannt", "ohne", "neant", "néant", "aucun",
    "aucune", "nonrenseigné", "nonrenseigne", "nr", "nd", "ninguno", "ninguna", "sin", "notiene", "nessuno",
    "nessuna", "nonc'è", "geen", "nvt", "onbekend", "brak",
})
_DROP = re.compile(r"[\s.]+")


_WORDLESS = frozenset({"EMAIL", "PHONE", "WHATSAPP", "VIBER"})  # no value of theirs is a word


def says_nothing_text(text: str, words: bool = True) -> bool:
    """A cell's text that stands for no value (a dash, `n/a`, `keine`); a blank cell is not one (it says nothing).
    `words` False: only one without letters (`-`, `./.`, `—`)."""
    key = _DROP.sub("", text.strip().lower())
    return bool(text.strip()) and key in _NOTHING and (words or not any(c.isalpha() for c in key))


def says_nothing(cells: pd.Series, kind: str | None) -> np.ndarray:
    """Per row: the cell of a column of `kind` (a ContactType's value) is a text that stands for no value; worked
    out once per distinct cell."""
    codes, uniques = pd.factorize(cells, use_na_sentinel=False)
    words = kind in _WORDLESS
    return np.fromiter((isinstance(c, str) and says_nothing_text(c, words) for c in uniques), dtype=bool,
                       count=len(uniques))[codes]
