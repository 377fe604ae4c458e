"""Pure per-type value rules: one function per rule, used for every row and every distinct value.

Each rule takes a cleaned cell and gives (value as sent, problem), where problem is
None or (error code, message): bad data is a value. Normalizing a normalized value
returns it unchanged (idempotent). Canonical forms (one per network, so duplicates
compare equal):

    EMAIL         email_validator's normalized form (domain lower-cased, local part as written)
    PHONE/WHATSAPP/VIBER  E.164 "+16502530000" (" ext. 12" kept when written);
                  must be phonenumbers.is_valid_number, not just possible; read in the row's
                  country (rules.country: an ISO code or a name) or --phone-region without +
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

from importer.rules.contacts import TYPE_CODES, converter, infer_type, normalize_value, resolve_type
from importer.rules.countries import country
from importer.rules.emails import email, normalize_email
from importer.rules.links import network_of, social, url, whatsapp
from importer.rules.phones import phone
from importer.rules.text import (
    MAX_CONTACT,
    MAX_HANDLE,
    MAX_NOTE,
    InvalidValue,
    Problem,
    cell_text,
    cell_text_keeps,
    clean,
    format_timestamp,
    parse_bool,
    parse_customer_id,
    parse_order_by,
    parse_store_id,
    parse_timestamp,
)

__all__ = [
    "TYPE_CODES", "converter", "infer_type", "normalize_value", "resolve_type", "country", "email", "normalize_email",
    "network_of", "social", "url", "whatsapp", "phone", "MAX_CONTACT", "MAX_HANDLE", "MAX_NOTE", "InvalidValue",
    "Problem", "cell_text", "cell_text_keeps", "clean", "format_timestamp", "parse_bool", "parse_customer_id", "parse_order_by",
    "parse_store_id", "parse_timestamp",
]
