"""ACL Anthology Network: ``acl-metadata.txt`` paper blocks and ``acl.txt`` citation edges.

The metadata file is blocks of ``key = {value}`` lines (id, author, title, venue, year) separated by blank
lines; authors are ``Surname, Forenames`` joined by ``; ``.  The edges file has one ``CITING ==> CITED`` (or
``CITING , CITED``) pair of ACL ids a line.  Some lines are Latin-1 rather than UTF-8; each line is decoded on
its own so one bad byte never loses a record.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import BinaryIO

from ..model import ACL, CitationRecord, Provenance, Record, Source, SourceRecord, Venue, VenueKind
from .base import ErrorSink, iter_lines
from .fields import authorship, clean

_FIELD = re.compile(r"^\s*(\w+)\s*=\s*\{(.*)\}\s*$")
_ACL_ID = r"(?:[A-Z]\d{2}-\d{4}[a-z]?|\d{4}\.[a-z0-9]+-[a-z0-9]+\.\d+)"
_EDGE = re.compile(rf"^\s*({_ACL_ID})\s*(?:==>|,|\t|\s)\s*({_ACL_ID})\s*$")
_JOURNALS = ("computational linguistics", "cl", "tacl", "transactions of the association")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def venue_kind(name: str) -> str:
    lowered = name.lower()
    if "workshop" in lowered or lowered.startswith("ws") or "shared task" in lowered:
        return VenueKind.WORKSHOP.value
    if lowered in _JOURNALS or "journal" in lowered or "transactions" in lowered:
        return VenueKind.JOURNAL.value
    return VenueKind.CONFERENCE.value


class AclMetadataReader:
    name = "acl-metadata"
    description = "ACL Anthology Network acl-metadata.txt (id/author/title/venue/year blocks)"

    def sniff(self, head: bytes, filename: str) -> bool:
        return re.match(rb"\s*id\s*=\s*\{[^}]+\}\s*\n\s*author\s*=\s*\{", head) is not None

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        block: dict[str, str] = {}
        start = 0
        for number, raw in iter_lines(stream, file, errors):
            text = _decode(raw)
            match = _FIELD.match(text)
            if not match:
                errors.report(file, number, f"not a 'key = {{value}}' line: {text.strip()[:80]!r}")
                continue
            key, value = match.group(1).lower(), match.group(2)
            if key == "id" and block:
                record = self._record(block, file, start, errors)
                if record is not None:
                    yield record
                block = {}
            if key == "id":
                start = number
            block[key] = value
        if block:
            record = self._record(block, file, start, errors)
            if record is not None:
                yield record

    def _record(self, block: dict[str, str], file: str, line: int, errors: ErrorSink) -> SourceRecord | None:
        acl_id = clean(block.get("id"))
        # The AAN files write non-ASCII letters as HTML entities ("Pad&oacute;, Sebastian").
        title = clean(html.unescape(block.get("title") or ""))
        if not acl_id or not title:
            errors.report(file, line, "block without id or title")
            return None
        year_text = (block.get("year") or "").strip()
        year = int(year_text) if re.fullmatch(r"\d{4}", year_text) else None
        if year_text and year is None:
            errors.report(file, line, f"{acl_id}: invalid year {year_text!r}")
        authors = []
        names = (clean(p) for p in html.unescape(block.get("author") or "").split(";"))
        for position, name in enumerate(n for n in names if n):
            surname, _, forenames = name.partition(",")
            forenames, surname = clean(forenames), clean(surname)
            display = f"{forenames} {surname}" if forenames and surname else name
            authors.append(authorship(position, display, forenames=forenames, surname=surname))
        venue_name = clean(block.get("venue"))
        return SourceRecord(
            source=Source.ACL_ANTHOLOGY.value,
            provenance=Provenance(Source.ACL_ANTHOLOGY.value, file, f"line {line}"),
            ids={ACL: acl_id},
            title=title,
            # Only the year is known: it lives in the venue (a made-up "January 1" would show on pages).
            venue=Venue(venue_name, year, venue_kind(venue_name)) if venue_name else None,
            authors=authors,
        )


class AclCitationsReader:
    name = "acl-citations"
    description = "ACL Anthology Network acl.txt citation edges (CITING ==> CITED)"

    def sniff(self, head: bytes, filename: str) -> bool:
        first = head.lstrip().split(b"\n", 1)[0]
        return _EDGE.match(_decode(first)) is not None

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        source = Source.ACL_ANTHOLOGY.value
        for number, raw in iter_lines(stream, file, errors):
            match = _EDGE.match(_decode(raw))
            if not match:
                errors.report(file, number, f"not a citation edge 'CITING ==> CITED': {_decode(raw).strip()[:80]!r}")
                continue
            yield CitationRecord(source=source, provenance=Provenance(source, file, f"line {number}"),
                                 citing=f"{ACL}:{match.group(1)}", cited=f"{ACL}:{match.group(2)}")


READERS = [AclMetadataReader(), AclCitationsReader()]
