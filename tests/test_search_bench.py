"""``paperatlas bench search`` on a small corpus: the floor is tantivy answering the very same queries."""

from __future__ import annotations

import os

import orjson
import pytest

from paperatlas.bench.search import _floor_string


def test_floor_string_is_tantivy_syntax_for_the_same_query():
    assert _floor_string("graph neural", {}) == ("graph neural", "+(graph neural)")
    assert _floor_string('"graph neural"', {}) == ('"graph neural"', None)
    every, any_word = _floor_string("graph neural", {"category": "cs.LG", "year_from": 2013, "year_to": 2019})
    assert every == 'graph neural category:"cs.LG" year:[2013 TO 2019]'
    assert any_word == '+(graph neural) +category:"cs.LG" +year:[2013 TO 2019]'


@pytest.mark.slow
def test_bench_search_reports_floors_that_answer_the_same_queries(cli, shared, monkeypatch):
    monkeypatch.setitem(os.environ, "PAPERATLAS_SHARED_DATA", str(shared))
    result = cli("bench", "search", "--papers", "3000", "--queries", "20", "--no-vectors", "--baseline-queries", "2",
                 "--json")
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.output)
    for kind in ("keyword", "phrase", "filtered"):
        section = figures[kind]
        # tantivy's own parser answers the same text; our tiers (title / author-name matches first) may reorder
        assert 0.0 <= section["floor_same_top20"] <= 1.0, kind
        assert 0 < section["cpu_floor_search_p50_ms"] <= section["cpu_floor_p50_ms"] * 1.5, kind
        assert section["cpu_vs_floor_p50"] == round(section["cpu_ours_p50_ms"] / section["cpu_floor_p50_ms"], 2)
        assert 0 < section["floor_search_p50_ms"] <= section["floor_p50_ms"] * 1.5, kind  # docs cost something
        assert section["vs_floor_p50"] == round(section["p50_ms"] / section["floor_p50_ms"], 2)
        assert section["vs_floor_page_p50"] == round(section["page_p50_ms"] / section["floor_page_p50_ms"], 2)
    assert "1.5x" not in figures["targets"]["checked_against"] and "stored fields" in figures["floor_note"]
    assert isinstance(figures["targets"]["keyword_within_1.5x_floor_p50"], bool)
    assert figures["baseline_linear_scan"]["queries"] == 2
