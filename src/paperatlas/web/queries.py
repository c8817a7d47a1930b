"""What each page shows, read from the store as plain dicts (the JSON API returns the same dicts).

Two rules shape this module:

* Every figure a page shows is computed from the list the page shows (an author's h-index from the citation
  counts printed beside their papers, a name cluster's "N papers" from the papers listed), so a header can never
  disagree with its list, a fault of the reference systems.
* Other stages (metrics, search, disambiguation) are called by plain imports, never through a fallback: a search
  index that is not built raises :class:`paperatlas.search.IndexNotBuilt`, which the app turns into a 503 page that
  says what to run, instead of a silently different answer.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter, defaultdict
from typing import Any

import orjson

from ..disambiguation.author_search import search_authors as find_identities
from ..metrics.pages import paper_figures
from ..metrics.trending import stored_as_of, trending_papers
from ..normalize import name_key
from ..search import IndexNotBuilt, search_papers, similar_papers
from ..store import Store
from ..store.database import Database
from ..store.papers import resolve_author, resolve_paper
from . import lists
from .format import affiliation_slugs, category_code, venue_line
from .names import identity_labels
from .rows import CitationFigures, PaperCard, PaperPage, Reference, SearchAnswer

log = logging.getLogger(__name__)

CARD_COLUMNS = (
    "id, pid, title, abstract, year, submitted, updated, published, primary_category, categories, venue_name, "
    "venue_year, venue_kind, code_links, external_citation_count, external_citation_source"
)


def _loads(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return default


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def _chunks(values: list[int], size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------------------------------------------- paper cards


def citation_counts(db: Database, paper_ids: list[int]) -> dict[int, CitationFigures]:
    """Per paper: in-store citing papers, the count a source states, and the figure shown (the larger)."""
    out: dict[int, Any] = {pid: {"in_store": 0, "external": None} for pid in paper_ids}
    missing = set(paper_ids)
    for chunk in _chunks(paper_ids):
        for pid, cites, external, ext_paper in db.query_tuples(
            f"SELECT m.paper_id, m.citations, m.citations_external, p.external_citation_count FROM paper_metrics m "
            f"JOIN papers p ON p.id = m.paper_id WHERE m.paper_id IN ({_marks(chunk)})",
            chunk,
        ):
            out[pid] = {"in_store": cites or 0, "external": external if external is not None else ext_paper}
            missing.discard(pid)
    rest = sorted(missing)
    for chunk in _chunks(rest):  # no metrics yet: count the edges directly (index-backed)
        for pid, cites in db.query_tuples(
            f"SELECT cited_id, COUNT(DISTINCT citing_id) FROM citations WHERE cited_id IN ({_marks(chunk)}) "
            "AND citing_id <> cited_id GROUP BY cited_id",  # a paper citing itself counts nowhere (metrics' rule)
            chunk,
        ):
            out[pid]["in_store"] = cites
        for pid, ext in db.query_tuples(
            f"SELECT id, external_citation_count FROM papers WHERE id IN ({_marks(chunk)})", chunk
        ):
            out[pid]["external"] = ext
    for figures in out.values():
        ext = figures["external"] or 0
        figures["shown"] = max(figures["in_store"], ext)
        figures["basis"] = "citing papers in PaperAtlas" if figures["in_store"] >= ext else "count stated by a source"
    return out


def paper_cards(db: Database, paper_ids: list[int]) -> list[PaperCard]:
    """Everything a paper list item shows, for many papers at once, in the order asked."""
    if not paper_ids:
        return []
    rows: dict[int, dict[str, Any]] = {}
    authors: dict[int, list[dict[str, Any]]] = defaultdict(list)
    metrics: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(paper_ids):
        marks = _marks(chunk)
        for row in db.query(f"SELECT {CARD_COLUMNS} FROM papers WHERE id IN ({marks})", chunk):
            rows[row["id"]] = row
        for row in db.query(
            "SELECT a.paper_id, a.position, a.name, a.affiliations, a.identity_id, i.aid FROM authorships a "
            f"LEFT JOIN identities i ON i.id = a.identity_id WHERE a.paper_id IN ({marks}) "
            "ORDER BY a.paper_id, a.position",
            chunk,
        ):
            authors[row["paper_id"]].append(
                {"name": row["name"], "aid": row["aid"], "identity_id": row["identity_id"],
                 "affiliations": _loads(row["affiliations"], [])}
            )
        for row in db.query(
            "SELECT paper_id, novelty, novelty_reason, ai_score, ai_score_reason, trending, trending_reason "
            f"FROM paper_metrics WHERE paper_id IN ({marks})",
            chunk,
        ):
            metrics[row["paper_id"]] = row
    counts = citation_counts(db, [i for i in paper_ids if i in rows])
    cards: list[PaperCard] = []
    for pid in paper_ids:
        row = rows.get(pid)
        if row is None:
            continue
        m = metrics.get(pid, {})
        people = authors.get(pid, [])
        cards.append(
            {
                "id": pid,
                "pid": row["pid"],
                "title": row["title"] or "(untitled)",
                "abstract": row["abstract"] or "",
                "year": row["year"],
                "date": row["submitted"] or row["published"] or (str(row["year"]) if row["year"] else None),
                "submitted": row["submitted"],
                "updated": row["updated"],
                "published": row["published"],
                "primary_category": row["primary_category"],
                "category_code": category_code(row["primary_category"]),
                "categories": _loads(row["categories"], []),
                "venue_name": row["venue_name"],
                "venue_year": row["venue_year"],
                "venue_kind": row["venue_kind"],
                "venue": venue_line(row["venue_name"], row["venue_year"], row["venue_kind"])
                or (f"arXiv preprint ({row['primary_category']})" if row["primary_category"] else ""),
                "code_links": _loads(row["code_links"], []),
                "authors": people,
                "affiliation_slugs": affiliation_slugs([a["affiliations"] for a in people]),
                "citations": counts[pid]["shown"],
                "citations_in_store": counts[pid]["in_store"],
                "citations_external": counts[pid]["external"],
                "citations_basis": counts[pid]["basis"],
                "novelty": m.get("novelty"),
                "novelty_reason": _loads(m.get("novelty_reason"), m.get("novelty_reason")),
                "ai_score": m.get("ai_score"),
                "ai_score_reason": _loads(m.get("ai_score_reason"), m.get("ai_score_reason")),
                "trending": m.get("trending"),
                "trending_reason": _loads(m.get("trending_reason"), m.get("trending_reason")),
            }
        )
    return cards


# ---------------------------------------------------------------------------------------------------- paper page


def find_paper(store: Store, ref: str) -> int | None:
    try:
        return resolve_paper(store.db, ref)
    except Exception:  # odd input (a malformed id) is simply not found
        return None


def paper_page(store: Store, paper_id: int, *, list_limit: int = 50) -> PaperPage | None:
    db = store.db
    cards = paper_cards(db, [paper_id])
    if not cards:
        return None
    paper = cards[0]
    extra = db.query("SELECT comments, journal_ref, license, modified_at FROM papers WHERE id = ?", (paper_id,))[0]
    paper.update(extra)
    paper["ids"] = dict(db.query_tuples("SELECT scheme, value FROM paper_ids WHERE paper_id = ?", (paper_id,)))

    # "Cited by" lists what "Citations" counts: distinct other papers (a paper citing itself is in neither)
    citing_total = db.scalar("SELECT COUNT(DISTINCT citing_id) FROM citations WHERE cited_id = ? AND citing_id <> ?",
                             (paper_id, paper_id)) or 0
    citing_ids = [r[0] for r in db.query_tuples(
        "SELECT DISTINCT citing_id FROM citations WHERE cited_id = ? AND citing_id <> ? ORDER BY citing_id DESC "
        "LIMIT ?", (paper_id, paper_id, list_limit))]
    refs = db.query_tuples(
        "SELECT cited_ref, MAX(cited_id) FROM citations WHERE citing_id = ? GROUP BY cited_ref ORDER BY cited_ref",
        (paper_id,))
    resolved_ids = [r[1] for r in refs if r[1] is not None][:list_limit]
    resolved = {c["id"]: c for c in paper_cards(db, resolved_ids)}
    references: list[Reference] = [{"ref": ref, "paper": resolved.get(cid)} for ref, cid in refs]

    similar: list[PaperCard] = []
    similar_message = None
    try:
        found = similar_papers(store, paper_id, limit=10)
    except IndexNotBuilt as exc:  # the rest of the page is the store's; this one list needs the index
        found, similar_message = [], str(exc)
    if found:
        scores = {int(pid): float(score) for pid, score in found}
        similar = paper_cards(db, [pid for pid in scores if pid != paper_id])
        for card in similar:
            card["similarity"] = scores[card["id"]]

    # The metrics stage's own reasons (novelty's nearest earlier papers, how AI Score and trending were made)
    figures = paper_figures(store, paper_id)
    for name in ("novelty", "ai_score", "trending"):
        if figures.get(f"{name}_reason"):
            paper[f"{name}_reason"] = figures[f"{name}_reason"]
    return {
        "paper": paper,
        "cited_by": paper_cards(db, citing_ids),
        "cited_by_total": citing_total,
        "references": references,
        "references_total": len(references),
        "similar": similar,
        "similar_message": similar_message,
    }


# --------------------------------------------------------------------------------------------------- author page


def find_author(store: Store, ref: str) -> int | None:
    try:
        return resolve_author(store.db, ref)
    except Exception:
        return None


def h_index(counts: list[int]) -> int:
    ranked = sorted(counts, reverse=True)
    return sum(1 for rank, cites in enumerate(ranked, 1) if cites >= rank)


SORTS = {
    "date": lambda c: (c["date"] or "", c["citations"]),
    "citations": lambda c: (c["citations"], c["date"] or ""),
    "score": lambda c: (c["ai_score"] if c["ai_score"] is not None else -1, c["citations"]),
}


def _author_rows(db: Database, identity_id: int) -> list[dict[str, Any]]:
    """One light row per paper of the identity: what figures and sorting need, without titles or abstracts."""
    rows = db.query(
        "SELECT p.id, p.year, COALESCE(p.submitted, p.published) AS day, p.primary_category, "
        "p.external_citation_count AS ext_paper, m.paper_id AS has_metrics, m.citations AS in_store, "
        "m.citations_external AS ext_metric, m.novelty, m.ai_score "
        "FROM (SELECT DISTINCT paper_id FROM authorships WHERE identity_id = ?) a "
        "JOIN papers p ON p.id = a.paper_id LEFT JOIN paper_metrics m ON m.paper_id = p.id",
        (identity_id,),
    )
    missing = [r["id"] for r in rows if r["has_metrics"] is None]
    edges: dict[int, int] = {}
    for chunk in _chunks(missing):
        edges.update(db.query_tuples(
            f"SELECT cited_id, COUNT(DISTINCT citing_id) FROM citations WHERE cited_id IN ({_marks(chunk)}) "
            "AND citing_id <> cited_id GROUP BY cited_id", chunk))
    for r in rows:
        in_store = r["in_store"] if r["has_metrics"] is not None else edges.get(r["id"], 0)
        external = r["ext_metric"] if r["ext_metric"] is not None else r["ext_paper"]
        r["citations"] = max(in_store or 0, external or 0)
        r["citations_in_store"], r["citations_external"] = in_store or 0, external
        r["date"] = r.pop("day") or (str(r["year"]) if r["year"] else None)
    return rows


def author_page(store: Store, identity_id: int, *, sort: str = "date", limit: int = 100,
                offset: int = 0) -> dict[str, Any] | None:
    db = store.db
    rows = db.query("SELECT id, aid, name, name_key, orcid, dblp_homonym, modified_at FROM identities WHERE id = ?",
                    (identity_id,))
    if not rows:
        return None
    person = rows[0]
    # ONLY the papers whose authorship is assigned to this identity: a same-name stranger never leaks in.
    light = _author_rows(db, identity_id)
    light.sort(key=SORTS.get(sort, SORTS["date"]), reverse=True)
    paper_ids = [r["id"] for r in light]
    cards = paper_cards(db, paper_ids[offset : offset + limit])

    counts = [r["citations"] for r in light]
    per_year: dict[int, dict[str, int]] = {}
    for r in light:
        if r["year"]:
            slot = per_year.setdefault(r["year"], {"papers": 0, "citations": 0})
            slot["papers"] += 1
            slot["citations"] += r["citations"]
    categories = Counter(r["primary_category"] for r in light if r["primary_category"])
    novelty = [r["novelty"] for r in light if r["novelty"] is not None]
    ai = [r["ai_score"] for r in light if r["ai_score"] is not None]
    figures = {
        "paper_count": len(light),
        "citations": sum(counts),
        "h_index": h_index(counts),
        "i10_index": sum(1 for n in counts if n >= 10),
        "primary_category": categories.most_common(1)[0][0] if categories else None,
        # medians, as `paperatlas author show` computes them (metrics.authors.summarize)
        "novelty": round(statistics.median(novelty)) if novelty else None,
        "ai_score": round(statistics.median(ai)) if ai else None,
        "basis": "computed from the papers listed on this page",
        # the two counts the shown one is made of, each with its own label on the page
        "citations_in_store": sum(r["citations_in_store"] for r in light),
        "citations_external": sum(r["citations_external"] for r in light if r["citations_external"] is not None),
        "papers_with_external": sum(1 for r in light if r["citations_external"] is not None),
    }
    figures["primary_code"] = category_code(figures["primary_category"])
    own = db.query(
        "SELECT a.affiliations, p.year FROM authorships a JOIN papers p ON p.id = a.paper_id "
        "WHERE a.identity_id = ? AND a.affiliations IS NOT NULL AND a.affiliations != '[]'",
        (identity_id,),
    )

    affiliations: dict[str, list[int]] = {}
    for r in own:
        for name in _loads(r["affiliations"], []):
            if r["year"]:
                affiliations.setdefault(name, []).append(r["year"])
    affiliation_years = sorted(
        ({"name": n, "first": min(ys), "last": max(ys)} for n, ys in affiliations.items()),
        key=lambda a: (a["first"], a["last"]),
    )

    # Top coauthors in one aggregate over the covering indexes (people by identity, unassigned names by name key)
    coauthors = [
        {"name": r["name"], "aid": r["aid"], "papers": r["papers"]}
        for r in db.query(
            "SELECT COALESCE(CAST(a2.identity_id AS TEXT), 'n:' || a2.name_key) AS who, MIN(a2.name) AS name, "
            "MIN(i.aid) AS aid, COUNT(DISTINCT a2.paper_id) AS papers FROM authorships a1 "
            "JOIN authorships a2 ON a2.paper_id = a1.paper_id LEFT JOIN identities i ON i.id = a2.identity_id "
            "WHERE a1.identity_id = ? AND (a2.identity_id IS NULL OR a2.identity_id != ?) "
            "GROUP BY COALESCE(CAST(a2.identity_id AS TEXT), 'n:' || a2.name_key) "
            "ORDER BY papers DESC, name LIMIT 10",
            (identity_id, identity_id),
        )
    ]

    namesakes = db.query(
        "SELECT i.aid, i.name, (SELECT COUNT(DISTINCT paper_id) FROM authorships a WHERE a.identity_id = i.id) "
        "AS paper_count FROM identities i WHERE i.name_key = ? AND i.id != ? ORDER BY paper_count DESC LIMIT 50",
        (person["name_key"], identity_id),
    )
    return {
        "person": person,
        "figures": figures,
        "per_year": [{"year": y, **per_year[y]} for y in sorted(per_year)],
        "papers": cards,
        "total": len(light),
        "sort": sort if sort in SORTS else "date",
        "limit": limit,
        "offset": offset,
        "coauthors": coauthors,
        "affiliations": affiliation_years,
        "namesakes": namesakes,
    }


def search_authors(store: Store, name: str, limit: int = 20) -> list[dict[str, Any]]:
    """The identities behind ``name`` (the disambiguation stage's own search)."""
    return find_identities(store, name, limit=limit)


# ---------------------------------------------------------------------------------------------- name-cluster page


def name_cluster_page(store: Store, name: str, *, limit: int = 100, offset: int = 0) -> dict[str, Any] | None:
    """Papers with an author of exactly this (case-insensitive) name; counts come from these very rows."""
    db = store.db
    key = name_key(name)
    if not key:
        return None
    rows = db.query_tuples(
        "SELECT DISTINCT paper_id, identity_id FROM authorships WHERE name_key = ?", (key,)
    )
    if not rows:
        return None
    # Papers newest first (by submission, else year), as a reader scans a list of someone's work
    dated: dict[int, str] = {}
    ids_all = sorted({r[0] for r in rows})
    for chunk in _chunks(ids_all):
        for pid, day in db.query_tuples(
            f"SELECT id, COALESCE(submitted, published, CAST(year AS TEXT), '') FROM papers "
            f"WHERE id IN ({_marks(chunk)})", chunk):
            dated[pid] = day or ""
    paper_ids = sorted(ids_all, key=lambda pid: (dated.get(pid, ""), pid), reverse=True)
    ident_ids = sorted({r[1] for r in rows if r[1] is not None})
    per_identity = Counter(r[1] for r in rows)
    # Each person's count is their profile's count (every paper of the identity, under any spelling), so the
    # row and the page it links to agree; ``here`` is how many of them carry this exact name.
    profile_counts = lists.paper_counts(store, ident_ids)
    identities = []
    for chunk in _chunks(ident_ids):
        for iid, aid, iname in db.query_tuples(
            f"SELECT id, aid, name FROM identities WHERE id IN ({_marks(chunk)})", chunk
        ):
            identities.append({"id": iid, "aid": aid, "name": iname, "paper_count": profile_counts.get(iid, 0),
                               "here": per_identity[iid]})
    identities.sort(key=lambda i: (-i["paper_count"], i["aid"]))
    labels = identity_labels(store, [i["id"] for i in identities])
    for person in identities:
        person["labels"] = labels.get(person.pop("id"))
    unassigned = per_identity.get(None, 0)
    display = db.scalar("SELECT name FROM authorships WHERE name_key = ? LIMIT 1", (key,)) or name
    cards = paper_cards(db, paper_ids[offset : offset + limit])
    for card in cards:
        for author in card["authors"]:
            author["match"] = name_key(author["name"]) == key
    return {
        "name": display,
        "key": key,
        "paper_count": len(paper_ids),
        "author_rows": len(identities) + (1 if unassigned else 0),
        "identities": identities,
        "unassigned": unassigned,
        "papers": cards,
        "limit": limit,
        "offset": offset,
    }


# ------------------------------------------------------------------------------------------------ lists: trending


def latest_date(db: Database, category: str | None = None) -> str | None:
    if category:
        return db.scalar("SELECT MAX(submitted) FROM papers WHERE primary_category = ?", (category,))
    return db.scalar("SELECT MAX(submitted) FROM papers")


def trending_as_of(store: Store) -> str | None:
    """The day the trending list is computed for (the metrics stage's), else the newest submission date."""
    stored = stored_as_of(store.db)
    return stored.isoformat() if stored is not None else latest_date(store.db)


def trending_ids(store: Store, *, category: str | None = None, limit: int = 20, offset: int = 0) -> list[int]:
    """The metrics stage's trending ranks (computed on the fly by that stage when no build has stored them)."""
    return [int(i) for i in trending_papers(store, None, category, limit, offset)]


def newest_ids(store: Store, *, category: str | None = None, limit: int = 20, offset: int = 0) -> list[int]:
    if category:
        sql = ("SELECT id FROM papers WHERE primary_category = ? ORDER BY submitted DESC, id DESC LIMIT ? OFFSET ?")
        return [r[0] for r in store.db.query_tuples(sql, (category, limit, offset))]
    sql = "SELECT id FROM papers WHERE submitted IS NOT NULL ORDER BY submitted DESC LIMIT ? OFFSET ?"
    return [r[0] for r in store.db.query_tuples(sql, (limit, offset))]


# ------------------------------------------------------------------------------------------------------- search


def search(store: Store, query: str, *, limit: int = 20, offset: int = 0, filters: dict | None = None,
           sort: str = "relevance", facets: bool = False, snippets: bool = True) -> SearchAnswer:
    """The search stage's hybrid search, with each hit as a paper card.

    Each card's ``snippet`` is the abstract's fragment with the query's words marked; ``snippets=False`` (a feed,
    which shows none) leaves it None and saves cutting them.  The cards carry their own titles, so the search's
    highlighted titles are never asked for.

    ``facets``: count categories and years over every match (the search page shows them; they cost more than
    the search itself at a million papers, so other callers ask only when they need them).  A missing index
    raises :class:`paperatlas.search.IndexNotBuilt` (the app answers 503 with what to run).  ``suggestions``:
    did-you-mean queries from the index vocabulary when nothing matched."""
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", False)}
    found = search_papers(store, query, limit=limit, offset=offset, filters=filters or None, sort=sort,
                          facets=facets, highlight=("abstract",) if snippets else ())
    ids = [int(r["paper_id"]) for r in found.get("results", [])]
    cards = {c["id"]: c for c in paper_cards(store.db, ids)}
    results = []
    for r in found.get("results", []):
        card = cards.get(int(r["paper_id"]))
        if card:
            card["snippet"] = r.get("snippet")
            card["score"] = r.get("score")
            results.append(card)
    return {"total": found.get("total", len(results)), "results": results, "facets": found.get("facets", {}),
            "message": found.get("message"), "suggestions": found.get("suggestions", []), "engine": "search"}
