"""Our contact beside the store's: which store contact is ours, and which fields differ.

A contact is the same when its type and value are: the value as sent (E.164 phones,
canonical links; the store's own value normalized the same way), emails ignoring case
as Ecwid's own lookups do (`match_key`). `note`, `handle`, `default` and `orderBy` are
the fields a source may change afterwards (`--update`) and a person may change by hand
(`undo` keeps such a contact).

    match_key("EMAIL", "Ann@Example.com") == match_key("EMAIL", "ann@example.com")
    item_key(item)                                               # the same, of a store contact
    item = pick(items, "EMAIL", "ann@example.com", contact_id=None, sent=body)
    differences(wanted=record.body(), have=store_fields(item))   # {"note": "new"}
    changed_since(item, sent=body)                               # ["note"]
"""

from __future__ import annotations

import json
from typing import Any

from importer.rules import InvalidValue, normalize_value

__all__ = ["COMPARED", "value_of", "item_value", "match_key", "item_key", "store_fields", "differences", "said",
           "changed_since", "pick", "dumps", "loads"]

COMPARED = ("handle", "note", "default", "orderBy")  # what --update changes and undo checks

# What the store holds for a field nobody set.
_UNSET: dict[str, Any] = {"handle": "", "note": "", "default": False, "orderBy": None}


def value_of(fields: dict[str, Any], name: str) -> Any:
    """A compared field of a body or store contact; unset, what the store means by unset."""
    return _UNSET[name] if fields.get(name) is None else fields[name]


def item_value(item: dict) -> tuple[str, str]:
    """(TYPE, contact) of a store contact, the contact normalized like ours (as written if it won't)."""
    ctype = str(item.get("type", "")).upper()
    value = str(item.get("contact", ""))
    try:
        return ctype, normalize_value(ctype, value)[1]
    except InvalidValue:
        return ctype, value


def match_key(ctype: str, contact: str) -> tuple[str, str]:
    """What makes two contacts of a customer the same: the type and the value as sent, emails in any case."""
    return (ctype, contact.lower()) if ctype == "EMAIL" else (ctype, contact)


def item_key(item: dict) -> tuple[str, str]:
    """match_key of a store contact (its value normalized like ours)."""
    return match_key(*item_value(item))


def said(changes: dict[str, Any], before: dict[str, Any]) -> str:
    """"note 'Mobile' → 'Cell', default False → True": the fields that differ, before and after."""
    return ", ".join(f"{name} {value_of(before, name)!r} → {value!r}" for name, value in changes.items())


def store_fields(item: dict) -> dict[str, Any]:
    """The compared fields of a store contact, unset ones as the store means them."""
    return {name: value_of(item, name) for name in COMPARED}


def differences(wanted: dict[str, Any], have: dict[str, Any]) -> dict[str, Any]:
    """The compared fields `wanted` gives (a body: blank fields are left out) whose value `have` lacks.

    A field the row leaves blank is not a change: an export without a Note column clears no note."""
    return {name: wanted[name] for name in COMPARED if name in wanted and value_of(have, name) != wanted[name]}


def changed_since(item: dict, sent: dict[str, Any]) -> list[str]:
    """The fields of a store contact that are no longer what was sent: its value (edited under the same id);
    a field sent, compared with its value; a note, handle or default that was not sent must still be unset
    (orderBy not sent is the store's choice)."""
    have = store_fields(item)
    changed = [name for name in COMPARED if name in sent and have[name] != sent[name]]
    changed += [name for name in ("handle", "note", "default") if name not in sent and have[name] != _UNSET[name]]
    changed.sort(key=COMPARED.index)
    # match_key, not the value as sent: a store that keeps an email in another case has not edited it
    if "contact" in sent and item_key(item) != match_key(str(sent.get("type", "")), sent["contact"]):
        changed.insert(0, "contact")
    return changed


def pick(items: list[dict], ctype: str, contact: str, *, contact_id: int | None = None,
         sent: dict[str, Any] | None = None, taken: frozenset[int] | set[int] = frozenset()) -> dict | None:
    """The store contact that is ours: the one with our id if the store still has it (whatever its value now);
    else one of our type and value, preferring one whose fields are still what was sent, then the newest."""
    if contact_id is not None:
        for item in items:
            if item.get("id") == contact_id:
                return item
    key = match_key(ctype, contact)
    same = [i for i in items if isinstance(i, dict) and i.get("id") not in taken and item_key(i) == key]
    if not same:
        return None
    return max(same, key=lambda i: (sent is not None and not changed_since(i, sent), _id(i)))


def _id(item: dict) -> int:
    value = item.get("id")
    return value if isinstance(value, int) else -1


def dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False)


def loads(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None
