"""A country cell -> the region its phone numbers are read in (phonenumbers' region code, e.g. "DE").

    country("Deutschland") == ("DE", None); country("USA") == ("US", None); country("UK") == ("GB", None)
    country("Atlantis") == (None, ("unknown-country", "..."))

Names come from two maintained sources, because each misses spellings the other has:
ISO 3166 through pycountry (alpha-2 and alpha-3 codes; the ISO names, official and common names
that country pick lists use: "United States of America", "Czech Republic", "Korea, Republic of";
their translations in the languages below) and CLDR through babel (the names people write in those
languages, "Россия", "South Korea", and CLDR's aliases of codes: "UK" -> GB, "DEU" -> DE). Numeric
codes are left out: "49" in a "Country Code" column is a calling code, not ISO 3166's 049.

A name is matched ignoring case, accents, spaces and punctuation ("U.S.A." = "usa",
"Etats Unis" = "États-Unis"). A spelling that names two countries in different languages is not
guessed: it is unknown, like a name no source has.
"""

from __future__ import annotations

import functools
import gettext
import unicodedata

import phonenumbers

from importer.errors import Code
from importer.rules.text import Problem

# The languages of the stores' customers: western, central and eastern Europe, the Americas, Turkey,
# the Middle East and Asia. More languages add more ways to name a country, and more names that two
# languages give to different countries (which then become unknown).
LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "da", "nb", "fi", "cs", "sk", "sl", "hr", "hu", "ro", "bg",
    "el", "ru", "uk", "tr", "et", "lv", "lt", "ca", "ga", "is", "sr", "id", "vi", "ja", "ko", "zh", "he", "ar",
)  # fmt: skip


def key(text: str) -> str:
    """Case, accents, spaces and punctuation don't matter: "U.S.A." = "usa", "États-Unis" = "etatsunis"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def _table(pairs) -> dict[str, str | None]:
    """key -> region code, or None for a spelling two countries share."""
    found: dict[str, set[str]] = {}
    for name, code in pairs:
        if name and code.isalpha() and len(code) == 2:
            found.setdefault(key(name), set()).add(code.upper())
    return {k: next(iter(v)) if len(v) == 1 else None for k, v in found.items() if k}


@functools.cache
def _codes() -> dict[str, str | None]:
    """ISO alpha-2 and alpha-3 codes and CLDR's aliases of codes: they win over a name spelled the same."""
    import pycountry
    from babel.core import get_global

    def pairs():
        for c in pycountry.countries:
            yield c.alpha_2, c.alpha_2
            yield c.alpha_3, c.alpha_2
        for alias, codes in get_global("territory_aliases").items():
            if alias.isalpha() and len(codes) == 1:  # "UK" -> GB, "DEU" -> DE; not "YU" (two countries now)
                yield alias, codes[0]

    return _table(pairs())


@functools.cache
def _names() -> dict[str, str | None]:
    """Country names in LANGUAGES. Built once, on the first cell that is not a code."""
    import pycountry
    from babel import Locale

    return _table(_name_pairs(pycountry, Locale))


def _name_pairs(pycountry, Locale):
    countries = list(pycountry.countries)
    for c in countries:
        for name in (c.name, getattr(c, "official_name", None), getattr(c, "common_name", None)):
            yield name, c.alpha_2
    for language in LANGUAGES:
        try:
            translate = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
        except OSError:  # no translation (English is the source)
            translate = None
        for c in countries if translate else ():
            for name in (c.name, getattr(c, "official_name", None), getattr(c, "common_name", None)):
                if name:
                    yield translate(name), c.alpha_2
        for code, name in Locale.parse(language).territories.items():
            yield name, code


_CODES = phonenumbers.SUPPORTED_REGIONS
# Names people write that neither source has: the United Kingdom's nations and old names, Holland.
_SPOKEN = {key(name): code for code, names in {
    "GB": ("England", "Scotland", "Wales", "Northern Ireland", "Great Britain", "Britain", "Großbritannien",
           "Grande-Bretagne", "Gran Bretaña", "Gran Bretagna", "Angleterre", "Inglaterra", "Inghilterra", "Schottland",
           "Engeland", "Groot-Brittannië"),
    "NL": ("Holland", "Hollande", "Holanda", "Olanda"),
    "US": ("EE.UU.", "EUA"),
}.items() for name in names}


@functools.lru_cache(maxsize=4096)
def country(text: str) -> tuple[str | None, Problem]:
    """The phone region of a (cleaned, not blank) country cell: an ISO code or a name; else a problem."""
    code = text.upper()
    if len(code) == 2 and code in _CODES:  # the common case, without loading any names
        return code, None
    letters = text.replace(".", "").replace(" ", "")  # "U.S.A." is the code USA; "Mỹ" (Vietnamese) is no code
    region = _codes().get(key(letters)) if letters.isascii() and len(letters) <= 3 else None
    if region is None:
        found = key(text).removeprefix("the") if key(text).startswith("the") else key(text)  # "The Netherlands"
        region = _names().get(key(text)) or _names().get(found) or _SPOKEN.get(found)
    if region is None:
        return None, (Code.UNKNOWN_COUNTRY, f"country {text!r} is not a country name or ISO code (like DE, DEU, "
                      "Germany, Deutschland): correct it, or write the phone numbers with +country code")
    if region not in _CODES:  # Antarctica, Bouvet Island: no numbering plan of their own
        return None, (Code.UNKNOWN_COUNTRY, f"country {text!r} ({region}) has no phone numbering plan: write the "
                      "phone numbers with +country code")
    return region, None
