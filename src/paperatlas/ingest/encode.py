"""Turning a reader's record into what the writer stores: JSON, a content hash and the record's key; and, for a
paper, optionally its match keys and the row it makes on its own (``merge.writer.prepare``, :func:`with_prepared`).

Done on the parser side (a second process when there is one).  Preparing a paper costs about half as much as
parsing it, and either process may do it: the parser does when the writer is behind (see ``producer``), so that
whichever process has slack takes the work.  Batches cross the process boundary as ``marshal`` bytes of
plain tuples (:func:`pack` / :func:`unpack`): measured on 30 OAI-PMH pages that is a third cheaper than pickling
the named tuples, and it is only ever read back by the same interpreter that wrote it.
The hash leaves the provenance out: the same record read again from a moved or renamed file is unchanged.
"""

from __future__ import annotations

import hashlib
import marshal
from dataclasses import fields, is_dataclass
from typing import Any

import orjson

from ..merge.writer import CITATION, ENTITY, PAPER, Item, Prepared, prepare
from ..model import CitationRecord, EntityRecord, Record, SourceRecord


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def compact(value: Any) -> Any:
    """JSON value with empty members (None, "", [], {}) left out of every object, recursively; 0 and False stay.

    Source records are stored whole, and a SourceRecord spelled out with every empty field is a third larger
    than its content; readers of the stored form use ``.get``, for which absent and empty are the same."""
    if isinstance(value, dict):
        out = {}
        for key, member in value.items():
            if member is None or member == "":
                continue
            if isinstance(member, (dict, list)):
                member = compact(member)
                if not member:
                    continue
            out[key] = member
        return out
    if isinstance(value, list):
        return [compact(member) if isinstance(member, (dict, list)) else member for member in value]
    return value


_FIELDS: dict[type, tuple[str, ...]] = {}
_SCALARS = frozenset({str, int, float, bool})


def _names(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind) if f.name != "provenance")
    return names


def plain(obj: Any) -> dict[str, Any]:
    """A record dataclass as the JSON object :func:`compact` would make of it, built directly: a JSON round
    trip plus ``compact`` cost a tenth of an ingest's CPU.  Provenance is left out (see the module docstring)."""
    out: dict[str, Any] = {}
    for name in _names(type(obj)):
        value = getattr(obj, name)
        if value is None:
            continue
        kind = type(value)
        if kind in _SCALARS:
            if value == "":
                continue
        elif kind is list:
            if not value:
                continue
            first = type(value[0])
            if is_dataclass(first):
                value = [plain(member) for member in value]
            elif first is dict or first is list:
                value = compact(value)
        elif kind is dict:
            value = compact(value)
            if not value:
                continue
        elif is_dataclass(kind):
            value = plain(value)
            if not value:
                continue
        out[name] = value
    return out


def encode(record: Record, format: str) -> Item:
    provenance = record.provenance
    if isinstance(record, SourceRecord):
        data = orjson.dumps(plain(record), option=orjson.OPT_SORT_KEYS)
        return Item(PAPER, record.key, content_hash(data), data.decode(), record.source, provenance.file,
                    provenance.locator, format)
    if isinstance(record, CitationRecord):
        data = orjson.dumps({"citing": record.citing, "cited": record.cited})
        return Item(CITATION, f"{record.citing}>{record.cited}", content_hash(data), data.decode(), record.source,
                    provenance.file, provenance.locator, format)
    if isinstance(record, EntityRecord):
        data = orjson.dumps({"kind": record.kind, "data": record.data}, option=orjson.OPT_SORT_KEYS)
        return Item(ENTITY, record.id, content_hash(data), data.decode(), record.source, provenance.file,
                    provenance.locator, format)
    raise TypeError(f"a reader yielded {type(record).__name__}, not a record")


def with_prepared(items: list[Item]) -> list[Item]:
    """The batch with every paper's ``pre`` filled in, the writer's share of work that needs no store."""
    return [item._replace(pre=prepare(orjson.loads(item.data), item.source, item.file, item.locator, item.key))
            if item.kind == PAPER and item.pre is None else item for item in items]


def pack(items: list[Item]) -> bytes:
    """A batch as bytes for the queue between the parser and the writer."""
    return marshal.dumps([(*item[:8], tuple(item.pre) if item.pre is not None else None) for item in items])


def unpack(data: bytes) -> list[Item]:
    return [Item(*row[:8], Prepared(*row[8]) if row[8] is not None else None) for row in marshal.loads(data)]
