"""Citations per paper: distinct citing papers in the store, with a source's stated count kept apart.

Two sources may state the same edge (OpenAlex and Semantic Scholar both list that A cites B): counting citing
*papers*, not edges, makes the figure independent of how many sources were ingested.  Where a source only states
a count (``papers.external_citation_count``) and it is larger than what the store can show, the page shows that
count and says it is external: the papers behind it cannot be listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..scale import LOCAL, run_per_block
from ..store import Database, Store

STORE = "store"


@dataclass(frozen=True, slots=True)
class CitationFigure:
    in_store: int  # distinct citing papers in the store
    external: int | None  # a source's stated count
    external_source: str | None

    @property
    def uses_external(self) -> bool:
        return self.external is not None and self.external > self.in_store

    @property
    def shown(self) -> int:
        """The figure a page shows: the store's count, or the external count when that is larger."""
        return self.external if self.uses_external else self.in_store  # type: ignore[return-value]

    @property
    def source(self) -> str:
        return f"external:{self.external_source or 'unknown'}" if self.uses_external else STORE

    def reason(self) -> str:
        if self.uses_external:
            return (f"{_count(self.shown, 'citation')} stated by {self.external_source or 'an external source'} "
                    f"(external count: the citing papers are not listed here; {self.in_store} are in this instance)")
        return f"{_count(self.in_store, 'distinct citing paper')} in this instance"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


CITING_SQL = "SELECT cited_id, citing_id FROM citations WHERE cited_id IS NOT NULL AND cited_id <> citing_id"
COUNT_SCHEMA = "paper_id long, citations long"


def distinct_citing(cited_id: int, rows: list[tuple]) -> list[tuple]:
    """One cited paper's block of (citing_id,) rows -> [(paper id, distinct citing papers)]."""
    return [(cited_id, len({citing for (citing,) in rows}))]


def store_counts(store: Store, engine: str = LOCAL) -> dict[int, int]:
    """paper id -> distinct citing papers (self-citations of a paper by itself left out), per cited paper on
    ``engine``."""
    return dict(run_per_block(store, CITING_SQL, distinct_citing, schema=COUNT_SCHEMA, engine=engine))


def all_figures(store: Store, engine: str = LOCAL) -> dict[int, CitationFigure]:
    db = store.db
    counts = store_counts(store, engine)
    out: dict[int, CitationFigure] = {}
    for paper_id, external, source in db.iterate(
        "SELECT id, external_citation_count, external_citation_source FROM papers"
    ):
        out[paper_id] = CitationFigure(counts.get(paper_id, 0), external, source)
    return out


def figures_for(db: Database, paper_ids: list[int]) -> dict[int, CitationFigure]:
    """Live figures of a few papers (what a page shows, even before the next build has run)."""
    out: dict[int, CitationFigure] = {}
    for start in range(0, len(paper_ids), 500):
        chunk = paper_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        counts = dict(db.query_tuples(
            f"SELECT cited_id, COUNT(DISTINCT citing_id) FROM citations WHERE cited_id IN ({marks}) "
            "AND cited_id <> citing_id GROUP BY cited_id", chunk,
        ))
        for paper_id, external, source in db.query_tuples(
            f"SELECT id, external_citation_count, external_citation_source FROM papers WHERE id IN ({marks})", chunk
        ):
            out[paper_id] = CitationFigure(counts.get(paper_id, 0), external, source)
    return out
