"""Where a sheet's table is: its header row, the lines above it, notes beside and below it, a header
repeated in the middle. Rows of cells in; positions and the rows skipped, named, out.

    is_header = header_test(mapping)                      # headers.looks_like_header, or a --mapping entry
    top = find_header(head, is_header, header_row=None)   # head: [(Excel row, cells as text)] of the first rows
    parts, skipped = find_parts(cells, rows, top, is_header)   # the rows under the header: tables, and non-rows

What the output says about it: importer.input.tablesaid.

The rules, one implementation of each:
* The header is the first of the first HEAD_ROWS rows that hold something that reads as a header (a group row that
  reads as one gives way to the fuller header right under it); `--header-row N` names it outright. The rows above it
  (a title, banner lines, a group row) are skipped and named; a group row right above qualifies the header's cells
  that are no words alone (`Work` under `Phone`), and names repeated ones (sections.grouped_header). With none that reads as one, the first row is the header
  (`Top.found` False) and the planner's error says which rows were looked at.
* Beside the table: a row whose cells all lie right of the header's columns is a note, unless one may be a contact;
  the header row's cells past a blank one that are no header words are notes too.
* A row inside the table equal to a header (as headers match) is that header repeated (files pasted together); a row
  that reads as another header (two or more header words, most of its cells) starts a second table. A line of no
  value right above either is its title (a group's name), named.
* Below the table: after the last data row and a blank row, a block of lines that don't fit (Total, Summe, Gesamt,
  "Exported by …", a copyright footer, or no cell a value a row would hold: a text cell, a signature) is notes; a
  block with a line that fits is rows. A totals row ending the table is a note even with no blank row above. Every
  other line under the header is a row, reported if bad: nothing is dropped silently; a section heading (`Nord`
  right above rows), a subtotal (`Zwischensumme Nord | 2`) are named, not rows (importer.input.sections).

Only the first rows (the header) and the last rows (notes) are looked at one by one; the rest is frame operations,
column by column on the candidates left.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from importer.input.sections import grouped_header, section_headings, subtotal_lines
from importer.mapping import headers

__all__ = ["HEAD_ROWS", "Skipped", "Top", "Part", "header_test", "find_header", "find_parts", "blank_rows"]

HEAD_ROWS = 20  # the header is looked for among a sheet's first rows that hold something
TAIL_ROWS = 50  # notes below a table are looked for among its last rows

# What str.isspace() calls whitespace, as the regex engine under pandas' str methods (RE2) spells it.
_WHITESPACE = r"[\s\x0b\x1c-\x1f\x85\p{Z}]*"
# A cell that could be a header's word: a letter first; no @ or : (emails, links, "Total: 3").
_WORDY = r"[^\W\d_][^@:]{0,59}"
_WORDS = frozenset(headers.FIELD_ALIASES) | frozenset(headers.KIND_ALIASES)
# The first cell of a line that a person writes under a table, not a row of it.
_TOTAL = (r"(grand\s*)?totals?\b|summen?\b|gesamt|insgesamt|sum\b|anzahl\b|count\b|totaux?\b|suma\b|totale\b"
          r"|totaal\b|somme\b|sub-?totals?\b|zwischensumme|subtotale?\b|razem\b|aantal\b")
_NOTE = re.compile(
    rf"({_TOTAL}|export(ed|iert|é|ée|ado|ada|ato|ata|eerd)?\b|generated\b|créé|généré|generado|generato|gegenereerd"
    r"|created\b|printed\b|imprimé|gedruckt|erstellt\b|copyright\b|confidential\b"
    r"|filtered by\b|stand\b|as of\b|source\b|quelle\b|page \d|notes?\s*:|hinweis|anmerkung|bemerkung)", re.IGNORECASE)


@dataclass(frozen=True)
class Skipped:
    rows: tuple[int, ...]  # Excel row numbers
    what: str  # "title", "group row", "lines", "repeated header", "titles inside", "notes below", "notes beside"
    text: str = ""  # the first of them, as written (short)

    def as_tuple(self) -> tuple[tuple[int, ...], str, str]:
        return self.rows, self.what, self.text


@dataclass(frozen=True)
class Top:
    header: list[str]  # the header's cells, as written (trailing blanks dropped)
    header_row: int  # its Excel row
    index: int  # its position among the head's rows
    skipped: tuple[Skipped, ...] = ()  # the rows above it that hold something
    found: bool = True  # False: no row read as a header; the first one is used
    looked: tuple[int, ...] = ()  # the rows looked at
    beside: str = ""  # the header row's cells right of it, past a blank one, that are no header words
    qualified: dict[str, str] = field(default_factory=dict)  # header -> contact kind its group row gives it


@dataclass
class Part:
    """One table of a sheet: its header and the positions (in the sheet's cells) of its data rows."""

    header: list[str]
    header_row: int
    at: np.ndarray
    skipped: list[Skipped] = field(default_factory=list)


def header_test(mapping: dict[str, str] | None) -> Callable[[Sequence[str]], bool]:
    """Whether a row reads as a header: by its words (headers.looks_like_header), or because --mapping
    names one of its cells a contact column."""
    contact = {headers.norm(h) for h, t in (mapping or {}).items()
               if t and (t not in headers.FIELD_ALIASES.values() or t in ("type", "contact"))}

    def is_header(cells: Sequence[str]) -> bool:
        return headers.looks_like_header(cells) or bool(contact and contact & {headers.norm(c) for c in cells})

    return is_header


def _trimmed(cells: Sequence[str]) -> list[str]:
    out = list(cells)
    while out and not out[-1]:
        out.pop()
    return out


def find_header(head: Sequence[tuple[int, Sequence[str]]], is_header: Callable[[Sequence[str]], bool],
                header_row: int | None = None) -> Top | str:
    """The header among `head` (the first rows that hold something, as text, stripped), or why there is none
    when `header_row` names a row that is blank or not there. With no row that reads as a header: the first."""
    if header_row is not None:
        for i, (row, _) in enumerate(head):
            if row == header_row:
                return _top(head, i)
        last = head[-1][0] if head else 0
        return f"--header-row {header_row}: row {header_row} is blank" if header_row < last else (
            f"--header-row {header_row}: the data ends on row {last}")
    for i, (_, cells) in enumerate(head[:HEAD_ROWS]):
        if is_header(cells):
            # A group row can read as one (`Phone` over `Mobile`, `Work`): the fuller header right under it wins.
            while (i + 1 < len(head) and head[i + 1][0] == head[i][0] + 1 and is_header(head[i + 1][1])
                   and _filled(head[i + 1][1]) > _filled(head[i][1])):
                i += 1
            return _top(head, _under_a_title(head, i, is_header))
    looked = tuple(row for row, _ in head[:HEAD_ROWS])
    return Top(_trimmed(head[0][1]), head[0][0], 0, found=False, looked=looked)


def _under_a_title(head: Sequence[tuple[int, Sequence[str]]], i: int,
                   is_header: Callable[[Sequence[str]], bool]) -> int:
    """A title of one cell that reads as a header ("Newsletter Emails 2026", "E-Mail-Verteiler"): the first
    header of two or more cells below it wins, where only lines of no value (titles, banners) lie between."""
    if _filled(head[i][1]) != 1:
        return i
    for j in range(i + 1, min(len(head), HEAD_ROWS)):
        cells = head[j][1]
        if _filled(cells) >= 2 and is_header(cells):
            return j
        if not _is_note([c for c in cells if c]):
            return i
    return i


def _filled(cells: Sequence[str]) -> int:
    return sum(1 for c in cells if c)


def _top(head: Sequence[tuple[int, Sequence[str]]], at: int) -> Top:
    skipped = []
    for k, (row, cells) in enumerate(head[:at]):
        filled = [c for c in cells if c]
        # Right above the header, cells over its columns (not a title in A1): groups of them.
        group = k == at - 1 and row == head[at][0] - 1 and (len(filled) > 1 or not cells[0])
        what = "group row" if group else "title" if len(filled) == 1 else "lines"
        if skipped and skipped[-1].what == what:
            skipped[-1] = Skipped((*skipped[-1].rows, row), what, skipped[-1].text)
        else:
            skipped.append(Skipped((row,), what, _short(filled)))
    row, cells = head[at]
    header = _trimmed(cells)
    gap = header.index("") if "" in header else len(header)
    group = head[at - 1][1] if skipped and skipped[-1].what == "group row" and head[at - 1][0] == row - 1 else []
    header, qualified = grouped_header(header, group, headers.norm), _qualified(header, group)
    if gap < len(header) and not _header_words(header[gap:]):  # `Stand: 1.12.2026` right of the header: a note
        return Top(header[:gap], row, at, tuple(skipped), beside=_short([c for c in header[gap:] if c]),
                   qualified=qualified)
    return Top(header, row, at, tuple(skipped), qualified=qualified)


def _qualified(header: Sequence[str], group: Sequence[str]) -> dict[str, str]:
    """The contact kind a group row gives a header that is no word alone: `Phone` (merged over C:D) over
    `Mobile`, `Work` makes `Work` a PHONE column. A header that is a word stays what it is (`Contact
    details` over `Email` stays Email)."""
    out, over = {}, ""
    for i, h in enumerate(header):
        over = group[i] if i < len(group) and group[i] else over  # a merged cell's value is in its first column
        if not h or not over or _word_key(headers.norm(h)) in _WORDS:
            continue
        kind = next((k for name in (f"{h} {over}", f"{over} {h}")
                     if (k := headers.KIND_ALIASES.get(_word_key(headers.norm(name))))), None)
        if kind:
            out[h] = kind
    return out


def _short(cells: Sequence[str], most: int = 40) -> str:
    """A line's cells as one quoted text, cut short."""
    text = " | ".join(cells)
    return "" if not text else repr(text if len(text) <= most else text[: most - 1] + "…")


def blank_rows(cells: pd.DataFrame) -> np.ndarray:
    """Positions of the rows whose every cell is blank or whitespace (column by column, on the candidates left)."""
    candidates = np.arange(len(cells))
    for i in cells.columns:
        if not len(candidates):
            break
        candidates = candidates[_blank(cells[i].iloc[candidates])]
    return candidates


def _per_value(column: pd.Series, test: Callable[[pd.Series], np.ndarray]) -> np.ndarray:
    """`test` of a text column's cells; a repeating column's (a category) worked out once per value."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        if len(column.cat.categories) > len(column):  # a few rows of a column of many values
            return test(column.astype("str")) if len(column) else np.zeros(0, dtype=bool)
        values = pd.Series(column.cat.categories, dtype="str")
        return test(values)[column.cat.codes.to_numpy()] if len(values) else np.zeros(len(column), dtype=bool)
    return test(column)


def _blank(column: pd.Series) -> np.ndarray:
    if column.dtype == object:  # a workbook's cells, stripped as read: a bool or date cell is never blank
        return column.to_numpy() == ""
    return _per_value(column, lambda c: c.str.fullmatch(_WHITESPACE).to_numpy(dtype=bool, na_value=False))


def _wordy(column: pd.Series) -> np.ndarray:
    """Cells that could be a header's: a word, or blank; not a value (an email, a number, a link)."""
    return _per_value(_texts(column, "0"), lambda c: c.str.fullmatch(_WORDY).to_numpy(dtype=bool, na_value=False)
                      | c.str.fullmatch(_WHITESPACE).to_numpy(dtype=bool, na_value=False))


def _known(column: pd.Series) -> np.ndarray:
    """Cells that are header words (as headers.norm keys; `Phone 2`, `Phone 1 - Value` too)."""
    key = column.str.lower().str.replace(r"[\s_\-.]+", "", regex=True)
    plain = key.str.replace(r"\d+", "", regex=True).str.removesuffix("value")
    return (key.isin(_WORDS) | plain.isin(_WORDS)).to_numpy(dtype=bool, na_value=False)


def _texts(column: pd.Series, other: str) -> pd.Series:
    """A column's text cells (a workbook's bool or date cell as `other`)."""
    if column.dtype != object:
        return column
    return column.where(column.map(type) == str, other).astype("str")


def _text(value) -> str:
    if isinstance(value, str):
        return value.strip()
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _row(cells: pd.DataFrame, at: int) -> list[str]:
    return _trimmed([_text(v) for v in cells.iloc[at].tolist()])


def _header_words(texts: Sequence[str]) -> int:
    """How many cells are header words; one- and two-letter ones (X, VK, CC) don't count: a value could be one."""
    return sum(1 for t in texts if len(key := _word_key(headers.norm(t))) > 2 and key in _WORDS)


def _word_key(key: str) -> str:
    return re.sub(r"\d+", "", key).removesuffix("value") if key not in _WORDS else key


def _header_candidates(cells: pd.DataFrame, width: int, header: Sequence[str]) -> np.ndarray:
    """Rows that may be a header: equal to the first one, or holding two or more header words and no value."""
    n, width = len(cells), min(width, cells.shape[1])
    same = np.arange(n)
    for i in range(width):
        if not len(same):
            break
        column = cells[i].iloc[same]
        same = same[(column == header[i]).to_numpy(dtype=bool, na_value=False) if header[i] else _blank(column)]
    wordy = np.arange(n)
    for i in range(width):  # no cell a value: narrows to nothing on a table of contacts
        if not len(wordy):
            break
        wordy = wordy[_wordy(cells[i].iloc[wordy])]
    if len(wordy):
        count = np.zeros(len(wordy), dtype=np.int64)
        for i in range(width):
            count += _per_value(_texts(cells[i].iloc[wordy], ""), _known)
        wordy = wordy[count >= 2]
    return np.union1d(same, wordy)


def find_parts(cells: pd.DataFrame, rows: np.ndarray, top: Top,
               is_header: Callable[[Sequence[str]], bool]) -> tuple[list[Part], list[Skipped]]:
    """The tables under `top` (its own, then one per different header inside) and the rows that are not rows:
    notes beside and below, repeated headers. `cells`: the non-blank rows under the header, every column
    read; `rows`: their Excel rows."""
    n, width = len(cells), len(top.header)
    drop = np.zeros(n, dtype=bool)
    skipped: list[Skipped] = []
    beside = blank_rows(cells.iloc[:, :width]) if cells.shape[1] > width and n else np.zeros(0, dtype=np.int64)
    beside = np.array([p for p in beside.tolist() if not any(map(_maybe_contact, _row(cells, p)))],
                      dtype=np.int64)  # a stray contact out there is a row, reported
    if top.beside:
        skipped.append(Skipped((top.header_row,), "notes beside the header", top.beside))
    if len(beside):
        drop[beside] = True
        skipped.append(Skipped(tuple(int(r) for r in rows[beside]), "notes beside",
                               _short([t for t in _row(cells, int(beside[0])) if t])))
    starts: list[tuple[int, list[str]]] = []  # (position, header) of each table after the first
    current, repeated = top.header, []
    for p in _header_candidates(cells, width, top.header).tolist():
        if drop[p]:
            continue
        texts = _row(cells, p)
        if _same(texts, current) or _same(texts, top.header):
            repeated.append(p)
        elif is_header(texts) and _header_words(texts) >= 2 and _header_words(texts) * 2 > sum(1 for t in texts if t):
            starts.append((p, texts))
            current = texts
        else:
            continue
        drop[p] = True
    titles = [p - 1 for p in (*repeated, *(p for p, _ in starts))
              if p >= 1 and not drop[p - 1] and rows[p] - rows[p - 1] == 1 and _is_note(_row(cells, p - 1))]
    if titles:  # a group's name right above its header (monday.com's "Past customers"): a title, not a row
        drop[titles] = True
        skipped.append(Skipped(tuple(int(r) for r in rows[titles]), "titles inside",
                               "; ".join(_short([t for t in _row(cells, p) if t]) for p in titles[:3])))
    # "Nord" above its rows: a heading, not a row; "Exported by Maria" stays one (importer.input.sections)
    if len(sections := section_headings(cells, rows, drop, lambda t: _maybe_value(t) or bool(_NOTE.match(t)),
                                        blank_rows, lambda t: bool(_NOTE.match(t)))):
        drop[sections] = True
        skipped.append(Skipped(tuple(int(r) for r in rows[sections]), "section headings",
                               "; ".join(_short(_row(cells, p)[:1]) for p in sections[:3].tolist())))
    if len(subtotals := subtotal_lines(cells, rows, drop, _TOTAL, lambda p: _row(cells, p), _is_total, _is_note)):
        drop[subtotals] = True
        skipped.append(Skipped(tuple(int(r) for r in rows[subtotals]), "subtotals", _short(_row(cells, subtotals[0]))))
    bounds = [(0, top.header, top.header_row)] + [(p + 1, h, int(rows[p])) for p, h in starts]
    parts = []
    for k, (start, header, header_row) in enumerate(bounds):
        end = starts[k][0] if k < len(starts) else n
        at = start + np.flatnonzero(~drop[start:end])
        notes = _notes_below(cells, rows, at, header_row)
        part = Part(header, header_row, at)
        again = [int(rows[p]) for p in repeated if start <= p < end]
        if again:
            part.skipped.append(Skipped(tuple(again), "repeated header"))
        if len(notes):
            part.at = at[~np.isin(at, notes)]
            part.skipped.append(Skipped(tuple(int(r) for r in rows[notes]), "notes below", "; ".join(
                _short([t for t in _row(cells, int(p)) if t]) for p in notes[:3].tolist())))
        parts.append(part)
    return parts, skipped


def _same(texts: Sequence[str], header: Sequence[str]) -> bool:
    """The same header, as headers match (`customer_id` = `Customer ID`)."""
    return [headers.norm(t) for t in texts] == [headers.norm(h) for h in header]


def _notes_below(cells: pd.DataFrame, rows: np.ndarray, at: np.ndarray, header_row: int) -> np.ndarray:
    """The positions among `at` (a table's rows, in order) that are notes below it."""
    tail = at[-TAIL_ROWS:]
    if not len(tail):
        return tail
    before = np.concatenate(([header_row], rows[:-1]))  # the row above each row that holds something
    gap = rows[tail] - before[tail] > 1
    texts = [_row(cells, int(p)) for p in tail]
    if len(tail) == len(at) and gap[0] and all(map(_is_note, texts)):
        return tail  # an empty table: a header, a blank row, "Total: 0"
    first = 1 if len(tail) == len(at) else 0  # else the table's first row is never a note
    end = len(tail)
    while True:
        starts = [k for k in range(first, end) if gap[k]]
        if not starts or not all(_is_note(texts[k]) for k in range(starts[-1], end)):
            break
        end = starts[-1]
    while end > first and _is_total(texts[end - 1]):
        end -= 1
    return tail[end:]


def _is_total(texts: Sequence[str]) -> bool:
    """A totals row (`Summe | 3 | 14.5`); not one that holds a contact (`Total Wine | info@totalwine.com`)."""
    filled = [t for t in texts if t]
    return (bool(filled) and re.match(_TOTAL, filled[0], re.IGNORECASE) is not None
            and not any("@" in t or sum(c.isdigit() for c in t) >= 7 for t in filled))


def _is_note(texts: Sequence[str]) -> bool:
    """A line below a table that is not a row of it: it starts like a note (Total, Exported by, Copyright), or
    none of its cells is a value a row would hold (a single text cell `Acme Inc.`, a signature `Maria | Vertrieb`)."""
    filled = [t for t in texts if t]
    return bool(filled) and (_NOTE.match(filled[0]) is not None or not any(map(_maybe_value, filled)))


def _maybe_contact(text: str) -> bool:
    """A cell that may be a contact: an email, a phone number, a link."""
    return ("@" in text or sum(c.isdigit() for c in text) >= 7 and sum(c.isalpha() for c in text) <= 6
            or re.fullmatch(r"\S+\.\S+", text) is not None)  # a sentence with a date in it is no phone


def _maybe_value(text: str) -> bool:
    """A cell that may be a row's: a contact, or a number (a customer's id)."""
    return _maybe_contact(text) or re.fullmatch(r"[\d\s.,'+-]*\d[\d\s.,'+-]*", text) is not None
