"""Headers -> fields: built-in aliases, --mapping, the customer key, long or wide layout.

    plan = plan_table(file, sheet, headers, mapping, log, CustomerKey(column, match_by))
    plan.table.layout, plan.fields, plan.kinds

Headers match ignoring case, spaces, `_`, `-` and dots: `Customer ID` = `customer_id` = `customerId`.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from importer import presets
from importer.errors import InputError, UsageError
from importer.records import FIELDS, ContactType, SourceTable

IGNORE = ""  # mapping target meaning "do not use this column"

def norm(header: str) -> str:
    """Header key: case, spaces, `_`, `-`, dots and BOMs don't matter."""
    return re.sub(r"[\s_\-.\ufeff]+", "", header).casefold()


def _aliases(table: dict[str, Sequence[str]]) -> dict[str, str]:
    return {norm(alias): str(target) for target, aliases in table.items() for alias in aliases}


# Canonical fields. "ID" alone is deliberately absent: in a contacts export it is
# usually the contact's own id; see plan_table() for the one case where it is used.
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
        # the customer's name, for --create-customers (billing name)
        "customerName": ("name", "full name", "customer name", "client name", "display name", "billing name",
                         "contact name"),
        "firstName": ("first name", "given name", "firstname", "vorname", "prénom", "prenom", "nombre"),
        "lastName": ("last name", "family name", "surname", "nachname", "nom", "apellido", "apellidos"),
        # The region of the row's phone numbers written without +country code (HubSpot, Salesforce, Shopify, ...)
        "country": (
            "country", "country/region", "country name", "country code", "cc", "mailing country", "billing country",
            "default address country code", "land", "pays", "país", "pais", "paese",
        ),
    }
)

# Wide-layout columns: one contact kind per column. "Phone 2" = "Phone".
KIND_ALIASES = _aliases(
    {
        ContactType.EMAIL: (
            "email", "e-mail", "email address", "e-mail address", "mail",
            "courriel", "correo", "correo electrónico", "e-mail-adresse",
        ),
        ContactType.PHONE: (
            "phone", "phone number", "mobile", "mobile phone", "mobile number", "cell",
            "cell phone", "telephone", "tel", "home phone", "work phone",
            # the exports people bring: HubSpot, Outlook, Salesforce, Shopify
            "mobile phone number", "business phone", "other phone", "primary phone", "company main phone",
            "default address phone",
            # local words
            "telefon", "telefonnummer", "mobil", "mobilnummer", "handy", "handynummer", "téléphone", "portable",
            "teléfono", "móvil", "celular", "telefono", "cellulare", "mobiltelefon", "telefon privat",
            "telefon geschäftlich", "téléphone portable", "téléphone mobile", "numéro de téléphone", "teléfono móvil",
            "número de teléfono", "private phone",
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
        ContactType.URL: (
            "website", "url", "web", "homepage", "web site", "site", "web page", "website url", "webseite", "site web",
            "sitio web",
        ),
        ContactType.OTHER: ("other",),
    }
)

_TARGETS = {norm(f): f for f in FIELDS} | {norm(t.name): t.value for t in ContactType}
_KINDS = {t.value for t in ContactType}
NAME_FIELDS = ("customerName", "firstName", "lastName")


def _kind_of(key: str) -> str | None:
    """A wide column's contact type; numbered columns count too: `Phone 2`, Outlook's `E-mail 2 Address`,
    Google Contacts' `Phone 1 - Value`."""
    plain = re.sub(r"\d+", "", key)
    return KIND_ALIASES.get(key) or KIND_ALIASES.get(plain) or KIND_ALIASES.get(plain.removesuffix("value"))


# A phone column's word for the kind of phone: its numbers' note where the row has none.
_PHONE_LABELS = frozenset(norm(w) for w in (
    "mobile", "cell", "business", "work", "home", "other", "private", "mobil", "handy", "privat", "geschäftlich",
    "portable", "móvil", "celular", "cellulare",
))  # fmt: skip


def phone_label(header: str) -> str:
    """The first word of a PHONE column's header that says which phone, as written: `Mobile Phone Number` ->
    `Mobile`, `Business Phone` -> `Business`, `Téléphone portable` -> `portable`; "" for `Phone`, `Telefon`,
    `Phone 1 - Value`, `Default Address Phone` (a note "Phone" would say nothing)."""
    return next((w for w in re.findall(r"[^\W\d_]+", header) if norm(w) in _PHONE_LABELS), "")


def resolve_target(target: str) -> str | None:
    """A mapping value -> canonical field, ContactType value, IGNORE; None if unknown."""
    key = norm(target)
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
            if line == 1 and (norm(row[0]), norm(row[1])) == ("header", "field"):
                continue
            pairs.append((row[0], row[1]))
    mapping = {}
    for header, target in pairs:
        resolved = resolve_target(target)
        if resolved is None:
            raise InputError(name, f"{header!r} -> {target!r}: unknown field; use one of "
                             f"{', '.join(FIELDS)}, a contact type ({', '.join(t.name for t in ContactType)}) or ignore")
        mapping[header] = resolved
    return mapping


@dataclass(frozen=True)
class Plan:
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


def _key_column(where: str, headers: list[str], column: str, option: str = "--customer-key") -> int:
    at = [i for i, h in enumerate(headers) if norm(h) == norm(column)]
    if not at:
        found = ", ".join(repr(h) for h in headers if h) or "none"
        raise InputError(where, f"no column {column!r} ({option}); found: {found}")
    return at[0]


def _primary(columns: list[int], headers: list[str]) -> list[int]:
    """Of numbered columns (Outlook's `E-mail Address`, `E-mail 2 Address`; Google's `E-mail 1 - Value`,
    `E-mail 2 - Value`), the first: the one with the lowest number (none counts as 1), if only one has it."""
    if len(columns) < 2:
        return columns
    number = {i: int(m.group()) if (m := re.search(r"\d+", headers[i])) else 1 for i in columns}
    lowest = min(number.values())
    first = [i for i in columns if number[i] == lowest]
    return first if len(first) == 1 else columns


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
        emails = _primary([i for i, t in assign.items() if t == ContactType.EMAIL], headers)
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


def plan_table(file: str, sheet: str, headers: list[str], mapping: dict[str, str], log: logging.Logger,
          key: CustomerKey = CustomerKey(), preset: str | None = None, country_column: str | None = None) -> Plan:
    """How a table's columns map. `preset`: --preset NAME; else a known export is detected from the headers,
    and its layout (foreign ids ignored, customers matched by email) applies under the user's mapping."""
    where = f"{file}:{sheet}" if sheet else file
    known = presets.choose(headers, preset)
    if known is not None:
        # --match-by id: the user says the ids are Ecwid's, so they are kept
        mapping = {**known.mapping_for(headers, keep_ids=key.match_by == "id"), **mapping}
        if key.match_by is None and known.match_by:
            key = CustomerKey(key.column, known.match_by)
        log.info("%s: read as a %s (--preset %s)", where, known.title, known.name)
    overrides = {norm(h): t for h, t in mapping.items()}
    assign: dict[int, str] = {}
    for i, h in enumerate(headers):
        key_ = norm(h)
        if not key_:
            continue
        target = overrides[key_] if key_ in overrides else FIELD_ALIASES.get(key_) or _kind_of(key_)
        if target:
            assign[i] = target
    if country_column is not None:  # --country-column: this column, and no other, is the phones' country
        at = _key_column(where, headers, country_column, "--country-column")
        for i in _columns_for(assign, "country"):
            del assign[i]
        assign[at] = "country"

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
        ids = [i for i, h in enumerate(headers) if norm(h) == "id" and norm(h) not in overrides]
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
        if len(cols) > 1 and f in NAME_FIELDS:  # "Name" beside "Full Name": the first one is the name
            for i in cols[1:]:
                del assign[i]
        elif len(cols) > 1:
            names = " and ".join(repr(headers[i]) for i in cols)
            same = len({norm(headers[i]) for i in cols}) == 1
            problem = f"duplicate columns {names}" if same else f"columns {names} are all read as {f}"
            raise InputError(where, f"{problem}: keep one, or choose with --mapping")

    table = SourceTable(file, sheet, tuple(headers), layout, {headers[i]: t for i, t in sorted(assign.items())},
                        headers[key_and_contact] if key_and_contact is not None else "", known.name if known else "")
    log.info("%s: %s layout, columns %s", where, layout, table.field_of)
    fields = [(t, i) for i, t in sorted(assign.items()) if t not in _KINDS]
    if key_and_contact is not None:
        fields.append(("customerEmail", key_and_contact))
    return Plan(
        table=table,
        fields=tuple(fields),
        kinds=tuple((t, i, headers[i]) for i, t in sorted(assign.items()) if t in _KINDS),
        contact_col=by_field.get("contact", [-1])[0],
    )




# A cell that is a value, not a column's name: an email address, a phone number, a plain number (an id).
_VALUE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+|\+?[\d\s().\-/]*\d{3}[\d\s().\-/]*|\d+([.,]\d+)?")


def looks_like_header(cells: Sequence[str]) -> bool:
    """Whether a row reads as a table's header: it names a contact column (a contact kind like Email or Phone,
    or Type beside Contact) and none of its cells is a value (an email address, a phone number, a number).
    A customer key alone doesn't make one (`Customer` over `Contact details` is a group row)."""
    texts = [c.strip() for c in cells if isinstance(c, str) and c.strip()]
    if any(_VALUE.fullmatch(c) for c in texts):
        return False
    keys = [norm(c) for c in texts]
    fields = {FIELD_ALIASES.get(k) for k in keys}
    return any(_kind_of(k) for k in keys) or {"type", "contact"} <= fields


def check_mapping(mapping: dict[str, str] | None) -> dict[str, str]:
    """A library caller's mapping, resolved (read_mapping's targets); UsageError for an unknown field."""
    resolved = {}
    for header, target in (mapping or {}).items():
        r = resolve_target(target)
        if r is None:
            raise UsageError(f"mapping {header!r} -> {target!r}: unknown field")
        resolved[header] = r
    return resolved
