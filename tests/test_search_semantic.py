"""Similar papers and hybrid search on real papers embedded with the real MiniLM model (embedded once per session)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from paperatlas.search import search_papers, similar_papers
from paperatlas.search.corpus import load_papers, oai_papers
from paperatlas.search.stage import update
from paperatlas.store import open_store

# three fields far apart, so "semantically close" has a checkable meaning: the same field
FIELDS = {"cs.LO": 30, "cs.NI": 30, "cs.CR": 30}


@pytest.fixture(scope="session")
def embedded_papers(shared: Path):
    """90 real papers, 30 per field, with their MiniLM vectors (title + ". " + abstract)."""
    from paperatlas.embeddings import get_embedder
    from paperatlas.embeddings.store import paper_text

    wanted = dict(FIELDS)
    chosen = []
    for paper in oai_papers(shared, limit=10_000):
        field = paper["primary_category"]
        if wanted.get(field, 0) > 0 and paper["abstract"]:
            chosen.append(paper)
            wanted[field] -= 1
        if not any(wanted.values()):
            break
    embedder = get_embedder()
    vectors = embedder.encode([paper_text(p["title"], p["abstract"]) for p in chosen])
    return chosen, vectors, embedder.name


@pytest.fixture
def semantic_store(tmp_path: Path, embedded_papers):
    from paperatlas.embeddings.store import content_hash, paper_text, to_blob

    papers, vectors, model = embedded_papers
    store = open_store(tmp_path / "data")
    load_papers(store, papers)
    ids = {value: pid for value, pid in store.db.query_tuples("SELECT value, paper_id FROM paper_ids "
                                                             "WHERE scheme = 'arxiv'")}
    rows = [(ids[p["ids"]["arxiv"]], model, content_hash(paper_text(p["title"], p["abstract"])), vectors.shape[1],
             to_blob(v)) for p, v in zip(papers, vectors, strict=True)]
    store.db.executemany("INSERT INTO embeddings (paper_id, model, content_hash, dim, vector) VALUES (?, ?, ?, ?, ?)",
                         rows)
    figures = update(store)
    assert figures["vectors"] == len(papers)
    yield store, papers, vectors, ids
    store.close()


@pytest.mark.slow
def test_similar_papers_are_semantically_close(semantic_store):
    store, papers, vectors, ids = semantic_store
    agree = Counter()
    for k in (0, 40, 80):  # one paper of each field
        seed = ids[papers[k]["ids"]["arxiv"]]
        found = similar_papers(store, seed, limit=10)
        assert len(found) == 10 and seed not in [pid for pid, _ in found]
        scores = [s for _, s in found]
        assert scores == sorted(scores, reverse=True)
        # exactly the brute-force cosine neighbours
        sims = vectors @ vectors[k]
        order = [ids[papers[i]["ids"]["arxiv"]] for i in np.argsort(-sims) if i != k][:10]
        assert [pid for pid, _ in found] == order
        field_of = {ids[p["ids"]["arxiv"]]: p["primary_category"] for p in papers}
        agree.update(field_of[pid] == papers[k]["primary_category"] for pid, _ in found)
    assert agree[True] >= 21  # at least 70% of neighbours from the seed's own field (chance: 33%)


def test_semantic_and_hybrid_modes(semantic_store):
    store, papers, _, ids = semantic_store
    target = papers[50]
    sem = search_papers(store, target["title"], mode="semantic", limit=5)
    assert sem["results"][0]["paper_id"] == ids[target["ids"]["arxiv"]]
    hybrid = search_papers(store, target["title"], mode="hybrid", limit=10)
    bm25 = search_papers(store, target["title"], mode="bm25", limit=10)
    assert hybrid["results"][0]["paper_id"] == ids[target["ids"]["arxiv"]]
    assert bm25["results"][0]["paper_id"] == ids[target["ids"]["arxiv"]]
    # filters and negations apply to semantic candidates too
    filtered = search_papers(store, "logic of proofs and modal types", mode="hybrid", limit=20,
                             filters={"category": "cs.NI"})
    assert filtered["results"] and all("cs.NI" in r["categories"] for r in filtered["results"])
    from paperatlas.search.index import ANALYZER, analyzer

    negated = search_papers(store, "network routing protocol -routing", mode="hybrid", limit=20)
    by_id = {ids[p["ids"]["arxiv"]]: p for p in papers}
    assert negated["results"]
    for r in negated["results"]:
        paper = by_id[r["paper_id"]]
        assert "rout" not in analyzer(ANALYZER).analyze(f"{paper['title']} {paper['abstract']}")


def test_vector_index_follows_embedding_changes(semantic_store):
    store, papers, vectors, ids = semantic_store
    gone = ids[papers[3]["ids"]["arxiv"]]
    moved = ids[papers[4]["ids"]["arxiv"]]
    store.db.execute("DELETE FROM embeddings WHERE paper_id = ?", (gone,))
    # paper 4 now carries paper 80's vector (as if its text had changed and been re-embedded)
    from paperatlas.embeddings.store import to_blob

    store.db.execute("UPDATE embeddings SET vector = ?, content_hash = 'changed' WHERE paper_id = ?",
                     (to_blob(vectors[80]), moved))
    figures = update(store)
    assert figures["vectors"] == len(papers) - 1 and figures["vectors_changed"] == 1
    assert figures["vectors_removed"] == 1
    near = similar_papers(store, ids[papers[80]["ids"]["arxiv"]], limit=3)
    assert near[0][0] == moved and near[0][1] > 0.99
    assert gone not in [pid for pid, _ in similar_papers(store, ids[papers[2]["ids"]["arxiv"]], limit=89)]


def test_score_fusion_keeps_a_lone_bm25_match_and_weights_both_sides():
    from paperatlas.search.engine import Fusion, fuse_scores, fused

    # a single BM25 match is the best BM25 answer, not a 0 after min-max normalisation
    ranked = fuse_scores([(7, 12.5)], [(1, 0.61), (2, 0.60), (7, 0.40)], alpha=0.7)
    assert ranked[0][0] == 1 and dict(ranked)[7] == pytest.approx(0.3)
    assert [pid for pid, _ in ranked] == [1, 2, 7]
    # semantic-only and BM25-only papers both rank; alpha moves the balance
    bm, se = [(1, 10.0), (2, 5.0)], [(3, 0.9), (1, 0.5)]
    assert [p for p, _ in fuse_scores(bm, se, 0.2)] == [1, 2, 3]
    assert next(p for p, _ in fuse_scores(bm, se, 0.9)) == 3
    assert fused(Fusion(), bm, se) == fuse_scores(bm, se, Fusion().alpha)  # the default is score fusion


def test_hybrid_is_one_result_set_with_lexical_evidence_first(semantic_store):
    """Semantic neighbours above the floor join the lexical matches: the total counts both, pages never repeat a
    paper and end at the total, any sort returns the same set, facet counts are what clicking them gives, and no
    neighbour outranks a paper with every query word in its title."""
    from paperatlas.search.engine import SEMANTIC_FLOOR, title_author_query
    from paperatlas.search.index import open_index
    from paperatlas.search.query import parse

    store, papers, _, _ids = semantic_store
    searcher = open_index(store).searcher()
    schema = open_index(store).schema
    for text in ("network", "security protocol", papers[40]["title"], papers[75]["abstract"][:120]):
        first = search_papers(store, text, mode="hybrid", limit=6, facets=True, explain=True)
        bm25 = search_papers(store, text, mode="bm25", limit=500)
        total = first["total"]
        # the lexical matches and the neighbours above the floor that share no word with the query
        assert total == bm25["total"] + first["explain"]["semantic_only"] and bm25["total"] > 0
        seen: list[int] = []
        for offset in range(0, total + 12, 6):
            page = search_papers(store, text, mode="hybrid", limit=6, offset=offset, explain=True)
            assert page["total"] == total
            seen += [r["paper_id"] for r in page["results"]]
            for r in page["results"]:
                cosine = r["explain"].get("cosine")
                assert r["paper_id"] in {b["paper_id"] for b in bm25["results"]} or cosine >= SEMANTIC_FLOOR
        assert len(seen) == len(set(seen)) == total
        titled = {int(v) for v in searcher.fast_field_values("paper_id", [a for _, a in searcher.search(
            title_author_query(schema, parse(text), searcher), 500).hits])}
        positions = [i for i, pid in enumerate(seen) if pid in titled]
        assert positions == list(range(len(positions)))  # every title match before anything else
        for sort in ("date", "citations", "trending"):
            resorted = search_papers(store, text, mode="hybrid", limit=500, sort=sort)
            assert resorted["total"] == total and {r["paper_id"] for r in resorted["results"]} == set(seen)
        for category, count in first["facets"]["category"].items():
            assert search_papers(store, text, mode="hybrid", limit=1, filters={"category": category})["total"] == count
    # a string no paper contains gets no neighbours, however close the model thinks they are
    empty = search_papers(store, "zzqxvbn", mode="hybrid", limit=5)
    assert empty["total"] == 0 and empty["message"].startswith("no papers match")


def test_warm_start_loads_the_model_and_opens_the_indexes(semantic_store):
    from paperatlas.search.encoder import encode_query
    from paperatlas.search.warm import warm

    store, papers, _, _ids = semantic_store
    encode_query.cache_clear()
    ready = warm(store)
    assert ready["text_index"] and ready["vectors"] == len(papers) and ready["model"]
    assert encode_query.cache_info().currsize >= 1  # the model has embedded a query: the next one does not wait
