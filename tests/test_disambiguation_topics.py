"""Topic vectors of titles (static word vectors) and the seed stage's comparisons with rival seeds."""

from __future__ import annotations

import numpy as np
import pytest

from paperatlas.disambiguation import topics
from paperatlas.disambiguation.seeds import _versus_rivals


def _table() -> topics.WordVectors:
    # two orthogonal topics; "the" is everywhere, so its SIF weight is tiny
    vocabulary = ["preconditioner", "multigrid", "sparse", "evolutionary", "swarm", "the"]
    vectors = np.array([[1, 0], [0.9, 0.1], [1, 0.1], [0, 1], [0.1, 1], [1, 1]], dtype=np.float32)
    return topics.WordVectors(vocabulary, vectors, np.array([10, 10, 10, 10, 10, 100_000]))


def test_titles_on_one_topic_are_close_without_a_shared_word():
    table = _table()
    v = table.embed(["Sparse preconditioner", "The multigrid method", "Evolutionary swarm", "Ünknown wörds"])
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1.0)
    assert v[0] @ v[1] > 0.95 > 0.3 > v[0] @ v[2]
    assert not v[3].any()  # no known word: unknown, not a guess


def test_words_fold_case_and_accents_and_keep_compounds():
    assert topics.words("Multi-Objective Évolution of the 2nd kind") == [
        "multi-objective", "evolution", "of", "the", "nd", "kind"]


def test_table_round_trips_in_half_precision(tmp_path):
    table = _table()
    path = tmp_path / topics.VECTORS_FILE
    topics.save(path, list(table.index), table.vectors, np.array([10, 10, 10, 10, 10, 100_000]))
    loaded = topics.load(path)
    assert loaded is not None and loaded.index == table.index
    assert np.allclose(loaded.embed(["sparse swarm"]), table.embed(["sparse swarm"]), atol=1e-3)
    assert topics.load(tmp_path / "missing.npz") is None


def test_rival_comparison_prefers_each_seeds_best_partner():
    # seeds 0, 1, 2 in one block: 0-1 close (0.9), 0-2 and 1-2 far (0.2, 0.1)
    a, b = np.array([0, 0, 1]), np.array([1, 2, 2])
    low, high = _versus_rivals(a, b, np.array([0.9, 0.2, 0.1], dtype=np.float32))
    assert np.allclose(low, [0.7, -0.7, -0.8]) and np.allclose(high, [0.8, 0.1, -0.1])  # seed 2 likes 0 more than 1


def test_rival_comparison_is_unknown_without_a_rival():
    low, high = _versus_rivals(np.array([0]), np.array([1]), np.array([0.5], dtype=np.float32))
    assert np.isnan(low[0]) and np.isnan(high[0])
    low, _ = _versus_rivals(np.array([0, 0]), np.array([1, 2]), np.array([np.nan, 0.4], dtype=np.float32))
    assert np.isnan(low[0])


def test_shipped_table_places_titles_by_field():
    table = topics.shipped()
    assert table is not None, "the package ships word_vectors.npz (paperatlas train topics)"
    v = table.embed(["Parallel sparse approximate inverse preconditioners",
                     "A sixth-order multigrid method for the Poisson equation",
                     "Particle swarm optimization for aircraft landing scheduling",
                     "Genetic algorithms for job shop scheduling"])
    assert v[0] @ v[1] > v[0] @ v[3] + 0.1  # numerical linear algebra, no shared word
    assert v[2] @ v[3] > v[2] @ v[1] + 0.1  # evolutionary scheduling


@pytest.mark.slow
def test_distilled_table_follows_the_sentence_model(shared):
    """The real MiniLM, a few hundred real titles: the fitted table reproduces the model's title cosines far
    better than the words-alone start it is fitted from."""
    from paperatlas.disambiguation.harvest_mentions import read_oai_texts
    from paperatlas.embeddings import get_embedder

    pages = sorted((shared / "arxiv" / "oai-pmh-cs-2016").glob("page*.xml.gz"))[:1]
    titles, abstracts = read_oai_texts(pages)
    titles = sorted({t for t in titles if t})[:400]
    embedder = get_embedder()
    vocabulary, vectors, counts = topics.distil(embedder.encode, titles, [*titles, *abstracts], dims=32,
                                                min_corpus=5)
    assert vectors.shape == (len(vocabulary), 32) and len(counts) == len(vocabulary) > 300
    target = embedder.encode(titles)
    start = topics.WordVectors(vocabulary, embedder.encode(vocabulary), counts).embed(titles)
    fitted = topics.WordVectors(vocabulary, vectors, counts).embed(titles)
    i, j = np.triu_indices(len(titles), 1)

    def agreement(v: np.ndarray) -> float:
        return float(np.corrcoef((target[i] * target[j]).sum(1), (v[i] * v[j]).sum(1))[0, 1])

    assert agreement(fitted) > max(0.6, agreement(start) + 0.2)


def test_train_topics_refuses_a_folder_without_pages(cli, tmp_path):
    out = tmp_path / "table.npz"
    result = cli("train", "topics", "--harvest", str(tmp_path), "--out", str(out))
    assert result.exit_code != 0 and "no OAI-PMH pages" in result.output
    assert not out.exists()
    missing = cli("train", "topics", "--harvest", str(tmp_path / "nowhere"), "--out", str(out))
    assert missing.exit_code == 2 and not out.exists()
