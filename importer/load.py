"""Files -> RawContacts: encodings, delimiters, sheets, header mapping, wide -> long.

Interface (used by importer.pipeline):

    stats = LoadStats()
    for raw in load(paths, sheets=(), mapping=None, encoding=None, delimiter=None,
                    stats=stats, log=logger, customer_key=None, match_by=None):
        ...
    for batch in load_batches(paths, ...same options...):   # the same rows, RowBatch by RowBatch
        batch.plan, batch.numbers, batch.rows             # contacts(batch) -> its RawContacts

* yields RawContact in input order (file, sheet, row); one per long-layout row,
  one per non-empty contact cell in wide layout (all sharing the row's `cells`);
* raises errors.InputError(path, problem) for a file that cannot be input;
* fills `stats`: tables (SourceTable per file/sheet), rows (source rows read),
  blank_rows (entirely blank rows skipped), hidden_sheets skipped, encodings and
  delimiters chosen for text files.

Nothing is type-inferred: text cells stay text ("0012", "NA"); only a workbook's own
typed cells survive (bool, datetime) and integral numbers lose their ".0".
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import datetime as dt
import io
import json
import logging
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import charset_normalizer
import python_calamine

from .errors import InputError, UsageError
from .records import FIELDS, Cell, ContactType, RawContact, Source, SourceTable

logger = logging.getLogger(__name__)

TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
SUPPORTED = ", ".join(TEXT_EXTENSIONS + WORKBOOK_EXTENSIONS[:-1]) + " or " + WORKBOOK_EXTENSIONS[-1]
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1 << 20
IGNORE = ""  # mapping target meaning "do not use this column"


@dataclass
class LoadStats:
    tables: list[SourceTable] = field(default_factory=list)
    rows: int = 0  # source data rows read (excluding header and blank rows)
    blank_rows: int = 0  # entirely blank rows skipped
    hidden_sheets: list[str] = field(default_factory=list)  # "file:sheet"
    encodings: dict[str, str] = field(default_factory=dict)  # text file -> encoding
    delimiters: dict[str, str] = field(default_factory=dict)  # text file -> delimiter


# --------------------------------------------------------------------------- headers


def _norm(header: str) -> str:
    """Header key: case, spaces, `_`, `-`, dots and BOMs don't matter."""
    return re.sub(r"[\s_\-.\ufeff]+", "", header).casefold()


def _aliases(table: dict[str, Sequence[str]]) -> dict[str, str]:
    return {_norm(alias): str(target) for target, aliases in table.items() for alias in aliases}


# Canonical fields. "ID" alone is deliberately absent: in a contacts export it is
# usually the contact's own id; see _plan() for the one case where it is used.
FIELD_ALIASES = _aliases(
    {
        "customerId": ("customerId", "customer", "client id", "cid", "customer number", "customer no"),
        "customerEmail": ("customer email", "customer e-mail", "client email", "client e-mail"),
        "storeId": ("store id", "store", "shop id"),
        "type": ("type", "contact type", "kind", "channel"),
        "contact": ("contact", "value", "contact value", "address"),
        "handle": ("handle", "username", "user name"),
        "note": ("note", "notes", "comment", "comments"),
        "default": ("default", "is default", "primary", "is primary"),
        "orderBy": ("orderBy", "order", "sort order", "position"),
        "timestamp": ("timestamp", "created", "created at", "date", "date created"),
    }
)

# Wide-layout columns: one contact kind per column. "Phone 2" = "Phone".
KIND_ALIASES = _aliases(
    {
        ContactType.EMAIL: ("email", "e-mail", "email address", "e-mail address", "mail"),
        ContactType.PHONE: (
            "phone", "phone number", "mobile", "mobile phone", "mobile number", "cell",
            "cell phone", "telephone", "tel", "home phone", "work phone",
        ),
        ContactType.WHATSAPP: ("whatsapp", "whatsapp number"),
        ContactType.TELEGRAM: ("telegram", "telegram username"),
        ContactType.INSTAGRAM: ("instagram",),
        ContactType.FACEBOOK: ("facebook",),
        ContactType.FB_MESSENGER: ("messenger", "facebook messenger", "fb messenger"),
        ContactType.TWITTER: ("twitter", "x", "twitter/x"),
        ContactType.TIKTOK: ("tiktok", "tik tok"),
        ContactType.YOUTUBE: ("youtube",),
        ContactType.PINTEREST: ("pinterest",),
        ContactType.VK: ("vk", "vkontakte"),
        ContactType.VIBER: ("viber",),
        ContactType.URL: ("website", "url", "web", "homepage", "web site", "site"),
        ContactType.OTHER: ("other",),
    }
)

_TARGETS = {_norm(f): f for f in FIELDS} | {_norm(t.name): t.value for t in ContactType}
_KINDS = {t.value for t in ContactType}


def _kind_of(key: str) -> str | None:
    return KIND_ALIASES.get(key) or KIND_ALIASES.get(key.rstrip("0123456789"))


def _resolve_target(target: str) -> str | None:
    """A mapping value -> canonical field, ContactType value, IGNORE; None if unknown."""
    key = _norm(target)
    if key in ("", "ignore", "skip", "none"):
        return IGNORE
    return _TARGETS.get(key)


def read_mapping(path: str | os.PathLike[str]) -> dict[str, str]:
    """--mapping FILE: JSON {"Header": "field"} or a 2-column CSV `header,field`.

    Targets are canonical FIELDS names or ContactType names (a wide column), or
    "ignore"; they are returned resolved (e.g. "customer_id" -> "customerId").
    """
    name = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError(name, "mapping file not found")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(name, f"cannot read mapping file: {e}") from None
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(name, f"invalid JSON: {e}") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise InputError(name, 'mapping must be a JSON object {"Header": "field"}')
        pairs = list(data.items())
    else:
        pairs = []
        for line, row in enumerate(csv.reader(text.splitlines()), 1):
            row = [c.strip() for c in row]
            if not any(row):
                continue
            if len(row) != 2 or not row[0]:
                raise InputError(name, f"line {line}: expected two columns: header,field")
            if line == 1 and (_norm(row[0]), _norm(row[1])) == ("header", "field"):
                continue
            pairs.append((row[0], row[1]))
    mapping = {}
    for header, target in pairs:
        resolved = _resolve_target(target)
        if resolved is None:
            raise InputError(name, f"{header!r} -> {target!r}: unknown field; use one of "
                             f"{', '.join(FIELDS)}, a contact type ({', '.join(t.name for t in ContactType)}) or ignore")
        mapping[header] = resolved
    return mapping


@dataclass(frozen=True)
class _Plan:
    """How one table's columns map onto fields."""

    table: SourceTable
    fields: tuple[tuple[str, int], ...]  # (canonical field, column index)
    kinds: tuple[tuple[str, int, str], ...]  # wide: (ContactType value, column index, header)
    contact_col: int  # long: index of the contact column

    @property
    def contact_header(self) -> str:
        return self.table.headers[self.contact_col] if self.contact_col >= 0 else ""


def _columns_for(assign: dict[int, str], *targets: str) -> list[int]:
    return [i for i, t in assign.items() if t in targets]


@dataclass(frozen=True)
class CustomerKey:
    """How rows name their customer: --customer-key COLUMN (an email column), --match-by id|email."""

    column: str | None = None
    match_by: str | None = None  # None or "id": the id where given, else the email; "email": the email only


MATCH_BY = ("id", "email")


def _key_column(where: str, headers: list[str], column: str) -> int:
    at = [i for i, h in enumerate(headers) if _norm(h) == _norm(column)]
    if not at:
        found = ", ".join(repr(h) for h in headers if h) or "none"
        raise InputError(where, f"no column {column!r} (--customer-key); found: {found}")
    return at[0]


def _choose_customer_key(where: str, headers: list[str], assign: dict[int, str], key: CustomerKey,
                         long: bool, log: logging.Logger) -> int | None:
    """Apply --customer-key / --match-by email to `assign`; in wide layout return the Email column
    that is both the customer's key and one of their contacts (else None)."""
    both = None
    if key.column is not None:
        at = _key_column(where, headers, key.column)
        for i in _columns_for(assign, "customerEmail"):
            if i != at:
                log.info("%s: column %r not used: --customer-key %r names the customer", where, headers[i], key.column)
                del assign[i]
        if not long and assign.get(at) == ContactType.EMAIL:
            both = at  # still imported as an EMAIL contact
        else:
            assign[at] = "customerEmail"
    if key.match_by != "email":
        return both
    for i in _columns_for(assign, "customerId"):
        log.info("%s: column %r ignored: --match-by email", where, headers[i])
        del assign[i]
    if both is None and "customerEmail" not in assign.values():
        emails = [i for i, t in assign.items() if t == ContactType.EMAIL]
        if len(emails) != 1:
            listed = ", ".join(repr(headers[i]) for i in emails) or "none"
            raise InputError(where, f"--match-by email: no single customer email column (email columns: {listed}); "
                             "name it with --customer-key COLUMN")
        if long:  # beside Type and Contact, the Email column is only the customer's
            assign[emails[0]] = "customerEmail"
            return None
        both = emails[0]
        log.info("%s: column %r is the customer's key and an EMAIL contact (--match-by email)", where, headers[both])
    return both


def _plan(file: str, sheet: str, headers: list[str], mapping: dict[str, str], log: logging.Logger,
          key: CustomerKey = CustomerKey()) -> _Plan:
    where = f"{file}:{sheet}" if sheet else file
    overrides = {_norm(h): t for h, t in mapping.items()}
    assign: dict[int, str] = {}
    for i, h in enumerate(headers):
        norm = _norm(h)
        if not norm:
            continue
        target = overrides[norm] if norm in overrides else FIELD_ALIASES.get(norm) or _kind_of(norm)
        if target:
            assign[i] = target

    present = set(assign.values())
    long = "type" in present and "contact" in present
    key_and_contact = None
    if long or any(t in _KINDS for t in present):  # else: no contact column, said below
        key_and_contact = _choose_customer_key(where, headers, assign, key, long, log)
    present = set(assign.values())
    kind_cols = [i for i, t in assign.items() if t in _KINDS]
    if long:
        layout = "long"
        # Beside type+contact, a lone "Email" column is the customer's email.
        emails = [i for i in kind_cols if assign[i] == ContactType.EMAIL]
        if len(kind_cols) > len(emails[:1]):  # e.g. Type = "Retail", Contact = a person's name
            both = ", ".join(repr(headers[i]) for i in sorted(kind_cols + _columns_for(assign, "type", "contact")))
            raise InputError(where, f"both long (Type, Contact) and wide columns ({both}): "
                             "mark the ones to leave out as ignore with --mapping")
        if "customerEmail" not in present and len(emails) == 1:
            assign[emails[0]] = "customerEmail"
            log.info("%s: column %r read as the customer's email", where, headers[emails[0]])
        for i in kind_cols:
            if assign[i] in _KINDS:
                del assign[i]
    elif kind_cols:
        layout = "wide"
        for i, t in list(assign.items()):
            if t in ("type", "contact", "handle", "default", "orderBy"):
                log.info("%s: column %r ignored: one customer per row has no per-contact %s",
                         where, headers[i], t)
                del assign[i]
        # One customer per row: a bare "ID" column is the customer's id.
        ids = [i for i, h in enumerate(headers) if _norm(h) == "id" and _norm(h) not in overrides]
        if "customerId" not in assign.values() and len(ids) == 1 and key.match_by != "email":
            assign[ids[0]] = "customerId"
    else:
        found = ", ".join(repr(h) for h in headers if h) or "none"
        raise InputError(where, "no contact column: expected Type and Contact columns, or columns "
                         f"like Email, Phone, Instagram (or use --mapping); found: {found}")
    if not {"customerId", "customerEmail"} & set(assign.values()) and key_and_contact is None:
        log.warning("%s: no customer column (Customer ID or Customer Email; or --match-by email); every row will "
                    "be reported as missing its customer. Headers: %s", where, ", ".join(filter(None, headers)))

    by_field: dict[str, list[int]] = {}
    for i, t in assign.items():
        if t not in _KINDS:
            by_field.setdefault(t, []).append(i)
    for f, cols in by_field.items():
        if len(cols) > 1:
            names = " and ".join(repr(headers[i]) for i in cols)
            same = len({_norm(headers[i]) for i in cols}) == 1
            problem = f"duplicate columns {names}" if same else f"columns {names} are all read as {f}"
            raise InputError(where, f"{problem}: keep one, or choose with --mapping")

    table = SourceTable(file, sheet, tuple(headers), layout, {headers[i]: t for i, t in sorted(assign.items())})
    log.info("%s: %s layout, columns %s", where, layout, table.field_of)
    fields = [(t, i) for i, t in sorted(assign.items()) if t not in _KINDS]
    if key_and_contact is not None:
        fields.append(("customerEmail", key_and_contact))
    return _Plan(
        table=table,
        fields=tuple(fields),
        kinds=tuple((t, i, headers[i]) for i, t in sorted(assign.items()) if t in _KINDS),
        contact_col=by_field.get("contact", [-1])[0],
    )


# --------------------------------------------------------------------------- rows


def fast_constructor(cls: type) -> Any:
    """A positional constructor for a frozen slots dataclass that skips __init__.

    A frozen dataclass sets each field with object.__setattr__; at a million rows
    that is a third of the load time. This writes the slots directly instead. Same
    result, same defaults (records has no __post_init__ to bypass).
    """
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_MISSING": dataclasses.MISSING}
    params, body = [], []
    for f in dataclasses.fields(cls):
        ns[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is not dataclasses.MISSING:
            ns[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            ns[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            body.append(f"    if {f.name} is _MISSING: {f.name} = _f_{f.name}()")
        else:
            params.append(f.name)
        body.append(f"    _set_{f.name}(o, {f.name})")
    src = f"def make({', '.join(params)}):\n    o = _new(_cls)\n" + "\n".join(body) + "\n    return o\n"
    exec(src, ns)  # noqa: S102 - generated from the dataclass's own field list
    return ns["make"]


_Source = fast_constructor(Source)
_RawContact = fast_constructor(RawContact)



_SAMPLE_ROWS = 1000  # rows sampled per table for frequent cell values
_SAMPLE_CELLS = 20_000  # or fewer on wide rows
_COMMON = 4  # seen this often in the sample: shared


BATCH_ROWS = 4096  # source rows per RowBatch: big enough for column work, small enough to stay in cache


@dataclass(frozen=True, slots=True)
class RowBatch:
    """Consecutive data rows of one table, cleaned (padded to the header, blank rows gone).

    The normalizer works on a batch column by column; `contacts(batch)` gives the
    same rows as RawContacts, one by one.
    """

    plan: _Plan
    numbers: list[int]  # Excel row number of each row
    rows: list[tuple[Cell, ...]]


def _batches(plan: _Plan, rows: Iterator[tuple[int, list[Cell]]], stats: LoadStats) -> Iterator[RowBatch]:
    """(Excel row number, converted cells) -> RowBatches. Hot loop: keep it lean."""
    width = len(plan.table.headers)
    # Memory: a million rows would hold a million copies of "Email", "TRUE", "1" and of each
    # customer id. Values frequent in the first rows are shared from then on (one C-level
    # dict.get per cell), and a customer column equal to the previous row's reuses its string.
    common: dict[Cell, Cell] = {}
    shared = common.get
    sample: Counter[Cell] | None = Counter()
    key_cols = [i for f, i in plan.fields if f in ("customerId", "customerEmail")]
    prev: tuple[Cell, ...] = ("",) * width
    sampled = 0
    numbers: list[int] = []
    batch: list[tuple[Cell, ...]] = []
    for number, cells in rows:
        # any() alone would call a row holding only an Excel FALSE blank
        if not any(cells) and all(c == "" for c in cells):
            stats.blank_rows += 1
            continue
        stats.rows += 1
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        else:  # cells past the header are kept only if they hold something
            while len(cells) > width and cells[-1] == "":
                cells.pop()
        for i in key_cols:
            if cells[i] == prev[i]:
                cells[i] = prev[i]
        if sample is None:
            row = tuple(map(shared, cells, cells))
        else:
            row = tuple(cells)
            sample.update(row)
            sampled += 1
            if sampled == _SAMPLE_ROWS or len(sample) > _SAMPLE_CELLS:
                common.update((v, v) for v, n in sample.items() if n >= _COMMON)
                sample = None
        prev = row
        numbers.append(number)
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            yield RowBatch(plan, numbers, batch)
            numbers, batch = [], []
    if batch:
        yield RowBatch(plan, numbers, batch)


def contacts(batch: RowBatch) -> Iterator[RawContact]:
    """A batch's rows as RawContacts: one per long-layout row, one per non-empty wide contact cell."""
    plan = batch.plan
    for number, row in zip(batch.numbers, batch.rows):
        yield from row_contacts(plan, number, row)


def row_contacts(plan: _Plan, number: int, row: tuple[Cell, ...]) -> list[RawContact]:
    """One source row's RawContacts."""
    table = plan.table
    source = _Source(table.file, table.sheet, number)
    values = {f: row[i] for f, i in plan.fields if row[i] != ""}
    if not plan.kinds:
        return [_RawContact(source, values, row, table, plan.contact_header)]
    found = [
        _RawContact(source, values | {"type": kind, "contact": row[i]}, row, table, header)
        for kind, i, header in plan.kinds
        if row[i] != ""
    ]
    # a wide row with no contact is still reported: the normalizer says missing-contact
    return found or [_RawContact(source, values, row, table, "")]


def _header(rows: Iterator[tuple[int, list[Cell]]]) -> list[str] | None:
    """Consume leading blank rows and return the header (None if there is none)."""
    for _, cells in rows:
        if any(c != "" for c in cells):
            headers = [str(c).strip("\ufeff \t") for c in cells]
            while headers and not headers[-1]:
                headers.pop()
            return headers
    return None


# --------------------------------------------------------------------------- text files


def _looks_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM: NULs in every other byte of ASCII-heavy text."""
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 4:
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be"
    return None


def _decodes(path: str, encoding: str) -> bool:
    """Whole-file strict decode in chunks: bounded memory, ~20 ms per 60 MB."""
    return _first_bad_byte(path, encoding) is None


def _first_bad_byte(path: str, encoding: str) -> int | None:
    """Where in the file `encoding` first fails, or None (a decoding error only knows its place in a buffer)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    done = 0
    with open(path, "rb") as f:
        try:
            while chunk := f.read(CHUNK_BYTES):
                decoder.decode(chunk)
                done += len(chunk)
            decoder.decode(b"", final=True)  # a sequence cut off by the end of the file
        except UnicodeDecodeError as e:
            return done + e.start - len(decoder.getstate()[0])
    return None


def _non_ascii_lines(path: str, limit: int = SAMPLE_BYTES) -> bytes:
    """The lines that decide a legacy encoding, wherever they are in the file."""
    picked = bytearray()
    with open(path, "rb") as f:
        for line in f:
            if not line.isascii():
                picked += line
                if len(picked) >= limit:
                    break
    return bytes(picked)


def _is_latin(text: str) -> bool:
    return all(not ch.isalpha() or ch.isascii() or unicodedata.name(ch, "").startswith("LATIN") for ch in text)


def _legacy_encoding(path: str) -> str | None:
    """Not UTF-8: charset-normalizer, but cp1252 for Western text.

    charset-normalizer often names cp1250/cp775/mac_* for short Western European
    text that Excel wrote as cp1252 (José, Müller, Ñandú); we trust it only when it
    finds another script (Cyrillic cp1251, Greek, CJK, ...).
    """
    sample = _non_ascii_lines(path)
    best = charset_normalizer.from_bytes(sample).best()
    guess = best.encoding if best is not None else None
    if guess and not _is_latin(str(best)) and _decodes(path, guess):
        return guess
    for enc in ("cp1252", guess):
        if enc and _decodes(path, enc):
            return enc
    return None


def _choose_encoding(path: str, head: bytes) -> str:
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return enc
    if b"\x00" in head:
        if enc16 := _looks_utf16(head):
            return enc16
        raise InputError(path, "binary data (NUL bytes): not a delimited text file")
    if _decodes(path, "utf-8"):
        return "utf-8"
    enc = _legacy_encoding(path)
    if enc is None:
        raise InputError(path, "cannot decode text: not UTF-8, UTF-16 or cp1252 (binary file?)")
    return enc


def _records(text: str) -> Iterator[str]:
    """Split a text sample into records, honouring quotes (a cell may hold newlines)."""
    start, quoted = 0, False
    for m in re.finditer(r'["\n]', text):
        if m.group() == '"':
            quoted = not quoted
        elif not quoted:
            yield text[start : m.start()]
            start = m.end()
    if not quoted:
        yield text[start:]  # the last record, maybe cut short by the sample


def sniff_delimiter(text: str, default: str = ",") -> str:
    """The candidate whose count outside quotes is the same on most records.

    The header must contain it; ties go to the larger count. csv.Sniffer is not
    used: it misreads ';' files whose cells contain commas.
    """
    lines = [r for r in _records(text) if r.strip()][:50]
    if not lines:
        return default
    counts = {d: [len(re.sub(r'"[^"]*"', "", line).split(d)) - 1 for line in lines] for d in DELIMITERS}
    scored = [
        (sum(c == n[0] for c in n) / len(n), n[0], d) for d, n in counts.items() if n[0] > 0
    ]
    return max(scored, key=lambda s: (s[0], s[1]))[2] if scored else default


def _text_rows(reader: Iterable[list[str]], last: list[int] | None = None, first: int = 1,
               ) -> Iterator[tuple[int, list[Cell]]]:
    """(record number, stripped cells); `last[0]` follows the number of the last record read."""
    last = last if last is not None else [0]
    for number, row in enumerate(reader, first):
        last[0] = number
        yield number, list(map(str.strip, row))


# A text file at least this big can be read in two parts by two processes (pipeline._read).
SPLIT_MIN_BYTES = 16 << 20


@dataclass(frozen=True)
class SplitStart:
    """load_batches(split=True): `part` (the file's second part) may be read elsewhere from now on."""

    part: TextPart


@dataclass(frozen=True)
class SplitEnd:
    """The first part is done: its last record was number `last`; `part` comes next."""

    part: TextPart
    last: int


@dataclass(frozen=True)
class TextPart:
    """The rows of a text file from byte `offset` (a record boundary) on, read with `plan`."""

    path: str
    encoding: str
    delimiter: str
    plan: _Plan
    offset: int

    def batches(self, stats: LoadStats, first: int = 1) -> Iterator[RowBatch]:
        """The part's batches, numbered from `first` (1: relative to the part)."""
        with open(self.path, "rb") as raw:
            raw.seek(self.offset)
            with _text_errors(self.path, self.encoding), io.TextIOWrapper(
                raw, encoding=self.encoding, errors="strict", newline=""
            ) as f:
                yield from _batches(self.plan, _text_rows(_csv_reader(f, self.delimiter), first=first), stats)


def _csv_reader(f: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    return csv.reader(f, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)


@contextlib.contextmanager
def _text_errors(path: str, encoding: str) -> Iterator[None]:
    try:
        yield
    except csv.Error as e:
        raise InputError(path, f"cannot parse as delimited text: {e}") from None
    except UnicodeDecodeError as e:
        at = _first_bad_byte(path, encoding)
        raise InputError(path, f"not valid {encoding} text at byte {e.start if at is None else at}; "
                         "pass another encoding") from None


def _split_offset(path: str, encoding: str, delimiter: str) -> int | None:
    """A record boundary near the middle of a big file, or None when it cannot be told safely.

    Safe: a byte-per-ASCII-character encoding (UTF-8, cp1252, ...), and every quote at a
    cell's start or end or doubled, so that a newline after an even number of quotes is
    outside any quoted cell.
    """
    size = os.path.getsize(path)
    if size < SPLIT_MIN_BYTES or not delimiter.isascii():
        return None
    name, ascii_bytes = codecs.lookup(encoding).name, f'\n\r"{delimiter}'
    if name.startswith(("utf-16", "utf-32", "utf-7", "iso2022")) or ascii_bytes.encode(encoding, "replace") != ascii_bytes.encode():
        return None
    d = re.escape(delimiter.encode("ascii"))
    stray = re.compile(rb"[^" + d + rb'\r\n"]"[^' + d + rb'\r\n"]')  # a quote inside an unquoted cell
    middle = size // 2
    quotes = done = 0  # quotes in the bytes before `done`
    split = None
    tail = b""  # the last 2 bytes of the previous chunk: a stray quote may straddle chunks
    with open(path, "rb") as f:  # in chunks: memory stays flat however big the file
        while chunk := f.read(CHUNK_BYTES):
            if stray.search(tail + chunk):
                return None  # parity says nothing about where quoted cells end
            if split is None and done + len(chunk) > middle:
                pos = chunk.find(b"\n", max(0, middle - done))
                while pos != -1 and (quotes + chunk.count(b'"', 0, pos)) % 2:
                    pos = chunk.find(b"\n", pos + 1)
                if pos != -1:
                    split = done + pos + 1
                else:
                    middle = done + len(chunk)  # no boundary in this chunk: look in the next
            quotes += chunk.count(b'"')
            done += len(chunk)
            tail = chunk[-2:]
    return split if split is not None and split < done else None


class _Head(io.RawIOBase):
    """The first `limit` bytes of a binary file."""

    def __init__(self, raw: io.BufferedReader, limit: int):
        self.raw, self.left = raw, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self.left <= 0:
            return 0
        n = self.raw.readinto(memoryview(buffer)[: min(len(buffer), self.left)]) or 0
        self.left -= n
        return n


def _load_text(path: str, encoding: str | None, delimiter: str | None, mapping: dict[str, str],
               stats: LoadStats, log: logging.Logger, key: CustomerKey, split: bool = False,
               ) -> Iterator[RowBatch | SplitStart | SplitEnd]:
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
    if not head.strip():
        raise InputError(path, "file is empty")
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError(path, "this is a workbook, not delimited text: give it its .xlsx/.xls extension")
    enc = encoding or _choose_encoding(path, head)
    sample = codecs.getincrementaldecoder(enc)(errors="replace").decode(head)
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if controls > max(3, len(sample) // 100):
        raise InputError(path, f"binary data: not a delimited text file (read as {enc})")
    delim = delimiter or sniff_delimiter(sample, "\t" if path.lower().endswith(".tsv") else ",")
    stats.encodings[path] = enc
    stats.delimiters[path] = delim
    log.info("%s: encoding %s%s, delimiter %r", path, enc, "" if encoding else " (detected)", delim)

    offset = _split_offset(path, enc, delim) if split else None
    last = [0]
    with open(path, "rb") as raw, _text_errors(path, enc), io.TextIOWrapper(
        io.BufferedReader(_Head(raw, offset)) if offset else raw, encoding=enc, errors="strict", newline=""
    ) as f:
        rows = _text_rows(_csv_reader(f, delim), last)
        headers = _header(rows)
        if headers is None:
            raise InputError(path, "file is empty (only blank lines)")
        plan = _plan(path, "", headers, mapping, log, key)
        stats.tables.append(plan.table)
        part = TextPart(path, enc, delim, plan, offset) if offset else None
        if part:
            yield SplitStart(part)
        yield from _batches(plan, rows, stats)
    if part:
        yield SplitEnd(part, last[0])


# --------------------------------------------------------------------------- workbooks


def _cell(v: Any) -> Cell:
    """A workbook cell as text, except booleans and dates, which stay typed."""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool) or isinstance(v, dt.datetime):
        return v
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, dt.time):
        return v.isoformat()
    return "" if v is None else str(v).strip()


def _sheet_rows(sheet: python_calamine.CalamineSheet) -> Iterator[tuple[int, list[Cell]]]:
    # iter_rows starts at row 1 even when the used range starts lower.
    for number, row in enumerate(sheet.iter_rows(), 1):
        yield number, [_cell(v) for v in row]


_UNREADABLE = "cannot read workbook: is it password-protected or corrupt?"


def _load_workbook(path: str, sheets: Sequence[str], mapping: dict[str, str],
                   stats: LoadStats, log: logging.Logger, key: CustomerKey) -> Iterator[RowBatch]:
    try:
        book = python_calamine.CalamineWorkbook.from_path(path)
        meta = book.sheets_metadata
    except (python_calamine.CalamineError, OSError, ValueError) as e:
        log.debug("%s: %s", path, e)
        raise InputError(path, _UNREADABLE) from None
    names = [m.name for m in meta]
    if sheets:
        chosen = []
        for want in sheets:
            match = [n for n in names if n == want] or [n for n in names if n.casefold() == want.casefold()]
            if not match:
                raise InputError(path, f"no sheet {want!r}; sheets: {', '.join(names)}")
            chosen.append(match[0])
    else:
        chosen = []
        for m in meta:
            if m.visible != python_calamine.SheetVisibleEnum.Visible:
                log.info("%s: skipping hidden sheet %r (pick it with --sheet)", path, m.name)
                stats.hidden_sheets.append(f"{path}:{m.name}")
            elif m.typ == python_calamine.SheetTypeEnum.WorkSheet:
                chosen.append(m.name)

    with book:
        tables = 0
        skipped: list[InputError] = []
        for name in chosen:
            try:
                rows = _sheet_rows(book.get_sheet_by_name(name))
                headers = _header(rows)
            except python_calamine.CalamineError as e:
                log.debug("%s:%s: %s", path, name, e)
                raise InputError(f"{path}:{name}", _UNREADABLE) from None
            if headers is None:
                continue  # an empty sheet
            try:
                plan = _plan(path, name, headers, mapping, log, key)
            except InputError as e:
                # A notes/instructions sheet beside the data: skip it unless picked.
                if sheets or not e.problem.startswith("no contact column"):
                    raise
                log.warning("%s", e)
                skipped.append(e)
                continue
            tables += 1
            stats.tables.append(plan.table)
            yield from _batches(plan, rows, stats)
    if not tables:
        if skipped:
            raise skipped[0]
        hidden = [h.split(":", 1)[1] for h in stats.hidden_sheets if h.startswith(f"{path}:")]
        problem = "no data: every visible sheet is empty" if chosen or not hidden else "no visible sheet"
        if hidden:
            problem += f" (hidden: {', '.join(hidden)}; pick one with --sheet)"
        raise InputError(path, problem)


# --------------------------------------------------------------------------- entry point


def _check_file(path: str) -> str:
    """Fail before anything is yielded: missing, directory, empty, unsupported."""
    p = Path(path)
    ext = p.suffix.lower()
    if not p.exists():
        raise InputError(path, "file not found")
    if p.is_dir():
        raise InputError(path, "is a directory, not a file")
    if ext not in TEXT_EXTENSIONS + WORKBOOK_EXTENSIONS:
        raise InputError(path, f"unsupported file type {ext or '(no extension)'!r}: use {SUPPORTED}")
    try:
        size = p.stat().st_size
        with open(p, "rb"):
            pass
    except OSError as e:
        raise InputError(path, f"cannot read file: {e.strerror}") from None
    if size == 0:
        raise InputError(path, "file is empty")
    return ext


def _xls_is_text(path: str) -> bool:
    """Many web apps export tab-separated text or HTML and call it .xls."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return False
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<html", b"<!doctype", b"<table")):
        raise InputError(path, "an HTML page saved as .xls: open it in Excel and save as .xlsx")
    return b"\x00" not in head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _check_options(mapping: dict[str, str] | None, encoding: str | None, delimiter: str | None) -> tuple[dict, str | None, str | None]:
    resolved = {}
    for header, target in (mapping or {}).items():
        r = _resolve_target(target)
        if r is None:
            raise UsageError(f"mapping {header!r} -> {target!r}: unknown field")
        resolved[header] = r
    if encoding:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise UsageError(f"unknown encoding {encoding!r}") from None
    if delimiter:
        delimiter = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(
            delimiter.lower(), delimiter)
        if len(delimiter) != 1:
            raise UsageError(f"delimiter must be one character or 'tab', got {delimiter!r}")
    return resolved, encoding, delimiter


def load_batches(
    paths: Iterable[str | os.PathLike[str]],
    *,
    sheets: Sequence[str] = (),
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    stats: LoadStats | None = None,
    log: logging.Logger | None = None,
    customer_key: str | None = None,
    match_by: str | None = None,
    split: bool = False,
) -> Iterator[RowBatch | SplitStart | SplitEnd]:
    """Yield RowBatches from every file in order; InputError for a file that cannot be input.

    With split=True a big text file comes as SplitStart(part), the batches of its first
    part, SplitEnd(part, last record number): the caller reads `part` (in another process).

    Every path is checked (exists, a file, not empty, supported) before the first
    record is yielded, so a typo in the third file stops the run before any work.
    """
    stats = stats if stats is not None else LoadStats()
    log = log or logger
    mapping, encoding, delimiter = _check_options(mapping, encoding, delimiter)
    if match_by is not None and match_by not in MATCH_BY:
        raise UsageError(f"--match-by must be one of {', '.join(MATCH_BY)}, got {match_by!r}")
    if customer_key is not None and not _norm(customer_key):
        raise UsageError("--customer-key needs a column name")
    key = CustomerKey(customer_key, match_by)
    files = [(str(p), _check_file(str(p))) for p in paths]
    for path, ext in files:
        if ext in TEXT_EXTENSIONS or (ext == ".xls" and _xls_is_text(path)):
            yield from _load_text(path, encoding, delimiter, mapping, stats, log, key, split)
        else:
            yield from _load_workbook(path, sheets, mapping, stats, log, key)


def load(paths: Iterable[str | os.PathLike[str]], **options: Any) -> Iterator[RawContact]:
    """Yield RawContacts from every file in order; the options are load_batches'."""
    for batch in load_batches(paths, **options):
        yield from contacts(batch)
