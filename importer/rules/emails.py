"""Emails: email-validator's normalized form (never a DNS check), with a fast path for
plain ASCII addresses built from the library's own tables and property-tested against it."""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from importer.errors import Code
from importer.rules.text import InvalidValue, Problem, clean

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


_NAMED = re.compile(r"[^<>@]*<\s*([^<>\s]+@[^<>\s]+)\s*>\s*")


def email(value: str) -> tuple[str, Problem]:
    normalized = fast_email(value)
    if normalized is not None:
        return normalized, None
    if value[:7].lower() == "mailto:":
        value = value[7:]
    if (named := _NAMED.fullmatch(value)) is not None:  # "Anna Müller <anna@example.de>": email_validator wants
        value = named.group(1)  # a display name with accents quoted; the address is what is kept anyway
    try:
        # "Name <addr>" is common in CRM exports: accept it, keep the address.
        return validate_email(value, check_deliverability=False, allow_display_name=True).normalized, None
    except EmailNotValidError as e:
        return value, (Code.INVALID_EMAIL, str(e))




_EMAILS_BETWEEN = re.compile(r"\s*[;,\n]\s*|\s+/\s+")


def several_emails(text: str) -> list[str] | None:
    """The addresses of a cell that holds several ("a@x.com; b@y.com", "a@x.com, b@y.com", one a line, " / "),
    only where each part is a valid address on its own; None otherwise (the cell is then one address, and
    invalid). The same rule as rules.phones.several_numbers."""
    parts = [p.strip() for p in _EMAILS_BETWEEN.split(text) if p.strip()]
    if len(parts) < 2 or any(email(p)[1] is not None for p in parts):
        return None
    return parts


def normalize_email(value: str) -> str:
    """email_validator's normalized form; raises InvalidValue(invalid-email)."""
    normalized, problem = email(clean(value))
    if problem:
        raise InvalidValue(*problem)
    return normalized

