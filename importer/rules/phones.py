"""Phones: E.164 via phonenumbers (valid numbers only, not merely possible ones)."""

from __future__ import annotations

import functools
import re

import phonenumbers

from importer.records import Code
from importer.rules.text import INTEGRAL, SCIENTIFIC, LOST_DIGITS_MSG, Problem


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


def phone(value: str, region: str | None) -> tuple[str, Problem]:
    if value[0] == "+" and (e164 := fast_phone(value)) is not None:
        return e164, None
    text = value[4:] if value[:4].lower() == "tel:" else value.removeprefix("'")  # ' marks text in Excel, Shopify
    if SCIENTIFIC.fullmatch(text):
        return value, (Code.LOST_DIGITS, LOST_DIGITS_MSG.format(value=value))
    if INTEGRAL.fullmatch(text) and "." in text:  # 16502530000.0 from a numeric cell
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

