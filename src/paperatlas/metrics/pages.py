"""The figures a paper page or an author page shows, with their reasons: exactly what ``show --json`` prints.

Citations are counted live from the store (one indexed query), so a page never disagrees with the list of
citing papers it can show, even between builds.  Author figures are recomputed from the very list of papers
returned beside them, so h-index <= paper_count by construction.  Stored figures (novelty, AI Score, trending)
come from the last build, and their reasons say how they were made.
"""

from __future__ import annotations

from typing import Any

from ..store import Store
from . import authors, citations
from .common import loads

NOT_BUILT = "not computed yet: run `paperatlas build`"


def _titles(store: Store, paper_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not paper_ids:
        return {}
    marks = ",".join("?" * len(paper_ids))
    rows = store.db.query_tuples(f"SELECT id, pid, title, submitted FROM papers WHERE id IN ({marks})", paper_ids)
    return {r[0]: {"id": r[1], "title": r[2], "submitted": r[3]} for r in rows}


def paper_figures(store: Store, paper_id: int) -> dict[str, Any]:
    db = store.db
    paper = db.query("SELECT id, pid, title, year, submitted, primary_category FROM papers WHERE id = ?", (paper_id,))
    if not paper:
        raise KeyError(paper_id)
    p = paper[0]
    m = (db.query("SELECT * FROM paper_metrics WHERE paper_id = ?", (paper_id,)) or [{}])[0]
    cite = citations.figures_for(db, [paper_id])[paper_id]

    novelty_reason = loads(m.get("novelty_reason"), None)
    if novelty_reason and novelty_reason.get("nearest"):
        near_ids = [n[0] for n in novelty_reason["nearest"]]
        info = _titles(store, near_ids)
        novelty_reason["nearest"] = [
            {**info.get(pid, {"id": None}), "similarity": sim} for pid, sim in novelty_reason["nearest"]
        ]
    if m.get("novelty") is None and not novelty_reason:
        novelty_reason = {"status": "no embedding for this paper yet (novelty needs one)" if m else NOT_BUILT}
    elif m.get("novelty") is None:
        novelty_reason["status"] = ("no earlier paper within the window to compare with"
                                    if not novelty_reason.get("nearest") else novelty_reason.get("status"))
    return {
        "id": p["pid"],
        "paper_id": p["id"],
        "title": p["title"],
        "year": p["year"],
        "submitted": p["submitted"],
        "primary_category": p["primary_category"],
        "citations": cite.shown,
        "citations_in_store": cite.in_store,
        "citations_external": cite.external,
        "citations_source": cite.source,
        "citations_reason": cite.reason(),
        "novelty": m.get("novelty"),
        "novelty_reason": novelty_reason,
        "ai_score": m.get("ai_score"),
        "ai_score_reason": loads(m.get("ai_score_reason"), None) or {"status": NOT_BUILT},
        "trending": m.get("trending"),
        "trending_reason": loads(m.get("trending_reason"), None)
        or {"status": "outside the trending window of the last build" if m else NOT_BUILT},
    }


def author_figures(store: Store, identity_id: int) -> dict[str, Any]:
    db = store.db
    found = db.query("SELECT id, aid, name, orcid FROM identities WHERE id = ?", (identity_id,))
    if not found:
        raise KeyError(identity_id)
    ident = found[0]
    papers = authors.author_papers(db, identity_id)
    live = citations.figures_for(db, [p.paper_id for p in papers])
    for paper in papers:
        fig = live.get(paper.paper_id)
        if fig is not None:
            paper.citations, paper.citations_source = fig.shown, fig.source
    papers.sort(key=lambda p: (-p.citations, -(p.year or 0), p.paper_id))
    summary = authors.summarize(papers)
    return {
        "id": ident["aid"],
        "identity_id": ident["id"],
        "name": ident["name"],
        "orcid": ident["orcid"],
        "paper_count": summary.paper_count,
        "citations": summary.citations,
        "h_index": summary.h_index,
        "i10_index": summary.i10_index,
        "primary_category": summary.primary_category,
        "novelty": summary.novelty,
        "ai_score": summary.ai_score,
        "per_year": {str(year): v for year, v in summary.per_year.items()},
        "reason": summary.reason,
        "papers": [
            {"id": p.pid, "paper_id": p.paper_id, "title": p.title, "year": p.year,
             "primary_category": p.primary_category, "citations": p.citations,
             "citations_source": p.citations_source, "novelty": p.novelty, "ai_score": p.ai_score}
            for p in papers
        ],
    }
