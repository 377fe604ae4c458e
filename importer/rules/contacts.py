"""A contact value by its type cell: type aliases, types told from the value, one function per type."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable

from importer.rules.words import read_header
from importer.records import ContactType
from importer.errors import Code
from importer.rules.emails import email
from importer.rules.links import SOCIAL_TYPES, split_link, network_of, social, url, whatsapp, HOSTNAME
from importer.rules.phones import phone
from importer.rules.text import SCIENTIFIC, InvalidValue, Problem, clean

_ALIASES: dict[str, ContactType] = {t.value.lower().replace("_", ""): t for t in ContactType}
_ALIASES.update(
    {
        **dict.fromkeys(("email", "mail", "emailaddress", "emails"), ContactType.EMAIL),
        **dict.fromkeys(
            ("mobile", "tel", "telephone", "cell", "cellphone", "phonenumber", "mobilephone", "mobilenumber", "phones",
             "fixe", "fijo", "fisso"),  # a landline, as French, Spanish, Italian type cells say it
            ContactType.PHONE,
        ),
        "x": ContactType.TWITTER,
        **dict.fromkeys(("website", "web", "site", "homepage", "link", "webpage"), ContactType.URL),
        "fb": ContactType.FACEBOOK,
        **dict.fromkeys(("ig", "insta"), ContactType.INSTAGRAM),
        **dict.fromkeys(("messenger", "facebookmessenger"), ContactType.FB_MESSENGER),
        "tg": ContactType.TELEGRAM,
        "wa": ContactType.WHATSAPP,
        "yt": ContactType.YOUTUBE,
        "vkontakte": ContactType.VK,
    }
)
_KEY_JUNK = str.maketrans("", "", " _-.")
_TYPE_NAMES = [t.value for t in ContactType]


@functools.lru_cache(maxsize=1024)
def resolve_type(text: str) -> tuple[ContactType | None, Problem]:
    """ContactType for a type cell: case-insensitive, aliases; unknown -> a suggestion."""
    t = _ALIASES.get(clean(text).lower().translate(_KEY_JUNK))
    if t is not None:
        return t, None
    said = read_header(text).target  # its words, as a header's: "Telefon", "telefoon", "E-Mail", "Mobil"
    if said in _TYPE_NAMES:
        return ContactType(said), None
    close = difflib.get_close_matches(text.upper(), _TYPE_NAMES, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return None, (Code.UNKNOWN_TYPE, f"unknown type {text!r}{hint}; use one of {', '.join(_TYPE_NAMES)}")


_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]{6,}(?:\s*(?:ext\.?|x)\s*\d+)?", re.I)


def infer_type(value: str) -> ContactType | None:
    """The type of a contact whose type cell is blank, when its form says it."""
    if "@" in value and "/" not in value and not value.startswith("@"):
        return ContactType.EMAIL
    if SCIENTIFIC.fullmatch(value) or (_PHONE_LIKE.fullmatch(value) and sum(c.isdigit() for c in value) >= 6):
        return ContactType.PHONE
    link = split_link(value)
    if link is None or not link.host:
        return None
    network = network_of(link.host)
    if network is None and link.scheme in ("http", "https") and HOSTNAME.fullmatch(link.host):
        return ContactType.URL
    return network


Normalized = tuple[str, str, str, Problem]  # (type, contact, handle, problem)
TYPE_CODES = (Code.UNKNOWN_TYPE, Code.MISSING_TYPE)

_BY_TYPE: dict[ContactType, Callable[[str, str | None], tuple[str, Problem]]] = {
    ContactType.EMAIL: lambda v, _r: email(v),
    ContactType.PHONE: phone,
    ContactType.VIBER: phone,
    ContactType.WHATSAPP: whatsapp,
    ContactType.URL: lambda v, _r: url(v),
    ContactType.OTHER: lambda v, _r: (v, None),
}


@functools.lru_cache(maxsize=1024)
def converter(type_text: str) -> Callable[[str, str | None], Normalized]:
    """The function that normalizes values of one (cleaned) type cell: resolved once, not per value.

    converter(type_text)(value, region) -> (TYPE, contact, handle, problem); the value is cleaned and
    not blank. A problem whose code is in TYPE_CODES is the type cell's, any other the contact's.
    """
    if not type_text:
        return _inferred
    t, problem = resolve_type(type_text)
    if t is None:
        return functools.partial(_unknown_type, type_text, problem)
    return functools.partial(_social_as if t in SOCIAL_TYPES else _plain_as, t)


def _social_as(t: ContactType, value: str, region: str | None) -> Normalized:
    contact, handle, problem = social(t, value)
    return _VALUE[t], contact, handle, problem


def _plain_as(t: ContactType, value: str, region: str | None) -> Normalized:
    contact, problem = _BY_TYPE[t](value, region)
    return _VALUE[t], contact, "", problem


def _unknown_type(type_text: str, problem: Problem, value: str, region: str | None) -> Normalized:
    return type_text, value, "", problem


def _inferred(value: str, region: str | None) -> Normalized:
    t = infer_type(value)
    if t is None:
        return "", value, "", (
            Code.MISSING_TYPE,
            f"type is blank and cannot be told from {value!r}; use one of {', '.join(_TYPE_NAMES)}",
        )
    return (_social_as if t in SOCIAL_TYPES else _plain_as)(t, value, region)


_VALUE = {t: t.value for t in ContactType}  # plain str: Enum.value is a descriptor call


def normalize_value(type_: str, value: str, *, phone_region: str | None = None) -> tuple[str, str, str]:
    """(TYPE, contact, handle) as sent to Ecwid; raises InvalidValue(code, message).

    `type_` may be an alias ("ig") or blank (inferred from the value). Idempotent:
    normalize_value(*normalize_value(t, v)[:2]) returns the same triple.
    """
    value = clean(value)
    if not value:
        raise InvalidValue(Code.MISSING_CONTACT, "the contact is blank")
    t, contact, handle, problem = converter(clean(type_))(value, phone_region)
    if problem:
        raise InvalidValue(*problem)
    return t, contact, handle


# ---------------------------------------------------------------- records
