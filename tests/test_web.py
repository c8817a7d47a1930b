"""The web pages, feeds and JSON API over a store of real arXiv Atom records (bench/fixtures/web_store.py)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from paperatlas.bench.fixtures.web_store import HOSTILE_TITLE, build_fixture_store
from paperatlas.store import open_store
from paperatlas.web.app import create_app
from paperatlas.web.format import category_code, short_date
from support.indexes import build_indexes


@pytest.fixture(scope="module")
def site(tmp_path_factory, shared):
    store = open_store(tmp_path_factory.mktemp("web") / "data")
    ids = build_fixture_store(store, shared / "arxiv" / "atom-api" / "cs-2025-12")
    build_indexes(store)
    client = TestClient(create_app(store), raise_server_exceptions=False)
    yield client, ids, store
    store.close()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_display_rules():
    assert category_code("cs.CL") == "CL" and category_code("eess.IV") == "IV" and category_code("hep-th") == "HEP-TH"
    from datetime import date

    assert short_date("2023-03-07", today=date(2026, 1, 1)) == "Mar 7, 2023"
    assert short_date("2026-01-08", today=date(2026, 5, 1)) == "Jan 8"


def test_home_lists_trending_with_badges_and_subscribe_box(site):
    client, ids, _store = site
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert '<meta name="viewport"' in html and "<main" in html and 'role="search"' in html
    assert 'action="/subscribe"' in html and 'method="post"' in html and 'for="sub-email"' in html
    assert "Get trending papers in your email inbox" in html
    # the fixture ranks the hostile paper first by trending; its badges carry category code and date
    first = html.index(f"/paper/{ids['hostile']}")
    assert first < html.index(f"/paper/{ids['paper']}")
    assert 'class="asof"' in html and "trending score" in html
    assert f">{category_code(ids['category'])}</a>" in html
    assert ">Code</a>" in html


def test_paper_page_links_authors_and_shows_scores_reasons_and_bibtex(site):
    client, ids, store = site
    html = client.get(f"/paper/{ids['paper']}").text
    authors = store.db.query(
        "SELECT a.name, i.aid FROM authorships a JOIN identities i ON i.id = a.identity_id "
        "JOIN papers p ON p.id = a.paper_id WHERE p.pid = ? ORDER BY position", (ids["paper"],))
    assert authors
    for author in authors:
        assert f'href="/author/{author["aid"]}"' in html
    assert "fixture rank" in html  # a score's reason is shown beside it
    assert "Cited by (1)" in html  # the hostile paper cites it
    # any source id reaches the same page; unknown ids get a friendly 404
    assert client.get(f"/paper/arxiv:{ids['arxiv']}").status_code == 200
    missing = client.get("/paper/arxiv:9999.99999")
    assert missing.status_code == 404 and "Not found" in missing.text and "Traceback" not in missing.text
    bib = client.get(f"/paper/{ids['paper']}/bibtex")
    assert bib.status_code == 200 and bib.text.startswith("@") and f"eprint = {{{ids['arxiv']}}}" in bib.text


def test_hostile_title_is_escaped_everywhere(site):
    client, ids, _ = site
    for url in (f"/paper/{ids['hostile']}", "/", f"/c/{ids['category']}", "/feed/trending.atom"):
        body = client.get(url).text
        assert "<script>alert(1)</script>" not in body, url
        assert "onerror=alert(2)>" not in body, url
    html = client.get(f"/paper/{ids['hostile']}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; the $\\alpha$" in html
    assert "doi:10.9999/unresolved" in html  # an unresolved reference is listed as its id
    api = client.get(f"/api/papers/{ids['hostile']}").json()
    assert api["title"] == HOSTILE_TITLE  # JSON carries the raw text; escaping is the renderer's job


def test_author_page_lists_only_its_identity_and_links_namesakes(site):
    client, ids, store = site
    html = client.get(f"/author/{ids['author']}").text
    assert f"/paper/{ids['stranger_paper']}" not in html  # the same-name stranger's paper stays out
    assert f'href="/author/{ids["namesake"]}"' in html and "Other people who share this name" in html
    assert f'href="/name/{quote(ids["shared_name"], safe="")}"' in html
    assert "<svg" in html and 'role="img"' in html
    data = client.get(f"/api/authors/{ids['author']}", params={"limit": 100}).json()
    expected = store.db.scalar(
        "SELECT COUNT(DISTINCT a.paper_id) FROM authorships a JOIN identities i ON i.id = a.identity_id "
        "WHERE i.aid = ?", (ids["author"],))
    assert data["paper_count"] == expected == len(data["papers"]["items"])
    cites = sorted((p["citations"] for p in data["papers"]["items"]), reverse=True)
    assert data["citations"] == sum(cites)
    assert data["h_index"] == sum(1 for rank, c in enumerate(cites, 1) if c >= rank) <= data["paper_count"]
    assert sum(y["papers"] for y in data["per_year"]) == data["paper_count"]
    assert [n["aid"] for n in data["same_name"]] == [ids["namesake"]]
    assert data["coauthors"] and all(c["aid"] != ids["author"] for c in data["coauthors"])
    assert all(1 <= c["papers"] <= data["paper_count"] for c in data["coauthors"])
    namesake = client.get(f"/api/authors/{ids['namesake']}").json()
    assert [p["pid"] for p in namesake["papers"]["items"]] == [ids["stranger_paper"]]


def test_author_sorting_changes_order(site):
    client, _ids, store = site
    aid = store.db.scalar(
        "SELECT i.aid FROM identities i JOIN authorships a ON a.identity_id = i.id GROUP BY i.id "
        "HAVING COUNT(*) >= 2 ORDER BY COUNT(*) DESC LIMIT 1")
    by_date = client.get(f"/api/authors/{aid}", params={"sort": "date"}).json()["papers"]["items"]
    dates = [p["date"] for p in by_date]
    assert dates == sorted(dates, reverse=True)
    by_cites = client.get(f"/api/authors/{aid}", params={"sort": "citations"}).json()["papers"]["items"]
    assert [p["citations"] for p in by_cites] == sorted((p["citations"] for p in by_cites), reverse=True)
    assert client.get(f"/author/{aid}?sort=score").status_code == 200
    assert client.get(f"/api/authors/{aid}?sort=bogus").status_code == 400


def test_name_cluster_counts_match_its_list(site):
    client, ids, _store = site
    page = client.get(f"/name/{ids['shared_name'].upper()}")  # case-insensitive exact match
    assert page.status_code == 200
    html = page.text
    listed = len(re.findall(r'<article class="paper">', html))
    assert f"{listed} papers" in text_of(html)
    assert "not an identity" in html
    assert f'href="/author/{ids["author"]}"' in html and f'href="/author/{ids["namesake"]}"' in html
    data = client.get(f"/api/name-clusters/{ids['shared_name']}").json()
    assert data["paper_count"] == listed == len(data["papers"]["items"])
    assert data["author_rows"] == len(data["identities"]) == 2
    assert f"{data['author_rows']} author rows" in text_of(html)
    assert client.get("/name/Nobody%20Atall%20Xyz").status_code == 404


def test_search_page_has_facets_pagination_and_feed(site):
    client, _ids, _ = site
    html = client.get("/search", params={"q": "learning"}).text
    assert 'aria-label="Facets"' in html and "/search?q=learning&amp;category=" in html
    data = client.get("/api/search", params={"q": "learning", "limit": 2}).json()
    assert len(data["items"]) == 2 and data["total"] > 2
    assert data["facets"] == {"category": {}, "year": {}}  # counted only when asked for
    counted = client.get("/api/search", params={"q": "learning", "limit": 2, "facets": "true"}).json()["facets"]
    assert counted["category"] and sum(counted["year"].values()) == data["total"]
    assert data["next"] and "offset=2" in data["next"]
    follow = client.get(data["next"]).json()
    assert {p["pid"] for p in follow["items"]}.isdisjoint({p["pid"] for p in data["items"]})
    feed = etree.fromstring(client.get("/search/feed.atom", params={"q": "learning"}).content)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed" and len(feed.findall("{*}entry")) > 0


def test_feeds_are_valid_atom(site):
    client, ids, _ = site
    for url in ("/feed/trending.atom", f"/author/{ids['author']}/feed.atom"):
        response = client.get(url)
        assert response.headers["content-type"].startswith("application/atom+xml")
        root = etree.fromstring(response.content)
        titles = [e.findtext("{*}title") for e in root.findall("{*}entry")]
        assert titles and all(titles)
    trending = etree.fromstring(client.get("/feed/trending.atom").content)
    assert trending.find("{*}entry").findtext("{*}title") == HOSTILE_TITLE


def test_category_page_has_trending_and_newest(site):
    client, ids, _ = site
    html = client.get(f"/c/{ids['category']}").text
    assert "Trending" in html and "Newest" in html and "/paper/p" in html
    assert client.get("/c/xx.NOPE").status_code == 404


def test_api_caching_pagination_and_openapi(site):
    client, ids, _ = site
    first = client.get("/api/trending", params={"limit": 5})
    assert first.status_code == 200 and first.headers["etag"] and first.headers["last-modified"]
    assert len(first.json()["items"]) == 5 and "offset=5" in first.json()["next"]
    again = client.get("/api/trending", params={"limit": 5}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    since = client.get("/api/trending", params={"limit": 5},
                       headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    assert client.get("/api/trending", params={"limit": 6}).headers["etag"] != first.headers["etag"]
    schema = client.get("/openapi.json").json()
    for path in ("/api/papers/{ref}", "/api/authors/{ref}", "/api/authors", "/api/name-clusters/{name}",
                 "/api/search", "/api/trending"):
        assert path in schema["paths"], path
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/api/search" in docs.text
    assert client.get("/api/papers/nope").json() == {"error": "No paper with the id nope.", "status": 404}
    assert client.get("/api/authors", params={"name": ids["shared_name"]}).json()["total"] >= 1


def test_etag_changes_when_the_data_changes(tmp_path, shared):
    store = open_store(tmp_path / "data")
    ids = build_fixture_store(store, shared / "arxiv" / "atom-api" / "cs-2025-12", limit=20)
    build_indexes(store, vectors=False)
    app = create_app(store)
    app.state.data_version.ttl = 0
    client = TestClient(app)
    before = client.get(f"/paper/{ids['paper']}")
    with store.db.transaction():
        store.db.execute("UPDATE papers SET title = 'A corrected title', change_seq = change_seq + 1, "
                         "modified_at = '2999-01-01T00:00:00+00:00' WHERE pid = ?", (ids["paper"],))
    after = client.get(f"/paper/{ids['paper']}", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and "A corrected title" in after.text
    store.close()


def test_server_errors_are_friendly_pages(tmp_path, shared):
    store = open_store(tmp_path / "data")
    build_fixture_store(store, shared / "arxiv" / "atom-api" / "cs-2025-12", limit=10)
    store.db.execute("DROP TABLE paper_metrics")  # a broken store: every list query now fails
    client = TestClient(create_app(store), raise_server_exceptions=False)
    page = client.get("/")
    assert page.status_code == 500 and "Something went wrong" in page.text and "Traceback" not in page.text
    api = client.get("/api/trending")
    assert api.status_code == 500 and api.json()["status"] == 500
    store.close()


def test_serve_command_help(cli):
    result = cli("serve", "--help")
    assert result.exit_code == 0 and "--port" in result.output and "--workers" in result.output


def test_bench_web_small_run(cli, tmp_path):
    import orjson

    result = cli("bench", "web", "--papers", "400", "--samples", "10", "--requests", "300", "--duration", "2",
                 "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.output.strip().splitlines()[-1])
    assert figures["papers"] == 400
    for kind in ("paper", "author"):
        assert figures["render_ms"][kind]["p50"] > 0
    assert figures["load"]["requests"] > 0 and figures["load"]["errors"] == 0


def test_subscribe_without_a_token_is_refused_not_a_traceback(site):
    client, _, _ = site
    response = client.post("/subscribe", data={"email": "someone@example.org"})
    assert response.status_code in (400, 403) and "Traceback" not in response.text


def test_static_assets_and_accessibility_basics(site):
    client, ids, _ = site
    assert client.get("/static/site.css").status_code == 200
    for url in ("/", f"/paper/{ids['paper']}", f"/author/{ids['author']}", "/search?q=model"):
        html = client.get(url).text
        assert '<html lang="en">' in html and 'class="skip"' in html and "<h1" in html
        for img in re.findall(r"<img[^>]*>", html):
            assert "alt=" in img
        for field in re.findall(r'<input[^>]*id="([^"]+)"', html):
            assert f'for="{field}"' in html or "aria-label" in html


def test_an_id_in_the_search_box_opens_the_paper(site):
    client, ids, _ = site
    response = client.get("/search", params={"q": f"arxiv:{ids['arxiv']}"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/paper/{ids['paper']}"
    assert client.get("/search", params={"q": "graph"}, follow_redirects=False).status_code == 200


def test_pages_on_each_store_engine(any_store, shared):
    """The same pages over SQLite and PostgreSQL (skipped without PAPERATLAS_TEST_POSTGRES_URL)."""
    ids = build_fixture_store(any_store, shared / "arxiv" / "atom-api" / "cs-2025-12", limit=30)
    build_indexes(any_store, vectors=False)
    client = TestClient(create_app(any_store), raise_server_exceptions=False)
    for url in ("/", f"/paper/{ids['paper']}", f"/author/{ids['author']}", f"/name/{ids['shared_name']}",
                f"/c/{ids['category']}", "/search?q=learning", "/feed/trending.atom", f"/api/papers/{ids['hostile']}"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:300])
    data = client.get(f"/api/name-clusters/{ids['shared_name']}").json()
    assert data["paper_count"] == len(data["papers"]["items"]) and data["author_rows"] == 2


def test_pages_over_a_store_built_by_the_real_ingest(tmp_path, shared):
    """Rows written by `paperatlas ingest` (no identities yet): authors link to their name clusters."""
    from paperatlas import ingest
    store = open_store(tmp_path / "data")
    ingest.ingest_paths(store, [shared / "arxiv" / "atom-api" / "cs-2025-12"], show_progress=False)
    build_indexes(store, vectors=False)
    client = TestClient(create_app(store), raise_server_exceptions=False)
    pid, name = store.db.query_tuples(
        "SELECT p.pid, a.name FROM papers p JOIN authorships a ON a.paper_id = p.id ORDER BY p.id LIMIT 1")[0]
    html = client.get(f"/paper/{pid}").text
    assert f'href="/name/{quote(name, safe="")}"' in html
    cluster = client.get(f"/api/name-clusters/{name}").json()
    expected = store.db.scalar("SELECT COUNT(DISTINCT paper_id) FROM authorships WHERE name_key = "
                               "(SELECT name_key FROM authorships WHERE name = ? LIMIT 1)", (name,))
    assert cluster["paper_count"] == expected and cluster["identities"] == []
    assert cluster["unassigned_authorships"] >= 1 and cluster["author_rows"] == 1
    for url in ("/", "/search?q=learning", "/feed/trending.atom", "/c/cs.CV"):
        assert client.get(url).status_code == 200, url
    store.close()


def test_author_figures_agree_with_author_show(site):
    """The page and `paperatlas author show --json` (metrics.pages.author_figures) give the same figures."""
    from paperatlas.metrics import pages
    client, ids, store = site
    identity = store.db.scalar("SELECT id FROM identities WHERE aid = ?", (ids["author"],))
    cli_figures = pages.author_figures(store, identity)
    api = client.get(f"/api/authors/{ids['author']}").json()
    for name in ("paper_count", "citations", "h_index", "i10_index"):
        assert api[name] == cli_figures[name], name


def test_search_answers_come_from_the_engine_and_a_missing_index_says_so(tmp_path, shared):
    """The engine's answer (BM25 over the tantivy index, with its highlighted snippets); with the index deleted, a
    503 that says what to run, never a silently different answer such as a title scan."""
    import shutil

    from paperatlas.search.index import index_dir

    store = open_store(tmp_path / "data")
    build_fixture_store(store, shared / "arxiv" / "atom-api" / "cs-2025-12", limit=40)
    build_indexes(store, vectors=False)
    client = TestClient(create_app(store), raise_server_exceptions=False)
    found = client.get("/api/search", params={"q": "learning", "limit": 5}).json()
    assert found["total"] > 0 and found["engine"] == "search"
    assert any("<mark>" in (item.get("snippet") or "") for item in found["items"])
    shutil.rmtree(index_dir(store))
    client = TestClient(create_app(store), raise_server_exceptions=False)
    page = client.get("/search", params={"q": "learning"})
    assert page.status_code == 503 and "search index is not built" in page.text and "paperatlas build" in page.text
    api = client.get("/api/search", params={"q": "learning"})
    assert api.status_code == 503 and "paperatlas build" in api.json()["error"]
    store.close()
