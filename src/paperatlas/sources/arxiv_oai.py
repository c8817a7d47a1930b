"""arXiv OAI-PMH ``ListRecords`` pages with ``metadataPrefix=arXiv`` (what ``export.arxiv.org/oai2`` serves).

Each ``<record>`` has an OAI header and an ``<arXiv>`` element with id, created/updated dates, authors split into
keyname/forenames/suffix (+ affiliations), title, categories, comments, journal-ref, doi, license and abstract.
The format gives dates but no version number: ``updated`` (the date of the newest version) is what tells a newer
harvest of a paper from an older one.

Parsed with lxml's pull parser on ``</record>`` (``xml_records.iter_elements``) and every finished record
cleared, so a page of any size is read in constant memory.  A page that stops being well-formed (truncated
download, invalid UTF-8) is reported as ``FILE:LINE: reason``; the records before the break are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from ..model import ARXIV, DOI, Authorship, Provenance, Record, Source, SourceRecord, Venue, VenueKind
from ..normalize import full_name, normalize_doi, parse_arxiv_id
from .base import ErrorSink
from .codelinks import find_code_links
from .xml_records import converted, iter_elements

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
ARXIV_NS = "http://arxiv.org/OAI/arXiv/"
_RECORD = f"{{{OAI_NS}}}record"
_A = f"{{{ARXIV_NS}}}"
_HEADER = f"{{{OAI_NS}}}header"
_DATESTAMP = f"{{{OAI_NS}}}datestamp"
_META = f"{{{OAI_NS}}}metadata/{_A}arXiv"
_FIELDS = {f"{_A}{name}": name for name in (
    "id", "created", "updated", "authors", "title", "categories", "comments", "report-no", "msc-class", "acm-class",
    "journal-ref", "doi", "license", "abstract", "proxy")}
_EXTRA = ("report-no", "msc-class", "acm-class", "proxy")
_KEYNAME, _FORENAMES, _SUFFIX, _AFFILIATION = (f"{_A}{n}" for n in ("keyname", "forenames", "suffix", "affiliation"))
_PREPRINT = VenueKind.PREPRINT.value
_PARAGRAPH = re.compile(r"\n[ \t]+")



def _clean(text: str | None) -> str | None:
    if not text:
        return None
    return " ".join(text.split()) or None


def _abstract(text: str | None) -> str | None:
    """arXiv abstracts are hard-wrapped; a line indented by spaces starts a new paragraph."""
    if not text:
        return None
    paragraphs = [" ".join(p.split()) for p in _PARAGRAPH.split("\n" + text.strip("\n"))]
    return "\n".join(p for p in paragraphs if p) or None


class ArxivOaiReader:
    name = Source.ARXIV_OAI.value
    description = "arXiv OAI-PMH ListRecords pages, metadataPrefix=arXiv"

    def sniff(self, head: bytes, filename: str) -> bool:
        return b"<OAI-PMH" in head and (ARXIV_NS.encode() + b'"') in head

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        elements = iter_elements(stream, file, errors, _RECORD, remove_blank_text=True)
        yield from converted(elements, lambda element: self._record(element, file), file, errors, "arXiv record")

    def _record(self, element: etree._Element, file: str) -> SourceRecord | None:
        # Hot path (10^5 records per harvest): one pass over the children, tags compared as interned strings.
        header = element[0] if len(element) else None
        if header is not None and header.tag == _HEADER and header.get("status") == "deleted":
            return None
        meta = element.find(_META)
        if meta is None:
            raise ValueError("no <arXiv> metadata")
        fields: dict[str, str | None] = {}
        authors: list[Authorship] = []
        for child in meta:
            name = _FIELDS.get(child.tag)
            if name is None:
                continue
            if name == "authors":
                authors = [self._author(author, position) for position, author in enumerate(child)]
            else:
                fields[name] = child.text
        parsed = parse_arxiv_id(fields.get("id") or "")
        if parsed is None:
            raise ValueError(f"no valid arXiv id ({fields.get('id')!r})")
        ids = {ARXIV: parsed[0]}
        doi_text = fields.get("doi")
        if doi_text:
            doi = normalize_doi(doi_text.split()[0])
            if doi:
                ids[DOI] = doi
        categories = (fields.get("categories") or "").split()
        created = _clean(fields.get("created"))
        updated = _clean(fields.get("updated")) or created
        abstract = _abstract(fields.get("abstract"))
        comments = _clean(fields.get("comments"))
        extra = {k: _clean(fields[k]) for k in _EXTRA if fields.get(k)}
        if header is not None:
            stamp = header.findtext(_DATESTAMP)
            if stamp:
                extra["datestamp"] = stamp.strip()
        return SourceRecord(
            source=self.name,
            provenance=Provenance(self.name, file, f"line {element.sourceline}"),
            ids=ids,
            arxiv_version=parsed[1],
            title=_clean(fields.get("title")),
            abstract=abstract,
            submitted=created,
            updated=updated,
            primary_category=categories[0] if categories else None,
            categories=categories,
            venue=Venue("arXiv", int(created[:4]) if created else None, _PREPRINT),
            comments=comments,
            journal_ref=_clean(fields.get("journal-ref")),
            license=_clean(fields.get("license")),
            code_links=find_code_links(abstract, comments),
            authors=authors,
            extra=extra,
        )

    @staticmethod
    def _author(element: etree._Element, position: int) -> Authorship:
        surname = forenames = suffix = None
        affiliations: list[str] = []
        for part in element:
            tag = part.tag
            if tag == _KEYNAME:
                surname = _clean(part.text)
            elif tag == _FORENAMES:
                forenames = _clean(part.text)
            elif tag == _SUFFIX:
                suffix = _clean(part.text)
            elif tag == _AFFILIATION:
                text = _clean(part.text)
                if text:
                    affiliations.append(text)
        return Authorship(position=position, name=full_name(forenames, surname, suffix), forenames=forenames,
                          surname=surname, suffix=suffix, affiliations=affiliations)


READERS = [ArxivOaiReader()]
