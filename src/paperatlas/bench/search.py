"""``paperatlas bench search --papers N``: index build time and query latency at scale, beside the floor and a
baseline measured in the same run.

Corpus: the 102,538 real papers of the 2016 arXiv cs OAI-PMH harvest (../shared/data), minus a held-out set
whose titles and abstracts give the queries; above that, synthetic papers assembled from real parts
(``search.corpus.scaled_papers``: real categories/years/author counts, titles mixing two real titles, abstracts of
real sentences, real author names), streamed into a fresh store (never 1M objects in memory).  The full-text index
is then built by the real build stage (``search.stage.update_text``), from the store.

Semantic half: a sample of real papers is embedded with the real model (cached in the data folder); the N corpus
vectors are those real vectors plus Gaussian noise, renormalised (we do not embed 1M texts), added to the same
faiss index the stage builds.  Query vectors come from the real model at query time, as in production.

Figures, per query kind (keyword = 2-3 consecutive title words of a held-out paper, phrase = a real 2-3-word
phrase from a held-out abstract in quotes, filtered = keyword + its category + a year range, hybrid = keyword with
BM25 and semantic fused):

- p50/p95/p99: ``search_papers`` as the CLI and the JSON API call it (parsing, filters, count, the 20 results
  with stored fields and highlighted snippets; no facets);
- floor (the issue's "raw engine's own query time on the same queries", what the 1.5x target is checked
  against): tantivy alone answering the same query text: its own query parser (same fields, boosts, and the
  all-words-then-any-word rule; ``floor_same_top20`` is the share of queries whose top 20 equal ours, in order:
  below 1 where our tiers, which the parser cannot express, put title or author-name matches first),
  its searcher (top 20 with the count) and the stored fields of those 20 hits, since an answer needs them; for
  hybrid plus the model's query embedding and faiss, each called alone;
- floor_search: the bare tantivy search of our prebuilt query (top-k and count, no documents), the strictest
  bar, with its ratio ``vs_floor_search``;
- page_*: ``search_papers(..., facets=True)`` as the web page calls it, against floor_page = floor + tantivy's
  own facet aggregation and ``SnippetGenerator`` snippets of the 20 hits;
- baseline: a linear scan scored like arxiv-sanity-lite's search (count of each query word in authors x5, title
  x10, abstract x1) over the same papers read from the store.

Our call and the floor alternate which goes first on each query, so neither always finds the other's documents
in the cache.
"""

from __future__ import annotations

import random
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..shared_data import shared_data_dir
from .report import emit, json_option, machine, peak_rss_mb

TARGETS = {"keyword_p50_ms": 10.0, "keyword_p99_ms": 50.0, "hybrid_p99_ms": 100.0, "vs_floor": 1.5}
FLOOR_NOTE = (
    "p50/p95/p99: search_papers as the CLI and the JSON API call it (parse, filters, count, the 20 results with "
    "their stored fields and highlighted snippets; no facets). floor (what the 1.5x target is checked against, "
    "the issue's 'raw engine's own query time on the same queries'): the same query text through tantivy's own "
    "query parser (same fields, boosts, all-words-then-any-word rule; floor_same_top20 = share of queries whose "
    "top 20 equal ours, in order) and searcher (top 20 with the count), plus the stored fields of those 20 hits, "
    "since an answer needs them; for hybrid plus the model's query embedding and faiss. floor_search: the bare "
    "tantivy search of our prebuilt query (top-k and count, no documents), the strictest bar, reported beside "
    "it (vs_floor_search). page_*: search_papers with facets=True, as the web page calls it, against floor_page "
    "= floor + tantivy's own facet aggregation and SnippetGenerator snippets for the page. cpu_*: the same "
    "calls' CPU time on the calling thread (BM25 kinds), steadier than wall time when other jobs load the machine. "
    "floor_same_top20 is below 1 where our ranking tiers (the author name, every word in the title or authors, "
    "as constant-score boosts the parser cannot express) reorder what BM25 alone would rank.")
NOISE = 0.35  # norm of the Gaussian noise added to a real vector before renormalising
_WORD = re.compile(r"^[A-Za-z][a-z]{2,}$")
_STOP = {"the", "and", "for", "with", "from", "that", "this", "are", "its", "our", "their", "which", "into", "via",
         "using", "based", "on", "of", "in", "to", "we", "is", "be", "by", "an", "as", "at", "or", "can", "has",
         "have", "was", "were", "not", "these", "those", "such", "also", "than", "then", "but", "all", "new"}


def _shared_default() -> Path | None:
    return shared_data_dir("arxiv")

def _content_window(words: list[str], size: int, rng: random.Random) -> list[str] | None:
    """``size`` consecutive real words, none a stop word, all alphabetic (a fragment a person would type)."""
    starts = list(range(0, max(0, len(words) - size + 1)))
    rng.shuffle(starts)
    for start in starts:
        window = words[start:start + size]
        if all(_WORD.match(w) and w.lower() not in _STOP for w in window):
            return window
    return None


def make_queries(held_out: list[dict[str, Any]], n: int, seed: int = 11) -> dict[str, list[tuple[str, dict]]]:
    rng = random.Random(seed)
    keyword: list[tuple[str, dict]] = []
    phrase: list[tuple[str, dict]] = []
    filtered: list[tuple[str, dict]] = []
    for paper in held_out:
        title = re.sub(r"[^\w\s-]", " ", paper.get("title") or "").split()
        window = _content_window(title, rng.choice((2, 3)), rng)
        if window and len(keyword) < n:
            text = " ".join(window).lower()
            keyword.append((text, {}))
            if paper.get("primary_category") and paper.get("year") and len(filtered) < n:
                filtered.append((text, {"category": paper["primary_category"], "year_from": paper["year"] - 3,
                                        "year_to": paper["year"] + 3}))
        abstract = re.sub(r"[^\w\s-]", " ", paper.get("abstract") or "").split()
        window = _content_window(abstract, rng.choice((2, 2, 3)), rng)
        if window and len(phrase) < n:
            phrase.append(('"' + " ".join(window).lower() + '"', {}))
        if len(keyword) >= n and len(phrase) >= n and len(filtered) >= n:
            break
    return {"keyword": keyword, "phrase": phrase, "filtered": filtered, "hybrid": list(keyword)}


def _ratio(ours: float, floor: float) -> float:
    return round(ours / max(floor, 1e-6), 2)


def _pct(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values) * 1000.0
    return {"p50_ms": round(float(np.percentile(arr, 50)), 3), "p95_ms": round(float(np.percentile(arr, 95)), 3),
            "p99_ms": round(float(np.percentile(arr, 99)), 3)}


def _real_vectors(cache: Path, papers: list[dict[str, Any]], count: int, show: bool) -> tuple[np.ndarray, str]:
    """MiniLM vectors of ``count`` real papers, computed once and kept in the data folder."""
    from ..embeddings import get_embedder
    from ..embeddings.store import paper_text

    embedder = get_embedder()
    safe = re.sub(r"[^\w.-]", "_", embedder.name)
    path = cache / f"bench-search-real-vectors-{safe}-{count}.npy"
    if path.exists():
        return np.load(path), embedder.name
    sample = random.Random(5).sample(papers, min(count, len(papers)))
    if show:
        click.echo(f"embedding {len(sample)} real papers once (cached in {path})", err=True)
    matrix = embedder.encode([paper_text(p.get("title"), p.get("abstract")) for p in sample])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, matrix)
    return matrix, embedder.name


def _build_vectors(store: Any, real: np.ndarray, n: int, model: str) -> dict[str, Any]:
    from ..search import vectors as vec

    rng = np.random.default_rng(3)
    dim = real.shape[1]

    def chunk(size: int) -> np.ndarray:
        base = real[rng.integers(0, len(real), size)]
        noisy = base + rng.normal(0.0, NOISE / np.sqrt(dim), (size, dim)).astype(np.float32)
        return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)

    started = time.perf_counter()
    sample = chunk(min(n, 100_000))
    index, kind = vec.new_index(dim, n, sample)
    train_s = time.perf_counter() - started
    step = 50_000
    for start in range(0, n, step):
        size = min(step, n - start)
        block = sample[start:start + size] if start + size <= len(sample) else chunk(size)
        index.add_with_ids(block, np.arange(start + 1, start + size + 1, dtype=np.int64))
    vindex = vec.VectorIndex(index, model, dim, kind)
    ids = np.arange(1, n + 1, dtype=np.int64)
    vec.save(store, vindex, ids, np.zeros(n, dtype=np.int64))
    return {"vector_build_s": round(time.perf_counter() - started, 2), "vector_train_s": round(train_s, 2),
            "vector_index": kind, "vectors": n}


def _floor_string(text: str, filters: dict) -> tuple[str, str | None]:
    """The bench query in tantivy's own query language: (all words required, any word with the filters required).

    Keyword/phrase text is passed as typed (a phrase keeps its quotes); the filters the bench uses (one category,
    a year range) become ``category:"cs.LG" year:[a TO b]`` clauses.
    """
    musts = []
    if filters.get("category"):
        musts.append(f'category:"{filters["category"]}"')
    if filters.get("year_from") is not None or filters.get("year_to") is not None:
        lo = filters.get("year_from", "*")
        hi = filters.get("year_to", "*")
        musts.append(f"year:[{lo} TO {hi}]")
    every = " ".join([text, *musts])
    words = [w for w in text.replace('"', " ").split() if w]
    if text.startswith('"') or len(words) < 2:
        return every, None
    return every, " ".join([f"+({text})", *(f"+{m}" for m in musts)])


def _floor_parse(index: Any, text: str, filters: dict, kind: str) -> tuple[Any, Any | None]:
    """What tantivy's own parser makes of the same text, with the same fields and boosts as ``search_papers``:
    (all words required, any word required or None)."""
    from ..search.index import TEXT_FIELDS
    from ..search.query import PHRASE_FIELDS

    fields = list(PHRASE_FIELDS) if kind == "phrase" else list(TEXT_FIELDS)
    every, any_word = _floor_string(text, filters)
    parsed = index.parse_query(every, fields, field_boosts=TEXT_FIELDS, conjunction_by_default=True)
    other = index.parse_query(any_word, fields, field_boosts=TEXT_FIELDS) if any_word is not None else None
    return parsed, other


def _raw_engine(index: Any, searcher: Any, text: str, filters: dict, kind: str, depth: int) -> tuple[float, list]:
    """The floor: tantivy alone answering the query: its parser, its searcher (top ``depth`` with the count; when
    fewer than a page match all the words, the any-word query too, the rule ``search_papers`` follows) and the
    stored fields of the 20 hits a page shows.  Returns (seconds, hits)."""
    started = time.perf_counter()
    every, any_word = _floor_parse(index, text, filters, kind)
    found = searcher.search(every, depth, count=True)
    if found.count < 20 and any_word is not None:
        other = searcher.search(any_word, depth, count=True)
        if other.count > found.count:
            found = other
    for _, addr in found.hits[:20]:
        searcher.doc(addr)
    return time.perf_counter() - started, found.hits


def _engine_query(store: Any, searcher: Any, schema: Any, text: str, filters: dict) -> Any:
    """The exact tantivy query ``search_papers`` ends up running (all words, or any word when too few match)."""
    from ..search import query as q
    from ..search.engine import all_of, filter_query

    parsed = q.parse(text)
    restrict = filter_query(store, schema, filters, [])
    full = all_of(q.text_query(schema, parsed, all_words=True, searcher=searcher), restrict)
    if searcher.search(full, 1, count=True).count < 20 and len([c for c in parsed.positive if c.kind != "id"]) > 1:
        other = all_of(q.text_query(schema, parsed, all_words=False, searcher=searcher), restrict)
        if searcher.search(other, 1, count=True).count > 0:
            return other
    return full


def _native_extras(searcher: Any, schema: Any, qobj: Any, docs: list) -> float:
    """What a result page needs beyond the floor, done by tantivy's own calls alone: facets (terms aggregations
    over every match) and the title and abstract snippets of the page's stored documents.  Floor + this =
    "floor_page", the bar for the search page (``search_papers(..., facets=True)``)."""
    import tantivy as t

    started = time.perf_counter()
    searcher.aggregate(qobj, {"category": {"terms": {"field": "category", "size": 20}},
                              "year": {"terms": {"field": "year", "size": 60}}})
    gens = [t.SnippetGenerator.create(searcher, qobj, schema, name) for name in ("abstract", "title")]
    for doc in docs:
        for gen in gens:
            gen.snippet_from_doc(doc).to_html()
    return time.perf_counter() - started


def _baseline_scan(store: Any, text: str) -> float:
    """arxiv-sanity-lite's search: score every paper by counting the query words; keep the top 100."""
    words = text.lower().replace('"', " ").split()
    started = time.perf_counter()
    pairs = []
    for pid, title, abstract, authors in store.db.iterate(
        "SELECT p.id, p.title, p.abstract, (SELECT group_concat(name, ', ') FROM authorships a "
        "WHERE a.paper_id = p.id) FROM papers p", batch=10_000
    ):
        authors_l, title_l, abstract_l = (authors or "").lower(), (title or "").lower(), (abstract or "").lower()
        score = 0.0
        for w in words:
            score += 5.0 * authors_l.count(w) + 10.0 * title_l.count(w) + abstract_l.count(w)
        if score > 0:
            pairs.append((score, pid))
    pairs.sort(reverse=True)
    _ = pairs[:100]
    return time.perf_counter() - started


BUILD_KEYS = ("store_load_s", "index_build_s", "index_docs_per_s", "index_size_mb", "vector_build_s",
              "vector_train_s", "vector_index", "vectors", "vectors_note")


def _save_build_figures(base: Path, figures: dict[str, Any]) -> None:
    import orjson

    (base / "bench-build.json").write_bytes(orjson.dumps({k: figures[k] for k in BUILD_KEYS if k in figures}))


def _load_build_figures(base: Path) -> dict[str, Any]:
    import orjson

    path = base / "bench-build.json"
    return orjson.loads(path.read_bytes()) if path.exists() else {}


def _build(store: Any, base: Path, real: list[dict[str, Any]], n_papers: int, with_vectors: bool, real_vectors: int,
           show: bool, app: Any, figures: dict[str, Any]) -> None:
    """Stream the corpus into the store, build the full-text index with the real stage, then the vectors."""
    from ..progress import progress
    from ..search.corpus import load_papers, scaled_papers
    from ..search.stage import update_text

    started = time.perf_counter()
    bar = progress(total=n_papers, desc="store", unit="paper", enabled=show)

    def counted(papers: Any) -> Any:
        for paper in papers:
            bar.update(1)
            yield paper

    load_papers(store, counted(scaled_papers(real, n_papers)), batch=10_000, fresh=True)
    bar.close()
    figures["store_load_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    built = update_text(store, full=True, show_progress=show)
    figures["index_build_s"] = round(time.perf_counter() - started, 2)
    figures["index_docs_per_s"] = round(built["documents"] / figures["index_build_s"], 1)
    figures["index_size_mb"] = _dir_mb(base / "index" / "tantivy")
    if with_vectors:
        kept = real[: figures["real_papers"]]
        matrix, model = _real_vectors(app.data_dir if app else base, kept, real_vectors, show)
        figures.update(_build_vectors(store, matrix, n_papers, model))
        figures["vectors_note"] = (f"{len(matrix)} real papers embedded with {model}; the corpus vectors are "
                                   f"those plus Gaussian noise (norm {NOISE}), renormalised")


def _dir_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


@click.command("search")
@click.option("--papers", "n_papers", type=click.IntRange(1000), default=100_000, show_default=True,
              help="Corpus size (real papers first, then synthetic ones built from real parts).")
@click.option("--queries", "n_queries", type=click.IntRange(10, 5000), default=200, show_default=True,
              help="Queries per kind.")
@click.option("--vectors/--no-vectors", "with_vectors", default=True, show_default=True,
              help="Build the vector index and measure hybrid queries.")
@click.option("--real-vectors", type=click.IntRange(50), default=600, show_default=True,
              help="Real papers embedded with the model (cached) to seed the corpus vectors.")
@click.option("--baseline-queries", type=click.IntRange(1), default=None,
              help="Queries for the linear-scan baseline [default: 20, or 5 at N >= 300k].")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Build the benchmark store here and keep it (default: a temporary folder, removed).")
@click.option("--reuse", is_flag=True, help="With --workdir: measure queries on the corpus and indexes already built "
              "there by an earlier run with the same --papers (build figures then come from that run).")
@click.option("--shared", "shared_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The real data folder [env PAPERATLAS_SHARED_DATA; default ../shared/data].")
@json_option
@click.pass_obj
def bench_search(app: Any, n_papers: int, n_queries: int, with_vectors: bool, real_vectors: int,
                 baseline_queries: int | None, workdir: Path | None, reuse: bool, shared_dir: Path | None,
                 as_json: bool) -> None:
    """Index build time and keyword/phrase/filtered/hybrid latency at N papers vs the tantivy floor and a linear
    scan like arxiv-sanity-lite's search, in one run."""
    from ..context import fail
    from ..search.corpus import oai_papers
    from ..search.encoder import encode_query
    from ..search.engine import search_papers
    from ..search.index import open_index
    from ..store import open_store

    shared_dir = shared_dir or _shared_default()
    if shared_dir is None or not (shared_dir / "arxiv" / "oai-pmh-cs-2016").is_dir():
        fail("no arXiv harvest under ../shared/data (use --shared PATH)")
    show = not (app.quiet if app else False)
    figures: dict[str, Any] = {"papers": n_papers}

    started = time.perf_counter()
    real = list(oai_papers(shared_dir))
    rng = random.Random(1)
    rng.shuffle(real)
    held_out, real = real[:2000], real[2000:]
    queries = make_queries(held_out, n_queries)
    figures["real_papers"] = min(n_papers, len(real))
    figures["synthetic_papers"] = max(0, n_papers - len(real))
    figures["generator"] = ("real arXiv cs 2016 harvest; above it, papers built from real parts (titles mixing two "
                            "real titles, abstracts of real sentences, real names/categories/years)")
    figures["held_out_query_papers"] = len(held_out)
    figures["parse_s"] = round(time.perf_counter() - started, 2)

    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="bench-search-"))
    reused = bool(reuse and workdir and (base / "index" / "tantivy" / "meta.json").exists())
    if reuse and not reused:
        fail("--reuse needs a --workdir holding an earlier run's corpus")
    if workdir and base.exists() and not reused:
        shutil.rmtree(base)
    try:
        store = open_store(base)
        if reused:
            have = int(store.db.scalar("SELECT COUNT(*) FROM papers") or 0)
            if have != n_papers:
                fail(f"--reuse: {base} holds {have:,} papers, not {n_papers:,}")
            figures["reused_corpus"] = str(base)
            figures.update(_load_build_figures(base))
        else:
            _build(store, base, real, n_papers, with_vectors, real_vectors, show, app, figures)
        del real
        vindex = None
        if with_vectors:
            from ..search.vectors import open_vectors

            vindex = open_vectors(store)
            if vindex is None:
                fail("no vector index in the corpus (build it without --no-vectors)")
        _save_build_figures(base, figures)
        index = open_index(store)
        searcher = index.searcher()
        schema = index.schema
        kinds = ["keyword", "phrase", "filtered"] + (["hybrid"] if with_vectors else [])
        for kind in kinds:  # warm-up: page cache, analyzers, the model
            for text, filters in queries[kind][:20]:
                search_papers(store, text, limit=20, filters=filters, mode="hybrid" if kind == "hybrid" else "bm25")
        encode_query.cache_clear()  # the warm-up must not answer the measured queries from the cache
        for kind in kinds:
            mode = "hybrid" if kind == "hybrid" else "bm25"
            depth = 100 if kind == "hybrid" else 20  # what search_papers asks tantivy for (fusion depth / a page)
            latencies, pages, floors, bares, page_floors, encodes, totals = [], [], [], [], [], [], []
            cpu: dict[str, list[float]] = {"ours": [], "floor": [], "floor_search": []}  # this thread's CPU time
            same_top = 0
            for i, (text, filters) in enumerate(queries[kind]):
                engine_q = _engine_query(store, searcher, schema, text, filters)
                embed_s, qvec = 0.0, None
                if kind == "hybrid":
                    t0 = time.perf_counter()
                    # uncached: the engine pays it too
                    qvec = encode_query.__wrapped__(text, vindex.model, store.data_dir)
                    embed_s = time.perf_counter() - t0
                    encodes.append(embed_s)

                # alternate who goes first, so neither always finds the other's documents in the cache
                for turn in ((1, 0) if i % 2 else (0, 1)):
                    c0 = time.thread_time()
                    if turn == 0:
                        t0 = time.perf_counter()
                        found = search_papers(store, text, limit=20, filters=filters, mode=mode)
                        latencies.append(time.perf_counter() - t0)
                        cpu["ours"].append(time.thread_time() - c0)
                    else:
                        spent, hits = _raw_engine(index, searcher, text, filters, kind, depth)
                        t0 = time.perf_counter()
                        if qvec is not None:
                            vindex.search(qvec, 100)
                        floors.append(spent + time.perf_counter() - t0 + embed_s)
                        cpu["floor"].append(time.thread_time() - c0)
                c0 = time.thread_time()
                t0 = time.perf_counter()
                searcher.search(engine_q, depth, count=True)
                if qvec is not None:
                    vindex.search(qvec, 100)
                bares.append(time.perf_counter() - t0 + embed_s)
                cpu["floor_search"].append(time.thread_time() - c0)
                docs = [searcher.doc(a) for _, a in hits[:20]]
                page_floors.append(floors[-1] + _native_extras(searcher, schema, engine_q, docs))
                if qvec is not None:
                    encode_query.cache_clear()  # the page pays the query embedding too
                t0 = time.perf_counter()
                search_papers(store, text, limit=20, filters=filters, mode=mode, facets=True)
                pages.append(time.perf_counter() - t0)
                totals.append(found["total"])
                if kind != "hybrid":
                    floor_ids = searcher.fast_field_values("paper_id", [a for _, a in hits[:20]])
                    same_top += [int(v) for v in floor_ids] == [r["paper_id"] for r in found["results"]]
            section = _pct(latencies)
            for name, values in (("floor", floors), ("floor_search", bares), ("page", pages),
                                 ("floor_page", page_floors)):
                section.update({f"{name}_{k}": v for k, v in _pct(values).items()})
            for pct in ("p50", "p99"):
                section[f"vs_floor_{pct}"] = _ratio(section[f"{pct}_ms"], section[f"floor_{pct}_ms"])
                section[f"vs_floor_search_{pct}"] = _ratio(section[f"{pct}_ms"], section[f"floor_search_{pct}_ms"])
                section[f"vs_floor_page_{pct}"] = _ratio(section[f"page_{pct}_ms"], section[f"floor_page_{pct}_ms"])
            if kind != "hybrid":
                section["floor_same_top20"] = round(same_top / max(1, len(latencies)), 3)
                # CPU time of the calling thread (all of a BM25 query runs there): what the work costs, free of
                # the waits another process's load adds to wall-clock figures on a shared machine
                for name, values in cpu.items():
                    section[f"cpu_{name}_p50_ms"] = round(float(np.median(values)) * 1000, 3)
                section["cpu_vs_floor_p50"] = _ratio(section["cpu_ours_p50_ms"], section["cpu_floor_p50_ms"])
                section["cpu_vs_floor_search_p50"] = _ratio(section["cpu_ours_p50_ms"],
                                                            section["cpu_floor_search_p50_ms"])
            if encodes:
                section.update({f"query_embed_{k}": v for k, v in _pct(encodes).items()})
            section["queries"] = len(latencies)
            section["median_matches"] = int(np.median(totals))
            section["example"] = queries[kind][0][0]
            figures[kind] = section
        figures["floor_note"] = FLOOR_NOTE

        n_base = baseline_queries or (5 if n_papers >= 300_000 else 20)
        scans = [_baseline_scan(store, text) for text, _ in queries["keyword"][:n_base]]
        figures["baseline_linear_scan"] = {
            **_pct(scans), "queries": len(scans),
            "what": "arxiv-sanity-lite style search: count query words in authors x5, title x10, abstract x1 "
                    "over every paper read from the store",
            "keyword_speedup_p50": round(float(np.median(scans)) * 1000 / max(figures["keyword"]["p50_ms"], 1e-6), 1),
        }
        kw = figures["keyword"]
        figures["targets"] = {
            "keyword_p50_ms<=10": kw["p50_ms"] <= TARGETS["keyword_p50_ms"],
            "keyword_p50_ratio_to_target": round(kw["p50_ms"] / TARGETS["keyword_p50_ms"], 3),
            "keyword_p99_ms<=50": kw["p99_ms"] <= TARGETS["keyword_p99_ms"],
            "keyword_p99_ratio_to_target": round(kw["p99_ms"] / TARGETS["keyword_p99_ms"], 3),
            "keyword_within_1.5x_floor_p50": kw["vs_floor_p50"] <= TARGETS["vs_floor"],
            "keyword_within_1.5x_floor_p99": kw["vs_floor_p99"] <= TARGETS["vs_floor"],
            "also_keyword_within_1.5x_floor_search_p50": kw["vs_floor_search_p50"] <= TARGETS["vs_floor"],
            "also_keyword_page_within_1.5x_floor_page_p50": kw["vs_floor_page_p50"] <= TARGETS["vs_floor"],
            "checked_against": "floor = tantivy's parser + searcher + the stored fields of the 20 hits (floor_note)",
            "keyword_cpu_within_1.5x_floor_p50": kw["cpu_vs_floor_p50"] <= TARGETS["vs_floor"],
            "keyword_cpu_within_1.5x_floor_search_p50": kw["cpu_vs_floor_search_p50"] <= TARGETS["vs_floor"],
        }
        if with_vectors:
            hy = figures["hybrid"]
            figures["targets"]["hybrid_p99_ms<=100"] = hy["p99_ms"] <= TARGETS["hybrid_p99_ms"]
            figures["targets"]["hybrid_p99_ratio_to_target"] = round(hy["p99_ms"] / TARGETS["hybrid_p99_ms"], 3)
        store.close()
    finally:
        if not workdir:
            shutil.rmtree(base, ignore_errors=True)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    figures["machine"] = machine()
    emit(f"bench search: {n_papers:,} papers", figures, as_json)
