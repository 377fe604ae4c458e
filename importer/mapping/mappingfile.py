"""--mapping FILE and a library caller's mapping: header -> canonical field, contact type, or ignore.

    mapping = read_mapping("map.csv")       # JSON {"Header": "field"} or CSV `header,field` (`#` lines are comments)
    mapping = check_mapping({"Handy": "phone"})
    resolve_target("customer_id") == "customerId"
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from importer.errors import InputError, UsageError
from importer.rules.words import norm
from importer.records import FIELDS, ContactType

__all__ = ["IGNORE", "resolve_target", "read_mapping", "check_mapping"]

IGNORE = ""  # mapping target meaning "do not use this column"


_TARGETS = {norm(f): f for f in FIELDS} | {norm(t.name): t.value for t in ContactType}


def resolve_target(target: str) -> str | None:
    """A mapping value -> canonical field, ContactType value, IGNORE; None if unknown."""
    key = norm(target)
    if key in ("", "ignore", "skip", "none"):
        return IGNORE
    return _TARGETS.get(key)


def read_mapping(path: str | os.PathLike[str]) -> dict[str, str]:
    """--mapping FILE: JSON {"Header": "field"} or a 2-column CSV `header,field`.

    Targets are canonical FIELDS names or ContactType names (a wide column), or
    "ignore"; they are returned resolved (e.g. "customer_id" -> "customerId").
    """
    name = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError(name, "mapping file not found")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(name, f"cannot read mapping file: {e}") from None
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(name, f"invalid JSON: {e}") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise InputError(name, 'mapping must be a JSON object {"Header": "field"}')
        pairs = list(data.items())
    else:
        pairs = []
        for line, row in enumerate(csv.reader(text.splitlines()), 1):
            row = [c.strip() for c in row]
            if not any(row) or row[0].startswith("#"):  # `columns FILE` writes why a file was refused so
                continue
            if len(row) != 2 or not row[0]:
                raise InputError(name, f"line {line}: expected two columns: header,field")
            if not pairs and (norm(row[0]), norm(row[1])) == ("header", "field"):  # the first row, or after comments
                continue
            pairs.append((row[0], row[1]))
    mapping = {}
    for header, target in pairs:
        resolved = resolve_target(target)
        if resolved is None:
            raise InputError(name, f"{header!r} -> {target!r}: unknown field; use one of "
                             f"{', '.join(FIELDS)}, a contact type ({', '.join(t.name for t in ContactType)}) or ignore")
        mapping[header] = resolved
    return mapping


def check_mapping(mapping: dict[str, str] | None) -> dict[str, str]:
    """A library caller's mapping, resolved (read_mapping's targets); UsageError for an unknown field."""
    resolved = {}
    for header, target in (mapping or {}).items():
        r = resolve_target(target)
        if r is None:
            raise UsageError(f"mapping {header!r} -> {target!r}: unknown field")
        resolved[header] = r
    return resolved
