"""Phones: E.164 via phonenumbers (valid numbers only, not merely possible ones).

Digits as a number cell leaves them (no +, no leading 0) are read in the row's country (_digits_only); a number
cell with a fraction (`30.1234567`: "030.12345670" typed into Excel, its trailing zero gone) is invalid-phone,
never read; full-width digits (＋４９…) are read as digits.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import phonenumbers

from importer.errors import Code
from importer.rules.text import INTEGRAL, SCIENTIFIC, Problem


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


def _split(digits: str) -> tuple[list[str], re.Pattern[str] | None, str] | None:
    """(regions, national prefix rule, national number) of digits that start with a country calling code."""
    for size in (1, 2, 3):
        country = _country(digits[:size])
        if country is not None:
            return country[0], country[1], digits[size:]
    return None


def fast_phone(text: str) -> str | None:
    """E.164 for a valid "+CC number" in the plain case, or None: ask phonenumbers."""
    if len(text) > 44 or not FAST_PHONE.fullmatch(text):
        return None
    digits = text.translate(_PHONE_SEPARATORS)[1:]
    if digits[0] == "0" or (split := _split(digits)) is None:
        return None
    regions, prefix, nsn = split
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


# An extension written after the number: "ext. 204", "x204", "#204", "Durchwahl 204", "poste 12", "int. 3".
_EXTENSION = re.compile(r"\s*[,;]?\s*(?:ext\.?|extn\.?|extension|x|#|durchwahl|dw\.?|nebenstelle|poste|int\.?|"
                        r"interno|ext\.?\s*no\.?)\s*[:.]?\s*(\d{1,7})\s*$", re.IGNORECASE)


def split_extension(value: str) -> tuple[str, str]:
    """(the number, its extension digits or "") of a written phone number."""
    found = _EXTENSION.search(value)
    if found is None or not any(c.isdigit() for c in value[: found.start()]):
        return value, ""
    return value[: found.start()], found.group(1)


# Between two numbers written in one cell: " / ", " | ", ";", ",", " or " (and its local words), a line break.
_BETWEEN = re.compile(r"\s+[/|]\s+|\s*[;,\n]\s*|\s+(?:or|oder|ou|o|of|lub|ou bien)\s+", re.IGNORECASE)


def several_numbers(text: str, region: str | None) -> list[str] | None:
    """The numbers of a cell that holds several ("030 1234567 / 0171 2345678"), only where each part is a valid
    number on its own; None otherwise ("030 / 1234567" is one number written with its area code apart)."""
    parts = [p.strip() for p in _BETWEEN.split(text) if p.strip()]
    if len(parts) < 2 or any(phone(p, region)[1] is not None for p in parts):
        return None
    return parts


def phone(value: str, region: str | None) -> tuple[str, Problem]:
    """E.164, with " ext. N" after it where the value names an extension (the table moves it to the note)."""
    if not value.isascii() and _WIDE.search(value):  # "＋４９ １７０…": full-width, as East Asian keyboards type
        number, problem = phone(unicodedata.normalize("NFKC", value), region)
        return (value, problem) if problem else (number, None)
    if value[0] == "+" and (e164 := fast_phone(value)) is not None:
        return e164, None
    number, extension = split_extension(value)
    if extension:
        e164, problem = _phone(number.strip(), region)
        if problem:
            return value, (problem[0], problem[1].replace(repr(number.strip()), repr(value), 1))
        return f"{e164.split(' ext. ')[0]} ext. {extension}", None
    return _phone(value, region)


_WORDS = re.compile(r"[^\W\d_]{2,}|(?<![^\W\d_])[^\W\d_](?![^\W\d_])(?!$)")  # letters: a word, or one alone
_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}([.,'\u00a0\u202f])[0-9]{3}(?:\1[0-9]{3})+")
_WIDE = re.compile("[\uff01-\uff5e]")  # the full-width forms of ASCII
_DECIMAL = re.compile(r"[1-9][0-9]*\.[0-9]+")  # no leading 0, one dot: how a number cell writes a fraction
_LABEL = re.compile(r"(?:tel|tél|phone|p|t|m|mob|mobile|cell|telefon|téléphone)(?:\.\s*:?|\s*:)\s*", re.IGNORECASE)


def _phone(value: str, region: str | None) -> tuple[str, Problem]:
    if value[0] == "+" and (e164 := fast_phone(value)) is not None:
        return e164, None
    label = _LABEL.match(value)  # "tel:", Meta's lead ads' "p:+4915...", QuickBooks' "Phone: (650) 555-3311"
    text = value[label.end():] if label else value.removeprefix("'")  # ' marks text in Excel, Shopify
    if SCIENTIFIC.fullmatch(text):
        return value, (Code.LOST_DIGITS, Code.LOST_DIGITS.message(value=value))
    if words := _WORDS.findall(text):  # phonenumbers would dial letters (FAX = 329): a word is never a digit
        return value, (Code.INVALID_PHONE, Code.INVALID_PHONE.message(value=value, reason=(
            f"it holds words ({', '.join(repr(w) for w in words)}): write the number alone (a word belongs in the "
            "note; a fax is no phone)")))
    if INTEGRAL.fullmatch(text) and "." in text:  # 16502530000.0 from a numeric cell
        text = text.split(".", 1)[0]
    elif _THOUSANDS.fullmatch(text):  # 491.701.234.567: a number cell shown with thousands separators, saved as text
        text = re.sub(r"\D", "", text)  # read as the number cell's digits are (_digits_only), never as 0491 …
    elif _DECIMAL.fullmatch(text):  # 171.234567: "0171.2345670" typed into a number cell; which digits went, unknown
        return value, (Code.INVALID_PHONE, Code.INVALID_PHONE.message(value=value, reason=(
            "a decimal number (a cell Excel read as a number drops the leading 0 and the trailing zeros): format "
            "the column as Text and type the number again")))
    if not text.startswith("+"):
        if text.startswith("00") and region is None:  # international prefix used in most of the world
            text = "+" + text[2:]
        elif region is None:
            return value, (
                Code.PHONE_NEEDS_REGION,
                f"{value!r} has no +country code: write it as +<country code> ..., give the row a country, "
                "or pass --phone-region (e.g. US)",
            )
        elif _DIGITS_ONLY.fullmatch(text):
            return _digits_only(value, text, region)
    number, problem = _parse(value, text, region)
    return (value, problem) if number is None else (_e164(number), None)


def _parse(value: str, text: str, region: str | None) -> tuple[phonenumbers.PhoneNumber | None, Problem]:
    """A valid number, or why not (the error a row gets)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as e:
        reason = str(e).split(") ", 1)[-1]
        return None, (Code.INVALID_PHONE, f"{value!r} is not a phone number: {reason}")
    if not phonenumbers.is_valid_number(number):
        why = "has the wrong number of digits" if not phonenumbers.is_possible_number(number) else "is not a number in use"
        return None, (
            Code.INVALID_PHONE,
            f"{value!r} {why} for +{number.country_code} "
            f"({phonenumbers.region_code_for_number(number) or 'unknown region'})",
        )
    return number, None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 + f" ext. {number.extension}" if number.extension else e164


# Digits only, no leading 0: how a number looks in an Excel number cell, which drops a leading + (and a
# leading 0). Such digits have two readings: international (country code first: +4917112345678 that lost
# its +) and national in the row's region. Anything written otherwise ("(415) 555-0132", "0171 2345678",
# "030 123456") is national writing and read in the region, as phonenumbers reads it.
_DIGITS_ONLY = re.compile(r"[1-9][0-9]{5,16}")


def _digits_only(value: str, digits: str, region: str) -> tuple[str, Problem]:
    """The reading of a digits-only value; phone-ambiguous when the digits can't tell which number it is.

    international valid, national not (or the same number): international.
    Both valid and different numbers:
      - written as the region writes its own numbers at home (the digits of phonenumbers' national format:
        US 4155550132, ES 612345678) and the international reading is another country's: national. (About one
        in ten US numbers also reads as a valid number elsewhere: 3212345678 is +32 12 34 56 78 in Belgium.)
      - the digits start with the region's own country code and are not its national writing
        (DE 4917112345678, whose national reading would be 0491 7112345678 without its 0): international,
        the region's own number that lost its +.
      - otherwise phone-ambiguous, naming both: a foreign number that lost its + or a national one that lost
        its leading 0 (34612345678 in DE: +34 612 34 56 78 in Spain, or 03461 2345678 in Merseburg), or two
        numbers of the region both written as it writes them.
    """
    international = _international(value, digits)
    national, problem = _parse(value, digits, region)
    if international is None:
        return (value, problem) if national is None else (_e164(national), None)
    if national is None or _e164(national) == international:
        return international, None
    at_home = _national_digits(national) == digits
    own = digits.startswith(str(national.country_code))  # the international reading is the region's too
    if at_home and not own:
        return _e164(national), None
    if own and not at_home:
        return international, None
    written = phonenumbers.format_number(national, phonenumbers.PhoneNumberFormat.NATIONAL)
    return value, (
        Code.PHONE_AMBIGUOUS,
        f"{value!r} can be {international} (read with its country code first) or {_e164(national)} "
        f"({region}, written {written}): write it with + and its country code",
    )


def _international(value: str, digits: str) -> str | None:
    """The E.164 of "+digits" if valid; the library is asked only when the fast path can't say and the
    length fits the country code's numbers (most national numbers' other reading doesn't: 4155550132)."""
    e164 = fast_phone("+" + digits)
    if e164 is not None or not _may_be_valid(digits):
        return e164
    number, _ = _parse(value, "+" + digits, None)
    return _e164(number) if number is not None else None


def _may_be_valid(digits: str) -> bool:
    """False only where phonenumbers would find "+digits" invalid: no such country code, or a length none of its
    regions' numbers has (is_valid_number checks the general description's lengths first)."""
    if (split := _split(digits)) is None:
        return False
    regions, prefix, nsn = split
    if regions[0] == "001" or (prefix is not None and prefix.match(nsn)):
        return True  # non-geographic, or a national prefix the library may strip: ask it
    for region in regions:
        rules = _region_rules(region)
        if rules is None or rules[0] is None or not rules[0][0] or len(nsn) in rules[0][0]:
            return True
    return False


def _national_digits(number: phonenumbers.PhoneNumber) -> str:
    return "".join(c for c in phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
                   if c.isdigit())
