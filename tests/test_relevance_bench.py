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
