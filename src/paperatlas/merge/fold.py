"""Folding the source records of one paper into the paper's row: field precedence, provenance, authorships.

A paper is always recomputed from *all* its source records (kept whole in ``paper_records``), never patched
field by field.  That makes the result independent of the order the sources arrived in, lets a newer arXiv
version replace an older one cleanly, and means a change of precedence rules is a re-fold, not a migration.

Records are handled as the plain dicts stored in ``paper_records.data`` (``SourceRecord`` as JSON, provenance
kept in the row's own columns), which is also what the ingest pipeline receives from its parser process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ..model import ID_SCHEMES, Source, pack_provenance
from ..normalize import name_key, parse_name, surname_key, title_key
from ..tex import tex_to_unicode

ARXIV_FAMILY = (Source.ARXIV_OAI.value, Source.ARXIV_SNAPSHOT.value, Source.ARXIV_ATOM.value)
_S2 = (Source.SEMANTIC_SCHOLAR.value, Source.S2ORC.value)
_DBLP, _OA, _ACL, _CODE = (Source.DBLP.value, Source.OPENALEX.value, Source.ACL_ANTHOLOGY.value,
                           Source.CODE_LINKS.value)

# Field -> sources in order of trust.  A source not listed comes after the listed ones; within the arXiv family
# the newest version (latest ``updated``, then highest version number) comes first.
PRECEDENCE: dict[str, tuple[str, ...]] = {
    "title": (*ARXIV_FAMILY, _DBLP, _OA, *_S2, _ACL, _CODE),
    "abstract": (*ARXIV_FAMILY, _OA, *_S2, _CODE, _ACL, _DBLP),
    "submitted": (*ARXIV_FAMILY, _OA, *_S2, _DBLP, _ACL, _CODE),
    "updated": (*ARXIV_FAMILY, _OA, *_S2, _DBLP, _ACL, _CODE),
    "published": (_OA, _DBLP, *_S2, _ACL, _CODE, *ARXIV_FAMILY),
    "primary_category": ARXIV_FAMILY,
    "categories": ARXIV_FAMILY,
    "venue": (_DBLP, _OA, _ACL, *_S2, _CODE, *ARXIV_FAMILY),
    "comments": ARXIV_FAMILY,
    "journal_ref": ARXIV_FAMILY,
    "license": (*ARXIV_FAMILY, _OA),
    "authors": (*ARXIV_FAMILY, _DBLP, _OA, *_S2, _ACL, _CODE),
    "code_links": (_CODE, *ARXIV_FAMILY, *_S2, _OA, _DBLP, _ACL),
}
_RANKS = {name: {source: rank for rank, source in enumerate(order)} for name, order in PRECEDENCE.items()}
SIMPLE_FIELDS = ("title", "abstract", "submitted", "updated", "published", "primary_category", "categories",
                 "comments", "journal_ref", "license")
# Fields written in TeX by arXiv: read as Unicode on the paper, kept as written in the source record
TEX_FIELDS = ("title", "abstract", "comments", "journal_ref")


@dataclass(slots=True)
class Held:
    """One source record of a paper, as the fold sees it."""

    data: dict[str, Any]
    source: str
    provenance: str  # "source:file:locator"
    key: str = ""

    @property
    def newness(self) -> tuple[str, int]:
        d = self.data
        return (d.get("updated") or d.get("submitted") or "", d.get("arxiv_version") or 0)


@dataclass(slots=True)
class Folded:
    """What the store keeps for one paper, ready for SQL."""

    columns: dict[str, Any]
    authors: list[dict[str, Any]]
    ids: list[tuple[str, str]]
    seed: str  # the identifier the public id is derived from
    references: list[str] = field(default_factory=list)
    cited_by: list[str] = field(default_factory=list)


def _ordered(records: list[Held], name: str) -> list[Held]:
    ranks = _RANKS[name]
    last = len(ranks)
    return sorted(records, key=lambda r: ranks.get(r.source, last))


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def record_surname(author: dict[str, Any]) -> str | None:
    return author.get("surname") or parse_name(author.get("name") or "")[1]


def first_author_key(data: dict[str, Any]) -> str:
    authors = data.get("authors") or []
    return surname_key(record_surname(authors[0])) if authors else ""


def record_year(data: dict[str, Any]) -> int | None:
    for name in ("submitted", "published"):
        value = data.get(name)
        if value and value[:4].isdigit():
            return int(value[:4])
    venue = data.get("venue") or {}
    return venue.get("year")


def fold(records: list[Held]) -> Folded:
    """The paper that ``records`` (all of one paper's source records) describe."""
    # Newest arXiv version first, so that the stable sorts below keep it ahead of older arXiv records.
    if len(records) > 1:
        records = sorted(records, key=lambda r: r.newness, reverse=True)
    provenance: dict[str, str] = {}
    columns: dict[str, Any] = {}
    if len(records) == 1:  # the common case (a new paper): no precedence to apply
        only = records[0]
        data, where = only.data, only.provenance
        for name in SIMPLE_FIELDS:
            value = data.get(name)
            if value:
                provenance[name] = where
                columns[name] = value
            else:
                columns[name] = None
    else:
        for name in SIMPLE_FIELDS:
            value = None
            for held in _ordered(records, name):
                candidate = held.data.get(name)
                if not _empty(candidate):
                    value = candidate
                    provenance[name] = held.provenance
                    break
            columns[name] = value
    columns["categories"] = orjson.dumps(columns["categories"] or []).decode()
    for name in TEX_FIELDS:
        columns[name] = tex_to_unicode(columns[name])

    venue: dict[str, Any] = {}
    for held in _ordered(records, "venue") if len(records) > 1 else records:
        candidate = held.data.get("venue") or {}
        if candidate.get("name"):
            venue = candidate
            provenance["venue"] = held.provenance
            break
    columns["venue_name"] = venue.get("name")
    columns["venue_year"] = venue.get("year")
    columns["venue_kind"] = venue.get("kind")

    versions = [r.data.get("arxiv_version") for r in records if r.source in ARXIV_FAMILY]
    columns["arxiv_version"] = max((v for v in versions if v), default=None)

    links: list[str] = []
    seen: set[str] = set()
    for held in _ordered(records, "code_links") if len(records) > 1 else records:
        for link in held.data.get("code_links") or ():
            if link.lower() not in seen:
                seen.add(link.lower())
                links.append(link)
                provenance.setdefault("code_links", held.provenance)
    columns["code_links"] = orjson.dumps(links).decode()

    count, count_source = None, None
    for held in records:
        candidate = held.data.get("external_citation_count")
        if candidate is not None and (count is None or candidate > count):
            count, count_source = candidate, held.source
    columns["external_citation_count"] = count
    columns["external_citation_source"] = count_source

    authors, author_source = _authors(records)
    if author_source is not None:
        provenance["authors"] = author_source
    columns["title_key"] = title_key(columns["title"]) or None
    columns["first_author_key"] = (surname_key(authors[0]["surname"]) if authors else "") or None
    year = None
    for name in ("submitted", "published"):
        value = columns[name]
        if value and value[:4].isdigit():
            year = int(value[:4])
            break
    columns["year"] = year or columns["venue_year"]
    columns["provenance"] = pack_provenance(provenance)

    ids: list[tuple[str, str]] = []
    references: list[str] = []
    cited_by: list[str] = []
    for held in records:
        for scheme, value in (held.data.get("ids") or {}).items():
            if value and (scheme, value) not in ids:
                ids.append((scheme, str(value)))
        references.extend(ref["cited"] for ref in held.data.get("references") or () if ref.get("cited"))
        cited_by.extend(ref["cited"] for ref in held.data.get("cited_by") or () if ref.get("cited"))
    ids.sort(key=lambda pair: ID_SCHEMES.index(pair[0]) if pair[0] in ID_SCHEMES else len(ID_SCHEMES))
    seed = f"{ids[0][0]}:{ids[0][1]}" if ids else records[0].key
    return Folded(columns=columns, authors=authors, ids=ids, seed=seed, references=references, cited_by=cited_by)


def _author_row(author: dict[str, Any], source: str) -> dict[str, Any]:
    forenames, surname, suffix = (tex_to_unicode(author.get(k)) for k in ("forenames", "surname", "suffix"))
    name = tex_to_unicode(author.get("name")) or " ".join(p for p in (forenames, surname) if p)
    if not surname:
        forenames, surname, suffix = parse_name(name)
    ids = {source: author["source_author_id"]} if author.get("source_author_id") else {}
    return {
        "name": name,
        "forenames": forenames,
        "surname": surname,
        "suffix": suffix,
        "name_key": name_key(name),
        "affiliations": list(author.get("affiliations") or ()),
        "orcid": author.get("orcid"),
        "dblp_homonym": author.get("dblp_homonym"),
        "source_author_ids": ids,
        "source": source,
    }


def _authors(records: list[Held]) -> tuple[list[dict[str, Any]], str | None]:
    """The best source's author list, enriched from the others by position + surname alignment."""
    ordered = _ordered(records, "authors") if len(records) > 1 else records
    best = next((r for r in ordered if r.data.get("authors")), None)
    if best is None:
        return [], None
    rows = [_author_row(a, best.source) for a in best.data["authors"]]
    for other in ordered:
        if other is best or not other.data.get("authors"):
            continue
        theirs = [_author_row(a, other.source) for a in other.data["authors"]]
        by_surname: dict[str, list[dict[str, Any]]] = {}
        for row in theirs:
            by_surname.setdefault(surname_key(row["surname"]), []).append(row)
        for position, row in enumerate(rows):
            key = surname_key(row["surname"])
            match = None
            if position < len(theirs) and surname_key(theirs[position]["surname"]) == key:
                match = theirs[position]
            elif len(by_surname.get(key, ())) == 1:
                match = by_surname[key][0]
            if match is None or not key:
                continue
            row["orcid"] = row["orcid"] or match["orcid"]
            row["dblp_homonym"] = row["dblp_homonym"] or match["dblp_homonym"]
            for affiliation in match["affiliations"]:
                if affiliation not in row["affiliations"]:
                    row["affiliations"].append(affiliation)
            for source, value in match["source_author_ids"].items():
                row["source_author_ids"].setdefault(source, value)
    return rows, best.provenance
