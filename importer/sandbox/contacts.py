"""Contact bodies: what Ecwid accepts, checked strictly.

Strict on purpose: a client that passes here sends what the documentation
describes, whatever Ecwid would tolerate.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from importer.sandbox.errors import wrong_parameter

# Listed here, not imported from importer.records: the sandbox must not share
# the client's mistakes.
CONTACT_TYPES = frozenset(
    "EMAIL PHONE FACEBOOK INSTAGRAM TWITTER YOUTUBE TIKTOK PINTEREST VK "
    "FB_MESSENGER WHATSAPP TELEGRAM VIBER URL OTHER".split()
)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S %z"
_STRING_FIELDS = ("contact", "handle", "note", "type", "timestamp")


def ecwid_timestamp(when: dt.datetime | None = None) -> str:
    """`2025-03-26 11:07:12 +0000`, always UTC as Ecwid writes it."""
    when = when or dt.datetime.now(dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise wrong_parameter(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise wrong_parameter("Request body must be a JSON object")
    return body


def check_contact_fields(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The contact fields of a create (partial=False) or update body.

    Unknown fields are ignored, as Ecwid ignores them.
    """
    fields: dict[str, Any] = {}
    for name in _STRING_FIELDS:
        if name in body and body[name] is not None:
            if not isinstance(body[name], str):
                raise wrong_parameter(f"Field '{name}' must be a string")
            fields[name] = body[name]
    if not partial:
        if not fields.get("contact", "").strip():
            raise wrong_parameter("Field 'contact' is required")
        if "type" not in fields:
            raise wrong_parameter("Field 'type' is required")
    elif "contact" in fields and not fields["contact"].strip():
        raise wrong_parameter("Field 'contact' must not be empty")
    if "type" in fields and fields["type"] not in CONTACT_TYPES:
        raise wrong_parameter(
            f"Unknown contact type '{fields['type']}', expected one of {sorted(CONTACT_TYPES)}"
        )
    if "timestamp" in fields:
        try:
            dt.datetime.strptime(fields["timestamp"], TIMESTAMP_FORMAT)
        except ValueError:
            raise wrong_parameter(
                "Field 'timestamp' must look like '2025-03-26 11:07:12 +0000'"
            ) from None
    if body.get("default") is not None:
        if not isinstance(body["default"], bool):
            raise wrong_parameter("Field 'default' must be a boolean")
        fields["default"] = body["default"]
    if body.get("orderBy") is not None:
        # JSON true/false are ints in Python; Ecwid's orderBy is a sort position.
        if isinstance(body["orderBy"], bool) or not isinstance(body["orderBy"], int):
            raise wrong_parameter("Field 'orderBy' must be an integer")
        fields["orderBy"] = body["orderBy"]
    return fields
