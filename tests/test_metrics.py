"""Citations, h-index and author figures on the real ACL Anthology Network citation graph."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from paperatlas.bench.fixtures.oai_papers import insert_acl, make_identity, read_acl
from paperatlas.metrics import stage
from paperatlas.metrics.authors import h_index, i10_index
from paperatlas.metrics.pages import author_figures, paper_figures
from paperatlas.pipeline.build import BuildOptions

AUTHOR = "Eduard Hovy"


@pytest.fixture(scope="module")
def network(shared):
    return read_acl(shared)


@pytest.fixture
def acl_store(any_store, network):
    """The author's papers and every paper that cites one of them, with the real edges among them (both engines)."""
    store = any_store
    own = [pid for pid, p in network.papers.items() if AUTHOR in p["authors"]]
    own_set = set(own)
    citing = {a for a, b in network.edges if b in own_set and a in network.papers}
    ids = insert_acl(store, network, sorted(own_set | citing))
    return store, ids, own


def test_h_index_definition():
    assert h_index([]) == 0
    assert h_index([0, 0]) == 0
    assert h_index([10, 8, 5, 4, 3]) == 4
    assert h_index([25, 8, 5, 3, 3]) == 3
    assert h_index([1000]) == 1
    assert i10_index([10, 9, 11, 0]) == 2


def test_citations_are_distinct_citing_papers(acl_store, network):
    store, ids, own = acl_store
    # a second source stating the same edges must not double the counts
    store.db.execute(
        "INSERT INTO citations (citing_id, cited_ref, cited_id, source) "
        "SELECT citing_id, cited_ref, cited_id, 'semantic-scholar' FROM citations"
    )
    stage.run(store, BuildOptions(embed=False, show_progress=False))
    inserted = set(ids)
    expected = Counter(b for a, b in set(network.edges) if a in inserted and b in inserted and a != b)
    for acl_id in own[:40]:
        figures = paper_figures(store, ids[acl_id])
        assert figures["citations"] == expected.get(acl_id, 0)
        assert figures["citations_source"] == "store"
        stored = store.db.scalar("SELECT citations FROM paper_metrics WHERE paper_id = ?", (ids[acl_id],))
        assert stored == figures["citations"]


def test_author_figures_come_from_the_listed_papers(acl_store):
    store, _ids, own = acl_store
    identity = make_identity(store, AUTHOR)
    stage.run(store, BuildOptions(embed=False, show_progress=False))
    figures = author_figures(store, identity)
    listed = figures["papers"]
    assert figures["paper_count"] == len(listed) == len(set(own))
    counts = [p["citations"] for p in listed]
    assert figures["citations"] == sum(counts)
    assert figures["h_index"] == h_index(counts) <= figures["paper_count"]
    assert figures["h_index"] > 5  # a prolific author in a real citation graph
    assert figures["i10_index"] == sum(1 for c in counts if c >= 10)
    assert counts == sorted(counts, reverse=True)
    # every listed paper's figure is the one its own page shows
    for item in listed[:10]:
        assert paper_figures(store, item["paper_id"])["citations"] == item["citations"]
    per_year = figures["per_year"]
    assert sum(v["papers"] for v in per_year.values()) == figures["paper_count"]
    assert sum(v["citations"] for v in per_year.values()) == figures["citations"]
    # the stored row (lists, sorting) agrees with the page
    row = store.db.query("SELECT * FROM author_metrics WHERE identity_id = ?", (identity,))[0]
    assert (row["paper_count"], row["citations"], row["h_index"], row["i10_index"]) == (
        figures["paper_count"], figures["citations"], figures["h_index"], figures["i10_index"])
    assert json.loads(row["per_year"]) == per_year


def test_identity_holding_part_of_the_papers(acl_store):
    """A split identity gets only its own papers' figures, never the whole name's."""
    store, ids, own = acl_store
    half = [ids[a] for a in sorted(set(own))[: len(set(own)) // 2]]
    identity = make_identity(store, AUTHOR, half)
    figures = author_figures(store, identity)
    assert figures["paper_count"] == len(half)
    assert {p["paper_id"] for p in figures["papers"]} == set(half)
    assert figures["h_index"] <= figures["paper_count"]


def test_external_count_is_marked(acl_store):
    store, ids, own = acl_store
    paper_id = ids[own[0]]
    in_store = paper_figures(store, paper_id)["citations"]
    store.db.execute("UPDATE papers SET external_citation_count = ?, external_citation_source = 'openalex' "
                     "WHERE id = ?", (in_store + 50, paper_id))
    identity = make_identity(store, AUTHOR)
    stage.run(store, BuildOptions(embed=False, show_progress=False))
    figures = paper_figures(store, paper_id)
    assert figures["citations"] == in_store + 50
    assert figures["citations_in_store"] == in_store
    assert figures["citations_source"] == "external:openalex"
    assert "external" in figures["citations_reason"]
    author = author_figures(store, identity)
    item = next(p for p in author["papers"] if p["paper_id"] == paper_id)
    assert item["citations"] == in_store + 50 and item["citations_source"] == "external:openalex"
    assert "external count" in author["reason"]["citations"]


def test_primary_category_is_most_frequent(store, shared):
    from paperatlas.bench.fixtures.oai_papers import insert_papers, read_oai

    papers = list(read_oai(shared, limit=400))
    ids = insert_papers(store, papers)
    by_author: dict[str, list[int]] = {}
    for paper, paper_id in zip(papers, ids, strict=True):
        for forenames, keyname in paper.authors:
            by_author.setdefault(f"{forenames} {keyname}".strip(), []).append(paper_id)
    name, paper_ids = max(by_author.items(), key=lambda kv: len(kv[1]))
    identity = make_identity(store, name)
    figures = author_figures(store, identity)
    cats = Counter(p["primary_category"] for p in figures["papers"])
    assert cats[figures["primary_category"]] == max(cats.values())
    assert figures["paper_count"] == len(set(paper_ids))
