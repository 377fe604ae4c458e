"""Headers read by their words: `Person - Phone - Mobile`, `billing_phone`, `Address 1 - Country`.

    reading = read_header("Person - Email - Work")
    reading.target   # "EMAIL" (a ContactType value), a field ("customerId", "country", "firstName", ...) or None
    reading.note     # "Work": the qualifier, the note of the column's contacts where the row has none
    reading.reason   # "words: email, work" -- what `columns FILE` shows
    words("billingPhone") == ["billing", "phone"]

The header is split into words (any case; `_ - . / : ,` and spaces; camelCase; digits apart), each
compared without accents and case, and read as one of:

* a contact kind: email, phone (a fax, a pager, an assistant's phone are not the customer's phone),
  WhatsApp, Viber, Telegram, a website, each social network; the first qualifier word (`work`, `home`,
  `mobile`, `billing`, `secondary`, ...) is its note;
* the customer's key: an id (`customer id`, `client number`, `Kundennummer`) or email (`customer email`);
* the row's country (`country`, `land`, `pays`, `Address 1 - Country`, `Business Country/Region`);
* the customer's name (`first name`, `billing_last_name`, `Nachname`);
* nothing: a header with a word that says it is about something else (`Email Opt Out`, `Phone Type`,
  `Contact Owner`, `Record Id`, `Last Email Opened`) or with no word of the above.

Readings never depend on how the words are joined or cased: `Person - Phone - Mobile` =
`person_phone_mobile` = `PersonPhoneMobile` = `PERSON.PHONE.MOBILE`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from importer.records import ContactType as T

__all__ = ["Reading", "norm", "words", "read_header", "country_rank", "pair_words", "is_postal", "written_words",
           "unnamed"]


def norm(header: str) -> str:
    """Header key: case, spaces, `_`, `-`, dots and BOMs don't matter (the aliases' match)."""
    return re.sub(r"[\s_\-.\ufeff]+", "", header).casefold()


def _key(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _split(header: str) -> list[str]:
    text = header.replace("\ufeff", "")
    text = re.sub(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Þ])", " ", text)  # camelCase
    text = re.sub(r"(?<=[A-ZÀ-Þ])(?=[A-ZÀ-Þ][a-zà-ÿ])", " ", text)  # URLAddress, EMail
    return re.findall(r"[^\W\d_]+|\d+", text)


def _wordset(*groups: str) -> frozenset[str]:
    return frozenset(_key(w) for g in groups for w in g.split())


# Contact kinds, most specific first: "WhatsApp Phone" is WhatsApp, "Facebook URL" Facebook, "Website URL" a URL.
_KIND_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    (T.WHATSAPP, _wordset("whatsapp")),
    (T.VIBER, _wordset("viber")),
    (T.TELEGRAM, _wordset("telegram")),
    (T.FB_MESSENGER, _wordset("messenger")),
    (T.FACEBOOK, _wordset("facebook")),
    (T.INSTAGRAM, _wordset("instagram")),
    (T.TWITTER, _wordset("twitter")),
    (T.TIKTOK, _wordset("tiktok")),
    (T.YOUTUBE, _wordset("youtube")),
    (T.PINTEREST, _wordset("pinterest")),
    (T.VK, _wordset("vk vkontakte")),
    (T.URL, _wordset("website websites url web homepage site webseite webpage sitio www internetseite linkedin")),
    (T.OTHER, _wordset("skype")),
    (T.EMAIL, _wordset("email emails mail courriel correo emailadresse mailadresse emailaddress epost emailadres "
                       "mailadres emailadress")),
    (T.PHONE, _wordset(
        "phone phones tel tél telephone téléphone telefon telefone telefono teléfono telefonnummer telefonnr "
        "mobile mobil mobiel mobilnummer mobiltelefon mobilephone cell cellphone cellular celular cellulare "
        "handy handynummer sms landline gsm ddi mob portable movil móvil komorka komórka festnetz tlf tfno phonenumber "
        "telefoon telefoonnummer telefonu cellulaire rufnummer festnetznummer handynr mobilnr mobiltelefonnummer "
        "telemovel telemóvel tfn")),
)  # fmt: skip
_KIND_OF = {w: kind for kind, ws in _KIND_WORDS for w in ws}
_RANK = {kind: n for n, (kind, _) in enumerate(_KIND_WORDS)}
_BARE_X = frozenset({"x"})  # "X" alone is the network; "x" in "Fax x" is not

# Qualifiers: the note of a column's contacts. "Primary", "main", "default" say nothing worth a note.
_QUALIFIERS = _wordset(
    "work business office home private personal mobile cell billing shipping delivery secondary other alternate "
    "alternative alt additional second landline sms company invoice privat geschäftlich geschaftlich arbeit büro "
    "buro dienstlich mobil handy festnetz travail domicile bureau portable fixe trabajo casa móvil movil celular "
    "lavoro ufficio cellulare fisso werk thuis mobiel praca domowy komórka komorka trabalho residencial comercial "
    "linkedin skype")  # fmt: skip
# Words that say a column is about something else than the customer's contact.
_NOT_CONTACT = _wordset(
    "fax telefax pager owner id ids date time timestamp created modified updated status opt optin optout consent "
    "consented subscribed subscription subscriptions marketing verified valid validated validation type kind count "
    "bounce bounced bounces domain label format preference preferences source campaign campaigns confirmed "
    "permission unsubscribe unsubscribed unsubscribes list lists opened open opens clicked click clicks sent "
    "accepts accept dnc blocked blacklisted suppressed suppression language template hash md hashed sha stage "
    "score rating country code region prefix provider carrier quality engagement assistant asst manager spouse "
    "referrer referral referred emergency extension ext durchwahl last reason rate received delivered of total "
    "average avg times name names display calls call messages message activity activities visits visit views "
    "sessions followers following likes posts subscribers image images photo photos avatar picture logo "
    "thumbnail gravatar cart checkout order orders tracking landing rep representative agent salesperson sales "
    "assigned assignee by from reply sender parent guardian partner invited "
    "typ tipo assistent assistente asistente assistentin sekretariat secretary")  # fmt: skip
_CONTACT = _wordset("contact contacts kontakt")
_DIALING = _wordset("calling dial dialing dialling prefix vorwahl indicatif prefijo prefisso")  # "+49", not a country
_COUNTRY = _wordset("country countries countrycode land pays país pais paese kraj landcode")
_CUSTOMER = _wordset("customer customers client kunde kunden cliente clientes klant klanten klient buyer")
_ID = _wordset("id number no nr num nummer numero número identifier n code codice codigo código kod")  # "N° client": ° is no letter
_ID_COMPOUNDS = _wordset("customerid clientid kundennummer kundennr kundenid customerno customernumber klantnummer klantnr "
                         "kundnummer")
_ID_EXTRA = _wordset("ecwid store shop")
_FIRST = _wordset("first given forename vorname prénom prenom nombre nome voornaam imię imie firstname")
_LAST = _wordset("last family surname nachname nom apellido apellidos cognome achternaam nazwisko sobrenome "
                 "lastname familienname")  # fmt: skip
_NAME = _wordset("name names")
_NAME_EXTRA = _wordset("customer client contact person billing shipping full display kunde 1")
_JOINED = _KIND_OF.keys() | _COUNTRY | _ID_COMPOUNDS | _FIRST | _LAST  # words that camelCase or a dash may cut
_KNOWN = _JOINED | _QUALIFIERS | _NOT_CONTACT | _CUSTOMER | _ID | _NAME


def words(header: str) -> list[str]:
    """The header's words, accents and case dropped; a word cut in two ("E-mail", "WhatsApp") joined again."""
    parts = [_key(w) for w in _split(header)]
    out: list[str] = []
    i = 0
    while i < len(parts):
        pair = parts[i] + parts[i + 1] if i + 1 < len(parts) else ""
        if pair in _JOINED and not (parts[i] in _KNOWN and parts[i + 1] in _KNOWN):  # not "mobile"+"phone"
            out.append(pair)
            i += 2
        else:
            out.append(parts[i])
            i += 1
    return out


@dataclass(frozen=True)
class Reading:
    target: str | None  # a ContactType value, a field name, or None (not used)
    note: str = ""  # a contact column's qualifier, as written
    reason: str = ""  # why, in words


def _written(header: str, word: str) -> str:
    """The qualifier as the header writes it ("Mobile", "portable", "LinkedIn"); a lower-case header's word
    capitalized ("billing_phone" -> "Billing")."""
    found = _key(header)
    at = found.find(word) if len(found) == len(header) else -1
    part = header[at : at + len(word)] if at >= 0 else word
    return part[:1].upper() + part[1:] if part.islower() and (at < 0 or header == header.lower()) else part


_UNNAMED = re.compile(r"\(no header: column [A-Z]{1,3}\)")


def unnamed(column: int) -> str:
    """The name of a column that has no header but holds contacts (importer.mapping.matching.headerless_named):
    `(no header: column D)`, Excel's letter of the 0-based `column`; read as nothing, its cells each said."""
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"(no header: column {letters})"


def read_header(header: str) -> Reading:
    """What a header is, by its words (see the module docstring)."""
    if _UNNAMED.fullmatch(header):
        return Reading(None, reason="the column has no header")
    ws = [w for w in words(header) if not w.isdigit()]
    said = ", ".join(ws)
    if not ws:
        return Reading(None, reason="no words")
    found = set(ws)
    if found <= _CUSTOMER | _ID | _ID_COMPOUNDS | _ID_EXTRA and (
            found & _ID_COMPOUNDS or (found & _CUSTOMER and found & _ID)):
        return Reading("customerId", reason=f"words: {said} (the customer's id)")
    kinds = {_KIND_OF[w] for w in ws if w in _KIND_OF}
    if not kinds and found & _CONTACT and found & _ID - {"id"} and found <= _CONTACT | _ID | _QUALIFIERS:
        kinds = {T.PHONE}  # "Contact No", "Contact Number": a phone number, as sheets made in India write it
    if found & _COUNTRY and not kinds and not found & _DIALING:
        return Reading("country", reason=f"words: {said} (the row's country)")
    if found & _CUSTOMER and kinds == {T.EMAIL} and found <= _CUSTOMER | _KIND_OF.keys() | {"address"}:
        return Reading("customerEmail", reason=f"words: {said} (the customer's email)")
    name = _name_of(found)
    if name:
        return Reading(name, reason=f"words: {said} (the customer's name)")
    if found == _BARE_X:
        kinds = {T.TWITTER}
    if not kinds:
        if machine := sorted(found & _wordset("fax telefax pager")):
            return Reading(None, reason=f"words: {said}: a {machine[0]} is not a phone to call")
        if found <= _QUALIFIERS:  # "Work", "Home": which one, not what; the values may tell (matching.kinds_by_values)
            return Reading(None, _written(header, ws[0]), f"words: {said}: says which one, not what kind of contact")
        return Reading(None, reason=f"words: {said}: no word of a contact, customer, country or name")
    best = min(kinds, key=_RANK.__getitem__)
    blocked = sorted(found & _NOT_CONTACT - (_HANDLE_WORDS if best not in (T.EMAIL, T.PHONE, T.URL) else set())
                     - ({"id"} if best == T.EMAIL else set()))  # "Email ID": the address, as India writes it
    if blocked:
        return Reading(None, reason=f"words: {said}: {blocked[0]!r} says it is not a contact of the customer")
    rest = kinds - {best}
    if rest and {best, *rest} & {T.EMAIL, T.PHONE} == {T.EMAIL, T.PHONE}:
        return Reading(None, reason=f"words: {said}: both an email and a phone word")
    note = next((w for w in ws if w in _QUALIFIERS and (_KIND_OF.get(w) != best or w in _SELF_NOTES)), "")
    return Reading(best.value, _written(header, note) if note else "", f"words: {said}")


# Kind words that also say which one: "Mobile" is a phone, noted "Mobile"; "LinkedIn" a URL, noted "LinkedIn".
_SELF_NOTES = _wordset("mobile mobil mobiel cell handy portable movil móvil celular cellulare landline sms festnetz "
                       "komorka komórka linkedin skype")  # fmt: skip
_HANDLE_WORDS = _wordset("id ids name names")  # "Skype ID", "Telegram name": a messenger's id is its contact


def _name_of(found: set[str]) -> str | None:
    rest = found - _NAME - _NAME_EXTRA
    if found & _FIRST and rest <= _FIRST and (found & _NAME or found & _FIRST - {"first", "given"}):
        return "firstName"
    if found & _LAST and rest <= _LAST and (found & _NAME or found & _LAST - {"last", "family"}):
        return "lastName"
    if found & _NAME and not rest:
        return "customerName"
    return None


def country_rank(header: str, position: int) -> tuple[int, int]:
    """Which of several country columns is the row's: billing, then primary/default, then the first; a card's,
    a bank's, an IP address's or a birth country last (Stripe's `Card Address Country` is the bank's)."""
    ws = set(words(header))
    if ws & _OTHER_OBJECTS:
        return (3, position)
    if ws & {"billing", "invoice", "rechnung", "facturation"}:
        return (0, position)
    if ws & {"primary", "main", "default", "1"}:
        return (1, position)
    return (2, position)


_OTHER_OBJECTS = _wordset("card bank issuer issue ip geoip geo birth nationality citizenship")
_POSTAL = _wordset("zip zipcode postal postcode postleitzahl plz cep cap codigo postale")


def is_postal(header: str) -> bool:
    """A postal code's column (`ZIP`, `postal_code`, `PLZ`): `49628-7978` there is no phone number."""
    return bool(set(words(header)) & _POSTAL)


def written_words(header: str) -> list[str]:
    """The header's words as written, camelCase apart: `MobilePhone` -> ["Mobile", "Phone"]."""
    return _split(header)


_PAIRS = _wordset("billing shipping delivery home business work other private invoice mailing")


def pair_words(header: str) -> frozenset[str]:
    """The words that pair a phone column with a country column: `Shipping Phone Number` and `Shipping Country`."""
    return frozenset(words(header)) & _PAIRS
