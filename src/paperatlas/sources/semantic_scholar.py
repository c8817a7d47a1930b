"""Semantic Scholar Graph API JSON: papers, authors, citations, references, search and batch responses.

Accepted shapes: a paper (``/paper/{id}``, possibly with ``citations``/``references`` lists of papers), an
author (``/author/{id}``, possibly with ``papers``), list responses (``{"data": [...]}`` from search, author
papers, citations, references), batch responses (a JSON array, ``null`` for ids not found), and recorded API
exchanges one per line (``{"uri": ..., "body": ...}``, as ``extracted_responses.jsonl``), and the bulk
datasets' ``papers`` and ``citations`` lines (the same fields in lower case; corpus ids for citations).  A citations or
references list names its subject paper only in the request URI, so a recorded exchange turns its items into
:class:`CitationRecord` edges between the two papers; the papers themselves are yielded too when they carry a
title.  The YAML cassettes beside them hold the same bodies as ``extracted_responses.jsonl``, which is read
instead (no YAML parser is needed).  Error bodies (``{"error": ...}``, ``{"message": "Forbidden"}``) are
reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import unquote, urlparse

from ..model import (
    ACL,
    ARXIV,
    CORPUS,
    DBLP,
    DOI,
    MAG,
    PUBMED,
    S2,
    CitationRecord,
    CitationRef,
    EntityRecord,
    Provenance,
    Record,
    Source,
    SourceRecord,
    Venue,
    VenueKind,
)
from ..normalize import normalize_doi, parse_arxiv_id
from .affiliations import affiliation_slugs
from .base import ErrorSink
from .codelinks import find_code_links
from .fields import as_int, authorship, clean, iso_date
from .json_values import iter_json_values, json_head

_PAPER_ID = re.compile(r"^[0-9a-f]{40}$")
_SUBJECT = re.compile(r"/graph/v1/paper/(?P<id>.+?)/(?P<kind>citations|references|authors)$")


_SCHEMES = {"MAG": MAG, "ACL": ACL, "PMID": PUBMED}


def paper_ref(raw: str) -> str | None:
    """``scheme:value`` for any id the Graph API accepts in a path (sha, ``CorpusID:``, ``DOI:``, ``ARXIV:``...)."""
    text = unquote(raw).strip()
    if _PAPER_ID.match(text):
        return f"{S2}:{text}"
    prefix, _, value = text.partition(":")
    kind = prefix.upper()
    if kind == "CORPUSID" and value.isdigit():
        return f"{CORPUS}:{value}"
    if kind == "DOI" or text.startswith("10."):
        doi = normalize_doi(value if kind == "DOI" else text)
        return f"{DOI}:{doi}" if doi else None
    if kind == "ARXIV":
        parsed = parse_arxiv_id(value)
        return f"{ARXIV}:{parsed[0]}" if parsed else None
    if kind in ("MAG", "ACL", "PMID") and value:
        return f"{_SCHEMES[kind]}:{value}"
    return None


def _kind(data: dict[str, Any]) -> VenueKind:
    types = data.get("publicationTypes") or []
    venue = data.get("publicationVenue") or {}
    venue_type = str(venue.get("type") or "").lower() if isinstance(venue, dict) else ""
    if "Conference" in types or venue_type == "conference":
        return VenueKind.WORKSHOP if "workshop" in str(data.get("venue") or "").lower() else VenueKind.CONFERENCE
    if "JournalArticle" in types or venue_type == "journal":
        return VenueKind.JOURNAL
    if "Book" in types or "BookSection" in types:
        return VenueKind.BOOK
    return VenueKind.OTHER


# The bulk datasets (S2AG "papers") write the Graph API's fields in lower case.
_DATASET_KEYS = {
    "corpusid": "corpusId", "externalids": "externalIds", "publicationdate": "publicationDate",
    "citationcount": "citationCount", "referencecount": "referenceCount", "publicationtypes": "publicationTypes",
    "influentialcitationcount": "influentialCitationCount", "s2fieldsofstudy": "s2FieldsOfStudy",
    "isopenaccess": "isOpenAccess", "publicationvenueid": "publicationVenueId",
}


def _from_dataset(value: dict[str, Any]) -> dict[str, Any]:
    paper = {_DATASET_KEYS.get(key, key): item for key, item in value.items()}
    url = value.get("url")
    sha = url.rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) else ""
    paper["paperId"] = sha if _PAPER_ID.match(sha) else None
    return paper


class SemanticScholarReader:
    name = Source.SEMANTIC_SCHOLAR.value
    description = "Semantic Scholar Graph API JSON (papers, authors, citations, references, search, batch)"

    def sniff(self, head: bytes, filename: str) -> bool:
        head = json_head(head)
        if head[:1] not in (b"{", b"["):
            return False
        return any(marker in head for marker in (b'"paperId"', b'"authorId"', b"api.semanticscholar.org/graph",
                                                  b'"corpusid"', b'"citingcorpusid"',
                                                  b"api.semanticscholar.org/recommendations", b'"citingPaper"',
                                                  b'"citedPaper"'))

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        for line, value in iter_json_values(stream, file, errors):
            yield from self._value(value, file, line, errors, uri=None)

    def _value(self, value: Any, file: str, line: int, errors: ErrorSink, uri: str | None) -> Iterator[Record]:
        if value is None:
            return  # a batch slot for an id that was not found
        if isinstance(value, list):
            for item in value:
                yield from self._value(item, file, line, errors, uri)
            return
        if not isinstance(value, dict):
            errors.report(file, line, f"expected a JSON object, got {type(value).__name__}")
            return
        if "body" in value and ("uri" in value or "cassette" in value):
            body_uri = value.get("uri") if isinstance(value.get("uri"), str) else None
            yield from self._value(value["body"], file, line, errors, body_uri)
            return
        if "error" in value or (set(value) == {"message"}):
            message = clean(str(value.get("error") or value.get("message")))
            errors.report(file, line, f"Semantic Scholar error response: {message}")
            return
        try:
            if "citingcorpusid" in value:  # S2AG datasets "citations" line
                yield from self._dataset_citation(value, file, line)
            elif "corpusid" in value and "paperId" not in value:  # S2AG datasets "papers" line
                yield from self._paper_and_lists(_from_dataset(value), file, line)
            elif isinstance(value.get("data"), list) or ("total" in value and "offset" in value):
                yield from self._list(value.get("data") or [], file, line, errors, uri)
            elif isinstance(value.get("recommendedPapers"), list):
                yield from self._list(value["recommendedPapers"], file, line, errors, uri)
            elif "citingPaper" in value or "citedPaper" in value:
                yield from self._edge(value, file, line, uri)
            elif "paperId" in value:
                yield from self._paper_and_lists(value, file, line)
            elif "authorId" in value:
                yield from self._author(value, file, line)
            elif "release_id" in value or "datasets" in value:
                return  # dataset release descriptions: no papers in them
            else:
                errors.report(file, line, "not a Semantic Scholar paper, author or list response")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            errors.report(file, line, f"malformed Semantic Scholar record: {type(exc).__name__}: {exc}")

    def _list(self, items: list[Any], file: str, line: int, errors: ErrorSink, uri: str | None) -> Iterator[Record]:
        for item in items:
            if item is None:
                continue
            if not isinstance(item, dict):
                errors.report(file, line, f"list item is {type(item).__name__}, not an object")
                continue
            try:  # one bad item costs that item, not the rest of the page
                if "citingPaper" in item or "citedPaper" in item:
                    yield from self._edge(item, file, line, uri)
                elif "paperId" in item:
                    yield from self._paper_and_lists(item, file, line)
                elif "authorId" in item:
                    yield from self._author(item, file, line)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                errors.report(file, line, f"malformed Semantic Scholar list item: {type(exc).__name__}: {exc}")

    def _dataset_citation(self, value: dict[str, Any], file: str, line: int) -> Iterator[Record]:
        citing, cited = value.get("citingcorpusid"), value.get("citedcorpusid")
        if citing is None or cited is None:
            return  # the datasets list citations to papers outside the corpus with a null id
        if not str(citing).isdigit() or not str(cited).isdigit():
            raise ValueError(f"corpus ids must be numbers ({citing!r}, {cited!r})")
        yield CitationRecord(source=self.name, provenance=Provenance(self.name, file, f"line {line}"),
                             citing=f"{CORPUS}:{citing}", cited=f"{CORPUS}:{cited}")

    def _edge(self, item: dict[str, Any], file: str, line: int, uri: str | None) -> Iterator[Record]:
        subject = None
        match = _SUBJECT.search(urlparse(uri).path) if uri else None
        if match:
            subject = paper_ref(match.group("id"))
        other = item.get("citingPaper") or item.get("citedPaper") or {}
        other_id = other.get("paperId") if isinstance(other, dict) else None
        if subject and other_id:
            citing, cited = ((f"{S2}:{other_id}", subject) if "citingPaper" in item else (subject, f"{S2}:{other_id}"))
            yield CitationRecord(source=self.name, provenance=Provenance(self.name, file, f"line {line}"),
                                 citing=citing, cited=cited)
        if isinstance(other, dict) and other.get("paperId"):
            yield from self._paper_and_lists(other, file, line)

    def _paper_and_lists(self, data: dict[str, Any], file: str, line: int) -> Iterator[Record]:
        record = self._paper(data, file, line)
        if record is not None:
            yield record
        for key in ("citations", "references"):
            for item in data.get(key) or []:
                if isinstance(item, dict) and item.get("paperId"):
                    embedded = self._paper(item, file, line)
                    if embedded is not None:
                        yield embedded

    def _paper(self, data: dict[str, Any], file: str, line: int) -> SourceRecord | None:
        paper_id = data.get("paperId")
        if not (isinstance(paper_id, str) and paper_id) and not (paper_id is None and data.get("corpusId")):
            raise ValueError("paperId must be a non-empty string")
        title = clean(data.get("title"))
        if not title:
            return None  # only the fields asked for are returned: an id without a title names a paper, no more
        ids = {S2: paper_id} if paper_id else {}
        external = data.get("externalIds") or {}
        if not isinstance(external, dict):
            raise TypeError("externalIds must be an object")
        corpus = data.get("corpusId") or external.get("CorpusId")
        if corpus is not None:
            ids[CORPUS] = str(corpus)
        doi = normalize_doi(external.get("DOI"))
        if doi:
            ids[DOI] = doi
        if external.get("ArXiv"):
            parsed = parse_arxiv_id(str(external["ArXiv"]))
            if parsed:
                ids[ARXIV] = parsed[0]
        for key, scheme in (("DBLP", DBLP), ("MAG", MAG), ("ACL", ACL), ("PubMed", PUBMED)):
            if external.get(key):
                ids[scheme] = str(external[key])
        year = as_int(data.get("year"))
        journal = data.get("journal") if isinstance(data.get("journal"), dict) else {}
        pub_venue = data.get("publicationVenue") if isinstance(data.get("publicationVenue"), dict) else {}
        kind = _kind(data)
        names = [clean(data.get("venue")), clean(pub_venue.get("name")), clean(journal.get("name"))]
        if kind == VenueKind.JOURNAL:  # "venue" may name a reprint collection; the journal is the journal
            names.insert(0, clean(journal.get("name")))
        venue_name = next((n for n in names if n), None)
        venue = Venue(venue_name, year, kind.value) if venue_name else None
        authors = []
        for position, author in enumerate(data.get("authors") or []):
            if not isinstance(author, dict) or not clean(author.get("name")):
                continue
            affiliations = [a for a in (clean(x) for x in author.get("affiliations") or []) if a]
            authors.append(authorship(position, clean(author["name"]) or "", affiliations=affiliations,
                                      source_author_id=str(author["authorId"]) if author.get("authorId") else None))
        references = [CitationRef(f"{S2}:{r['paperId']}") for r in data.get("references") or []
                      if isinstance(r, dict) and r.get("paperId")]
        cited_by = [CitationRef(f"{S2}:{c['paperId']}") for c in data.get("citations") or []
                    if isinstance(c, dict) and c.get("paperId")]
        abstract = clean(data.get("abstract"))
        extra: dict[str, Any] = {}
        for key in ("fieldsOfStudy", "publicationTypes", "influentialCitationCount", "referenceCount"):
            if data.get(key) is not None:
                extra[key] = data[key]
        tldr = data.get("tldr")
        if isinstance(tldr, dict) and tldr.get("text"):
            extra["tldr"] = tldr["text"]
        pdf = data.get("openAccessPdf")
        if isinstance(pdf, dict) and pdf.get("url"):
            extra["open_access_pdf"] = pdf["url"]
        return SourceRecord(
            source=self.name,
            provenance=Provenance(self.name, file, f"line {line} {paper_id}"),
            ids=ids,
            title=title,
            abstract=abstract,
            # A bare year is not a date: it stays in the venue so pages do not show a made-up "January 1".
            published=iso_date(data.get("publicationDate")),
            venue=venue or (Venue(year=year) if year else None),
            code_links=find_code_links(abstract),
            authors=authors,
            references=references,
            cited_by=cited_by,
            external_citation_count=as_int(data.get("citationCount")),
            extra=extra,
        )

    def _author(self, data: dict[str, Any], file: str, line: int) -> Iterator[Record]:
        author_id = data.get("authorId")
        name = clean(data.get("name"))
        if not author_id or not name:
            raise ValueError("author without authorId or name")
        affiliations = [a for a in (clean(x) for x in data.get("affiliations") or []) if a]
        external = data.get("externalIds") if isinstance(data.get("externalIds"), dict) else {}
        dblp_names = external.get("DBLP") or []
        entity = {
            "name": name,
            "aliases": [n for n in (clean(x) for x in [*(data.get("aliases") or []), *dblp_names]) if n and n != name],
            "affiliations": affiliations,
            "affiliation_slugs": affiliation_slugs(affiliations),
            "orcid": external.get("ORCID"),
            "dblp_names": list(dblp_names),
            "homepage": data.get("homepage"),
            "paper_count": as_int(data.get("paperCount")),
            "citation_count": as_int(data.get("citationCount")),
            "h_index": as_int(data.get("hIndex")),
        }
        yield EntityRecord(source=self.name, provenance=Provenance(self.name, file, f"line {line} author {author_id}"),
                           kind="author", id=f"{S2}:author/{author_id}", data=entity)
        for paper in data.get("papers") or []:
            if isinstance(paper, dict) and paper.get("paperId"):
                record = self._paper(paper, file, line)
                if record is not None:
                    yield record


READERS = [SemanticScholarReader()]
