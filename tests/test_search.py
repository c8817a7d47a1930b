"""Paper search on a small real store: parsing robustness, phrases, prefixes, filters, sorts, facets, snippets,
incremental index updates, and the CLI."""

from __future__ import annotations

import html
import re
from pathlib import Path

import orjson
import pytest

from paperatlas.search import IndexNotBuilt, search_papers
from paperatlas.search.corpus import load_papers, oai_papers
from paperatlas.search.stage import update
from paperatlas.store import open_store

N_REAL = 3000

NASTY = [
    "", " ", '"', '""', '"unbalanced phrase', "((graph", "graph))", "(a OR b", "AND", "OR OR OR", "NOT", "-", "--",
    "*", "a*", "**", "'; DROP TABLE papers; --", "1=1 OR 'a'='a'", "title:", ":", "title:\"", "author:", "venue:()",
    "NEAR(graph neural, 3)", "graph NEAR/2 neural", "{graph}", "[1 TO 5]", "field:[a TO b]", "^2", "graph^", "~",
    "graph~2", "\\", "\x00\x01\x02", "%_%", "<script>alert(1)</script>", "ünïcödé 中文 العربية", "🙂 emoji",
    "a" * 5000, "x:" * 300, "arxiv:", "doi:10.", "arxiv:not-an-id", "10.1063/1.2779138", "0704.0002v3",
    "-graph", "NOT graph", "graph -graph", "title:graph -abstract:graph", '"a"b"c"d', "/regex.*/", "+must +have",
]


@pytest.fixture(scope="module")
def real_store(shared: Path, tmp_path_factory: pytest.TempPathFactory):
    store = open_store(tmp_path_factory.mktemp("search") / "data")
    papers = list(oai_papers(shared, limit=N_REAL))
    papers[0]["code_links"] = ["https://github.com/example/pebble"]
    papers[1]["venue_name"] = "Journal of Mathematical Physics"
    load_papers(store, papers)
    figures = update(store)
    assert figures["indexed"] == N_REAL
    yield store, papers
    store.close()


@pytest.mark.slow
def test_nasty_queries_never_raise(real_store):
    store, _ = real_store
    for text in NASTY:
        found = search_papers(store, text, limit=5, filters={"year_from": "x", "bogus": 1}, sort="weird")
        assert set(found) >= {"total", "results", "facets", "message"}, text
        assert found["results"] or found["message"] or found["total"] == 0, text
        assert "unknown sort" in found["message"], text
        for r in found["results"]:
            assert "<script>" not in r["snippet"] and "<script>" not in r["title_html"]


def test_bad_arguments_are_messages(real_store):
    store, _ = real_store
    for kwargs in ({"limit": "many"}, {"offset": 10**9}, {"filters": ["not", "a", "dict"]},
                   {"filters": {"year_from": 10**30, "year_to": -(10**30)}}, {"filters": {"author": ["a"] * 3}}):
        found = search_papers(store, "graph", **kwargs)
        assert found["results"] == [] or found["message"] is None or isinstance(found["message"], str)
        assert isinstance(found["total"], int)
    assert "too deep" in search_papers(store, "graph", offset=10**9)["message"]
    assert "mapping" in search_papers(store, "graph", filters=["x"])["message"]


def test_words_find_the_real_paper_and_snippets_are_marked(real_store):
    store, papers = real_store
    target = next(p for p in papers[100:] if p["title"] and len(p["title"].split()) >= 5)
    found = search_papers(store, target["title"], limit=5)
    assert found["results"][0]["title"] == target["title"]
    assert found["results"][0]["pid"]
    assert "<mark>" in found["results"][0]["title_html"]
    # every piece outside <mark> is html-escaped text
    for r in found["results"]:
        stripped = r["snippet"].replace("<mark>", "").replace("</mark>", "")
        assert "<" not in stripped and ">" not in stripped
        assert html.unescape(stripped).replace("… ", "").replace(" …", "")[:20] in html.unescape(
            next(p for p in papers if p["title"] == r["title"])["abstract"] or "")


def test_highlight_names_the_snippets_cut_and_leaves_the_rest_of_a_result_as_it_was(real_store):
    store, _ = real_store
    full = search_papers(store, "channel capacity", limit=10)
    for fields, left_out in ((("abstract",), {"title_html"}), ((), {"title_html", "snippet"})):
        fewer = search_papers(store, "channel capacity", limit=10, highlight=fields)
        assert fewer["total"] == full["total"] and fewer["facets"] == full["facets"]
        assert [list(r) for r in fewer["results"]] == [[k for k in r if k not in left_out] for r in full["results"]]
        assert fewer["results"] == [{k: v for k, v in r.items() if k not in left_out} for r in full["results"]]


def test_phrase_is_stricter_than_words(real_store):
    store, _ = real_store
    words = search_papers(store, "channel capacity", limit=50)
    phrase = search_papers(store, '"channel capacity"', limit=50)
    reversed_phrase = search_papers(store, '"capacity channel"', limit=50)
    assert 0 < phrase["total"] <= words["total"]
    assert reversed_phrase["total"] < phrase["total"]
    for r in phrase["results"][:10]:
        text = (r["title"] + " " + html.unescape(r["snippet"])).lower()
        assert "channel" in text and "capacit" in text


def test_prefix_query(real_store):
    store, _ = real_store
    found = search_papers(store, "crypt*", limit=20)
    assert found["total"] > 0
    for r in found["results"]:
        assert "<mark>crypt" in (r["snippet"] + r["title_html"]).lower()


def test_identifier_finds_the_paper(real_store):
    store, papers = real_store
    target = papers[42]
    found = search_papers(store, f"arxiv:{target['ids']['arxiv']}", limit=3)
    assert found["results"][0]["title"] == target["title"]


def test_filters_sorts_and_facets(real_store):
    store, papers = real_store
    base = search_papers(store, "algorithm", limit=500, facets=True)
    assert base["total"] > 20
    # facets are counted only when asked for (the web page asks): the same search without them has none
    assert search_papers(store, "algorithm", limit=500)["facets"] == {"category": {}, "year": {}}
    in_cat = search_papers(store, "algorithm", limit=500, filters={"category": "cs.DS"})
    assert 0 < in_cat["total"] < base["total"]
    assert all("cs.DS" in r["categories"] for r in in_cat["results"])
    assert base["facets"]["category"]["cs.DS"] == in_cat["total"]
    years = search_papers(store, "algorithm", limit=500, filters={"year_from": 2008, "year_to": 2009})
    assert years["results"] and all(2008 <= r["year"] <= 2009 for r in years["results"])
    assert years["total"] == sum(base["facets"]["year"].get(str(y), 0) for y in (2008, 2009))
    archive = search_papers(store, "algorithm", limit=5, filters={"category": "math"})
    assert archive["total"] > 0 and all(any(c.startswith("math.") for c in r["categories"])
                                        for r in archive["results"])
    # a category without subjects (quant-ph, hep-th, cmp-lg) is a category, not only an archive
    dotless = next(c for p in papers for c in p["categories"] if "." not in c)
    plain_cat = search_papers(store, "", limit=50, filters={"category": dotless})
    assert plain_cat["total"] == sum(1 for p in papers if dotless in p["categories"]) > 0
    code = search_papers(store, "", limit=5, filters={"has_code": True})
    assert [r["title"] for r in code["results"]] == [papers[0]["title"]]
    venue = search_papers(store, "", limit=5, filters={"venue": "journal of mathematical  PHYSICS"})
    assert [r["title"] for r in venue["results"]] == [papers[1]["title"]]
    by_date = search_papers(store, "algorithm", limit=30, sort="date")
    dates = [r["date"] for r in by_date["results"]]
    assert dates == sorted(dates, reverse=True)


def test_author_filter_and_citation_sort_read_sql(real_store):
    store, _papers = real_store
    db = store.db
    ids = [r[0] for r in db.query_tuples("SELECT id FROM papers ORDER BY id LIMIT 3")]
    with db.transaction():
        db.execute("INSERT INTO identities (aid, name, name_key, created_at, modified_at) "
                   "VALUES ('atest', 'Test Person', 'test person', 'now', 'now')")
        ident = db.scalar("SELECT id FROM identities WHERE aid = 'atest'")
        db.execute(f"UPDATE authorships SET identity_id = ? WHERE position = 0 AND paper_id IN ({ids[0]}, {ids[2]})",
                   (ident,))
        db.executemany("INSERT INTO paper_metrics (paper_id, citations, trending) VALUES (?, ?, ?)",
                       [(ids[0], 5, 0.1), (ids[1], 50, 0.9), (ids[2], 500, 0.5)])
    try:
        mine = search_papers(store, "", limit=10, filters={"author": "atest"})
        assert sorted(r["paper_id"] for r in mine["results"]) == sorted([ids[0], ids[2]])
        cited = search_papers(store, "", limit=3, sort="citations")
        assert [r["paper_id"] for r in cited["results"]] == [ids[2], ids[1], ids[0]]
        trending = search_papers(store, "", limit=2, sort="trending")
        assert [r["paper_id"] for r in trending["results"]] == [ids[1], ids[2]]
        nobody = search_papers(store, "algorithm", filters={"author": "anobody"})
        assert nobody["total"] == 0 and "no papers for author" in nobody["message"]
    finally:
        with db.transaction():
            db.execute("DELETE FROM paper_metrics")
            db.execute("UPDATE authorships SET identity_id = NULL")
            db.execute("DELETE FROM identities")


def test_paging_is_consistent(real_store):
    store, _ = real_store
    whole = search_papers(store, "network", limit=20)
    first = search_papers(store, "network", limit=10)
    second = search_papers(store, "network", limit=10, offset=10)
    assert [r["paper_id"] for r in first["results"] + second["results"]] == [r["paper_id"] for r in whole["results"]]


def test_incremental_update_after_a_second_ingest(shared: Path, tmp_path: Path):
    store = open_store(tmp_path / "data")
    papers = list(oai_papers(shared, limit=1200))
    load_papers(store, papers[:1000])
    assert update(store)["indexed"] == 1000
    assert update(store)["indexed"] == 0  # nothing changed: nothing to do
    late = papers[1100]
    assert search_papers(store, f'"{late["title"]}"')["total"] == 0
    # second ingest: 200 new papers and one changed title
    changed = dict(papers[5], title="Zyxwvut quasiperiodic pebbles revisited")
    load_papers(store, [*papers[1000:1200], changed])
    figures = update(store)
    assert figures["indexed"] == 201 and not figures["rebuilt"]
    assert search_papers(store, f'"{late["title"]}"')["results"][0]["title"] == late["title"]
    assert search_papers(store, "zyxwvut")["results"][0]["title"] == changed["title"]
    assert search_papers(store, f'title:"{papers[5]["title"]}"', mode="bm25")["total"] == 0
    # a paper deleted from the store leaves the index
    gone = store.db.scalar("SELECT paper_id FROM paper_ids WHERE value = ?", (papers[7]["ids"]["arxiv"],))
    store.db.execute("DELETE FROM papers WHERE id = ?", (gone,))
    assert update(store)["removed"] == 1
    assert search_papers(store, f"arxiv:{papers[7]['ids']['arxiv']}")["total"] == 0
    assert search_papers(store, "")["total"] == 1199
    store.close()


def test_no_index_yet_is_an_error_that_says_what_to_run(store, cli):
    with pytest.raises(IndexNotBuilt, match="run `paperatlas build`"):
        search_papers(store, "graph")
    result = cli("search", "graph")
    assert result.exit_code == 2 and "search index is not built: run `paperatlas build`" in result.output


def test_cli_search_json_and_table(real_store, cli, data_dir):
    _store, papers = real_store
    # the CLI opens its own data folder: build a small store there
    target = papers[10]
    cli_store = open_store(data_dir)
    load_papers(cli_store, papers[:300])
    update(cli_store)
    cli_store.close()
    result = cli("search", target["title"], "--limit", "3", "--json", "--mode", "bm25")
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.output)
    top = data["results"][0]
    assert top["ids"]["arxiv"] == target["ids"]["arxiv"] and top["title"] == target["title"]
    assert top["authors"] == target["authors"] and top["date"] == target["submitted"] and top["score"] > 0
    assert data["facets"] == {"category": {}, "year": {}}
    counted = orjson.loads(cli("search", "learning", "--limit", "1", "--json", "--facets", "--mode", "bm25").output)
    assert sum(counted["facets"]["year"].values()) == counted["total"] > 0
    table = cli("search", target["title"], "--limit", "2")
    assert table.exit_code == 0 and f"arxiv:{target['ids']['arxiv']}" in table.output
    bad = cli("search", "((  ))")
    assert bad.exit_code != 0 and "nothing to search for" in bad.output


def test_build_stage_entry_points(shared: Path, tmp_path: Path):
    from paperatlas.pipeline.build import BuildOptions, run_build
    from paperatlas.search import update_indexes

    store = open_store(tmp_path / "data")
    load_papers(store, oai_papers(shared, limit=200))
    report = run_build(store, BuildOptions(only=["search"], show_progress=False))
    assert report["search"]["indexed"] == 200 and report["search"]["vectors"] == 0
    assert update_indexes(store)["indexed"] == 0
    assert update_indexes(store, full=True)["indexed"] == 200
    assert search_papers(store, "")["total"] == 200
    store.close()


def test_incremental_update_after_real_ingests(shared: Path, tmp_path: Path):
    """The same, through the ingest pipeline itself: two OAI-PMH pages ingested one after the other."""
    from paperatlas.ingest import ingest_paths
    from paperatlas.search.corpus import oai_files, parse_oai_file

    pages = oai_files(shared)[:2]
    store = open_store(tmp_path / "data")
    ingest_paths(store, [pages[0]], show_progress=False)
    first = update(store)
    assert first["rebuilt"] and first["indexed"] == first["documents"] > 0
    late = next(p for p in parse_oai_file(pages[1]) if p["title"] and len(p["title"].split()) > 4)
    assert search_papers(store, f"arxiv:{late['ids']['arxiv']}")["total"] == 0
    ingest_paths(store, [pages[1]], show_progress=False)
    second = update(store)
    assert not second["rebuilt"] and 0 < second["indexed"] < second["documents"]
    assert search_papers(store, f"arxiv:{late['ids']['arxiv']}")["results"][0]["title"] == late["title"]
    ingest_paths(store, [pages[1]], show_progress=False)  # re-ingesting the same page changes nothing
    assert update(store)["indexed"] == 0
    store.close()


def test_highlighter_marks_what_tantivy_would(real_store):
    """The fast highlighter marks exactly the words tantivy's own SnippetGenerator marks (ASCII texts)."""
    import tantivy as t

    from paperatlas.search import query as q
    from paperatlas.search.engine import highlighters
    from paperatlas.search.index import open_index

    store, _ = real_store
    index = open_index(store)
    searcher, schema = index.searcher(), index.schema
    compared = 0
    for text in ("graph algorithms", "networks learning", '"channel capacity"', "crypt*", "happy families",
                 "title:quantum states", "studies of codes", "dying stars"):
        parsed = q.parse(text)
        query = q.text_query(schema, parsed, all_words=False, searcher=searcher)
        marks = highlighters(parsed)
        for name in ("abstract", "title"):
            gen = t.SnippetGenerator.create(searcher, query, schema, name)
            gen.set_max_num_chars(100_000)  # the whole text: every match, not one fragment's
            for _, addr in searcher.search(query, 15).hits:
                doc = searcher.doc(addr)
                body = doc.get_first(name) or ""
                if not body.isascii():
                    continue
                theirs = sorted(w.lower() for w in re.findall(r"<b>(.*?)</b>", gen.snippet_from_doc(doc).to_html()))
                mine = sorted(body[s:e].lower() for s, e, _ in marks[name].matches(body)) \
                    if not marks[name].empty else []
                assert mine == theirs, (text, name, body)
                compared += 1
    assert compared > 100


def test_highlighter_fragment_escapes_and_falls_back():
    from paperatlas.search.index import ANALYZER, analyzer
    from paperatlas.search.snippets import Highlighter

    analyze = analyzer(ANALYZER).analyze
    hl = Highlighter(["network"], [], analyze, ANALYZER, 60)
    text = "Intro <b>x</b> & more words here. " * 3 + "Deep Networks & <script>alert(1)</script> networking. " * 2
    out = hl.html(text)
    assert "<mark>Networks</mark>" in out and "<script>" not in out and "&lt;script&gt;" in out
    assert [text[s:e] for s, e, _ in hl.matches(text)] == ["Networks", "networking"] * 2  # both stem to network
    plain = out.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in plain and len(html.unescape(plain).strip("… ")) <= 60
    assert out.startswith("… ")  # the best fragment is not the beginning
    assert hl.html("Réseaux networks") is None  # non-ASCII: the engine asks tantivy's generator instead
    assert hl.html("nothing to see") is None
    prefix = Highlighter([], ["crypt"], analyze, ANALYZER, 1000)
    assert prefix.html("Cryptography and encryption") == "<mark>Cryptography</mark> and encryption"


def test_highlighter_window_holds_the_most_query_terms():
    from paperatlas.search.index import ANALYZER, analyzer
    from paperatlas.search.snippets import Highlighter

    hl = Highlighter(["graph", "color"], [], analyzer(ANALYZER).analyze, ANALYZER, 80)
    filler = "lorem ipsum dolor sit amet. " * 6
    text = filler + "A graph here. " + filler + "graph graph graph. " + filler + "Graph coloring is hard. " + filler
    out = hl.html(text)
    assert "<mark>Graph</mark> <mark>coloring</mark>" in out  # two distinct terms beat three of one
    many = Highlighter([], ["x"], analyzer(ANALYZER).analyze, ANALYZER, 50)
    assert many.html("x" * 300 + " x1 x2") is not None  # a match longer than the window never breaks it


def test_one_vector_searches_on_one_openmp_thread_and_a_batch_on_the_default(tmp_path):
    import threading

    import faiss
    import numpy as np

    from paperatlas.search.vectors import build

    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((300, 16)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    vindex = build(np.arange(300), matrix, "m")
    seen: dict[str, object] = {}

    def run() -> None:  # a thread of its own, as a render thread: OpenMP's setting is per thread
        default = faiss.omp_get_max_threads()
        one = [vindex.search(matrix[i:i + 1], 5)[0] for i in range(3)]
        seen["after one"] = faiss.omp_get_max_threads()
        seen["batch"] = vindex.search(matrix[:3], 5)
        seen["after batch"] = faiss.omp_get_max_threads()
        seen["default"], seen["one"] = default, one

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen["after one"] == 1 and seen["after batch"] == seen["default"]
    assert seen["one"] == seen["batch"]  # the same neighbours and scores whichever way
    assert seen["one"][0][0][0] == 0  # a vector is its own nearest
