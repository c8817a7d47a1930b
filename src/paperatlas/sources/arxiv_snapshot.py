"""arXiv's bulk metadata snapshot (Kaggle ``arxiv-metadata-oai-snapshot.json``): one JSON object per line.

Each line has the id (without version), ``authors`` as one LaTeX string and ``authors_parsed`` as
``[surname, forenames, suffix, affiliation...]`` lists (already Unicode), the list of ``versions`` with RFC 2822
dates (the first is the submission, the last the current version), categories as one space-separated string
(the first is the primary), and the free-text comments, journal-ref, DOI(s), report-no and license.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from ..model import ARXIV, DOI, Provenance, Record, Source, SourceRecord, Venue, VenueKind
from ..normalize import full_name, normalize_doi, parse_arxiv_id
from .base import ErrorSink
from .codelinks import find_code_links
from .fields import arxiv_abstract, authorship, clean, iso_date
from .json_values import iter_json_objects, json_head


class ArxivSnapshotReader:
    name = Source.ARXIV_SNAPSHOT.value
    description = "arXiv bulk metadata snapshot, JSON lines (Kaggle arxiv-metadata-oai-snapshot.json)"

    def sniff(self, head: bytes, filename: str) -> bool:
        head = json_head(head)
        return head.startswith(b"{") and (b'"authors_parsed"' in head or b'"submitter"' in head
                                          or (b'"update_date"' in head and b'"versions"' in head))

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        yield from iter_json_objects(stream, file, errors, lambda data, line: self._record(data, file, line),
                                     "snapshot")

    def _record(self, data: dict[str, Any], file: str, line: int) -> SourceRecord:
        raw_id = data["id"]
        if not isinstance(raw_id, str):
            raise TypeError(f"id must be a string, not {type(raw_id).__name__}")
        parsed = parse_arxiv_id(raw_id)
        if parsed is None:
            raise ValueError(f"not an arXiv id: {raw_id!r}")
        title = clean(data.get("title"))
        if not title:
            raise ValueError("no title")
        ids = {ARXIV: parsed[0]}
        doi_field = data.get("doi")
        if isinstance(doi_field, str) and doi_field.strip():
            doi = normalize_doi(doi_field.split()[0])
            if doi:
                ids[DOI] = doi
        versions = data.get("versions") or []
        if not isinstance(versions, list):
            raise TypeError("versions must be a list")
        dates = [iso_date(v.get("created")) for v in versions if isinstance(v, dict)]
        submitted = dates[0] if dates else iso_date(data.get("update_date"))
        updated = dates[-1] if dates else submitted
        version = None
        if versions and isinstance(versions[-1], dict):
            label = str(versions[-1].get("version") or "")
            version = int(label[1:]) if label[1:].isdigit() else None
        categories_field = data.get("categories") or ""
        if not isinstance(categories_field, str):
            raise TypeError("categories must be a string")
        categories = categories_field.split()
        abstract = arxiv_abstract(data.get("abstract"))
        comments = clean(data.get("comments"))
        extra = {k: clean(data.get(k)) for k in ("submitter", "report-no", "update_date") if clean(data.get(k))}
        if clean(data.get("authors")):
            extra["authors_as_written"] = clean(data.get("authors"))
        return SourceRecord(
            source=self.name,
            provenance=Provenance(self.name, file, f"line {line}"),
            ids=ids,
            arxiv_version=version,
            title=title,
            abstract=abstract,
            submitted=submitted,
            updated=updated,
            primary_category=categories[0] if categories else None,
            categories=categories,
            venue=Venue("arXiv", int(submitted[:4]) if submitted else None, VenueKind.PREPRINT.value),
            comments=comments,
            journal_ref=clean(data.get("journal-ref")),
            license=clean(data.get("license")),
            code_links=find_code_links(abstract, comments),
            authors=self._authors(data),
            extra=extra,
        )

    @staticmethod
    def _authors(data: dict[str, Any]):
        parsed = data.get("authors_parsed")
        authors = []
        if isinstance(parsed, list) and parsed:
            for position, parts in enumerate(parsed):
                if not isinstance(parts, list) or not parts:
                    raise TypeError("authors_parsed entries must be lists")
                surname = clean(parts[0])
                forenames = clean(parts[1]) if len(parts) > 1 else None
                suffix = clean(parts[2]) if len(parts) > 2 else None
                affiliations = [a for a in (clean(p) for p in parts[3:]) if a]
                name = full_name(forenames, surname, suffix)
                if name:
                    authors.append(authorship(position, name, forenames=forenames, surname=surname, suffix=suffix,
                                              affiliations=affiliations))
            return authors
        text = clean(data.get("authors")) or ""
        names = [n.strip() for n in text.replace(" and ", ", ").split(",") if n.strip()]
        return [authorship(position, name) for position, name in enumerate(names)]


READERS = [ArxivSnapshotReader()]
