"""Control characters out of every text field of a record, before it is encoded for any store.

Why here, once, rather than in each backend: PostgreSQL refuses a NUL in ``text`` and ``\\u0000`` in ``jsonb`` (one
such record used to roll back its whole batch), SQLite stores it silently, and a title with a NUL or a form feed is
broken for every later stage either way.  Removing them on the parser side makes both backends store the same
record.  Tab, line feed and carriage return stay (abstracts have paragraphs); every other C0 control and DEL go.

The check costs almost nothing on clean records: orjson writes every C0 control as an escape, so one regular
expression over the encoded JSON tells whether the slow walk over the record is needed at all.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from typing import Any

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# how orjson writes the characters above (\b and \f short forms; a false hit, say an escaped backslash before
# "b", only costs the walk, which then finds nothing)
ENCODED_CONTROL = re.compile(r"\\u00(?:0[0-8bBeEfF]|1[0-9a-fA-F])|\\[bf]|\x7f")


def might_hold_control(encoded: str) -> bool:
    """True when a record's encoded JSON may hold a control character (never False when it does)."""
    return ENCODED_CONTROL.search(encoded) is not None


def scrub(value: Any) -> tuple[Any, int]:
    """``value`` with control characters removed from every string in it (dict keys too, dataclass fields in
    place), and how many were removed."""
    if isinstance(value, str):
        cleaned, removed = CONTROL.subn("", value)
        return cleaned, removed
    if isinstance(value, list):
        total = 0
        for index, member in enumerate(value):
            value[index], removed = scrub(member)
            total += removed
        return value, total
    if isinstance(value, tuple):
        members = [scrub(member) for member in value]
        return type(value)(m for m, _ in members) if not hasattr(value, "_fields") else type(value)(
            *(m for m, _ in members)), sum(r for _, r in members)
    if isinstance(value, dict):
        total = 0
        out = {}
        for key, member in value.items():
            new_key, removed_key = scrub(key)
            out[new_key], removed = scrub(member)
            total += removed + removed_key
        if total:
            value.clear()
            value.update(out)
        return value, total
    if is_dataclass(value) and not isinstance(value, type):
        total = 0
        for field in fields(value):
            if field.name == "provenance":
                continue
            new, removed = scrub(getattr(value, field.name))
            if removed:
                setattr(value, field.name, new)
                total += removed
        return value, total
    return value, 0
