"""Author figures, computed from exactly the papers attributed to an identity (``authorships.identity_id``).

The page lists those papers with their citations, and every figure is derived from that list alone, so an
h-index can never exceed the number of papers shown beside it (the reference system shows h-index 31 next to
20 papers; ours cannot).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from ..scale import LOCAL, run_per_block
from ..store import Database, Store
from .common import dumps, now_iso


@dataclass(slots=True)
class AuthorPaper:
    paper_id: int
    pid: str
    title: str | None
    year: int | None
    submitted: str | None
    primary_category: str | None
    citations: int  # the figure the paper's own page shows
    citations_source: str  # "store" or "external:<source>"
    novelty: float | None = None
    ai_score: float | None = None


@dataclass(slots=True)
class AuthorSummary:
    paper_count: int
    citations: int
    h_index: int
    i10_index: int
    primary_category: str | None
    novelty: float | None
    ai_score: float | None
    per_year: dict[int, dict[str, int]] = field(default_factory=dict)
    reason: dict[str, str] = field(default_factory=dict)


def h_index(citations: list[int]) -> int:
    """The largest h such that h papers have at least h citations each (Hirsch 2005)."""
    ranked = sorted(citations, reverse=True)
    return sum(1 for rank, count in enumerate(ranked, start=1) if count >= rank)


def i10_index(citations: list[int]) -> int:
    """Papers with at least 10 citations (Google Scholar's i10-index)."""
    return sum(1 for count in citations if count >= 10)


def primary_category(papers: list[AuthorPaper]) -> str | None:
    """The most frequent primary category of the papers; ties go to the one used most recently."""
    counts = Counter(p.primary_category for p in papers if p.primary_category)
    if not counts:
        return None
    latest = {}
    for paper in papers:
        if paper.primary_category:
            latest[paper.primary_category] = max(latest.get(paper.primary_category, ""), paper.submitted or "")
    return max(counts, key=lambda c: (counts[c], latest[c], c))


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def summarize(papers: list[AuthorPaper]) -> AuthorSummary:
    counts = [p.citations for p in papers]
    per_year: dict[int, dict[str, int]] = {}
    for paper in papers:
        if paper.year is None:
            continue
        slot = per_year.setdefault(paper.year, {"papers": 0, "citations": 0})
        slot["papers"] += 1
        slot["citations"] += paper.citations  # citations *of* the papers published that year
    external = [p for p in papers if p.citations_source != "store"]
    novel = [p.novelty for p in papers if p.novelty is not None]
    scored = [p.ai_score for p in papers if p.ai_score is not None]
    reason = {
        "paper_count": f"{len(papers)} papers attributed to this identity",
        "citations": f"sum of the citations of the {len(papers)} papers listed"
        + (f"; {len(external)} of them show an external count "
           f"({', '.join(sorted({p.citations_source for p in external}))})"
           if external else " (all counted from citing papers in this instance)"),
        "h_index": "largest h such that h of the listed papers have at least h citations each",
        "i10_index": "listed papers with at least 10 citations",
        "primary_category": "most frequent primary category of the listed papers",
        "novelty": f"median Novelty % of {len(novel)} listed papers that have one" if novel
        else "no listed paper has a Novelty % (embeddings missing)",
        "ai_score": f"median AI Score of {len(scored)} listed papers (a weak signal, not a verdict)" if scored
        else "no listed paper has an AI Score",
        "per_year": "papers by year of publication and the citations those papers have received",
    }
    return AuthorSummary(
        paper_count=len(papers),
        citations=sum(counts),
        h_index=h_index(counts),
        i10_index=i10_index(counts),
        primary_category=primary_category(papers),
        novelty=_median(novel),
        ai_score=_median(scored),
        per_year=dict(sorted(per_year.items())),
        reason=reason,
    )


_PAPERS_SQL = (
    "SELECT DISTINCT a.identity_id, p.id, p.pid, p.title, p.year, p.submitted, p.primary_category, "
    "m.citations, m.citations_external, m.citations_source, m.novelty, m.ai_score "
    "FROM authorships a JOIN papers p ON p.id = a.paper_id LEFT JOIN paper_metrics m ON m.paper_id = p.id "
)


def _row_to_paper(row: tuple) -> AuthorPaper:
    _, paper_id, pid, title, year, submitted, category, cites, external, source, novelty, ai = row
    cites = cites or 0
    uses_external = external is not None and external > cites
    return AuthorPaper(
        paper_id=paper_id, pid=pid, title=title, year=year, submitted=submitted, primary_category=category,
        citations=external if uses_external else cites,
        citations_source=(source or "external:unknown") if uses_external else "store",
        novelty=novelty, ai_score=ai,
    )


def author_papers(db: Database, identity_id: int) -> list[AuthorPaper]:
    """The papers attributed to one identity, most cited first (then newest)."""
    rows = db.query_tuples(_PAPERS_SQL + "WHERE a.identity_id = ?", (identity_id,))
    papers = [_row_to_paper(r) for r in rows]
    papers.sort(key=lambda p: (-p.citations, -(p.year or 0), p.paper_id))
    return papers


AUTHOR_SCHEMA = ("identity_id long, paper_count long, citations long, h_index long, i10_index long, "
                 "primary_category string, novelty double, ai_score double, per_year string, reason string")


def author_figures(identity_id: int, rows: list[tuple]) -> list[tuple]:
    """One identity's block of paper rows -> its ``author_metrics`` row (the per-group step of :func:`compute_all`)."""
    s = summarize([_row_to_paper((identity_id, *row)) for row in rows])
    return [(identity_id, s.paper_count, s.citations, s.h_index, s.i10_index, s.primary_category, s.novelty,
             s.ai_score, dumps(s.per_year), dumps(s.reason))]


def compute_all(store: Store, engine: str = LOCAL) -> int:
    """Recompute ``author_metrics`` for every identity that has papers, one identity per block on ``engine``;
    return how many rows changed."""
    db = store.db
    figures = run_per_block(store, _PAPERS_SQL + "WHERE a.identity_id IS NOT NULL", author_figures,
                            schema=AUTHOR_SCHEMA, engine=engine)
    stamp = now_iso()
    stored = {
        r[0]: tuple(r[1:]) for r in db.iterate(
            "SELECT identity_id, paper_count, citations, h_index, i10_index, primary_category, novelty, ai_score, "
            "per_year, reason FROM author_metrics"
        )
    }
    # write only what changed: most authors do not, build after build
    rows = [(*row, stamp) for row in figures if stored.get(row[0]) != tuple(row[1:])]
    with db.transaction():
        db.execute("DELETE FROM author_metrics WHERE identity_id NOT IN "
                   "(SELECT identity_id FROM authorships WHERE identity_id IS NOT NULL)")
        db.executemany(
            "INSERT INTO author_metrics (identity_id, paper_count, citations, h_index, i10_index, primary_category, "
            "novelty, ai_score, per_year, reason, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (identity_id) DO UPDATE SET paper_count = excluded.paper_count, "
            "citations = excluded.citations, h_index = excluded.h_index, i10_index = excluded.i10_index, "
            "primary_category = excluded.primary_category, novelty = excluded.novelty, "
            "ai_score = excluded.ai_score, per_year = excluded.per_year, reason = excluded.reason, "
            "computed_at = excluded.computed_at",
            rows,
        )
    return len(rows)
