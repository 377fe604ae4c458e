"""Plain cell values: whitespace, whole numbers, booleans, timestamps. Pure functions.

Each returns (value, problem) where problem is None or (code, message): bad data is a
value. Cells are text, or a workbook's typed booleans and datetimes. A CSV export's `="0171 2345678"` is its
text; full-width digits (１００１) are digits; a default may say Ja/Nein, oui/non, x, ✓.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from importer.records import Cell
from importer.errors import Code

MAX_CONTACT = 1024
MAX_HANDLE = 255
MAX_NOTE = 1024

ECWID_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"


class InvalidValue(ValueError):
    """A value that cannot be normalized; `code` is an importer.errors.Code value."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# A problem as plain data: (code, message), or None.
Problem = tuple[str, str] | None  # (code, message)

# ---------------------------------------------------------------- whitespace

# Characters Excel and CRMs leave around values: every Unicode space plus zero-width ones.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
# Every str.isspace() character (spelled out: scanning all of Unicode cost 0.5 s per start-up).
_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_STRIP = _SPACES + _ZERO_WIDTH
_DROP_ZW = str.maketrans("", "", _ZERO_WIDTH)


def clean(value: str) -> str:
    """Trim whitespace (incl. NBSP) and drop zero-width characters anywhere."""
    if value.isascii():
        return value.strip()
    return value.translate(_DROP_ZW).strip(_STRIP)


# A ' before one of these is how a report of ours (and Excel) keeps a cell from running as a formula.
_ESCAPED = ("'=", "'@", "'+", "'-")
_AS_TEXT = re.compile(r'="[^"]*"')


def cell_text(value: Cell | None) -> str:
    """A cell as text, cleaned; without the ' that kept it from running as a formula (errors.csv imported again)."""
    if value is None:
        return ""
    if value.__class__ is str:
        text = value.strip() if value.isascii() else clean(value)
        if text.startswith('="') and _AS_TEXT.fullmatch(text):  # ="0171 2345678": a CSV export's "keep this as text"
            return text[2:-1]
        return text[1:] if text.startswith(_ESCAPED) else text
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


# What cell_text may change at a cell's ends: the ASCII characters str.strip() drops; a leading = or '.
_ASCII_SPACES = [chr(c) for c in range(128) if chr(c).isspace()]
_CHANGED_START = pa.array([*_ASCII_SPACES, "=", "'"])
_CHANGED_END = pa.array(_ASCII_SPACES)


def cell_text_keeps(cells: Any) -> np.ndarray:
    """Per cell of a text array (pandas' str or Arrow): True where cell_text(cell) is the cell as it is, told
    column-wise: ASCII and no character at its ends that cell_text strips or reads. False where it may not be
    (or the array holds no text): those cells are for cell_text itself."""
    if not isinstance(getattr(cells, "dtype", None), pd.StringDtype):
        return np.zeros(len(cells), dtype=bool)
    text = pa.array(cells)
    keeps = pc.and_(pc.string_is_ascii(text), pc.and_(
        pc.invert(pc.is_in(pc.utf8_slice_codeunits(text, 0, 1), _CHANGED_START)),
        pc.invert(pc.is_in(pc.utf8_slice_codeunits(text, -1), _CHANGED_END))))
    return pc.fill_null(keeps, False).to_numpy(zero_copy_only=False)


# ---------------------------------------------------------------- numbers

INTEGRAL = re.compile(r"\d+(?:\.0*)?", re.ASCII)  # "3", "177737165.0" (Excel's integral floats)
SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+", re.ASCII)  # 1.77737E+08: Excel dropped digits
_MAX_ID = 2**63 - 1


def _integer(value: str, what: str, code: str, *, positive: bool) -> tuple[int | None, Problem]:
    digits = value.removeprefix("'")  # Excel's (and Shopify's) mark for "this is text"
    if not digits.isascii():  # "１００１": full-width digits, as a Japanese or Chinese keyboard types them
        digits = unicodedata.normalize("NFKC", digits)
    if digits.isascii() and digits.isdigit():  # fast path: plain digits
        n = int(digits)
    elif INTEGRAL.fullmatch(digits):
        n = int(digits.split(".", 1)[0])
    elif SCIENTIFIC.fullmatch(digits):
        return None, (Code.LOST_DIGITS, Code.LOST_DIGITS.message(value=value))
    else:
        return None, (code, f"{value!r} is not a {what}")
    if (positive and n == 0) or n > _MAX_ID:
        return None, (code, f"{value!r} is not a {what}")
    return n, None


def parse_customer_id(value: str) -> tuple[int | None, Problem]:
    return _integer(value, "customer id (a positive whole number)", Code.INVALID_CUSTOMER_ID, positive=True)


def parse_order_by(value: str) -> tuple[int | None, Problem]:
    return _integer(value, "sort order (a whole number from 0)", Code.INVALID_ORDER_BY, positive=False)


def parse_store_id(value: str) -> tuple[int | None, Problem]:
    return _integer(value, "store id (a positive whole number)", Code.INVALID_STORE_ID, positive=True)


# ---------------------------------------------------------------- booleans, timestamps

_BOOLS = {
    **dict.fromkeys(("true", "yes", "y", "1", "on", "t"), True),
    **dict.fromkeys(("false", "no", "n", "0", "off", "f"), False),
    # the words of the languages headers are read in (importer.rules.words), and a ticked box: a
    # "Standard"/"Primary" column kept by hand holds "Ja", "x" or a check mark as often as TRUE
    **dict.fromkeys(("ja", "wahr", "oui", "vrai", "si", "sí", "sì", "verdadero", "vero", "sim", "verdadeiro", "tak",
                     "prawda", "waar", "x", "✓", "✔", "☑", "✅"), True),
    **dict.fromkeys(("nein", "falsch", "non", "faux", "falso", "não", "nao", "nie", "fałsz", "nee", "onwaar"), False),
}


def parse_bool(value: Cell) -> tuple[bool | None, Problem]:
    """Excel bool or true/false, yes/no, 1/0, y/n, on/off; blank = None (not sent)."""
    if isinstance(value, bool):
        return value, None
    text = cell_text(value)
    if not text:
        return None, None
    b = _BOOLS.get(text.lower())
    if b is None:
        return None, (Code.INVALID_DEFAULT, f"{text!r} is not true/false (also yes/no, 1/0, y/n, on/off)")
    return b, None


def format_timestamp(value: dt.datetime) -> str:
    """Ecwid's form, in UTC; naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


def _timestamp_text(text: str) -> tuple[str | None, Problem]:
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        try:  # Ecwid's own form, "2025-03-26 11:07:12 +0000", or another offset
            parsed = dt.datetime.strptime(text, ECWID_TIME_FORMAT)
        except ValueError:
            return None, (
                Code.INVALID_TIMESTAMP,
                f"{text!r} is not a date/time: use ISO 8601, e.g. 2025-03-26 11:07:12 or 2025-03-26T11:07:12+02:00",
            )
    return format_timestamp(parsed), None


def parse_timestamp(value: Cell) -> tuple[str | None, Problem]:
    """ISO 8601 text or an Excel datetime -> "YYYY-MM-DD HH:MM:SS +0000" (UTC)."""
    if isinstance(value, dt.datetime):
        return format_timestamp(value), None
    if isinstance(value, bool):
        return None, (Code.INVALID_TIMESTAMP, f"{value} is not a date/time")
    text = cell_text(value)
    return _timestamp_text(text) if text else (None, None)


# ---------------------------------------------------------------- emails
