"""Headers -> fields: built-in aliases, then the header's words, --mapping, the customer key, long or wide layout.

    plan = plan_table(file, sheet, headers, mapping, log, CustomerKey(column, match_by))
    plan.table.layout, plan.fields, plan.kinds, plan.key_columns, plan.notes
    looks_like_header(cells) -> bool     # a row reads as a header row

Headers match ignoring case, spaces, `_`, `-` and dots: `Customer ID` = `customer_id` = `customerId`.
A header no alias knows is read by its words (importer.rules.words): `Person - Phone - Mobile` is a
PHONE column whose numbers are noted `Mobile`.

The customer's key, with no flags: the customer id column if there is one (dropped, with a note, when
`drop_ids` says its values are not this store's ids); else the row's emails: every email column is a
contact, and the customer is the one the row's emails name (plan.key_columns, primary first).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from importer.errors import InputError
from importer.mapping import presets
from importer.rules.words import norm, read_header, written_words
from importer.mapping.keycolumns import MATCH_BY, CustomerKey, choose_country, choose_customer_key, columns_for, key_column
from importer.mapping.mappingfile import IGNORE, check_mapping, read_mapping, resolve_target
from importer.records import ContactType, SourceTable

__all__ = [
    "IGNORE", "check_mapping", "read_mapping", "resolve_target", "norm", "plan_table", "Plan", "PlanRefused",
    "CustomerKey", "MATCH_BY", "NAME_FIELDS", "looks_like_header", "column_note", "alias_of", "phone_label",
    "reading_of", "FIELD_ALIASES", "KIND_ALIASES", "columns_for", "key_column",
]


def _aliases(table: dict[str, Sequence[str]]) -> dict[str, str]:
    return {norm(alias): str(target) for target, aliases in table.items() for alias in aliases}


# Canonical fields. "ID" alone is deliberately absent: in a contacts export it is
# usually the contact's own id; see plan_table() for the one case where it is used.
FIELD_ALIASES = _aliases(
    {
        "customerId": ("customerId", "customer", "client id", "cid", "customer number", "customer no"),
        "customerEmail": ("customer email", "customer e-mail", "client email", "client e-mail"),
        "storeId": ("store id", "store", "shop id"),
        "type": ("type", "contact type", "kind", "channel", "typ", "kontaktart", "tipo", "soort", "type de contact",
                 "medium", "contact medium", "contact method", "contact channel", "contact kind"),
        # not "Kontakt", "Contacto": as often the contact person's name
        "contact": ("contact", "value", "contact value", "address", "wert", "valeur", "valor", "valore", "waarde"),
        "handle": ("handle", "username", "user name"),
        "note": ("note", "notes", "comment", "comments", "notiz", "bemerkung", "remarque", "nota", "notitie",
                 "opmerking"),
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


def column_note(header: str, kind: str) -> str:
    """The note of a wide column's contacts where the row has none: an alias-known PHONE column's phone_label,
    else the qualifier its words give (`billing_phone` -> `Billing`, `Person - Email - Work` -> `Work`)."""
    if alias_of(header):
        return phone_label(header) if kind == ContactType.PHONE else ""
    reading = read_header(header)
    return reading.note if reading.target in (kind, None) else ""  # None: "Work", read as a kind by its values


def alias_of(header: str) -> str | None:
    """What a header the built-in aliases know reads as (numbered columns too: `E-mail 2 Address`); else None."""
    key = norm(header)
    return FIELD_ALIASES.get(key) or _kind_of(key) if key else None


def reading_of(header: str) -> str | None:
    """What a header reads as with no mapping: its alias, else its words."""
    return alias_of(header) or read_header(header).target if norm(header) else None


_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+|\w+://\S+|www\.\S+")  # an email or a link: data, never a header
_NUMBER = re.compile(r"[+(]?\d[\d\s().\-/]{4,}|-?\d+([.,]\d+)?")  # a phone number, an id, an amount


def looks_like_header(cells: Sequence[str]) -> bool:
    """A row reads as a header: a cell reads as a contact kind, or there is a Type and a
    Contact column; and the row is text, not data (no cell is an email or a link, at most a quarter numbers)."""
    texts = [str(c).strip() for c in cells if c is not None and c == c and str(c).strip()]
    if not texts or any(_ADDRESS.fullmatch(t) for t in texts):
        return False
    if sum(bool(_NUMBER.fullmatch(t)) for t in texts) * 4 > len(texts):
        return False
    # A customer key alone doesn't make one: `Customer` over `Contact details` is a group row (issue 24).
    readings = {reading_of(t) for t in texts}
    return bool(readings & _KINDS) or {"type", "contact"} <= readings


def phone_label(header: str) -> str:
    """The first word of a PHONE column's header that says which phone, as written: `Mobile Phone Number` ->
    `Mobile`, `Business Phone` -> `Business`, `Téléphone portable` -> `portable`; "" for `Phone`, `Telefon`,
    `Phone 1 - Value`, `Default Address Phone` (a note "Phone" would say nothing)."""
    found = next((w for w in written_words(header) if norm(w) in _PHONE_LABELS), "")
    return found.capitalize() if header == header.lower() else found  # "mobile" -> "Mobile", as read_header


@dataclass(frozen=True)
class Plan:
    """How one table's columns map onto fields."""

    table: SourceTable
    fields: tuple[tuple[str, int], ...]  # (canonical field, column index)
    kinds: tuple[tuple[str, int, str], ...]  # wide: (ContactType value, column index, header)
    contact_col: int  # long: index of the contact column
    key_columns: tuple[int, ...] = ()  # wide, customers by email: the email columns naming the customer, in order
    notes: tuple[str, ...] = ()  # what a person should know about how the columns were read
    country_pairs: tuple[tuple[int, int], ...] = ()  # (phone column, the country column its numbers are read in)
    label_pairs: tuple[tuple[int, int], ...] = ()  # wide: (contact column, its label column: the contacts' note)
    left_out: tuple[tuple[str, int, str], ...] = ()  # wide: contact-like columns not imported (kind, index, header):
    # each cell a `skipped` line (column-not-imported), so no contact goes unsaid (matching.contact_like_left_out)

    @property
    def contact_header(self) -> str:
        return self.table.headers[self.contact_col] if self.contact_col >= 0 else ""


class PlanRefused(InputError):
    """The columns can't be read (no contact column, two customer-id columns, ...): what each header read as
    anyway, so `columns FILE` can still write the mapping to fix it."""

    def __init__(self, path: str, problem: str, headers: Sequence[str], readings: dict[str, str | None]):
        super().__init__(path, problem)
        self.headers = tuple(headers)
        self.readings = readings


def plan_table(file: str, sheet: str, headers: list[str], mapping: dict[str, str], log: logging.Logger,
               key: CustomerKey = CustomerKey(), preset: str | None = None, country_column: str | None = None,
               drop_ids: str = "") -> Plan:
    """How a table's columns map (see _plan_table); PlanRefused (an InputError) when they can't be read."""
    try:
        return _plan_table(file, sheet, headers, mapping, log, key, preset, country_column, drop_ids)
    except PlanRefused:
        raise
    except InputError as exc:
        known = presets.choose(headers, preset) if preset is None or preset.lower() in presets.BY_NAME else None
        overrides = {norm(h): t for h, t in {**(known.mapping_for(headers) if known else {}), **mapping}.items()}
        readings = {h: overrides[norm(h)] if norm(h) in overrides else reading_of(h) for h in headers if h}
        raise PlanRefused(exc.path, exc.problem, headers, readings) from None


def _plan_table(file: str, sheet: str, headers: list[str], mapping: dict[str, str], log: logging.Logger,
                key: CustomerKey = CustomerKey(), preset: str | None = None, country_column: str | None = None,
                drop_ids: str = "") -> Plan:
    """How a table's columns map. `preset`: --preset NAME; else a known export is detected from the headers,
    and its layout (foreign ids ignored, customers matched by email) applies under the user's mapping.
    `drop_ids`: why the id column's values are not this store's ids (matching.ids_not_whole): the customers
    are then named by the row's emails, and the note says so."""
    where = f"{file}:{sheet}" if sheet else file
    notes: list[str] = []
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
        target = overrides[key_] if key_ in overrides else reading_of(h)
        if target:
            assign[i] = target
    if country_column is not None:  # --country-column: this column, and no other, is the phones' country
        at = key_column(where, headers, country_column, "--country-column")
        for i in columns_for(assign, "country"):
            del assign[i]
        assign[at] = "country"
    pairs, paired = choose_country(where, headers, assign, notes)

    present = set(assign.values())
    # Type and Contact beside two or more contact columns (Capsule's party Type, a postal Address): one customer
    # per row, and those two are not a contact's
    wide_kinds = sum(t in _KINDS and t != ContactType.EMAIL for t in assign.values())
    long = "type" in present and "contact" in present and wide_kinds < 2
    if not long and "customerId" not in present and key.match_by != "email" and not drop_ids:
        # One customer per row: a bare "ID" column is the customer's id.
        ids = [i for i, h in enumerate(headers) if norm(h) == "id" and norm(h) not in overrides]
        if len(ids) == 1 and any(t in _KINDS for t in present):
            assign[ids[0]] = "customerId"
    if drop_ids:
        notes.append(drop_ids)
    key_columns: list[int] = []
    labels: tuple[tuple[int, int], ...] = ()
    if long or any(t in _KINDS for t in present):  # else: no contact column, said below
        key_columns = choose_customer_key(where, headers, assign, key, long, log, bool(drop_ids))
    present = set(assign.values())
    kind_cols = [i for i, t in assign.items() if t in _KINDS]
    if long:
        layout = "long"
        # Beside type+contact, a lone "Email" column is the customer's email.
        emails = [i for i in kind_cols if assign[i] == ContactType.EMAIL]
        if len(kind_cols) > len(emails[:1]):  # e.g. Type = "Retail", Contact = a person's name
            both = ", ".join(repr(headers[i]) for i in sorted(kind_cols + columns_for(assign, "type", "contact")))
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
        # `E-mail 1 - Label`: its Value's note (read so, or mapped as note; a mapping's ignore leaves it out)
        ignored = {i for i, h in enumerate(headers) if overrides.get(norm(h)) == IGNORE}
        labels = _label_pairs(headers, kind_cols, {i for i, t in assign.items() if t not in ("note", "type")} | ignored)
        for _, k in labels:
            assign.pop(k, None)
        for i, t in list(assign.items()):
            if t in ("type", "contact", "handle", "default", "orderBy"):
                log.info("%s: column %r ignored: one customer per row has no per-contact %s",
                         where, headers[i], t)
                del assign[i]
    else:
        found = ", ".join(repr(h) for h in headers if h) or "none"
        raise InputError(where, "no contact column: expected Type and Contact columns, or columns "
                         f"like Email, Phone, Instagram (or use --mapping); found: {found}")
    if not {"customerId", "customerEmail"} & set(assign.values()) and not key_columns:
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
        elif f == "customerId" and len(bare := [i for i in cols if norm(headers[i]) == "customer"]) == len(cols) - 1 == 1:
            key = next(i for i in cols if i not in bare)  # "Customer" beside "Customer ID": the name, not the key
            log.info("%s: column %r not read as the customer id: %r is", where, headers[bare[0]], headers[key])
            del assign[bare[0]]
        elif len(cols) > 1:
            names = " and ".join(repr(headers[i]) for i in cols)
            same = len({norm(headers[i]) for i in cols}) == 1
            problem = f"duplicate columns {names}" if same else f"columns {names} are all read as {f}"
            raise InputError(where, f"{problem}: keep one, or choose with --mapping")

    used = {**assign, **dict.fromkeys(paired, "country"), **{k: "note" for _, k in labels}} if layout == "wide" \
        else assign
    table = SourceTable(file, sheet, tuple(headers), layout, {headers[i]: t for i, t in sorted(used.items())},
                        headers[key_columns[0]] if key_columns else "", known.name if known else "")
    log.info("%s: %s layout, columns %s", where, layout, table.field_of)
    fields = [(t, i) for i, t in sorted(assign.items()) if t not in _KINDS]
    if key_columns:
        fields.append(("customerEmail", key_columns[0]))
    return Plan(
        table=table,
        fields=tuple(fields),
        kinds=tuple((t, i, headers[i]) for i, t in sorted(assign.items()) if t in _KINDS),
        contact_col=by_field.get("contact", [-1])[0],
        key_columns=tuple(key_columns),
        notes=tuple(notes),
        country_pairs=tuple(p for p in pairs if p[0] in assign) if layout == "wide" else (),
        label_pairs=labels,
    )


def _label_pairs(headers: Sequence[str], contact_columns: Sequence[int], taken: set[int]) -> tuple[tuple[int, int], ...]:
    """Google Contacts' `E-mail 1 - Label` beside `E-mail 1 - Value` (`E-mail 1 - Type` in its older layout):
    (contact column, label column) of each contact column whose header ends in "value" and has a "label" (else a
    "type") twin no other reading took."""
    at = {norm(h): i for i, h in enumerate(headers) if h}
    pairs = []
    for i in sorted(contact_columns):
        key = norm(headers[i])
        stem = key[: -len("value")] if key.endswith("value") else None
        label = None if stem is None else at.get(stem + "label", at.get(stem + "type"))
        if label is not None and label not in taken:
            pairs.append((i, label))
    return tuple(pairs)
