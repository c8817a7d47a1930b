"""Embeddings: the real MiniLM model loaded offline, stored per model, computed only when missing or stale."""

from __future__ import annotations

import numpy as np
import pytest

from paperatlas.bench.fixtures.oai_papers import insert_papers, read_oai
from paperatlas.embeddings import get_embedder
from paperatlas.embeddings.store import content_hash, embed_missing, load_vectors, paper_text, pending


@pytest.fixture(scope="module")
def embedder():
    return get_embedder()


def test_embedder_is_real_minilm_normalised(embedder):
    assert embedder.name.startswith("all-MiniLM-L6-v2@")
    assert embedder.dim == 384
    vectors = embedder.encode(
        ["Graph neural networks for molecules", "Message passing networks on molecular graphs",
         "A survey of medieval French poetry"],
        batch_size=2,
    )
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] + 0.2  # related texts are nearer than unrelated ones
    assert embedder.encode([]).shape == (0, 384)


def test_same_instance_and_unknown_name(embedder):
    assert get_embedder() is embedder
    assert get_embedder(embedder.name) is not None
    with pytest.raises(ValueError, match="unknown embedding model"):
        get_embedder("no-such-model")


def test_paper_text():
    assert paper_text("Attention Is All You Need.", " The dominant\n models ") == (
        "Attention Is All You Need. The dominant models"
    )
    assert paper_text(None, None) == ""
    assert paper_text("Only a title", "") == "Only a title"


def test_embed_missing_is_incremental(any_store, shared, embedder):
    store = any_store
    papers = list(read_oai(shared, limit=12))
    ids = insert_papers(store, papers)
    store.db.execute("UPDATE papers SET abstract = NULL, title = NULL WHERE id = ?", (ids[-1],))  # nothing to embed

    first = embed_missing(store, embedder, batch_size=4, chunk_size=5, show_progress=False)
    assert first.embedded == 11 and first.unchanged == 0
    paper_ids, matrix = load_vectors(store.db, embedder.name)
    assert paper_ids.dtype == np.int64 and list(paper_ids) == ids[:-1]
    assert matrix.dtype == np.float32 and matrix.shape == (11, 384)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)
    # the stored vector is the model's vector of title + ". " + abstract
    direct = embedder.encode([paper_text(papers[0].title, papers[0].abstract)])[0]
    assert float(direct @ matrix[0]) > 0.999

    second = embed_missing(store, embedder, show_progress=False)
    assert second.embedded == 0 and second.unchanged == 11

    store.db.execute("UPDATE papers SET abstract = 'A new abstract about protein folding.' WHERE id = ?", (ids[3],))
    todo, unchanged = pending(store.db, embedder.name)
    assert [item[0] for item in todo] == [ids[3]] and unchanged == 10
    assert todo[0][2] == content_hash(todo[0][1])
    third = embed_missing(store, embedder, show_progress=False)
    assert third.embedded == 1
    _, after = load_vectors(store.db, embedder.name)
    assert float(after[3] @ matrix[3]) < 0.99  # re-embedded from the new text
    assert np.allclose(after[0], matrix[0])


def test_load_vectors_empty(store):
    ids, matrix = load_vectors(store.db, "nothing")
    assert ids.shape == (0,) and matrix.shape == (0, 0)


def test_bench_embed_reports_both_rates(cli, shared, monkeypatch, embedder):
    import json

    monkeypatch.setenv("PAPERATLAS_SHARED_DATA", str(shared))
    result = cli("bench", "embed", "-n", "24", "--batch-size", "8", "--round-size", "12", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["papers"] == 24 and figures["model"] == embedder.name
    assert figures["abstracts_per_s"] > 0 and figures["model_batch_per_s"] > 0
    expected = (figures["model_batch_per_s"] / figures["abstracts_per_s"] - 1) * 100
    assert figures["pipeline_overhead_pct"] == pytest.approx(expected, abs=0.5)
    assert figures["min_cosine_stored_vs_direct"] > 0.999  # the pipeline stores what the model computes
    assert figures["target_overhead_pct"] == 10.0


def test_vector_cache_replaces_the_model_for_texts_it_covers(tmp_path, shared, embedder, monkeypatch):
    """A cache exported from one store fills another without the model, with the very same vectors."""
    from paperatlas.embeddings.cache import CACHE_ENV, export_cache
    from paperatlas.store import open_store

    papers = list(read_oai(shared, limit=6))
    first = open_store(tmp_path / "first")
    insert_papers(first, papers[:4])
    embed_missing(first, embedder, show_progress=False)
    cache = tmp_path / "vectors.npz"
    assert export_cache(first.db, embedder.name, cache) == 4

    monkeypatch.setenv(CACHE_ENV, str(cache))
    second = open_store(tmp_path / "second")
    insert_papers(second, papers)  # two papers the cache has never seen
    report = embed_missing(second, embedder, show_progress=False)
    assert report.cached == 4 and report.embedded == 2
    _, expected = load_vectors(first.db, embedder.name)
    _, got = load_vectors(second.db, embedder.name)
    assert np.array_equal(got[:4], expected)
    first.close()
    second.close()
