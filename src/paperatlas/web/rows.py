"""The typed rows that a page and the JSON API share: what ``queries`` returns and both the templates and
``api._public_card`` read.  TypedDicts, not classes, because Jinja reads dict keys and the API serialises them as
they are; the types are what a reader of ``queries.py`` (and a type checker) can hold on to."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class AuthorRef(TypedDict):
    name: str
    aid: str | None  # the identity's public id; None while the identities stage has not run
    identity_id: int | None  # internal: the API leaves it out
    affiliations: list[str]


class CitationFigures(TypedDict):
    in_store: int  # distinct citing papers in this instance (a paper citing itself left out)
    external: int | None  # the count a source states
    shown: int  # the larger of the two
    basis: str  # which one is shown, in words


class PaperCard(TypedDict):
    """Everything a paper list item shows."""

    id: int  # internal: the API leaves it out
    pid: str
    title: str
    abstract: str
    year: int | None
    date: str | None
    submitted: str | None
    updated: str | None
    published: str | None
    primary_category: str | None
    category_code: str | None
    categories: list[str]
    venue_name: str | None
    venue_year: int | None
    venue_kind: str | None
    venue: str
    code_links: list[str]
    authors: list[AuthorRef]
    affiliation_slugs: list[str]
    citations: int
    citations_in_store: int
    citations_external: int | None
    citations_basis: str
    novelty: float | None
    novelty_reason: Any
    ai_score: float | None
    ai_score_reason: Any
    trending: float | None
    trending_reason: Any
    # decorations some lists add
    snippet: NotRequired[str | None]  # search: the highlighted fragment
    score: NotRequired[float | None]  # search: the ranking score
    similarity: NotRequired[float]  # similar papers: cosine to the page's paper
    cross_listed: NotRequired[bool]  # category pages: listed under the category, filed under another


class Reference(TypedDict):
    ref: str  # "scheme:value" as the source named it
    paper: PaperCard | None  # the paper it resolves to in this store


class PaperPage(TypedDict):
    paper: PaperCard  # plus comments, journal_ref, license, modified_at, ids
    cited_by: list[PaperCard]
    cited_by_total: int
    references: list[Reference]
    references_total: int
    similar: list[PaperCard]
    similar_message: str | None  # why there is no similar list (the index is not built)


class SearchAnswer(TypedDict):
    total: int
    results: list[PaperCard]
    facets: dict[str, dict[str, int]]
    message: str | None
    suggestions: list[str]
    engine: str
