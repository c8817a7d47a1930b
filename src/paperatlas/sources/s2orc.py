"""S2ORC metadata lines (v2020-07-05 schema): one paper a line, with its outbound and inbound citations.

``paper_id`` is the Semantic Scholar corpus id; ``authors`` come as first/middle/last/suffix parts;
``outbound_citations`` and ``inbound_citations`` are corpus ids of the papers it cites and that cite it.  A full
S2ORC paper file (``paper_id`` + ``metadata`` + parses) is read through its ``metadata`` object.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from ..model import (
    ACL,
    ARXIV,
    CORPUS,
    DOI,
    MAG,
    PUBMED,
    CitationRef,
    Provenance,
    Record,
    Source,
    SourceRecord,
    Venue,
    VenueKind,
)
from ..normalize import full_name, normalize_doi, parse_arxiv_id
from .base import ErrorSink
from .codelinks import find_code_links
from .fields import as_int, authorship, clean
from .json_values import iter_json_objects, json_head


class S2orcReader:
    name = Source.S2ORC.value
    description = "S2ORC metadata JSON lines (paper_id, authors parts, outbound/inbound citations)"

    def sniff(self, head: bytes, filename: str) -> bool:
        head = json_head(head)
        return head.startswith(b"{") and b'"paper_id"' in head and (
            b'"outbound_citations"' in head or b'"mag_field_of_study"' in head or b'"metadata"' in head
            or b'"s2_url"' in head)

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        yield from iter_json_objects(stream, file, errors, lambda data, line: self._record(data, file, line),
                                     "S2ORC")

    def _record(self, data: dict[str, Any], file: str, line: int) -> SourceRecord | None:
        paper_id = data["paper_id"]
        if not isinstance(paper_id, str | int) or not str(paper_id).isdigit():
            raise ValueError(f"paper_id must be a corpus id, not {paper_id!r}")
        meta = data["metadata"] if isinstance(data.get("metadata"), dict) else data
        title = clean(meta.get("title"))
        if not title:
            raise ValueError("no title")
        ids = {CORPUS: str(paper_id)}
        doi = normalize_doi(meta.get("doi"))
        if doi:
            ids[DOI] = doi
        if meta.get("arxiv_id"):
            parsed = parse_arxiv_id(str(meta["arxiv_id"]))
            if parsed:
                ids[ARXIV] = parsed[0]
        for key, scheme in (("acl_id", ACL), ("mag_id", MAG), ("pubmed_id", PUBMED)):
            if meta.get(key):
                ids[scheme] = str(meta[key])
        authors = []
        for position, author in enumerate(meta.get("authors") or []):
            if not isinstance(author, dict):
                raise TypeError("authors must be objects")
            middle = author.get("middle") or []
            if not isinstance(middle, list):
                raise TypeError("author middle names must be a list")
            forenames = clean(" ".join([author.get("first") or "", *middle]))
            surname = clean(author.get("last"))
            suffix = clean(author.get("suffix"))
            name = full_name(forenames, surname, suffix)
            if name:
                affiliation = author.get("affiliation")
                affiliations = []
                if isinstance(affiliation, dict):
                    affiliations = [a for a in (clean(affiliation.get("laboratory")),
                                                clean(affiliation.get("institution"))) if a]
                authors.append(authorship(position, name, forenames=forenames, surname=surname, suffix=suffix,
                                          affiliations=affiliations))
        year = as_int(meta.get("year"))
        venue_name = clean(meta.get("journal")) or clean(meta.get("venue"))
        kind = VenueKind.JOURNAL if clean(meta.get("journal")) else VenueKind.OTHER
        abstract = clean(meta.get("abstract"))
        outbound = data.get("outbound_citations") or []
        inbound = data.get("inbound_citations") or []
        if not isinstance(outbound, list) or not isinstance(inbound, list):
            raise TypeError("outbound/inbound citations must be lists")
        extra = {"mag_field_of_study": data["mag_field_of_study"]} if data.get("mag_field_of_study") else {}
        return SourceRecord(
            source=self.name,
            provenance=Provenance(self.name, file, f"line {line}"),
            ids=ids,
            title=title,
            abstract=abstract,
            # Only the year is known: it stays in the venue (no made-up "January 1").
            venue=Venue(venue_name, year, kind.value) if venue_name else (Venue(year=year) if year else None),
            code_links=find_code_links(abstract),
            authors=authors,
            references=[CitationRef(f"{CORPUS}:{c}") for c in outbound if str(c).isdigit()],
            cited_by=[CitationRef(f"{CORPUS}:{c}") for c in inbound if str(c).isdigit()],
            extra=extra,
        )


READERS = [S2orcReader()]
