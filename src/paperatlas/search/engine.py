"""``search_papers`` and ``similar_papers``: BM25 over the full-text index, fused with embedding neighbours.

Relevance is weighted reciprocal-rank fusion of two rankings: tantivy's BM25 over title, abstract, authors and
venue, and cosine nearest neighbours of the query's embedding (when the papers have embeddings).  RRF needs no
score calibration between two very different scorers; the weights and ``k`` below were tuned on a dev half of
the ICLR 2017 known-item queries and checked on the other half (``paperatlas bench relevance``).  A paper found
by only one side still ranks, so a query whose words no paper contains still gets its semantic neighbours.

Filters are tantivy queries on the index's columns (category, archive, year, venue, has_code) except the author
filter, whose identity assignment lives in SQL (``authorships.identity_id``) and can change without a paper
changing.  Sorting by citations or trending reads ``paper_metrics``, which the metrics stage fills.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..store import Store
from . import query as q
from .documents import venue_key
from .index import ANALYZER, IndexNotBuilt, analyzer, open_index
from .snippets import Highlighter, plain, snippet_html
from .suggest import did_you_mean

SORTS = ("relevance", "date", "citations", "trending")
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="search-facets")
FILTER_KEYS = ("category", "year_from", "year_to", "venue", "has_code", "author")
MAX_LIMIT = 500
MAX_OFFSET = 10_000  # deeper pages are refused (a message) rather than collecting millions of hits
# Fusion: a convex combination of the two scores, BM25 divided by the best BM25 score and the cosine min-max
# normalised over the semantic candidates, 0.7 on the semantic side.  Chosen by 5-fold cross-validation on the
# 359 ICLR 2017 TL;DR known-item queries (`paperatlas bench relevance`): tuned on four folds, alpha = 0.7 or 0.75
# won on each, while reciprocal-rank fusion's best setting moved from fold to fold (k 5..100, semantic weight 3..8).
# Out of fold, MRR@10 0.875 vs 0.853 semantic alone and 0.761 BM25 alone (paired bootstrap of hybrid - semantic:
# +0.022, 95% interval 0.009..0.035); RRF k=20 w=3, the earlier default, gave +0.005 (-0.010..+0.019).
FUSION_METHOD = "score"
SCORE_ALPHA = 0.7
RRF_K = 20
BM25_WEIGHT = 1.0
SEMANTIC_WEIGHT = 3.0
FUSION_DEPTH = 100  # candidates taken from each ranking before fusing
METRIC_SORT_SCAN = 20_000  # above this many matches, walk paper_metrics in order instead of sorting all matches
SNIPPET_FIELDS = {"abstract": 260, "title": 1000}  # field -> longest fragment, in characters
HIGHLIGHT = ("abstract", "title")  # the snippets a result carries unless the caller names fewer


@dataclass
class Fusion:
    """How the two rankings combine: ``rrf`` (weighted reciprocal ranks) or ``score`` (min-max normalised scores,
    ``alpha`` of the semantic one)."""

    method: str = FUSION_METHOD
    k: float = RRF_K
    bm25_weight: float = BM25_WEIGHT
    semantic_weight: float = SEMANTIC_WEIGHT
    alpha: float = SCORE_ALPHA
    depth: int = FUSION_DEPTH


def _empty(message: str | None = None) -> dict[str, Any]:
    return {"total": 0, "results": [], "facets": {"category": {}, "year": {}}, "message": message}


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple | set):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _year(value: Any, name: str, problems: list[str]) -> int | None:
    if value is None or value == "":
        return None
    try:
        year = int(str(value).strip())
    except ValueError:
        problems.append(f"{name} must be a year, not {str(value)[:20]!r}: ignored")
        return None
    return max(-9999, min(9999, year))


def filter_query(store: Store, schema: Any, filters: dict[str, Any] | None, problems: list[str]) -> Any | None:
    """One tantivy query that every result must match, or None when there are no filters."""
    import tantivy as t

    if filters is not None and not isinstance(filters, dict):
        problems.append("filters must be a mapping: ignored")
        filters = None
    filters = dict(filters or {})
    musts: list[Any] = []
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        problems.append(f"unknown filter {', '.join(unknown)}: ignored (known: {', '.join(FILTER_KEYS)})")
    categories = _as_list(filters.get("category"))
    if categories:
        alts = []
        for c in categories:
            if "." in c:
                alts.append(t.Query.term_query(schema, "category", c))
            else:  # an archive (cs: every cs.*), or a category without subjects (hep-th, quant-ph, cmp-lg)
                alts.append(t.Query.term_query(schema, "archive", c.lower()))
                alts.append(t.Query.term_query(schema, "category", c))
        musts.append(alts[0] if len(alts) == 1 else t.Query.boolean_query([(t.Occur.Should, a) for a in alts]))
    lo = _year(filters.get("year_from"), "year_from", problems)
    hi = _year(filters.get("year_to"), "year_to", problems)
    if lo is not None or hi is not None:
        musts.append(t.Query.range_query(schema, "year", t.FieldType.Integer, lo, hi))
    venues = _as_list(filters.get("venue"))
    if venues:
        alts = [t.Query.term_query(schema, "venue_key", venue_key(v)) for v in venues]
        musts.append(alts[0] if len(alts) == 1 else t.Query.boolean_query([(t.Occur.Should, a) for a in alts]))
    has_code = filters.get("has_code")
    if has_code not in (None, ""):
        flag = has_code if isinstance(has_code, bool) else str(has_code).lower() in ("1", "true", "yes", "on")
        musts.append(t.Query.term_query(schema, "has_code", 1 if flag else 0))
    authors = _as_list(filters.get("author"))
    if authors:
        marks = ",".join("?" * len(authors))
        ids = [r[0] for r in store.db.query_tuples(
            f"SELECT DISTINCT a.paper_id FROM authorships a JOIN identities i ON i.id = a.identity_id "
            f"WHERE i.aid IN ({marks})", authors)]
        if not ids:
            problems.append(f"no papers for author {', '.join(authors)}")
        musts.append(t.Query.term_set_query(schema, "paper_id", ids) if ids else t.Query.empty_query())
    if not musts:
        return None
    return musts[0] if len(musts) == 1 else t.Query.boolean_query([(t.Occur.Must, m) for m in musts])


def all_of(*queries: Any) -> Any | None:
    """All of these queries (None ones left out); None when there is nothing to require."""
    import tantivy as t

    present = [x for x in queries if x is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return t.Query.boolean_query([(t.Occur.Must, x) for x in present])


def _facets(searcher: Any, query: Any) -> dict[str, dict[str, int]]:
    agg = searcher.aggregate(query, {"category": {"terms": {"field": "category", "size": 20}},
                                     "year": {"terms": {"field": "year", "size": 60}}})
    out: dict[str, dict[str, int]] = {}
    for name in ("category", "year"):
        buckets = agg.get(name, {}).get("buckets", [])
        out[name] = {str(int(b["key"]) if name == "year" else b["key"]): int(b["doc_count"]) for b in buckets}
    out["year"] = dict(sorted(out["year"].items(), reverse=True))
    return out


def _metric_order(store: Store, searcher: Any, schema: Any, query: Any, total: int, metric: str,
                  need: int) -> list[tuple[int, float]]:
    """Matches ordered by a paper_metrics column (citations or trending), best first, at least ``need`` of them."""
    import tantivy as t

    column = "citations" if metric == "citations" else "trending"
    db = store.db
    if total <= METRIC_SORT_SCAN:
        hits = searcher.search(query, max(total, 1), count=False).hits
        ids = [int(v) for v in searcher.fast_field_values("paper_id", [a for _, a in hits])]
        values: dict[int, float] = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            marks = ",".join("?" * len(chunk))
            for pid, value in db.query_tuples(
                f"SELECT paper_id, {column} FROM paper_metrics WHERE paper_id IN ({marks})", chunk
            ):
                values[int(pid)] = float(value or 0)
        return sorted(((i, values.get(i, 0.0)) for i in ids), key=lambda x: (-x[1], -x[0]))
    # Many matches: walk the metric's order and keep the papers that match, until we have enough.
    found: list[tuple[int, float]] = []
    batch = 2000
    after = 0
    while len(found) < need:
        rows = db.query_tuples(
            f"SELECT paper_id, {column} FROM paper_metrics ORDER BY {column} DESC, paper_id DESC "
            f"LIMIT {batch} OFFSET {after}")
        if not rows:
            break
        after += len(rows)
        value_of = {int(r[0]): float(r[1] or 0) for r in rows}
        sub = all_of(query, t.Query.term_set_query(schema, "paper_id", list(value_of)))
        hits = searcher.search(sub, len(rows), count=False).hits
        matched = {int(v) for v in searcher.fast_field_values("paper_id", [a for _, a in hits])}
        found.extend((i, value_of[i]) for i in value_of if i in matched)
    if len(found) < need:  # papers without metrics come last, newest first
        have = {i for i, _ in found}
        hits = searcher.search(query, need + len(have), count=False, order_by_field="date").hits
        for pid in searcher.fast_field_values("paper_id", [a for _, a in hits]):
            if int(pid) not in have:
                found.append((int(pid), 0.0))
    found.sort(key=lambda x: -x[1])
    return found


def _addresses(searcher: Any, schema: Any, paper_ids: list[int], restrict: Any | None) -> dict[int, Any]:
    """DocAddress of each paper id that passes ``restrict`` (filters): one tantivy query for the lot."""
    import tantivy as t

    if not paper_ids:
        return {}
    sub = all_of(t.Query.term_set_query(schema, "paper_id", paper_ids), restrict)
    hits = searcher.search(sub, len(paper_ids), count=False).hits
    addrs = [a for _, a in hits]
    return {int(v): a for v, a in zip(searcher.fast_field_values("paper_id", addrs), addrs, strict=True)}


def semantic_candidates(store: Store, text: str, depth: int, vindex: Any = None) -> list[tuple[int, float]] | None:
    """Nearest papers to the query's embedding, or None when there are no embeddings (BM25 alone then)."""
    from .encoder import encode_query
    from .vectors import open_vectors

    vindex = vindex if vindex is not None else open_vectors(store)
    if vindex is None or vindex.size == 0 or not text:
        return None
    # the vectors' model exported for queries (QueryEncoderNotBuilt, saying what to run, when it is not there)
    return vindex.search(encode_query(text, vindex.model, store.data_dir), depth)[0]


def fuse(rankings: list[tuple[list[int], float]], k: float) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion: sum of weight / (k + rank) over the rankings a paper appears in."""
    scores: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, pid in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda x: -x[1])


def fuse_scores(bm25: list[tuple[int, float]], semantic: list[tuple[int, float]],
                alpha: float) -> list[tuple[int, float]]:
    """Convex combination ``(1 - alpha) * bm25 / best bm25 + alpha * min-max(cosine)``; a paper missing from one
    list gets 0 there.  BM25 is divided by its best score rather than min-max normalised, so a lone BM25 match
    (a rare word, a model's name) keeps its full weight instead of normalising to 0; ties keep BM25's order."""
    nb: dict[int, float] = {}
    if bm25:
        best = max(s for _, s in bm25)
        nb = {pid: (s / best if best > 0 else 1.0) for pid, s in bm25}
    ns: dict[int, float] = {}
    if semantic:
        values = [s for _, s in semantic]
        lo, hi = min(values), max(values)
        span = hi - lo
        ns = {pid: ((s - lo) / span if span > 0 else 1.0) for pid, s in semantic}
    order = dict.fromkeys([*nb, *ns])
    scores = [(pid, (1 - alpha) * nb.get(pid, 0.0) + alpha * ns.get(pid, 0.0)) for pid in order]
    return sorted(scores, key=lambda x: -x[1])


def fused(fusion: Fusion, bm25: list[tuple[int, float]], semantic: list[tuple[int, float]]) -> list[tuple[int, float]]:
    if fusion.method == "score":
        return fuse_scores(bm25, semantic, fusion.alpha)
    return fuse([([p for p, _ in bm25], fusion.bm25_weight), ([p for p, _ in semantic], fusion.semantic_weight)],
                fusion.k)


def search_papers(store: Store, query: str, *, limit: int = 20, offset: int = 0, filters: dict | None = None,
                  sort: str = "relevance", mode: str = "auto", facets: bool = False,
                  fusion: Fusion | None = None, require_all: bool = False,
                  explain: bool = False, highlight: tuple[str, ...] = HIGHLIGHT) -> dict[str, Any]:
    """Ranked papers for ``query`` (see :mod:`paperatlas.search.query` for the syntax); never raises on input.

    Raises :class:`IndexNotBuilt` when there is no index to search: the caller says what to run.
    ``require_all``: only papers with every word (a saved search in a digest), never the any-word fallback.
    ``highlight``: the snippet fields to cut, ``abstract`` (a result's ``snippet``) and ``title`` (its
    ``title_html``); a result leaves out the ones not named.  Cutting them is a fifth of a search's Python time
    past the query's embedding, and the site shows paper cards with their own titles (and no snippet in a feed).

    ``mode``: ``auto`` (hybrid when embeddings exist, else BM25), ``bm25``, ``semantic`` or ``hybrid``.
    Returns ``total``, ``results`` (paper_id, pid, score, snippet, title, authors, year, date), ``facets``
    ({category: {...}, year: {...}}: counted over every match only when ``facets`` is true, the costliest part
    of a query at 1M papers, so only the callers that show them ask; empty otherwise) and ``message`` (None, or
    why the query or a filter was not used as given).
    """
    import tantivy as t

    problems: list[str] = []
    try:
        limit = max(0, min(int(limit), MAX_LIMIT))
        offset = max(0, int(offset))
    except (TypeError, ValueError):
        return _empty("limit and offset must be whole numbers")
    if offset > MAX_OFFSET:
        return _empty(f"offset {offset} is too deep: at most {MAX_OFFSET}; narrow the query or add filters")
    if sort not in SORTS:
        problems.append(f"unknown sort {sort!r}: sorted by relevance (known: {', '.join(SORTS)})")
        sort = "relevance"
    index = open_index(store)
    if index is None:
        raise IndexNotBuilt(store.data_dir)
    searcher = index.searcher()
    schema = index.schema
    parsed = q.parse(query if isinstance(query, str) else str(query or ""))
    restrict = filter_query(store, schema, filters, problems)
    negations = [(t.Occur.MustNot, q.clause_query(schema, c, searcher)) for c in parsed.clauses if c.negated]

    if parsed.empty and parsed.raw.strip() and not negations:
        typed = parsed.raw.strip()[:80]
        problems.insert(0, f"nothing to search for in {typed!r}: type words, a \"phrase\" or a prefix*")
        return _empty("; ".join(problems))
    browse = parsed.empty
    if browse and sort == "relevance":
        sort = "date"
    fz = fusion or Fusion()
    plan = plan_query(store, searcher, schema, parsed, restrict, negations, mode=mode, browse=browse, fusion=fz,
                      require_all=require_all, explain=explain)
    problems.extend(plan.problems)
    need = offset + limit
    # Facets aggregate over the result set, the costliest part of a page at 1M papers; tantivy releases the GIL,
    # so they run on a second core while we search, fetch documents and cut snippets.
    facet_job = _POOL.submit(_facets, searcher, plan.result_set) if facets else None
    addresses: dict[int, Any] = {}
    if sort == "relevance":
        count, scored, why, addresses = relevance_order(searcher, plan, need, fz)
    elif sort == "date":
        found = searcher.search(plan.result_set, max(need, 1), count=True, order_by_field="date")
        count, hits = found.count, found.hits
        ids = [int(v) for v in searcher.fast_field_values("paper_id", [a for _, a in hits])]
        scored, why = [(pid, float(key)) for pid, (key, _) in zip(ids, hits, strict=True)], {}
        addresses = {pid: a for pid, (_, a) in zip(ids, hits, strict=True)}
    else:
        count = searcher.search(plan.result_set, 1, count=True).count
        scored, why = _metric_order(store, searcher, schema, plan.result_set, count, sort, need), {}
    page = scored[offset:need]
    missing = [pid for pid, _ in page if pid not in addresses]
    if missing:
        addresses.update(_addresses(searcher, schema, missing, None))
    snippet_q = plan.text_query if not browse else None
    results = _results(searcher, schema, snippet_q, parsed,
                       [(pid, score, addresses[pid]) for pid, score in page if pid in addresses], highlight)
    if explain:
        for r in results:
            r["explain"] = why.get(r["paper_id"], {"order": sort})
    out: dict[str, Any] = {
        "total": int(count),
        "results": results,
        "facets": facet_job.result() if facet_job is not None else {"category": {}, "year": {}},
        "message": "; ".join(problems) or None,
    }
    if count == 0 and not browse:
        out["message"] = "; ".join(["no papers match", *problems])
        out["suggestions"] = did_you_mean(searcher, schema, parsed)
    if explain:
        out["explain"] = {"words": plan.words, "tiers": [name for name, _ in plan.tiers],
                          "semantic_floor": SEMANTIC_FLOOR if plan.semantic is not None else None,
                          "semantic_candidates": len(plan.semantic or {}),
                          "semantic_only": plan.semantic_only}
    return out


@dataclass
class Plan:
    """One query's result set and what ranks it, computed once, whatever page, sort or facet is asked for.

    ``result_set`` is every paper the query returns: the lexical matches (all the words; any of them when fewer
    than ``ANY_WORD_BELOW`` papers in the whole index have all of them; or the author name) plus the semantic
    neighbours above ``SEMANTIC_FLOOR``, within the filters.  Its count is the total, facets count it, every sort
    orders it: so paging reaches exactly ``total`` papers, and a facet count is what clicking it gives (a filter
    only narrows each part: the word mode is decided without filters, and the neighbours are the same
    ``FUSION_DEPTH`` nearest papers, filtered).

    It is also scored for relevance in one tantivy pass: BM25 of the words, plus a constant ``TIER_STEP`` x
    weight for each tier a paper matches (author name exact 4, with a middle name 2, every word in the title or
    authors 1), so tantivy's own top-k is already tier first, BM25 within a tier.
    """

    schema: Any
    result_set: Any
    text_query: Any  # the words alone (snippets highlight them)
    tiers: list[tuple[str, Any]]  # (why, query), most important first
    semantic: dict[int, float] | None  # paper id -> cosine, neighbours above the floor (filters not yet applied)
    semantic_only: int | None  # neighbours in the set that are not word matches (counted only for --explain)
    words: str
    problems: list[str]
    mode: str = "auto"


ANY_WORD_BELOW = 10  # fewer papers than this (in the whole index) with all the words: match any of them instead
# Cosine similarity (all-MiniLM-L6-v2, unit vectors) a semantic neighbour needs to join the results.  Calibrated
# on the demo store and the ICLR 2017 TL;DRs: the nearest paper to a string of random letters scores 0.26-0.46
# (median 0.32, 95th percentile 0.40, 60 strings), "hello world" 0.47; a TL;DR's own paper scores 0.36-0.95
# (1st percentile 0.36, 5th 0.47, median 0.69).  At 0.45, 3.6% of TL;DR targets fall below (BM25 may still
# find them) and most random strings do; the rest of the nonsense is stopped by ``vocabulary_hit``: a query none
# of whose words any paper contains gets no semantic neighbours at all.
SEMANTIC_FLOOR = 0.45


TIER_STEP = 10_000.0  # above any BM25 sum of a query (a few hundred at most), so tiers never mix


def _const(query: Any, score: float) -> Any:
    import tantivy as t

    return t.Query.const_score_query(query, score)


def title_author_query(schema: Any, parsed: q.ParsedQuery, searcher: Any) -> Any | None:
    """Papers whose title or author list holds every positive word (each word in either): lexical evidence that
    no semantic neighbour may outrank.  None when a clause cannot match those fields (an abstract phrase, an id)."""
    import tantivy as t

    musts = []
    for clause in parsed.positive:
        fields = tuple(f for f in ("title", "authors") if f in clause.fields)
        if clause.kind == "id" or not fields:
            return None
        musts.append((t.Occur.Must, q.clause_query(schema, q.Clause(clause.kind, clause.words, fields,
                                                                       text=clause.text), searcher)))
    return t.Query.boolean_query(musts) if musts else None


def vocabulary_hit(schema: Any, searcher: Any, parsed: q.ParsedQuery) -> bool:
    """Whether any positive word of the query (or an identifier) occurs in some paper, on the whole index."""
    import tantivy as t

    parts = []
    for clause in parsed.positive:
        if clause.kind in ("id", "prefix"):
            parts.append(q.clause_query(schema, clause, searcher))
            continue
        for word in clause.words:
            parts.append(q.clause_query(schema, q.Clause("term", [word], clause.fields, text=word), searcher))
    if not parts:
        return False
    return searcher.search(t.Query.boolean_query([(t.Occur.Should, p) for p in parts]), 1, count=True).count > 0


def plan_query(store: Store, searcher: Any, schema: Any, parsed: q.ParsedQuery, restrict: Any | None,
               negations: list[Any], *, mode: str, browse: bool, fusion: Fusion, require_all: bool = False,
               explain: bool = False) -> Plan:
    """The query's result set, scored with its tiers (see :class:`Plan`).  ``require_all``: only papers with every
    word (a digest's saved search): no any-word fallback, no author-name-only match, no neighbours."""
    import tantivy as t

    from .people import name_tiers

    problems: list[str] = []
    excluded = t.Query.boolean_query([(t.Occur.Must, t.Query.all_query()), *negations]) if negations else None
    within = all_of(restrict, excluded)
    text_q = q.text_query(schema, parsed, all_words=True, searcher=searcher)
    positive_words = [c for c in parsed.positive if c.kind != "id"]
    lexical_count = None
    if not browse:
        # decided on the whole index, not the filtered part: a filter (or a clicked facet) narrows the set but
        # never changes which papers count as matches
        lexical_count = searcher.search(text_q, 1, count=True).count
        if lexical_count < ANY_WORD_BELOW and len(positive_words) > 1 and not require_all:
            any_q = q.text_query(schema, parsed, all_words=False, searcher=searcher)
            any_count = searcher.search(any_q, 1, count=True).count
            if any_count > lexical_count:
                if lexical_count == 0:
                    problems.append("no paper has all the words: showing papers with any of them")
                text_q, lexical_count = any_q, any_count
    tiers: list[tuple[str, Any]] = []
    if not browse and mode != "semantic":
        tiers = name_tiers(schema, parsed)
        title_q = title_author_query(schema, parsed, searcher)
        if title_q is not None:
            tiers.append(("every word in the title or authors", title_q))
    semantic: dict[int, float] | None = None
    use_semantic = mode in ("auto", "hybrid", "semantic") and not browse and not require_all
    if use_semantic and not lexical_count and not vocabulary_hit(schema, searcher, parsed):
        # no word of the query occurs in any paper: its embedding is the model's guess at letters, not a meaning
        # the corpus shares (nonsense strings reach cosine 0.46 with some paper), so it finds nothing
        use_semantic = False
        problems.append("no paper contains any word of the query")
    if use_semantic:
        from .vectors import open_vectors

        vindex = open_vectors(store)
        found = semantic_candidates(store, parsed.free_text(), fusion.depth, vindex) if vindex is not None else None
        if found is not None:
            semantic = {pid: s for pid, s in found if s >= SEMANTIC_FLOOR}
    if semantic is None and mode == "semantic":
        problems.append("semantic search needs embeddings: none are indexed yet")
    near = t.Query.term_set_query(schema, "paper_id", list(semantic)) if semantic else None
    n = len(tiers)
    boosts = [(t.Occur.Should, _const(tq, TIER_STEP * 2 ** (n - 1 - i))) for i, (_, tq) in enumerate(tiers)]
    if mode == "semantic":
        core = near if near is not None else t.Query.empty_query()
    elif require_all:
        core = t.Query.boolean_query([(t.Occur.Must, text_q), *boosts])
    else:
        core = t.Query.boolean_query([(t.Occur.Should, text_q), *boosts,
                                      *([(t.Occur.Should, _const(near, 0.0))] if near is not None else [])])
    result_set = all_of(core, _const(within, 0.0) if within is not None else None)
    semantic_only = None
    if explain and semantic:
        lexical = t.Query.boolean_query([(t.Occur.Should, text_q), *boosts])
        inside = searcher.search(all_of(near, _const(within, 0.0) if within is not None else None), len(semantic),
                                 count=True).count
        semantic_only = inside - searcher.search(all_of(near, lexical, within), 1, count=True).count
    return Plan(schema, result_set, text_q, tiers, semantic, semantic_only, parsed.free_text(), problems, mode)


def _tier_name(plan: Plan, tier: int, lexical: bool) -> str:
    if tier <= 0:
        return "words" if lexical else "meaning"
    return plan.tiers[len(plan.tiers) - tier.bit_length()][0]


def relevance_order(searcher: Any, plan: Plan, need: int, fusion: Fusion
                    ) -> tuple[int, list[tuple[int, float]], dict[int, dict[str, Any]], dict[int, Any]]:
    """(total, the result set in relevance order as far as ``need``, why each ranks there, DocAddress by id).

    One tantivy search, tier first then BM25 (:class:`Plan`), gives the lexical order.  The first
    ``fusion.depth`` of it and the neighbours above the floor form the pool, fused (BM25 / best BM25 and the
    cosine); the order is then: tier, pool before the rest, fused score (pool) or BM25 (rest).  Every paper the
    page could need is among the ``depth + need + neighbours`` best of that search, since each of those comes
    before any paper ranked lower in it.  Nothing depends on the page asked for, so pages never overlap.
    """
    import tantivy as t

    schema = plan.schema
    near = plan.semantic or {}
    found = searcher.search(plan.result_set, fusion.depth + need + len(near), count=True)
    hits = found.hits
    ids = [int(v) for v in searcher.fast_field_values("paper_id", [a for _, a in hits])]
    addresses = {pid: a for pid, (_, a) in zip(ids, hits, strict=True)}
    raw = {pid: float(score) for pid, (score, _) in zip(ids, hits, strict=True)}
    sem: dict[int, float] = {}
    if near:
        sub = searcher.search(all_of(t.Query.term_set_query(schema, "paper_id", list(near)), plan.result_set),
                              len(near), count=False).hits
        sub_ids = [int(v) for v in searcher.fast_field_values("paper_id", [a for _, a in sub])]
        for pid, (score, address) in zip(sub_ids, sub, strict=True):
            addresses.setdefault(pid, address)
            raw.setdefault(pid, float(score))
            sem[pid] = near[pid]
    tier = {pid: int(score // TIER_STEP) for pid, score in raw.items()}
    bm = {pid: score - tier[pid] * TIER_STEP for pid, score in raw.items()}
    pool_ids = list(dict.fromkeys([*ids[:fusion.depth], *sem]))
    if plan.mode == "semantic":
        pool_score = dict(sem)
    elif plan.semantic is None:
        pool_score = {pid: bm[pid] for pid in pool_ids}
    else:
        lexical = sorted(((pid, bm[pid]) for pid in pool_ids if bm[pid] > 0), key=lambda x: -x[1])
        pool_score = dict(fused(fusion, lexical, sorted(sem.items(), key=lambda x: -x[1])))
    order = sorted(raw, key=lambda pid: (-tier[pid], pid not in pool_score,
                                         -(pool_score.get(pid, bm[pid]))))
    scored = [(pid, pool_score.get(pid, bm[pid])) for pid in order[:need]]
    why = {pid: {"tier": _tier_name(plan, tier[pid], bm[pid] > 0), "bm25": round(bm[pid], 4) if bm[pid] else None,
                 "cosine": round(sem[pid], 4) if pid in sem else None} for pid, _ in scored}
    return int(found.count), scored, why, addresses


def highlighters(parsed: q.ParsedQuery, fields: tuple[str, ...] = HIGHLIGHT) -> dict[str, Highlighter]:
    """One :class:`Highlighter` per snippet field in ``fields``, from the query's positive clauses on that field."""
    out = {}
    for name, max_chars in SNIPPET_FIELDS.items():
        if name not in fields:
            continue
        terms: list[str] = []
        prefixes: list[str] = []
        for clause in parsed.positive:
            if name not in clause.fields:
                continue
            if clause.kind == "prefix":
                prefixes.extend(clause.words)
            elif clause.kind in ("term", "phrase"):
                terms.extend(clause.words)
        out[name] = Highlighter(terms, prefixes, _analyze_paper, ANALYZER, max_chars)
    return out


def _analyze_paper(text: str) -> list[str]:
    return analyzer(ANALYZER).analyze(text)


def _results(searcher: Any, schema: Any, text_q: Any | None, parsed: q.ParsedQuery,
             rows: list[tuple[int | None, float, Any]], highlight: tuple[str, ...] = HIGHLIGHT) -> list[dict[str, Any]]:
    """One result per (paper_id or None: read it from the document, score, DocAddress), from its stored fields;
    the snippets of the ``highlight`` fields only (``snippet`` for the abstract, ``title_html`` for the title)."""
    import tantivy as t

    marks = highlighters(parsed, highlight) if text_q is not None and rows else {}
    fallback: dict[str, Any] = {}  # tantivy's snippet generators, made only for a non-ASCII text

    def snippet(name: str, doc: Any, text: str) -> str:
        max_chars = SNIPPET_FIELDS[name]
        marker = marks.get(name)
        if marker is None or marker.empty or not text:
            return plain(text, max_chars)
        if text.isascii():
            return marker.html(text) or plain(text, max_chars)
        if name not in fallback:
            gen = t.SnippetGenerator.create(searcher, text_q, schema, name)
            gen.set_max_num_chars(max_chars)
            fallback[name] = gen
        return snippet_html(fallback[name], doc, text, max_chars)

    out = []
    for pid, score, addr in rows:
        doc = searcher.doc(addr)
        title = doc.get_first("title") or ""
        date = doc.get_first("date") or 0
        result: dict[str, Any] = {
            "paper_id": pid if pid is not None else int(doc.get_first("paper_id")),
            "pid": doc.get_first("pid"),
            "score": round(float(score), 6),
        }
        if "abstract" in highlight:  # (the keys in the order they always had)
            result["snippet"] = snippet("abstract", doc, doc.get_first("abstract") or "")
        result["title"] = title
        if "title" in highlight:
            result["title_html"] = snippet("title", doc, title)
        result.update(authors=doc.get_all("authors"), year=doc.get_first("year") or None,
                      date=f"{date // 10000:04d}-{date // 100 % 100:02d}-{date % 100:02d}" if date else None,
                      categories=doc.get_all("category"))
        out.append(result)
    return out


def similar_papers(store: Store, paper_id: int, limit: int = 10) -> list[tuple[int, float]]:
    """Papers closest to ``paper_id`` by embedding (cosine), best first, itself left out.

    Without an embedding for that paper (none computed yet) we fall back to BM25 on its title and abstract, so
    every paper page still has neighbours.
    """
    import numpy as np

    from .vectors import open_vectors

    vindex = open_vectors(store)
    vector = None
    if vindex is not None:
        blob = store.db.scalar("SELECT vector FROM embeddings WHERE paper_id = ? AND model = ?",
                               (int(paper_id), vindex.model))
        if blob is not None:
            vector = np.frombuffer(bytes(blob), dtype="<f4").reshape(1, -1)
    if vector is not None and vector.shape[1] == vindex.dim:
        found = vindex.search(vector, limit + 1)[0]
        return [(pid, score) for pid, score in found if pid != paper_id][:limit]
    row = store.db.query("SELECT title, abstract FROM papers WHERE id = ?", (int(paper_id),))
    if not row:
        return []
    text = " ".join(filter(None, [row[0]["title"], (row[0]["abstract"] or "")[:600]]))
    words = " ".join(dict.fromkeys(w for w in text.split() if w.isalpha() and len(w) > 3))
    found = search_papers(store, words, limit=limit + 1, mode="bm25", facets=False)
    return [(r["paper_id"], r["score"]) for r in found["results"] if r["paper_id"] != paper_id][:limit]
