"""The relevance bench's statistics: paired bootstrap over the same queries."""

from __future__ import annotations

from paperatlas.bench.relevance import _metrics, _paired_bootstrap


def test_paired_bootstrap_difference_and_interval():
    better = [1, 1, 2, None, 1, 3, 1, 1, 2, 1] * 10
    worse = [2, 1, 5, None, 11, 3, 4, 1, 2, None] * 10
    out = _paired_bootstrap(better, worse)
    diff = _metrics(better)["mrr@10"] - _metrics(worse)["mrr@10"]
    assert abs(out["mrr_difference"] - diff) < 1e-3
    assert 0 < out["ci95"][0] < out["mrr_difference"] < out["ci95"][1]
    assert out["share_of_resamples_ahead"] == 1.0
    same = _paired_bootstrap(better, better)
    assert same["mrr_difference"] == 0 and same["ci95"] == [0, 0] and same["share_of_resamples_ahead"] == 0


def test_store_drawn_sets_report_their_keys(cli, data_dir, shared):
    """`bench relevance --no-tldr` draws names, titles and nonsense from the store it runs on (here 1,500 real
    arXiv papers, BM25 only) and reports the issue's keys; nonsense finds nothing, exact titles are found."""
    import orjson

    from paperatlas.search.corpus import load_papers, oai_papers
    from paperatlas.search.stage import update
    from paperatlas.store import open_store

    store = open_store(data_dir)
    load_papers(store, oai_papers(shared, limit=1500))
    update(store)
    store.close()
    result = cli("bench", "relevance", "--no-tldr", "--seed", "4", "--json")
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.output)
    for key in ("author_p_at_10", "title_mrr", "nonsense_with_results", "tldr_mrr_at_10"):
        assert key in figures
    assert figures["tldr_mrr_at_10"] is None and figures["navigational"]["author_queries"] > 0
    assert figures["nonsense_with_results"] == 0.0
    assert figures["title_mrr"] >= 0.9 and figures["author_p_at_10"] >= 0.8
