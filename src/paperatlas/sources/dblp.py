"""dblp.xml and fragments of it: publication records and ``<www key="homepages/...">`` person records.

dblp.xml is ISO-8859-1 and writes accented letters as character entities (``&uuml;``) that only its DTD
defines.  The DTD ships inside this package (``dtd/dblp.dtd``); its character entities are replaced by numeric
references before parsing and no DTD is ever loaded (``xml_records.SafeXmlStream``: no external entities, no
network), so a fragment with or without a ``<!DOCTYPE>`` reads the same.  Names keep DBLP's homonym number
(``Jun Wang 0006``) as written and as ``dblp_homonym``; ``ee`` links to arxiv.org and doi.org become identifiers
(CoRR keys ``journals/corr/abs-1706-03762`` too), so DBLP records merge with the arXiv records of the same paper.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from ..model import ARXIV, DBLP, DOI, EntityRecord, Provenance, Record, Source, SourceRecord, Venue, VenueKind
from ..normalize import normalize_doi, parse_arxiv_id, split_homonym
from .affiliations import affiliation_slugs
from .base import ErrorSink
from .codelinks import find_code_links
from .fields import authorship, clean, short_orcid
from .xml_records import converted, iter_elements, text_of

DTD_PATH = Path(__file__).with_name("dtd") / "dblp.dtd"
PUBLICATIONS = ("article", "inproceedings", "proceedings", "book", "incollection", "phdthesis", "mastersthesis")
PEOPLE = ("www", "person")
_CORR_KEY = re.compile(r"^journals/corr/abs-(\d{4})-(\d{4,5})$")
_CORR_OLD_KEY = re.compile(r"^journals/corr/abs-([a-z\-]+)-(\d{7})$")
_WORKSHOP = re.compile(r"\bworkshops?\b|\bW\d*$", re.IGNORECASE)
_HEAD_LIMIT = 64 * 1024


def _dtd_entities() -> dict[bytes, bytes]:
    """The shipped DTD's character entities as name -> numeric character reference (``uuml`` -> ``&#252;``)."""
    text = DTD_PATH.read_bytes()
    return {name: b"&#" + number + b";" for name, number in
            re.findall(rb'<!ENTITY\s+([A-Za-z][A-Za-z0-9]*)\s+"&#(\d+);"\s*>', text)}


_ENTITIES = _dtd_entities()
_ENTITY_REF = re.compile(rb"&([A-Za-z][A-Za-z0-9]{0,31});")


def _children(element: etree._Element) -> dict[str, list[etree._Element]]:
    """One pass over a record's fields (dblp records are flat): tag -> elements, in order."""
    fields: dict[str, list[etree._Element]] = {}
    for child in element:
        if isinstance(child.tag, str):
            fields.setdefault(child.tag, []).append(child)
    return fields


def _first(fields: dict[str, list[etree._Element]], tag: str) -> str | None:
    found = fields.get(tag)
    return clean(text_of(found[0])) if found else None


def _venue(tag: str, element: etree._Element, fields: dict[str, list[etree._Element]],
           title: str, year: int | None) -> Venue | None:
    journal = _first(fields, "journal")
    booktitle = _first(fields, "booktitle")
    key = element.get("key", "")
    if tag == "article":
        if key.startswith("journals/corr/"):
            return Venue(journal or "CoRR", year, VenueKind.PREPRINT.value)
        kind = VenueKind.OTHER if element.get("publtype") == "informal" else VenueKind.JOURNAL
        return Venue(journal, year, kind.value) if journal else None
    if tag in ("inproceedings", "proceedings"):
        name = booktitle or (title if tag == "proceedings" else None)
        if not name:
            return None
        workshop = bool(_WORKSHOP.search(name)) or "/ws/" in key
        return Venue(name, year, (VenueKind.WORKSHOP if workshop else VenueKind.CONFERENCE).value)
    if tag in ("book", "incollection"):
        return Venue(booktitle or _first(fields, "series") or _first(fields, "publisher"), year,
                     VenueKind.BOOK.value)
    school = _first(fields, "school")
    return Venue(school, year, VenueKind.OTHER.value) if school else None


def _ids_from_links(key: str, links: list[str]) -> dict[str, str]:
    ids = {DBLP: key}
    for link in links:
        lowered = link.lower()
        if "arxiv.org/" in lowered and ARXIV not in ids:
            parsed = parse_arxiv_id(link)
            if parsed:
                ids[ARXIV] = parsed[0]
        elif "doi.org/" in lowered and DOI not in ids:
            doi = normalize_doi(link)
            if doi:
                ids[DOI] = doi
    match = _CORR_KEY.match(key)
    if match and ARXIV not in ids:
        ids[ARXIV] = f"{match.group(1)}.{match.group(2)}"
    match = _CORR_OLD_KEY.match(key)
    if match and ARXIV not in ids:
        ids[ARXIV] = f"{match.group(1)}/{match.group(2)}"
    return ids


class DblpReader:
    name = Source.DBLP.value
    description = "dblp.xml or fragments of it (ISO-8859-1, DTD entities resolved offline), incl. person records"

    def sniff(self, head: bytes, filename: str) -> bool:
        return b"<dblp" in head or b"<!DOCTYPE dblp" in head or (
            b"<www key=\"homepages/" in head or (b"mdate=" in head and b"key=\"" in head and b"<author>" in head))

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        elements = iter_elements(stream, file, errors, PUBLICATIONS + PEOPLE, entities=_ENTITIES)

        def convert(element: etree._Element) -> Record | None:
            line = element.sourceline or 0
            if element.tag in PEOPLE:
                return self._person(element, file, line)
            return self._publication(element, file, line, errors)

        yield from converted(elements, convert, file, errors, "<{tag}>")

    def _publication(self, element: etree._Element, file: str, line: int, errors: ErrorSink) -> SourceRecord | None:
        tag = element.tag
        key = element.get("key")
        if not key:
            raise ValueError("no key attribute")
        fields = _children(element)
        title = _first(fields, "title")
        if not title:
            raise ValueError(f"{key}: no <title>")
        if title.endswith(".") and not title.endswith(".."):
            title = title[:-1]  # dblp ends every title with a full stop
        year = None
        if "year" in fields:
            year_text = fields["year"][0].text or ""
            cleaned = year_text.strip().strip('"').strip()
            if not (len(cleaned) == 4 and cleaned.isdigit()):
                errors.report(file, line, f"{key}: empty or invalid <year> ({year_text!r}): record skipped")
                return None
            year = int(cleaned)
        links = [text for e in fields.get("ee", ()) if (text := clean(e.text))]
        authors = []
        for position, author in enumerate(fields.get("author", ())):
            name = clean(text_of(author))
            if name:
                authors.append(authorship(position, name, orcid=author.get("orcid")))
        extra: dict[str, Any] = {"dblp_type": tag}
        for field in ("pages", "volume", "number", "publisher", "crossref", "isbn", "series"):
            if field in fields and (value := _first(fields, field)):
                extra[field] = value
        for attribute in ("publtype", "mdate"):
            if element.get(attribute):
                extra[attribute] = element.get(attribute)
        editors = [name for e in fields.get("editor", ()) if (name := clean(text_of(e)))]
        if editors:
            extra["editors"] = editors
        if links:
            extra["ee"] = links
        return SourceRecord(
            source=self.name,
            provenance=Provenance(self.name, file, f"line {line}"),
            ids=_ids_from_links(key, links),
            title=title,
            venue=_venue(tag, element, fields, title, year),
            code_links=find_code_links(*links),
            authors=authors,
            extra=extra,
        )

    def _person(self, element: etree._Element, file: str, line: int) -> EntityRecord | None:
        key = element.get("key") or ""
        if element.tag == "www" and not key.startswith("homepages/"):
            return None  # other <www> records are web pages, not people
        names = [name for a in element.iterfind("author") if (name := clean(text_of(a)))]
        if not names:
            raise ValueError(f"{key}: person record without a name")
        urls = [u for e in element.iterfind("url") if (u := clean(e.text))]
        affiliations: list[dict[str, str]] = []
        awards: list[dict[str, str]] = []
        for note in element.iterfind("note"):
            text = clean(text_of(note))
            if not text:
                continue
            item = {"name": text, **({"label": note.get("label")} if note.get("label") else {})}
            if note.get("type") == "affiliation":
                affiliations.append(item)
            elif note.get("type") == "award":
                awards.append(item)
        current = [a["name"] for a in affiliations if "label" not in a]
        orcid = next((o for u in urls if "orcid.org" in u and (o := short_orcid(u))), None)
        bare, homonym = split_homonym(names[0])
        data: dict[str, Any] = {
            "name": names[0],
            "bare_name": bare,
            "homonym": homonym,
            "aliases": names[1:],
            "affiliations": [a["name"] for a in affiliations],
            "current_affiliations": current,
            "affiliation_notes": affiliations,
            "affiliation_slugs": affiliation_slugs(current or [a["name"] for a in affiliations]),
            "orcid": orcid,
            "urls": urls,
        }
        if awards:
            data["awards"] = awards
        return EntityRecord(source=self.name, provenance=Provenance(self.name, file, f"line {line}"), kind="author",
                            id=f"{DBLP}:{key}", data=data)


READERS = [DblpReader()]
