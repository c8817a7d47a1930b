"""Novelty % from real MiniLM embeddings of real 2007 arXiv abstracts, checked against brute force."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from paperatlas.bench.fixtures.oai_papers import SamplePaper, insert_papers, make_identity, read_oai
from paperatlas.embeddings import get_embedder
from paperatlas.embeddings.store import load_vectors
from paperatlas.metrics import novelty, stage
from paperatlas.metrics.common import loads
from paperatlas.metrics.pages import author_figures, paper_figures
from paperatlas.pipeline.build import BuildOptions


@pytest.fixture(scope="module")
def papers(shared):
    return list(read_oai(shared, limit=50))


def _brute_force(store, model):
    ids, matrix = load_vectors(store.db, model)
    rows = store.db.query_tuples("SELECT id, submitted FROM papers")
    days = {pid: date.fromisoformat(submitted).toordinal() for pid, submitted in rows}
    window = novelty.WINDOW_YEARS * 365 + novelty.WINDOW_YEARS // 4
    expected = {}
    for i, pid in enumerate(ids):
        earlier = [j for j, q in enumerate(ids) if days[pid] - window <= days[int(q)] < days[int(pid)]]
        expected[int(pid)] = (1 - max(float(matrix[i] @ matrix[j]) for j in earlier)) if earlier else None
    return expected


def test_novelty_matches_brute_force_and_stays_incremental(store, papers):
    ids = insert_papers(store, papers)
    report = stage.run(store, BuildOptions(show_progress=False))
    assert report["embedded"] == len(papers)
    model = get_embedder().name
    expected = _brute_force(store, model)
    rows = {r["paper_id"]: r for r in store.db.query("SELECT * FROM paper_metrics")}
    assert sum(v is not None for v in expected.values()) > len(papers) // 2
    for pid, raw in expected.items():
        if raw is None:
            assert rows[pid]["novelty_raw"] is None and rows[pid]["novelty"] is None
        else:
            assert rows[pid]["novelty_raw"] == pytest.approx(raw, abs=1e-3)
            assert 0 <= rows[pid]["novelty"] <= 100
    # the reason lists the nearest earlier papers, most similar first, all submitted before the paper
    some = next(pid for pid, raw in expected.items() if raw is not None)
    figures = paper_figures(store, some)
    nearest = figures["novelty_reason"]["nearest"]
    assert nearest and nearest[0]["similarity"] == pytest.approx(1 - expected[some], abs=1e-3)
    assert [n["similarity"] for n in nearest] == sorted((n["similarity"] for n in nearest), reverse=True)
    assert all(n["submitted"] < figures["submitted"] for n in nearest)
    assert figures["novelty_reason"]["percentile_among"]["papers"] >= 1

    # nothing changed: nothing is recomputed
    again = stage.run(store, BuildOptions(show_progress=False))
    assert again["embedded"] == 0 and again["novelty_computed"] == 0

    # a late-ingested older paper with the same text as a later one becomes that one's nearest neighbour
    target = next(i for i, p in enumerate(papers) if expected[ids[i]] is not None)
    copy = papers[target]
    early = (date.fromisoformat(copy.created) - timedelta(days=1)).isoformat()
    (new_id,) = insert_papers(store, [SamplePaper("0000.00001", copy.title, copy.abstract, early, copy.categories)])
    third = stage.run(store, BuildOptions(show_progress=False))
    assert third["embedded"] == 1 and third["novelty_computed"] >= 2
    reason = loads(store.db.scalar("SELECT novelty_reason FROM paper_metrics WHERE paper_id = ?", (ids[target],)))
    assert reason["nearest"][0][0] == new_id and reason["nearest"][0][1] > 0.999

    # an author's Novelty % is the median of their listed papers'
    identity = make_identity(store, f"{papers[30].authors[0][0]} {papers[30].authors[0][1]}".strip())
    store.db.execute("UPDATE authorships SET identity_id = ? WHERE paper_id IN (?, ?, ?, ?) AND position = 0",
                     (identity, *ids[30:34]))
    author = author_figures(store, identity)
    values = [p["novelty"] for p in author["papers"] if p["novelty"] is not None]
    assert len(values) >= 2
    assert author["novelty"] == pytest.approx(float(np.median(values)), abs=0.1)


def test_novelty_without_embeddings_is_null_with_reason(store, papers):
    ids = insert_papers(store, papers[:10])
    stage.run(store, BuildOptions(embed=False, show_progress=False))
    figures = paper_figures(store, ids[5])
    assert figures["novelty"] is None and "embedding" in figures["novelty_reason"]["status"]
