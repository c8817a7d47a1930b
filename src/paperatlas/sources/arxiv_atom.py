"""arXiv API (``/api/query``) Atom feeds: the standard ``<feed>`` and bare ``<entry>`` lists under another root.

The API serves a ``<feed>`` of ``<entry>`` elements; tools that cache it often keep only the entries under a
root of their own (``<articles>``), so entries are found wherever they are.  An entry's ``<id>`` is the abs URL
with its version (``http://arxiv.org/abs/2512.13690v1``), ``<published>`` is the first version's date and
``<updated>`` the shown version's; categories, comment, journal ref, DOI and affiliations are ``arxiv:``
extension elements.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from ..model import ARXIV, DOI, Provenance, Record, Source, SourceRecord, Venue, VenueKind
from ..normalize import normalize_doi, parse_arxiv_id
from .base import ErrorSink
from .codelinks import find_code_links
from .fields import arxiv_abstract, authorship, clean, iso_date
from .xml_records import converted, iter_elements

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV_ATOM = "{http://arxiv.org/schemas/atom}"
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$")
# Entries cached outside a <feed> sometimes lose the Atom namespace (only the first declares it): take both.
_ENTRIES = (f"{ATOM}entry", "entry")


class ArxivAtomReader:
    name = Source.ARXIV_ATOM.value
    description = "arXiv API Atom feeds (<feed> of <entry>, or entries under another root such as <articles>)"

    def sniff(self, head: bytes, filename: str) -> bool:
        if b"http://www.w3.org/2005/Atom" not in head or (b"<entry" not in head and b"<feed" not in head):
            return False
        return b"arxiv" in head.lower()

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        elements = iter_elements(stream, file, errors, _ENTRIES)
        yield from converted(elements, lambda element: self._record(element, file), file, errors, "Atom entry")

    def _record(self, entry: etree._Element, file: str) -> SourceRecord | None:
        ATOM = "{http://www.w3.org/2005/Atom}" if entry.tag.startswith("{") else ""
        raw_id = entry.findtext(f"{ATOM}id") or entry.get("id") or ""
        parsed = parse_arxiv_id(raw_id.strip())
        if parsed is None:
            raise ValueError(f"no arXiv id in <id> ({raw_id.strip()[:80]!r})")
        title = clean(entry.findtext(f"{ATOM}title"))
        if not title:
            raise ValueError("entry without a title")
        ids = {ARXIV: parsed[0]}
        doi_text = (entry.findtext(f"{ARXIV_ATOM}doi") or "").split()  # a few entries list several DOIs
        doi = normalize_doi(doi_text[0]) if doi_text else None
        if not doi:
            for link in entry.iterfind(f"{ATOM}link"):
                if link.get("title") == "doi":
                    doi = normalize_doi(link.get("href"))
        if doi:
            ids[DOI] = doi
        primary = entry.find(f"{ARXIV_ATOM}primary_category")
        # Feeds also list ACM/MSC classes ("E.1; E.4") as categories: keep arXiv category names only.
        terms = [c.get("term") or "" for c in entry.iterfind(f"{ATOM}category")]
        categories = [t for t in terms if _CATEGORY.match(t) and t != "null"]
        primary_term = primary.get("term") if primary is not None else (categories[0] if categories else None)
        if primary_term and primary_term not in categories:
            categories.insert(0, primary_term)
        elif primary_term:  # the primary category first, then the others in feed order
            categories.remove(primary_term)
            categories.insert(0, primary_term)
        authors = []
        for position, author in enumerate(entry.iterfind(f"{ATOM}author")):
            name = clean(author.findtext(f"{ATOM}name"))
            if not name:
                continue
            affiliations = [a for a in (clean(x.text) for x in author.iterfind(f"{ARXIV_ATOM}affiliation")) if a]
            authors.append(authorship(position, name, affiliations=affiliations))
        abstract = arxiv_abstract(entry.findtext(f"{ATOM}summary"))
        comments = clean(entry.findtext(f"{ARXIV_ATOM}comment"))
        submitted = iso_date(entry.findtext(f"{ATOM}published"))
        updated = iso_date(entry.findtext(f"{ATOM}updated")) or submitted
        license_ = clean(entry.findtext(f"{ARXIV_ATOM}license")) or next(
            (link.get("href") for link in entry.iterfind(f"{ATOM}link") if link.get("rel") == "license"), None)
        return SourceRecord(
            source=self.name,
            provenance=Provenance(self.name, file, f"line {entry.sourceline}"),
            ids=ids,
            arxiv_version=parsed[1],
            title=title,
            abstract=abstract,
            submitted=submitted,
            updated=updated,
            primary_category=primary_term,
            categories=categories,
            venue=Venue("arXiv", int(submitted[:4]) if submitted else None, VenueKind.PREPRINT.value),
            comments=comments,
            journal_ref=clean(entry.findtext(f"{ARXIV_ATOM}journal_ref")),
            license=license_,
            code_links=find_code_links(abstract, comments),
            authors=authors,
        )


READERS = [ArxivAtomReader()]
