"""Turning a reader's record into what the writer stores: JSON bytes, a content hash and the record's key.

Done on the parser side (a second process when there is one).  The record's match keys and the paper it makes on
its own (``merge.writer.prepare``) are left to the writer: measured on 10 pages, computing them here too cost more
in pickling than it saved, and left the parser the slower half of the pipeline.
The hash leaves the provenance out: the same record read again from a moved or renamed file is unchanged.
"""

from __future__ import annotations

import hashlib

import orjson

from ..merge.writer import CITATION, ENTITY, PAPER, Item
from ..model import CitationRecord, EntityRecord, Record, SourceRecord


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def encode(record: Record, format: str) -> Item:
    provenance = record.provenance
    if isinstance(record, SourceRecord):
        key = record.key  # computed before provenance is taken off: records without ids are keyed by place
        record.provenance = None  # type: ignore[assignment]
        try:
            data = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
        finally:
            record.provenance = provenance
        return Item(PAPER, key, content_hash(data), data.decode(), record.source, provenance.file, provenance.locator,
                    format)
    if isinstance(record, CitationRecord):
        data = orjson.dumps({"citing": record.citing, "cited": record.cited})
        return Item(CITATION, f"{record.citing}>{record.cited}", content_hash(data), data.decode(), record.source,
                    provenance.file, provenance.locator, format)
    if isinstance(record, EntityRecord):
        data = orjson.dumps({"kind": record.kind, "data": record.data}, option=orjson.OPT_SORT_KEYS)
        return Item(ENTITY, record.id, content_hash(data), data.decode(), record.source, provenance.file,
                    provenance.locator, format)
    raise TypeError(f"a reader yielded {type(record).__name__}, not a record")
