"""Per-type cleaning: emails, E.164 phones, social URL <-> handle, booleans, ints.

Interface (used by importer.pipeline):

    norm = Normalizer(phone_region="US" | None, store_id=1003 | None)
    record = norm(raw_contact, index)     # -> ContactRecord, errors as data
    norm.add_batch(row_batch, table)      # a load.RowBatch into a columns.RecordTable, column by column
    started = norm.start_batch(row_batch, pool)   # the same in two halves: contact values in a
    norm.finish_batch(started, table)             # ValuePool worker while the caller reads on

    normalize_value("ig", "instagram.com/shop/")  # -> ("INSTAGRAM", "https://www.instagram.com/shop", "shop")
                                                  # raises InvalidValue(code, message) for bad values

Pure functions underneath, cached per distinct value: normalizing an already
normalized value returns it unchanged (idempotent).

Canonical forms (one per network, so duplicates compare equal):
    EMAIL         email_validator's normalized form (domain lower-cased, local part as written)
    PHONE/WHATSAPP/VIBER  E.164 "+16502530000" (" ext. 12" kept when written);
                  must be phonenumbers.is_valid_number, not just possible
    FACEBOOK      https://www.facebook.com/<name>  (profile.php?id=N keeps its id)
    INSTAGRAM     https://www.instagram.com/<name>
    TWITTER       https://x.com/<name>             (twitter.com links accepted)
    YOUTUBE       https://www.youtube.com/@<name>  (/c/, /channel/, /user/ forms kept as such)
    TIKTOK        https://www.tiktok.com/@<name>
    PINTEREST     https://www.pinterest.com/<name>
    VK            https://vk.com/<name>
    FB_MESSENGER  https://m.me/<name>
    TELEGRAM      https://t.me/<name>
    URL           scheme and host lower-cased; "www.shop.com" / "shop.com" get https://
Handles keep the case they were written in; `handle` is the name without "@".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import multiprocessing
import re
import signal
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from .errors import UsageError
from .load import RowBatch, fast_constructor, row_contacts
from .records import PENDING, Cell, Code, ContactRecord, ContactType, Outcome, RawContact, RecordError

__all__ = [
    "InvalidValue",
    "Normalizer",
    "column_of",
    "normalize_value",
    "normalize_email",
    "parse_bool",
    "parse_customer_id",
    "parse_order_by",
    "parse_timestamp",
    "clean",
    "MAX_CONTACT",
    "MAX_HANDLE",
    "MAX_NOTE",
]

MAX_CONTACT = 1024
MAX_HANDLE = 255
MAX_NOTE = 1024
# Distinct values remembered per cache. Repeats in real files are near each other (a
# customer's rows, a type column), so a small cache catches them; most contacts are
# unique, and each of the four caches at 65,536 entries held ~10 MB for nothing.
_CACHE = 1 << 14

ECWID_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"


class InvalidValue(ValueError):
    """A value that cannot be normalized; `code` is a records.Code value."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# A problem as plain data, so that lru_cache can remember failures too.
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


def _text(value: Cell | None) -> str:
    if value is None:
        return ""
    if value.__class__ is str:
        return value.strip() if value.isascii() else clean(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


# ---------------------------------------------------------------- numbers

_INT = re.compile(r"\d+(?:\.0*)?", re.ASCII)  # "3", "177737165.0" (Excel's integral floats)
_SCI = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+", re.ASCII)  # 1.77737E+08: Excel dropped digits
_MAX_ID = 2**63 - 1

LOST_DIGITS_MSG = "{value!r} is in scientific notation: Excel rounded the number and digits are lost; format the column as Text and export again"


def _integer(value: str, what: str, code: str, *, positive: bool) -> tuple[int | None, Problem]:
    if value.isascii() and value.isdigit():  # fast path: plain digits
        n = int(value)
    elif _INT.fullmatch(value):
        n = int(value.split(".", 1)[0])
    elif _SCI.fullmatch(value):
        return None, (Code.LOST_DIGITS, LOST_DIGITS_MSG.format(value=value))
    else:
        return None, (code, f"{value!r} is not a {what}")
    if (positive and n == 0) or n > _MAX_ID:
        return None, (code, f"{value!r} is not a {what}")
    return n, None


def parse_customer_id(value: str) -> tuple[int | None, Problem]:
    return _integer(value, "customer id (a positive whole number)", Code.INVALID_CUSTOMER_ID, positive=True)


def parse_order_by(value: str) -> tuple[int | None, Problem]:
    return _integer(value, "sort order (a whole number from 0)", Code.INVALID_ORDER_BY, positive=False)


def _parse_store_id(value: str) -> tuple[int | None, Problem]:
    return _integer(value, "store id (a positive whole number)", Code.INVALID_STORE_ID, positive=True)


# ---------------------------------------------------------------- booleans, timestamps

_BOOLS = {
    **dict.fromkeys(("true", "yes", "y", "1", "on", "t"), True),
    **dict.fromkeys(("false", "no", "n", "0", "off", "f"), False),
}


@functools.lru_cache(maxsize=1024)
def parse_bool(value: Cell) -> tuple[bool | None, Problem]:
    """Excel bool or true/false, yes/no, 1/0, y/n, on/off; blank = None (not sent)."""
    if isinstance(value, bool):
        return value, None
    text = _text(value)
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


@functools.lru_cache(maxsize=_CACHE)
def parse_timestamp(value: Cell) -> tuple[str | None, Problem]:
    """ISO 8601 text or an Excel datetime -> "YYYY-MM-DD HH:MM:SS +0000" (UTC)."""
    if isinstance(value, dt.datetime):
        return format_timestamp(value), None
    if isinstance(value, bool):
        return None, (Code.INVALID_TIMESTAMP, f"{value} is not a date/time")
    text = _text(value)
    return _timestamp_text(text) if text else (None, None)


# ---------------------------------------------------------------- emails

# Fast path for plain ASCII addresses. Everything it accepts, email_validator accepts
# with the same normalized form (tests/test_normalize.py checks that with hypothesis):
# dot-atom local part; LDH labels; an alphabetic TLD; no "--" (Punycode / R-LDH rules,
# left to the library); not a special-use domain; total length <= 254.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
FAST_EMAIL = re.compile(rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
_SPECIAL = tuple(SPECIAL_USE_DOMAIN_NAMES)
_SPECIAL_SUFFIXES = tuple("." + d for d in _SPECIAL)
_CI_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


def fast_email(value: str) -> str | None:
    """email_validator's normalized form for a plain ASCII address, or None: ask the library."""
    m = FAST_EMAIL.fullmatch(value)
    if m is None or len(value) > 254:
        return None
    local, domain = m.groups()
    if "--" in domain:
        return None
    domain = domain.lower()
    if domain in _SPECIAL or domain.endswith(_SPECIAL_SUFFIXES):
        return None
    if local.lower() in _CI_MAILBOXES:  # RFC 2142 mailboxes: the library lower-cases them
        local = local.lower()
    return f"{local}@{domain}"


def _email_core(value: str) -> tuple[str, Problem]:
    normalized = fast_email(value)
    if normalized is not None:
        return normalized, None
    if value[:7].lower() == "mailto:":
        value = value[7:]
    try:
        # "Name <addr>" is common in CRM exports: accept it, keep the address.
        return validate_email(value, check_deliverability=False, allow_display_name=True).normalized, None
    except EmailNotValidError as e:
        return value, (Code.INVALID_EMAIL, str(e))


_email = functools.lru_cache(maxsize=_CACHE)(_email_core)


def normalize_email(value: str) -> str:
    """email_validator's normalized form; raises InvalidValue(invalid-email)."""
    normalized, problem = _email(clean(value))
    if problem:
        raise InvalidValue(*problem)
    return normalized


# ---------------------------------------------------------------- phones

_PHONE_TYPES = frozenset({ContactType.PHONE, ContactType.WHATSAPP, ContactType.VIBER})


# Fast path for international numbers ("+1 650-253-0000"): phonenumbers.parse plus
# is_valid_number cost ~50 us a number; this gives the same E.164 in a few, by using
# phonenumbers' own metadata and rules for the plain case and handing everything else
# (national prefixes after the country code, leading zeros, non-geographic codes,
# invalid numbers) to the library. tests/test_normalize.py checks the agreement with
# hypothesis against phonenumbers itself.
FAST_PHONE = re.compile(r"\+[0-9][0-9 ().-]{0,40}[0-9]")
_PHONE_SEPARATORS = str.maketrans("", "", " ().-")
# Valid = general pattern and any type's pattern; the order is free, so the common types first.
_TYPE_DESCS = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number", "pager",
               "uan", "voicemail")
_Desc = tuple[frozenset[int], re.Pattern[str]]


_MAX_NSN = 17


@functools.cache
def _region_rules(region: str) -> tuple[_Desc | None, tuple[tuple[frozenset[int], str], ...], re.Pattern[str] | None] | None:
    """(general, number types as (lengths, pattern), leading digits) of a region, compiled once."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    if meta is None:
        return None

    def desc(d: phonenumbers.PhoneNumberDesc | None) -> tuple[frozenset[int], str] | None:
        if d is None or not d.national_number_pattern:
            return None  # matches nothing, as in phonenumbers._match_national_number
        return frozenset(d.possible_length), d.national_number_pattern

    names = [n for n in _TYPE_DESCS if not (n == "mobile" and meta.same_mobile_and_fixed_line_pattern)]
    types = tuple(d for d in (desc(getattr(meta, n)) for n in names) if d is not None)
    general = desc(meta.general_desc)
    leading = re.compile(meta.leading_digits) if meta.leading_digits is not None else None
    return (general[0], re.compile(general[1])) if general else None, types, leading


@functools.cache
def _types_pattern(region: str, length: int) -> re.Pattern[str] | None:
    """The region's number types that allow `length` digits, as one alternation: one regex call, not ten."""
    fits = [pattern for lengths, pattern in _region_rules(region)[1] if not lengths or length in lengths]
    return re.compile("|".join(f"(?:{p})" for p in fits)) if fits else None


def _valid_in(nsn: str, region: str) -> bool | None:
    """Valid = the general pattern (with its lengths) and any type's pattern (with its own)."""
    rules = _region_rules(region)
    if rules is None:
        return None
    general = rules[0]
    if general is None or (general[0] and len(nsn) not in general[0]) or not general[1].fullmatch(nsn):
        return False
    types = _types_pattern(region, len(nsn))
    return types is not None and types.fullmatch(nsn) is not None


@functools.cache
def _country(code: str) -> tuple[list[str], re.Pattern[str] | None] | None:
    """(regions, national prefix rule) of a country calling code written as digits."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(code))
    if regions is None:
        return None
    meta = phonenumbers.PhoneMetadata.metadata_for_region(regions[0], None)
    prefix = meta.national_prefix_for_parsing if meta is not None else None
    return regions, re.compile(prefix) if prefix else None


def fast_phone(text: str) -> str | None:
    """E.164 for a valid "+CC number" in the plain case, or None: ask phonenumbers."""
    if len(text) > 44 or not FAST_PHONE.fullmatch(text):
        return None
    digits = text.translate(_PHONE_SEPARATORS)[1:]
    if digits[0] == "0":
        return None
    for size in (1, 2, 3):
        country = _country(digits[:size])
        if country is not None:
            break
    else:
        return None
    regions, prefix = country
    nsn = digits[size:]
    if regions[0] == "001" or not 2 <= len(nsn) <= _MAX_NSN or nsn[0] == "0":
        return None
    if prefix is not None and prefix.match(nsn):
        return None  # parse would consider stripping a national prefix
    region = regions[0]
    if len(regions) > 1:  # as phonenumbers.region_code_for_number: leading digits, else full validation
        for candidate in regions:
            rules = _region_rules(candidate)
            if rules is None:
                continue
            if rules[2] is not None:
                if rules[2].match(nsn):
                    region = candidate
                    break
            elif _valid_in(nsn, candidate):
                region = candidate
                break
        else:
            return None
    return f"+{digits}" if _valid_in(nsn, region) else None


def _phone(value: str, region: str | None) -> tuple[str, Problem]:
    if value[0] == "+" and (e164 := fast_phone(value)) is not None:
        return e164, None
    text = value[4:] if value[:4].lower() == "tel:" else value
    if _SCI.fullmatch(text):
        return value, (Code.LOST_DIGITS, LOST_DIGITS_MSG.format(value=value))
    if _INT.fullmatch(text) and "." in text:  # 16502530000.0 from a numeric cell
        text = text.split(".", 1)[0]
    if not text.startswith("+"):
        if text.startswith("00") and region is None:  # international prefix used in most of the world
            text = "+" + text[2:]
        elif region is None:
            return value, (
                Code.PHONE_NEEDS_REGION,
                f"{value!r} has no +country code: write it as +<country code> ... or pass --phone-region (e.g. US)",
            )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as e:
        reason = str(e).split(") ", 1)[-1]
        return value, (Code.INVALID_PHONE, f"{value!r} is not a phone number: {reason}")
    if not phonenumbers.is_valid_number(number):
        why = "has the wrong number of digits" if not phonenumbers.is_possible_number(number) else "is not a number in use"
        return value, (
            Code.INVALID_PHONE,
            f"{value!r} {why} for +{number.country_code} "
            f"({phonenumbers.region_code_for_number(number) or 'unknown region'})",
        )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.extension:
        e164 += f" ext. {number.extension}"
    return e164, None


# ---------------------------------------------------------------- links

_NETWORK_HOSTS = {
    "facebook.com": ContactType.FACEBOOK,
    "fb.com": ContactType.FACEBOOK,
    "fb.me": ContactType.FACEBOOK,
    "instagram.com": ContactType.INSTAGRAM,
    "instagr.am": ContactType.INSTAGRAM,
    "twitter.com": ContactType.TWITTER,
    "x.com": ContactType.TWITTER,
    "youtube.com": ContactType.YOUTUBE,
    "youtu.be": ContactType.YOUTUBE,
    "tiktok.com": ContactType.TIKTOK,
    "pinterest.com": ContactType.PINTEREST,
    "pin.it": ContactType.PINTEREST,
    "vk.com": ContactType.VK,
    "vk.ru": ContactType.VK,
    "vkontakte.ru": ContactType.VK,
    "m.me": ContactType.FB_MESSENGER,
    "messenger.com": ContactType.FB_MESSENGER,
    "t.me": ContactType.TELEGRAM,
    "telegram.me": ContactType.TELEGRAM,
    "telegram.dog": ContactType.TELEGRAM,
    "wa.me": ContactType.WHATSAPP,
    "whatsapp.com": ContactType.WHATSAPP,
}
_PINTEREST_CC = re.compile(r"(?:.+\.)?pinterest\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})")
_HOSTNAME = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}\.?", re.UNICODE)


def network_of(host: str) -> ContactType | None:
    """The network a host belongs to (subdomains included: m.facebook.com)."""
    labels = host.split(".")
    for i in range(len(labels) - 1):
        t = _NETWORK_HOSTS.get(".".join(labels[i:]))
        if t is not None:
            return t
    if _PINTEREST_CC.fullmatch(host):
        return ContactType.PINTEREST
    return None


class _Link:
    __slots__ = ("scheme", "host", "segments", "query")

    def __init__(self, scheme: str, host: str, segments: list[str], query: str):
        self.scheme, self.host, self.segments, self.query = scheme, host, segments, query


# A plain link ("https://www.instagram.com/shop/"): urlsplit would give exactly these parts
# (lower-case scheme and host, no user, port, query or fragment), without its cost.
# tests/test_normalize.py checks the two agree.
_PLAIN_LINK = re.compile(r"(https?)://([a-z0-9.-]+)((?:/[A-Za-z0-9._@~-]*)*)", re.ASCII)


def _split_link(value: str) -> _Link | None:
    """A link with or without scheme, or None when the value is a bare name."""
    m = _PLAIN_LINK.fullmatch(value)
    if m is not None:
        return _Link(m[1], m[2].rstrip("."), [s for s in m[3].split("/") if s], "")
    return _split_link_general(value)


def _split_link_general(value: str) -> _Link | None:
    if "://" not in value:
        head = value.split("/", 1)[0].lower()
        if "/" not in value and not head.startswith("www.") and network_of(head) is None:
            return None
        if " " in head or "@" in head or not head:
            return None
        value = "https://" + value
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    return _Link(parts.scheme.lower(), host, [s for s in parts.path.split("/") if s], parts.query)


_NAME = {  # handle characters each network allows (length is Ecwid's business)
    ContactType.FACEBOOK: re.compile(r"[A-Za-z0-9._-]+"),
    ContactType.INSTAGRAM: re.compile(r"[A-Za-z0-9._]+"),
    ContactType.TWITTER: re.compile(r"[A-Za-z0-9_]+"),
    ContactType.YOUTUBE: re.compile(r"[A-Za-z0-9._-]+"),
    ContactType.TIKTOK: re.compile(r"[A-Za-z0-9._]+"),
    ContactType.PINTEREST: re.compile(r"[A-Za-z0-9_]+"),
    ContactType.VK: re.compile(r"[A-Za-z0-9._]+"),
    ContactType.FB_MESSENGER: re.compile(r"[A-Za-z0-9._-]+"),
    ContactType.TELEGRAM: re.compile(r"[A-Za-z0-9_]+"),
}
_CANONICAL = {
    ContactType.FACEBOOK: "https://www.facebook.com/{}",
    ContactType.INSTAGRAM: "https://www.instagram.com/{}",
    ContactType.TWITTER: "https://x.com/{}",
    ContactType.YOUTUBE: "https://www.youtube.com/@{}",
    ContactType.TIKTOK: "https://www.tiktok.com/@{}",
    ContactType.PINTEREST: "https://www.pinterest.com/{}",
    ContactType.VK: "https://vk.com/{}",
    ContactType.FB_MESSENGER: "https://m.me/{}",
    ContactType.TELEGRAM: "https://t.me/{}",
}
SOCIAL_TYPES = frozenset(_CANONICAL)
# First path segments that are site pages, not profiles.
_RESERVED = frozenset(
    "groups events pages watch share sharer sharer.php photo.php story.php login home i intent search "
    "profile.php hashtag explore p reel reels stories tv shorts playlist results embed feed joinchat s".split()
)


def _profile_name(t: ContactType, link: _Link) -> tuple[str, str] | str:
    """(canonical link, handle) from a profile link on the right network, or an error message."""
    segs, example = link.segments, _CANONICAL[t].format("name")
    if t is ContactType.FACEBOOK and segs == ["profile.php"]:
        ids = parse_qs(link.query).get("id", [""])
        if ids[0].isdigit():
            return f"https://www.facebook.com/profile.php?id={ids[0]}", ids[0]
    if t is ContactType.YOUTUBE and len(segs) == 2 and segs[0] in ("c", "channel", "user"):
        name = segs[1]
        if not _NAME[t].fullmatch(name):
            return f"{name!r} is not a valid YouTube name"
        return f"https://www.youtube.com/{segs[0]}/{name}", name
    if t is ContactType.FB_MESSENGER and len(segs) == 2 and segs[0] == "t":
        segs = segs[1:]  # messenger.com/t/<name>
    if t is ContactType.TELEGRAM and len(segs) == 2 and segs[0] == "s":
        segs = segs[1:]  # t.me/s/<name>: the channel preview
    if len(segs) != 1 or link.host in ("youtu.be", "pin.it", "fb.me"):
        return f"not a profile link: expected a link like {example}"
    return _social_name(t, segs[0])


def _social_name(t: ContactType, name: str) -> tuple[str, str] | str:
    if t in (ContactType.YOUTUBE, ContactType.TIKTOK) or name.startswith("@"):
        name = name.removeprefix("@")
    if not name or not _NAME[t].fullmatch(name):
        return f"{name!r} is not a valid {t.value} name: it may contain {_allowed_chars(t)}"
    if name.lower() in _RESERVED:  # a site page, not a profile; bare names too, so canonical links stay valid
        return f"{name!r} is a page of the site, not a profile: expected a link like {_CANONICAL[t].format('name')}"
    return _CANONICAL[t].format(name), name


def _allowed_chars(t: ContactType) -> str:
    extra = _NAME[t].pattern[len("[A-Za-z0-9") : -2]
    return "letters, digits" + ("".join(f" and {c!r}" for c in extra) if extra else "")


def _social(t: ContactType, value: str) -> tuple[str, str, Problem]:
    link = _split_link(value)
    if link is None:  # a bare handle: @shop or shop
        got = _social_name(t, value)
        if isinstance(got, str):
            return value, "", (Code.INVALID_HANDLE, got)
        return got[0], got[1], None
    if link.scheme not in ("http", "https") or not link.host:
        return value, "", (Code.INVALID_URL, f"{value!r} is not an http(s) link")
    network = network_of(link.host)
    if network is not t:
        hint = f"; set the type to {network.value}" if network else ""
        where = network.value if network else link.host
        return value, "", (Code.WRONG_NETWORK, f"{value!r} links to {where}, not {t.value}{hint}")
    got = _profile_name(t, link)
    if isinstance(got, str):
        return value, "", (Code.INVALID_HANDLE, got)
    return got[0], got[1], None


def _whatsapp(value: str, region: str | None) -> tuple[str, Problem]:
    lower = value.lower()
    link = _split_link(value) if ("://" in lower or "wa.me" in lower or "whatsapp" in lower) else None
    if link is None:
        return _phone(value, region)
    if network_of(link.host) is not ContactType.WHATSAPP:
        return value, (Code.WRONG_NETWORK, f"{value!r} is not a WhatsApp number or wa.me link")
    digits = parse_qs(link.query).get("phone", [""])[0] or (link.segments[0] if link.segments else "")
    if not digits.lstrip("+").isdigit():
        return value, (Code.INVALID_PHONE, f"{value!r} has no phone number: expected https://wa.me/<number>")
    return _phone("+" + digits.lstrip("+"), None)


# An http(s) link already in the form _url gives (lower-case scheme and host, no user or port).
_PLAIN_URL = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[A-Za-z0-9._~/-]*)?", re.ASCII)
_WHITESPACE = re.compile(r"\s")  # the characters str.isspace() is true for


def _url(value: str) -> tuple[str, Problem]:
    if _PLAIN_URL.fullmatch(value):
        return value, None
    return _url_general(value)


def _url_general(value: str) -> tuple[str, Problem]:
    text = value
    if "://" not in text:  # "www.shop.com" or "shop.com/page": a host name first, so add https://
        if not _HOSTNAME.fullmatch(text.split("/", 1)[0]):
            return value, _not_a_url(value)
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return value, _not_a_url(value)
    if parts.scheme.lower() not in ("http", "https") or not host or _WHITESPACE.search(text):
        return value, _not_a_url(value)
    netloc = parts.netloc if "@" in parts.netloc else parts.netloc.lower()
    rest = text[len(parts.scheme) + 3 + len(parts.netloc) :]
    return f"{parts.scheme.lower()}://{netloc}{rest}", None


def _not_a_url(value: str) -> Problem:
    return Code.INVALID_URL, f"{value!r} is not a web address (expected https://host/...)"


# ---------------------------------------------------------------- types

_ALIASES: dict[str, ContactType] = {t.value.lower().replace("_", ""): t for t in ContactType}
_ALIASES.update(
    {
        **dict.fromkeys(("email", "mail", "emailaddress", "emails"), ContactType.EMAIL),
        **dict.fromkeys(
            ("mobile", "tel", "telephone", "cell", "cellphone", "phonenumber", "mobilephone", "mobilenumber", "phones"),
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
    close = difflib.get_close_matches(text.upper(), _TYPE_NAMES, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return None, (Code.UNKNOWN_TYPE, f"unknown type {text!r}{hint}; use one of {', '.join(_TYPE_NAMES)}")


_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]{6,}(?:\s*(?:ext\.?|x)\s*\d+)?", re.I)


def infer_type(value: str) -> ContactType | None:
    """The type of a contact whose type cell is blank, when its form says it."""
    if "@" in value and "/" not in value and not value.startswith("@"):
        return ContactType.EMAIL
    if _SCI.fullmatch(value) or (_PHONE_LIKE.fullmatch(value) and sum(c.isdigit() for c in value) >= 6):
        return ContactType.PHONE
    link = _split_link(value)
    if link is None or not link.host:
        return None
    network = network_of(link.host)
    if network is None and link.scheme in ("http", "https") and _HOSTNAME.fullmatch(link.host):
        return ContactType.URL
    return network


# ---------------------------------------------------------------- one contact value

Normalized = tuple[str, str, str, Problem]
_TYPE_CODES = (Code.UNKNOWN_TYPE, Code.MISSING_TYPE)  # (type, contact, handle, problem)

_BY_TYPE: dict[ContactType, Callable[[str, str | None], tuple[str, Problem]]] = {
    ContactType.EMAIL: lambda v, _r: _email_core(v),
    ContactType.PHONE: _phone,
    ContactType.VIBER: _phone,
    ContactType.WHATSAPP: _whatsapp,
    ContactType.URL: lambda v, _r: _url(v),
    ContactType.OTHER: lambda v, _r: (v, None),
}


def _normalize_core(type_text: str, value: str, region: str | None) -> Normalized:
    """_normalize without its cache (Normalizer.add_batch keeps its own per batch)."""
    return _converter(type_text)(value, region)


@functools.lru_cache(maxsize=1024)
def _converter(type_text: str) -> Callable[[str, str | None], Normalized]:
    """The function that normalizes values of one type cell (resolved once, not per value)."""
    if not type_text:
        return _inferred
    t, problem = resolve_type(type_text)
    if t is None:
        return functools.partial(_unknown_type, type_text, problem)
    return functools.partial(_social_as if t in SOCIAL_TYPES else _plain_as, t)


def _social_as(t: ContactType, value: str, region: str | None) -> Normalized:
    contact, handle, problem = _social(t, value)
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


_normalize = functools.lru_cache(maxsize=_CACHE)(_normalize_core)
_VALUE = {t: t.value for t in ContactType}  # plain str: Enum.value is a descriptor call


def normalize_value(type_: str, value: str, *, phone_region: str | None = None) -> tuple[str, str, str]:
    """(TYPE, contact, handle) as sent to Ecwid; raises InvalidValue(code, message).

    `type_` may be an alias ("ig") or blank (inferred from the value). Idempotent:
    normalize_value(*normalize_value(t, v)[:2]) returns the same triple.
    """
    value = clean(value)
    if not value:
        raise InvalidValue(Code.MISSING_CONTACT, "the contact is blank")
    t, contact, handle, problem = _normalize(clean(type_), value, phone_region)
    if problem:
        raise InvalidValue(*problem)
    return t, contact, handle


# ---------------------------------------------------------------- records


def column_of(raw: RawContact, field: str) -> str:
    """The header a canonical field was read from, as written (for error messages)."""
    if raw.source_column and (field == "contact" or (field == "type" and raw.table.layout == "wide")):
        return raw.source_column
    for header, f in raw.table.field_of.items():
        if f == field:
            return header
    return field


class Normalizer:
    """RawContact -> ContactRecord; every problem of the row collected, never raises for data."""

    def __init__(self, *, phone_region: str | None = None, store_id: int | None = None):
        if phone_region is not None:
            phone_region = phone_region.strip().upper()
            if phone_region not in phonenumbers.SUPPORTED_REGIONS:
                raise UsageError(f"--phone-region {phone_region!r} is not a region code like US, DE or GB")
        self.phone_region = phone_region
        self.store_id = store_id
        self._last_cid = ""  # the last customer id text parsed, and its result
        self._last_parsed: tuple[int | None, Problem] = (None, None)

    def __call__(self, raw: RawContact, index: int) -> ContactRecord:
        # The hot path (a million rows a run): cached pure functions, no work for absent fields,
        # locals instead of repeated attribute and dict lookups.
        f = raw.fields
        get = f.get
        problems: list[tuple[str, str, str]] = []  # (field, code, message)

        # customer: id wins; the email stands in when there is no id
        customer_id = customer_email = None
        cid = get("customerId")
        if cid is not None and (cid := _text(cid)):
            # A customer's contacts are usually consecutive rows: remember the last id parsed.
            if cid == self._last_cid:
                customer_id, p = self._last_parsed
            else:
                customer_id, p = self._last_parsed = parse_customer_id(cid)
                self._last_cid = cid
            if p:
                problems.append(("customerId", *p))
        cemail = get("customerEmail")
        if cemail is not None and (cemail := _text(cemail)):
            normalized, p = _email(cemail)
            customer_email = normalized.lower()
            if p and not cid:
                problems.append(("customerEmail", Code.INVALID_CUSTOMER_EMAIL, p[1]))
        if not cid and not cemail:
            problems.append(("customerId", Code.MISSING_CUSTOMER, "no customer id (or customer email) on this row"))
        if (store := get("storeId")) is not None:
            self._check_store(_text(store), problems)

        # the contact itself
        type_text = get("type")
        type_text = "" if type_text is None else _text(type_text)
        source_contact = get("contact")
        if source_contact is None:
            source_contact = ""
        elif source_contact.__class__ is not str:
            source_contact = str(source_contact)
        value = _text(source_contact)
        handle = "" if (handle := get("handle")) is None else _text(handle)
        if value and len(value) <= MAX_CONTACT:
            ctype, contact, found_handle, p = _normalize(type_text, value, self.phone_region)
            if p:
                problems.append(("type" if p[0] in _TYPE_CODES else "contact", *p))
            elif contact is not value and contact == value:
                contact = value  # one string, not two equal ones per record (most emails are already normal)
            handle = handle or found_handle
        else:
            ctype, contact = self._contact_unusable(type_text, value, problems)
        if len(handle) > MAX_HANDLE:
            problems.append(("handle", Code.TOO_LONG, f"the handle is {len(handle)} characters; at most {MAX_HANDLE}"))
        note = "" if (note := get("note")) is None else _text(note)
        if len(note) > MAX_NOTE:
            problems.append(("note", Code.TOO_LONG, f"the note is {len(note)} characters; at most {MAX_NOTE}"))

        default = order_by = timestamp = None
        if (cell := get("default")) is not None:
            default, p = parse_bool(cell)
            if p:
                problems.append(("default", *p))
        if (cell := get("orderBy")) is not None and (order := _text(cell)):
            order_by, p = parse_order_by(order)
            if p:
                problems.append(("orderBy", *p))
        if (cell := get("timestamp")) is not None:
            timestamp, p = parse_timestamp(cell)
            if p:
                problems.append(("timestamp", *p))

        errors = raw.errors
        if problems:
            # the error path only: look the headers up here
            errors = errors + tuple(RecordError(code, column_of(raw, field), msg) for field, code, msg in problems)
        # The record keeps the row without its `fields` dict (a third of a raw row's memory):
        # after this point only the cells, table and source column are read (errors.csv).
        kept = _raw_row(raw.source, _NO_FIELDS, raw.cells, raw.table, raw.source_column, raw.errors)
        return new_record(
            index, raw.source, kept, customer_id, customer_email, ctype, contact, handle, note, default, order_by,
            timestamp, source_contact, errors, PENDING, None,
        )

    def add_batch(self, batch: RowBatch, out: Any) -> None:
        """Normalize a batch of source rows into `out` (a columns.RecordTable), column by column.

        The same records as calling the normalizer on each of contacts(batch), faster: each
        distinct cell value of a column is worked out once per batch, and no per-row objects
        are made. Rows where any value has a problem, and tables this path does not cover
        (wide layout, customer emails, store ids), go through __call__ itself, so every error
        message comes from one place. tests/test_columns.py checks the two agree.
        """
        self.finish_batch(self.start_batch(batch), out)

    def start_batch(self, batch: RowBatch, pool: ValuePool | None = None) -> StartedBatch:
        """add_batch's first half: the distinct contact values, worked out now or in `pool`.

        The contact values are most of the work; with a pool they are worked out in another
        process while this one reads the next batch.
        """
        plan = batch.plan
        at = dict(plan.fields)
        if plan.kinds or not {"customerId", "type", "contact"} <= at.keys() or not _BATCH_FIELDS >= at.keys():
            return StartedBatch(batch, at, [], [], [])
        t, c = at["type"], at["contact"]
        pairs = [(r[t], r[c]) for r in batch.rows]
        # sorted: one type's values one after another run faster than in hash order
        distinct = sorted(set(pairs), key=_type_cell)
        region = self.phone_region
        values = pool.submit(distinct, region) if pool else contact_values(distinct, region)
        return StartedBatch(batch, at, pairs, distinct, values)

    def finish_batch(self, started: StartedBatch, out: Any) -> None:
        """add_batch's second half: the batch's rows appended to `out`, in order."""
        batch, at = started.batch, started.at
        plan = batch.plan
        if not started.pairs:
            for number, row in zip(batch.numbers, batch.rows):
                for raw in row_contacts(plan, number, row):
                    out.append(self(raw, len(out)))
            return
        rows = batch.rows
        n = len(rows)
        blank = [""] * n

        def column(name: str) -> list[Cell]:
            i = at.get(name)
            return blank if i is None else [r[i] for r in rows]

        values = started.values
        if not isinstance(values, list):  # a worker's Future
            values = _result(values, started.distinct, self.phone_region)
        memo = dict(zip(started.distinct, [_BAD if v is None else v for v in values]))
        contacts = list(map(memo.__getitem__, started.pairs))
        ids = _by_value(column("customerId"), _batch_customer_id)
        handles = [h or c[2] for h, c in zip(_by_value(column("handle"), _text), contacts)]
        notes = _by_value(column("note"), _text)
        defaults = _by_value(column("default"), _batch_bool)
        orders = _by_value(column("orderBy"), _batch_order_by)
        stamps = _by_value(column("timestamp"), _batch_timestamp)

        slow = [
            j
            for j, (i, c, h, no, d, o, t) in enumerate(zip(ids, contacts, handles, notes, defaults, orders, stamps))
            if i is None or c is _BAD or len(h) > MAX_HANDLE or len(no) > MAX_NOTE or d is _BAD or o is _BAD or t is _BAD
        ]
        start = len(out)
        out.extend({
            "table": [plan.table] * n, "number": batch.numbers, "cells": rows,
            "source_column": [plan.contact_header] * n, "customer_id": ids, "customer_email": [None] * n,
            "type": [c[0] for c in contacts], "contact": [c[1] for c in contacts], "handle": handles, "note": notes,
            "default": defaults, "order_by": orders, "timestamp": stamps, "source_contact": [c[3] for c in contacts],
            "errors": [()] * n, "outcome": [PENDING] * n, "duplicate_of": [None] * n,
        })  # fmt: skip
        for j in slow:
            (raw,) = row_contacts(plan, batch.numbers[j], rows[j])
            out.set_record(start + j, self(raw, start + j))

    def _check_store(self, text: str, problems: list[tuple[str, str, str]]) -> None:
        if not text:
            return
        store_id, p = _parse_store_id(text)
        if p:
            problems.append(("storeId", *p))
        elif self.store_id is not None and store_id != self.store_id:
            problems.append(("storeId", Code.STORE_MISMATCH, f"row is for store {store_id}, importing into {self.store_id}"))

    @staticmethod
    def _contact_unusable(type_text: str, value: str, problems: list[tuple[str, str, str]]) -> tuple[str, str]:
        """Blank or too long: report it (and a bad type); (type, contact) as far as we got."""
        t, p = resolve_type(type_text) if type_text else (None, None)
        if p:
            problems.append(("type", *p))
        if value:
            problems.append(("contact", Code.TOO_LONG, f"the contact is {len(value)} characters; at most {MAX_CONTACT}"))
        else:
            problems.append(("contact", Code.MISSING_CONTACT, "the contact is blank"))
        return (t.value if t else type_text), value


# ---------------------------------------------------------------- batches (Normalizer.add_batch)

# A cell value the batch path leaves to Normalizer.__call__ (which reports the problem).
_BAD: Any = ("", "", "", "")
_BATCH_FIELDS = frozenset({"customerId", "type", "contact", "handle", "note", "default", "orderBy", "timestamp"})


def _type_cell(pair: tuple[Cell, Cell]) -> str:
    return str(pair[0])  # cells may be str, bool or datetime: compare them as text


def _by_value(cells: list[Cell], fn: Callable[[Cell], Any]) -> list[Any]:
    """[fn(c) for c in cells], calling fn once per distinct value."""
    memo = {c: fn(c) for c in set(cells)}
    return list(map(memo.__getitem__, cells))


def _batch_customer_id(cell: Cell) -> int | None:
    text = _text(cell)
    customer_id, problem = parse_customer_id(text) if text else (None, True)
    return None if problem else customer_id


ContactValues = list[tuple[str, str, str, str] | None]


def _result(future: Future, pairs: list[tuple[Cell, Cell]], region: str | None) -> ContactValues:
    """A worker's contact_values; worked out here if the worker died (the pool is then broken)."""
    try:
        return future.result()
    except BrokenExecutor:
        return contact_values(pairs, region)


def contact_values(pairs: list[tuple[Cell, Cell]], region: str | None) -> ContactValues:
    """_batch_contact for each distinct (type cell, contact cell); None where __call__ must look.

    Runs in a worker process too: its arguments and result are plain data.
    """
    convert = {cell: _converter(_text(cell)) for cell in {p[0] for p in pairs}}
    return [_batch_contact(convert[type_cell], cell, region) for type_cell, cell in pairs]


@dataclasses.dataclass(frozen=True, slots=True)
class StartedBatch:
    """A batch between Normalizer.start_batch and finish_batch."""

    batch: RowBatch
    at: dict[str, int]  # field -> column
    pairs: list[tuple[Cell, Cell]]  # (type, contact) cells per row; empty: the batch takes the row path
    distinct: list[tuple[Cell, Cell]]
    values: ContactValues | Future  # contact_values(distinct), or its future


class ValuePool:
    """Processes that work out contact values beside this one (start_batch's `pool`).

    Started on first use, with fork (the workers inherit the loaded modules, nothing is
    imported again). No pool where fork is missing, while other threads run (a forked
    child gets only this one), or with workers=0; if a worker cannot be started or dies,
    the values are worked out here. Ctrl-C is left to the main process.
    """

    def __init__(self, workers: int):
        self.workers = workers if "fork" in multiprocessing.get_all_start_methods() else 0
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, pairs: list[tuple[Cell, Cell]], region: str | None) -> ContactValues | Future:
        """contact_values(pairs, region), in a worker if there is one: its result or a Future."""
        if self._pool is None and self.workers > 0 and threading.active_count() == 1:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("fork"), initializer=_ignore_interrupts
            )
        if self._pool is not None:
            try:
                return self._pool.submit(contact_values, pairs, region)
            except (OSError, BrokenExecutor):
                self.close()
                self.workers = 0
        return contact_values(pairs, region)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ValuePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _batch_contact(convert: Callable[[str, str | None], Normalized], cell: Cell, region: str | None,
                   ) -> tuple[str, str, str, str] | None:
    """(TYPE, contact, found handle, contact as written), or None: a problem."""
    written = cell if cell.__class__ is str else str(cell)
    value = _text(written)
    if not value or len(value) > MAX_CONTACT:
        return None
    ctype, contact, handle, problem = convert(value, region)
    if problem:
        return None
    if contact is not value and contact == value:
        contact = value  # one string, not two equal ones per record
    return ctype, contact, handle, written


def _batch_bool(cell: Cell) -> bool | None:
    value, problem = parse_bool(cell)
    return _BAD if problem else value


def _batch_order_by(cell: Cell) -> int | None:
    text = _text(cell)
    if not text:
        return None
    value, problem = parse_order_by(text)
    return _BAD if problem else value


def _batch_timestamp(cell: Cell) -> str | None:
    if cell == "":
        return None
    value, problem = parse_timestamp(cell)
    return _BAD if problem else value


# ---------------------------------------------------------------- building records fast

# A frozen dataclass's __init__ sets each of ContactRecord's 16 fields through
# object.__setattr__ (~3 us a record on a slow CI core), and a million rows are built in
# normalize and again in validate. `new_record` sets the very same slots through their
# descriptors, unrolled the way dataclasses generates __init__ itself: half the cost.
# Safe while ContactRecord has no __post_init__ (checked here); tests compare it with
# the dataclass constructor.
assert not hasattr(ContactRecord, "__post_init__")
_raw_row = fast_constructor(RawContact)
_NO_FIELDS: dict[str, Cell] = {}  # shared by every normalized record's raw row: never mutated
RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(ContactRecord))


def _make_builders() -> tuple[Callable[..., ContactRecord], Callable[[ContactRecord, Outcome], ContactRecord]]:
    names = {f"_set_{name}": ContactRecord.__dict__[name].__set__ for name in RECORD_FIELDS}
    body = "".join(f"    _set_{name}(r, {name})\n" for name in RECORD_FIELDS)
    # The copy with a new outcome (every record, in validate) reads the slots straight from
    # the old record: no tuple, list and star-call in between.
    copy = "".join(f"    _set_{name}(r, {'outcome' if name == 'outcome' else 'record.' + name})\n"
                   for name in RECORD_FIELDS)
    source = (f"def new_record({', '.join(RECORD_FIELDS)}):\n    r = _new(_cls)\n{body}    return r\n"
              f"def copy_with_outcome(record, outcome):\n    r = _new(_cls)\n{copy}    return r\n")
    namespace = {"_new": object.__new__, "_cls": ContactRecord, **names}
    exec(source, namespace)  # noqa: S102 - generated from the dataclass's own field names
    return namespace["new_record"], namespace["copy_with_outcome"]


new_record, _copy_with_outcome = _make_builders()
new_record.__doc__ = "ContactRecord(*values) in field order, without the frozen __init__'s cost."


def with_outcome(record: ContactRecord, outcome: Outcome, **changes: object) -> ContactRecord:
    """dataclasses.replace(record, outcome=outcome, **changes), fast for the common no-changes case."""
    if changes:
        return dataclasses.replace(record, outcome=outcome, **changes)
    return _copy_with_outcome(record, outcome)
