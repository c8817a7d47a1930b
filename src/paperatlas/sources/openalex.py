"""OpenAlex entities: works, authors and institutions, as API JSON or snapshot JSON lines.

Accepted shapes, all recognised by the entity's own ``id`` (``https://openalex.org/W...``):
a single entity (``/works/W123``), a list response (``{"meta": ..., "results": [...]}``), snapshot JSON lines
(one entity a line), and recorded API exchanges (``{"uri": ..., "body": <any of the above>}`` a line).
Works become :class:`SourceRecord` (the abstract is rebuilt from OpenAlex's inverted index); authors and
institutions become :class:`EntityRecord` evidence for disambiguation and affiliation slugs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from ..model import (
    ARXIV,
    DOI,
    MAG,
    OPENALEX,
    PUBMED,
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
from .affiliations import affiliation_slug, affiliation_slugs
from .base import ErrorSink
from .codelinks import find_code_links
from .fields import as_int, authorship, clean, iso_date, short_orcid, tail_id
from .json_values import iter_json_values, json_head

_SOURCE_KINDS = {
    "journal": VenueKind.JOURNAL,
    "conference": VenueKind.CONFERENCE,
    "repository": VenueKind.PREPRINT,
    "ebook platform": VenueKind.BOOK,
    "book series": VenueKind.BOOK,
}


def abstract_from_inverted_index(index: object) -> str | None:
    """OpenAlex ships abstracts as ``{word: [positions]}``; put every word back at its positions."""
    if not isinstance(index, dict) or not index:
        return None
    slots: dict[int, str] = {}
    for word, positions in index.items():
        if not isinstance(positions, list):
            raise TypeError("abstract_inverted_index positions must be lists")
        for position in positions:
            if isinstance(position, int) and 0 <= position < 100_000:
                slots[position] = word
    if not slots:
        return None
    return clean(" ".join(slots[i] for i in sorted(slots)))


class OpenAlexReader:
    name = Source.OPENALEX.value
    description = "OpenAlex works, authors and institutions: API JSON, list responses or snapshot JSON lines"

    def sniff(self, head: bytes, filename: str) -> bool:
        head = json_head(head)
        return head[:1] in (b"{", b"[") and (b"openalex.org/" in head)

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        for line, value in iter_json_values(stream, file, errors):
            yield from self._value(value, file, line, errors)

    def _value(self, value: Any, file: str, line: int, errors: ErrorSink) -> Iterator[Record]:
        if isinstance(value, list):
            for item in value:
                yield from self._value(item, file, line, errors)
            return
        if not isinstance(value, dict):
            errors.report(file, line, f"expected a JSON object, got {type(value).__name__}")
            return
        if "body" in value and ("uri" in value or "status" in value):  # a recorded API exchange
            yield from self._value(value["body"], file, line, errors)
            return
        if "error" in value and "id" not in value:
            errors.report(file, line, f"OpenAlex error response: {clean(str(value.get('error')))}")
            return
        if isinstance(value.get("results"), list):
            for item in value["results"]:
                yield from self._value(item, file, line, errors)
            return
        entity = tail_id(value.get("id")) or ""
        try:
            if entity.startswith("W"):
                record = self._work(value, entity, file, line)
            elif entity.startswith("A"):
                record = self._author(value, entity, file, line)
            elif entity.startswith("I"):
                record = self._institution(value, entity, file, line)
            elif entity[:1] in ("S", "P", "F", "C", "T") or "/keywords/" in str(value.get("id")):
                return  # venues, publishers, funders, concepts, topics: not used yet
            else:
                raise ValueError(f"not an OpenAlex entity id: {value.get('id')!r}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            errors.report(file, line, f"malformed OpenAlex {entity or 'record'}: {type(exc).__name__}: {exc}")
            return
        if record is not None:
            yield record

    def _work(self, data: dict[str, Any], work_id: str, file: str, line: int) -> SourceRecord | None:
        title = clean(data.get("title")) or clean(data.get("display_name"))
        if not title:
            raise ValueError(f"{work_id} has no title")
        ids: dict[str, str] = {OPENALEX: work_id}
        extern = data.get("ids") or {}
        if not isinstance(extern, dict):
            raise TypeError("ids must be an object")
        doi = normalize_doi(data.get("doi") or extern.get("doi"))
        if doi:
            ids[DOI] = doi
        if extern.get("mag"):
            ids[MAG] = str(extern["mag"])
        if extern.get("pmid"):
            ids[PUBMED] = tail_id(extern["pmid"]) or str(extern["pmid"])
        locations = data.get("locations") or []
        landing = [loc.get("landing_page_url") or "" for loc in locations if isinstance(loc, dict)]
        for url in landing:
            if "arxiv.org/abs/" in url:
                parsed = parse_arxiv_id(url)
                if parsed:
                    ids[ARXIV] = parsed[0]
                    break
        if ARXIV not in ids and doi and doi.startswith("10.48550/arxiv."):
            parsed = parse_arxiv_id(doi[len("10.48550/arxiv."):])
            if parsed:
                ids[ARXIV] = parsed[0]
        year = as_int(data.get("publication_year"))
        published = iso_date(data.get("publication_date")) or (iso_date(year) if year else None)
        primary = data.get("primary_location") or {}
        source = primary.get("source") or {} if isinstance(primary, dict) else {}
        venue = None
        if source.get("display_name"):
            kind = _SOURCE_KINDS.get(str(source.get("type") or ""), VenueKind.OTHER)
            if data.get("type") in ("book", "book-chapter") and kind == VenueKind.OTHER:
                kind = VenueKind.BOOK
            venue = Venue(clean(source["display_name"]), year, kind.value)
        authors = []
        for position, item in enumerate(data.get("authorships") or []):
            person = item.get("author") or {}
            name = clean(item.get("raw_author_name")) or clean(person.get("display_name"))
            if not name:
                continue
            raw = [a for a in (clean(s) for s in item.get("raw_affiliation_strings") or []) if a]
            institutions = [clean(i.get("display_name")) for i in item.get("institutions") or [] if i]
            authors.append(authorship(position, name, affiliations=raw or [i for i in institutions if i],
                                      orcid=person.get("orcid"), source_author_id=tail_id(person.get("id"))))
        references = [CitationRef(f"{OPENALEX}:{w}") for w in (tail_id(u) for u in data.get("referenced_works") or [])
                      if w]
        best = data.get("best_oa_location") or {}
        license_ = (primary.get("license") if isinstance(primary, dict) else None) or (
            best.get("license") if isinstance(best, dict) else None)
        abstract = abstract_from_inverted_index(data.get("abstract_inverted_index"))
        extra: dict[str, Any] = {}
        for key in ("type", "language"):
            if data.get(key):
                extra[key] = data[key]
        if isinstance(data.get("counts_by_year"), list):
            extra["counts_by_year"] = data["counts_by_year"]
        topic = data.get("primary_topic")
        if isinstance(topic, dict) and topic.get("display_name"):
            extra["primary_topic"] = topic["display_name"]
        return SourceRecord(
            source=self.name,
            provenance=Provenance(self.name, file, f"line {line} {work_id}"),
            ids=ids,
            title=title,
            abstract=abstract,
            published=published,
            venue=venue,
            license=clean(license_),
            code_links=find_code_links(abstract, *landing),
            authors=authors,
            references=references,
            external_citation_count=as_int(data.get("cited_by_count")),
            extra=extra,
        )

    def _author(self, data: dict[str, Any], author_id: str, file: str, line: int) -> EntityRecord:
        name = clean(data.get("display_name"))
        if not name:
            raise ValueError(f"{author_id} has no display_name")
        institutions = list(data.get("last_known_institutions") or [])
        if isinstance(data.get("last_known_institution"), dict):
            institutions.append(data["last_known_institution"])
        current = [n for i in institutions if isinstance(i, dict) and (n := clean(i.get("display_name")))]
        history = [
            {"name": clean(a["institution"].get("display_name")), "id": tail_id(a["institution"].get("id")),
             "years": a.get("years") or []}
            for a in data.get("affiliations") or []
            if isinstance(a, dict) and isinstance(a.get("institution"), dict)
        ]
        stats = data.get("summary_stats") or {}
        names = [name, *[n for n in (clean(x) for x in data.get("display_name_alternatives") or []) if n]]
        entity = {
            "name": name,
            "aliases": [n for n in dict.fromkeys(names[1:]) if n != name],
            "orcid": short_orcid(data.get("orcid")),
            "affiliations": list(dict.fromkeys(current + [h["name"] for h in history if h["name"]])),
            "current_affiliations": current,
            "affiliation_history": history,
            "affiliation_slugs": affiliation_slugs(current or [h["name"] for h in history if h["name"]]),
            "works_count": as_int(data.get("works_count")),
            "cited_by_count": as_int(data.get("cited_by_count")),
            "h_index": as_int(stats.get("h_index")) if isinstance(stats, dict) else None,
        }
        return EntityRecord(source=self.name, provenance=Provenance(self.name, file, f"line {line} {author_id}"),
                            kind="author", id=f"{OPENALEX}:{author_id}", data=entity)

    def _institution(self, data: dict[str, Any], institution_id: str, file: str, line: int) -> EntityRecord:
        name = clean(data.get("display_name"))
        if not name:
            raise ValueError(f"{institution_id} has no display_name")
        acronyms = [a for a in data.get("display_name_acronyms") or [] if a]
        entity = {
            "name": name,
            "slug": affiliation_slug(name),
            "aliases": [a for a in data.get("display_name_alternatives") or [] if a],
            "acronyms": acronyms,
            "ror": tail_id(data.get("ror")),
            "country_code": data.get("country_code"),
            "type": data.get("type"),
            "homepage_url": data.get("homepage_url"),
            "works_count": as_int(data.get("works_count")),
        }
        return EntityRecord(source=self.name,
                            provenance=Provenance(self.name, file, f"line {line} {institution_id}"),
                            kind="institution", id=f"{OPENALEX}:{institution_id}", data=entity)


READERS = [OpenAlexReader()]
