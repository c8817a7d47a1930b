"""``recommend_for`` on a small store: candidates, exclusions, negatives, cold start and the reasons given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paperatlas.embeddings import model_name
from paperatlas.embeddings.store import content_hash, to_blob
from paperatlas.recommend import ReaderProfile, recommend_for
from paperatlas.recommend import model as rec
from paperatlas.search.corpus import load_papers
from paperatlas.search.stage import update
from paperatlas.store import open_store

E = np.eye(6, dtype=np.float32)

# key: (title, year, category, authors, vector, cites)
PAPERS = {
    "s1": ("Neural dependency parsing", 2020, "cs.CL", ["Alice Adams"], E[0], []),
    "s2": ("Transition-based parsing", 2020, "cs.CL", ["Bob Brown"], E[0] + 0.2 * E[1], []),
    "near": ("Graph-based neural parsing", 2021, "cs.CL", ["Carol Clark"], E[0] + 0.1 * E[2], []),
    "alice": ("A survey of dialogue", 2021, "cs.CL", ["Alice Adams", "Eve Evans"], E[3], []),
    "citing": ("Benchmarks for parsers", 2021, "cs.CL", ["Frank Fox"], E[4], ["s1", "s2"]),
    "dave": ("Robot motion planning", 2021, "cs.RO", ["Dave Dunn"], E[5], []),
    "bad": ("Parsing for spam filters", 2021, "cs.CL", ["Gil Gray"], E[0] + 0.15 * E[3], []),
    "old": ("Old parsing", 2015, "cs.CL", ["Hal Hill"], E[0] + 0.05 * E[1], []),
    "vision": ("Image segmentation", 2021, "cs.CV", ["Ivy Irwin"], E[1] + E[2], []),
}


@pytest.fixture
def feed_store(tmp_path: Path):
    store = open_store(tmp_path / "data")
    db = store.db
    load_papers(store, [{"ids": {"arxiv": f"2101.{i:05d}"}, "title": title, "abstract": None, "year": year,
                         "submitted": f"{year}-01-{i + 1:02d}", "primary_category": cat, "categories": [cat],
                         "authors": authors}
                        for i, (title, year, cat, authors, _, _) in enumerate(PAPERS.values())])
    ids = {key: int(db.scalar("SELECT paper_id FROM paper_ids WHERE value = ?", (f"2101.{i:05d}",)))
           for i, key in enumerate(PAPERS)}
    people: dict[str, int] = {}
    for key, (_, _, _, authors, _, _) in PAPERS.items():
        for position, name in enumerate(authors):
            if name not in people:
                people[name] = len(people) + 1
                db.execute("INSERT INTO identities (id, aid, name, name_key, created_at, modified_at) "
                           "VALUES (?, ?, ?, ?, 'now', 'now')", (people[name], f"a{people[name]}", name, name.lower()))
            db.execute("UPDATE authorships SET identity_id = ? WHERE paper_id = ? AND position = ?",
                       (people[name], ids[key], position))
    model = model_name()
    for key, (_, _, _, _, vector, cites) in PAPERS.items():
        unit = vector / np.linalg.norm(vector)
        db.execute("INSERT INTO embeddings (paper_id, model, content_hash, dim, vector) VALUES (?, ?, ?, ?, ?)",
                   (ids[key], model, content_hash(key), len(unit), to_blob(unit)))
        for cited in cites:
            db.execute("INSERT INTO citations (citing_id, cited_ref, cited_id, source) VALUES (?, ?, ?, 'test')",
                       (ids[key], f"arxiv:{cited}", ids[cited]))
    db.execute("INSERT INTO paper_metrics (paper_id, citations) VALUES (?, 2), (?, 1)", (ids["s1"], ids["s2"]))
    update(store)
    yield store, ids, people
    store.close()


def _by_key(results, ids):
    back = {v: k for k, v in ids.items()}
    return {back[r.paper_id]: r for r in results}


def test_saved_papers_bring_their_neighbours_with_reasons(feed_store):
    store, ids, _ = feed_store
    results = recommend_for(store, ReaderProfile(positives=(ids["s1"], ids["s2"])), limit=10)
    found = _by_key(results, ids)
    assert "s1" not in found and "s2" not in found  # never offer what the reader saved
    # citing both saved papers is the strongest signal the fit found (bibliographic coupling), then the neighbours
    assert results[0].paper_id == ids["citing"]
    assert {ids["near"], ids["old"], ids["alice"]} <= {r.paper_id for r in results[1:5]}
    assert found["near"].reasons[0].startswith("close to ")
    assert found["near"].reasons[0].removeprefix("close to ") in {PAPERS["s1"][0], PAPERS["s2"][0]}
    assert "cites 2 papers you saved" in found["citing"].reasons
    assert "by Alice Adams, an author of papers you saved" in found["alice"].reasons
    # a paper on nothing the reader showed interest in scores below every paper that shares a signal
    assert found["vision"].score < min(found[k].score for k in ("near", "citing", "alice"))
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_a_rejected_paper_pulls_its_neighbours_down(feed_store):
    store, ids, _ = feed_store
    liked = ReaderProfile(positives=(ids["s1"],))
    before = _by_key(recommend_for(store, liked, limit=10), ids)
    after = _by_key(recommend_for(store, ReaderProfile(positives=(ids["s1"],), negatives=(ids["bad"],)), limit=10),
                    ids)
    assert "bad" not in after  # never offer what the reader rejected
    assert after["near"].score < before["near"].score  # "near" is close to the rejected paper too
    assert after["dave"].score == pytest.approx(before["dave"].score, abs=1e-3)  # far from it: unchanged


def test_since_year_keeps_new_papers_only(feed_store):
    store, ids, _ = feed_store
    results = recommend_for(store, ReaderProfile(positives=(ids["s1"],)), limit=10, since_year=2021)
    assert ids["old"] not in {r.paper_id for r in results}
    assert all(r.year >= 2021 for r in results)


def test_cold_start_from_follows_and_categories_needs_no_vectors(feed_store):
    store, ids, people = feed_store
    (store.data_dir / "index" / "vectors" / "meta.json").unlink()  # no vector index: follows still work
    found = _by_key(recommend_for(store, ReaderProfile(follows=(people["Dave Dunn"],)), limit=5), ids)
    assert list(found) == ["dave"]
    assert found["dave"].reasons[0] == "by Dave Dunn"
    found = _by_key(recommend_for(store, ReaderProfile(categories=("cs.CV",)), limit=5), ids)
    assert list(found) == ["vision"]
    assert found["vision"].reasons == ["in cs.CV, which you follow"]
    with pytest.raises(LookupError, match="paperatlas build"):
        recommend_for(store, ReaderProfile(positives=(ids["s1"],)))


def test_empty_profile_and_bad_limit(feed_store):
    store, _, _ = feed_store
    assert recommend_for(store, ReaderProfile()) == []
    with pytest.raises(ValueError):
        recommend_for(store, ReaderProfile(categories=("cs.CL",)), limit=0)


def test_nearest_similarity_is_the_mean_of_the_k_nearest():
    reference = np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    sims, which = rec.nearest_similarity(reference, np.array([[1, 0]], dtype=np.float32), k=2)
    assert sims[0] == pytest.approx((1.0 + 0.6) / 2)
    assert which[0] == 0
    empty, none = rec.nearest_similarity(np.zeros((0, 2), np.float32), np.ones((3, 2), np.float32))
    assert empty.tolist() == [0, 0, 0] and none.tolist() == [-1, -1, -1]


def test_training_normalises_and_blend_subtracts_negatives():
    model = rec.train(np.array([[3.0, 0.0], [0.0, 0.0]]), np.array([[0.0, 2.0]]))
    assert np.allclose(model.positives[0], [1, 0]) and np.allclose(model.positives[1], [0, 0])
    assert np.allclose(model.negatives, [[0, 1]])
    assert np.isclose(np.linalg.norm(model.centroid), 1.0)
    plain = rec.blend({"nearest": np.array([0.5])})
    assert plain[0] == pytest.approx(rec.WEIGHTS.nearest * 0.5)
    penalised = rec.blend({"nearest": np.array([0.5]), "negative": np.array([0.5])})
    assert penalised[0] == pytest.approx(plain[0] - rec.WEIGHTS.negative * 0.5)


def test_cli_recommends_with_reasons(feed_store, cli):
    import orjson

    store, ids, _ = feed_store
    pids = dict(store.db.query_tuples("SELECT id, pid FROM papers"))
    result = cli("recommend", "--positives", f"{pids[ids['s1']]},{pids[ids['s2']]}", "--limit", "3", "--json")
    assert result.exit_code == 0, result.output
    found = orjson.loads(result.output)["results"]
    assert len(found) == 3
    assert found[0]["pid"] == pids[ids["citing"]] and found[0]["reasons"][0] == "cites 2 papers you saved"
    assert not {pids[ids["s1"]], pids[ids["s2"]]} & {r["pid"] for r in found}
    text = cli("recommend", "--positives", pids[ids["s1"]], "--limit", "2")
    assert text.exit_code == 0 and "close to" in text.output


def test_cli_refuses_unknown_ids_and_an_empty_profile(feed_store, cli):
    result = cli("recommend", "--positives", "nosuchpaper")
    assert result.exit_code == 2 and "no paper with id 'nosuchpaper'" in result.output
    result = cli("recommend")
    assert result.exit_code == 2 and "--positives" in result.output


def test_bench_says_where_the_data_is_missing(cli, tmp_path):
    result = cli("bench", "recommend", "--shared", str(tmp_path / "nothing"))
    assert result.exit_code == 2 and "ACL Anthology Network" in result.output
