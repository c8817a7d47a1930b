"""/search as a person meets it, on a store built by the real ingest and build (identities, search index):
a name shows a People box and ranks that person's papers first, /authors?q= lists the people, nonsense gets the
empty state (did-you-mean from the index, a link to drop each filter), and /api/search pages one result set."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperatlas.store import open_store
from paperatlas.web.app import create_app


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, shared: Path):
    from paperatlas.ingest import ingest_paths
    from paperatlas.pipeline.build import BuildOptions, run_build

    store = open_store(tmp_path_factory.mktemp("search-web") / "data")
    ingest_paths(store, [shared / "arxiv" / "atom-api" / "cs-2025-12"], show_progress=False)
    run_build(store, BuildOptions(show_progress=False, embed=False))
    client = TestClient(create_app(store, cache_size=0), raise_server_exceptions=False)
    yield client, store
    store.close()


def test_a_name_gets_a_people_box_and_their_papers_first(built):
    client, store = built
    rows = store.db.query_tuples(
        "SELECT a.name, COUNT(DISTINCT a.paper_id) FROM authorships a JOIN identities i ON i.id = a.identity_id "
        "WHERE i.name = a.name GROUP BY a.name HAVING COUNT(DISTINCT a.paper_id) >= 2 ORDER BY a.name")
    assert rows
    for name, n in random.Random(7).sample(rows, min(4, len(rows))):
        html = client.get("/search", params={"q": name}).text
        box = html.split('id="people-h"', 1)[1].split("</section>", 1)[0]
        aids = [aid for (aid,) in store.db.query_tuples(
            "SELECT DISTINCT i.aid FROM authorships a JOIN identities i ON i.id = a.identity_id WHERE a.name = ? "
            "AND i.name = a.name", (name,))]
        assert any(f'href="/author/{aid}"' in box for aid in aids), name
        assert html.index('id="people-h"') < html.index('class="count"')  # above the papers
        data = client.get("/api/search", params={"q": name, "limit": min(int(n), 10)}).json()
        assert all(name in [a["name"] if isinstance(a, dict) else a for a in item["authors"]]
                   for item in data["items"]), name
        people = client.get("/authors", params={"q": name}).text
        assert any(f'href="/author/{aid}"' in people for aid in aids) and "Years active" in people
    assert client.get("/api/authors", params={"name": rows[0][0]}).status_code == 200


def test_nonsense_gets_the_empty_state_with_ways_out(built):
    client, store = built
    html = client.get("/search", params={"q": "zzqxjvw", "category": "cs.CL", "has_code": "true"}).text
    assert "No papers match" in html
    assert 'href="/search?q=zzqxjvw&amp;has_code=true">Search without category cs.CL' in html
    assert 'href="/search?q=zzqxjvw&amp;category=cs.CL">Search without has code' in html
    assert 'id="people-h"' not in html
    words = sorted({w.lower() for (t,) in store.db.query_tuples("SELECT title FROM papers")
                    for w in re.findall(r"[A-Za-z]{10,}", t or "")})
    word = random.Random(2).choice(words)
    typo = word[:4] + word[5] + word[4] + word[6:]
    found = client.get("/api/search", params={"q": typo}).json()
    if found["total"] == 0:
        assert found["suggestions"]
        assert "Did you mean" in client.get("/search", params={"q": typo}).text


def test_api_pages_reach_exactly_the_total(built):
    client, _ = built
    first = client.get("/api/search", params={"q": "learning model", "limit": 25, "facets": "true"}).json()
    total = first["total"]
    assert total > 25
    seen = []
    for offset in range(0, total + 25, 25):
        page = client.get("/api/search", params={"q": "learning model", "limit": 25, "offset": offset}).json()
        assert page["total"] == total
        seen += [item["pid"] for item in page["items"]]
    assert len(seen) == len(set(seen)) == total
    for year, count in first["facets"]["year"].items():
        clicked = client.get("/api/search", params={"q": "learning model", "limit": 1, "year_from": year,
                                                    "year_to": year}).json()
        assert clicked["total"] == count
