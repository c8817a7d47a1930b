"""The canonical model that every stage shares.

Readers turn a source record into a :class:`SourceRecord` (a paper as one source saw it, with its authorships,
citations and provenance); the merge stage folds source records into :class:`Paper` rows of the store; the
disambiguation stage assigns each :class:`Authorship` to an identity (a row of ``identities``).  Nothing in here
knows about files, SQL or HTTP: these are plain data objects so that every stage (and Spark workers) can pass them
around.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import orjson

# Identifier schemes a paper may carry.  The string is the prefix used in "scheme:value" references, which the CLI,
# the JSON API and the web routes all accept (``arxiv:1706.03762``, ``doi:10.18653/v1/...``).
ARXIV = "arxiv"
DOI = "doi"
DBLP = "dblp"
OPENALEX = "openalex"
S2 = "s2"
ACL = "acl"
MAG = "mag"
PUBMED = "pubmed"
CORPUS = "s2corpus"
ID_SCHEMES: tuple[str, ...] = (ARXIV, DOI, DBLP, OPENALEX, S2, ACL, MAG, PUBMED, CORPUS)


class VenueKind(StrEnum):
    CONFERENCE = "conference"
    JOURNAL = "journal"
    WORKSHOP = "workshop"
    PREPRINT = "preprint"
    BOOK = "book"
    OTHER = "other"


class Source(StrEnum):
    """Where a record came from; used for provenance and for field precedence when records merge."""

    ARXIV_SNAPSHOT = "arxiv-snapshot"
    ARXIV_OAI = "arxiv-oai"
    ARXIV_ATOM = "arxiv-atom"
    DBLP = "dblp"
    OPENALEX = "openalex"
    SEMANTIC_SCHOLAR = "semantic-scholar"
    S2ORC = "s2orc"
    ACL_ANTHOLOGY = "acl-anthology-network"
    CODE_LINKS = "code-links"


@dataclass(slots=True)
class Provenance:
    """Which source said something: the source kind, the file and the record's place in it (line or element)."""

    source: str
    file: str
    locator: str  # "line 12", "record 3", "<article key=...>": whatever lets a person find the record again

    def __str__(self) -> str:
        return f"{self.source}:{self.file}:{self.locator}"


@dataclass(slots=True)
class Venue:
    name: str | None = None
    year: int | None = None
    kind: str | None = None  # a VenueKind value

    def line(self) -> str:
        """The venue line a name-cluster page shows, e.g. ``ICML 2025 Conference Paper``."""
        parts = [p for p in (self.name, str(self.year) if self.year else None) if p]
        if self.kind:
            parts.append(f"{self.kind.capitalize()} Paper" if self.kind != VenueKind.PREPRINT else "Preprint")
        return " ".join(parts)


@dataclass(slots=True)
class Authorship:
    """One author slot on one paper, exactly as a source wrote it, plus what was parsed from it."""

    position: int  # 0-based order on the paper
    name: str  # as written by the source, e.g. "Jun Wang 0006" or "Bal\\'azs, C."
    forenames: str | None = None
    surname: str | None = None
    suffix: str | None = None
    affiliations: list[str] = field(default_factory=list)
    orcid: str | None = None
    dblp_homonym: str | None = None  # "0006" for DBLP's "Jun Wang 0006"
    source_author_id: str | None = None  # the source's own author id (OpenAlex A..., S2 authorId), as evidence
    identity_id: int | None = None  # filled by disambiguation


@dataclass(slots=True)
class CitationRef:
    """A reference from the paper of a record to another paper, named by one of its identifiers."""

    cited: str  # "scheme:value", e.g. "acl:P02-1001" or "openalex:W2741809807"


@dataclass(slots=True)
class SourceRecord:
    """A paper as one source saw it.  Readers yield these; the merge stage folds them into papers.

    ``ids`` maps an identifier scheme (see ``ID_SCHEMES``) to the value in its canonical form (arXiv ids without
    version, DOIs lower-cased without resolver prefix, OpenAlex ids as ``W123``).
    """

    source: str
    provenance: Provenance
    ids: dict[str, str] = field(default_factory=dict)
    arxiv_version: int | None = None
    title: str | None = None
    abstract: str | None = None
    submitted: str | None = None  # ISO date of the first version
    updated: str | None = None  # ISO date of the latest version
    published: str | None = None  # ISO date of formal publication
    primary_category: str | None = None
    categories: list[str] = field(default_factory=list)
    venue: Venue | None = None
    comments: str | None = None
    journal_ref: str | None = None
    license: str | None = None
    code_links: list[str] = field(default_factory=list)
    authors: list[Authorship] = field(default_factory=list)
    references: list[CitationRef] = field(default_factory=list)
    cited_by: list[CitationRef] = field(default_factory=list)  # edges where this paper is the *cited* one
    external_citation_count: int | None = None  # a count the source states without listing the edges
    extra: dict[str, Any] = field(default_factory=dict)  # source-specific leftovers worth keeping (not merged)

    @property
    def key(self) -> str:
        """The record's identity within its source, for idempotent re-ingest: same key + same content = no-op."""
        for scheme in (ARXIV, DBLP, OPENALEX, S2, ACL, DOI, CORPUS, MAG, PUBMED):
            if scheme in self.ids:
                return f"{self.source}|{scheme}:{self.ids[scheme]}"
        return f"{self.source}|{self.provenance.file}|{self.provenance.locator}"

    @property
    def year(self) -> int | None:
        for date in (self.submitted, self.published):
            if date:
                return int(date[:4])
        return self.venue.year if self.venue and self.venue.year else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Paper:
    """A merged paper as the store holds it (one row per real paper, whatever the number of sources)."""

    id: int
    pid: str  # the public PaperAtlas id, stable for the life of the paper
    ids: dict[str, str] = field(default_factory=dict)
    arxiv_version: int | None = None
    title: str | None = None
    abstract: str | None = None
    submitted: str | None = None
    updated: str | None = None
    published: str | None = None
    year: int | None = None
    primary_category: str | None = None
    categories: list[str] = field(default_factory=list)
    venue: Venue = field(default_factory=Venue)
    comments: str | None = None
    journal_ref: str | None = None
    license: str | None = None
    code_links: list[str] = field(default_factory=list)
    external_citation_count: int | None = None
    external_citation_source: str | None = None
    provenance: dict[str, str] = field(default_factory=dict)  # field name -> str(Provenance)
    authors: list[Authorship] = field(default_factory=list)


@dataclass(slots=True)
class CitationRecord:
    """A citation edge a source states on its own (ACL Anthology Network's ``A ==> B``, S2's citations list)."""

    source: str
    provenance: Provenance
    citing: str  # "scheme:value"
    cited: str  # "scheme:value"


@dataclass(slots=True)
class EntityRecord:
    """A non-paper entity a source describes (OpenAlex author or institution, S2 author, DBLP person page).

    Kept as evidence for disambiguation and for affiliation slugs; ``data`` holds the canonical fields
    (``name``, ``orcid``, ``aliases``, ``affiliations``, ``slug``, ``homonym``...).
    """

    source: str
    provenance: Provenance
    kind: str  # "author" | "institution" | "venue"
    id: str  # "scheme:value", e.g. "openalex:A5023888391" or "dblp:homepages/l/HuaLu-0001"
    data: dict[str, Any] = field(default_factory=dict)


# What a reader may yield.
Record = SourceRecord | CitationRecord | EntityRecord


def pack_provenance(provenance: dict[str, str]) -> str:
    """``Paper.provenance`` as the store keeps it: each place (``source:file:locator``) once, with the fields it
    gave, e.g. ``{"arxiv-oai:page001.xml.gz:line 6": ["title", "abstract", ...]}``.  Most papers take every field
    from one record, and written out per field the places made provenance as long as the abstract."""
    places: dict[str, list[str]] = {}
    for name, place in provenance.items():
        fields_there = places.get(place)
        if fields_there is None:
            places[place] = [name]
        else:
            fields_there.append(name)
    return orjson.dumps(places).decode()


def unpack_provenance(text: str | None) -> dict[str, str]:
    """The inverse of :func:`pack_provenance`; also reads the older one-place-per-field form."""
    if not text:
        return {}
    stored = orjson.loads(text)
    out: dict[str, str] = {}
    for key, value in stored.items():
        if isinstance(value, list):
            for name in value:
                out[name] = key
        else:
            out[key] = value
    return out
