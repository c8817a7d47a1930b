"""Answers shared by several URLs (web/memo.py): remembered per data version, never past a change of the store."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from paperatlas.bench.fixtures.web_store import build_fixture_store
from paperatlas.store import open_store
from paperatlas.web.app import create_app
from paperatlas.web.memo import VersionMemo
from support.indexes import build_indexes


def test_memo_keeps_an_answer_per_version_and_stays_bounded():
    memo = VersionMemo(size=2)
    calls: list[str] = []

    def compute(tag: str):
        return lambda: calls.append(tag) or tag

    assert memo.get("v1", "a", compute("a1")) == "a1"
    assert memo.get("v1", "a", compute("a2")) == "a1"  # same version: remembered
    assert memo.get("v2", "a", compute("a3")) == "a3"  # the data changed: computed again
    memo.get("v2", "b", compute("b1"))
    memo.get("v2", "c", compute("c1"))  # evicts the least recently used
    assert len(memo._items) == 2 and memo.get("v2", "a", compute("a4")) == "a4"
    assert calls == ["a1", "a3", "b1", "c1", "a4"]


@pytest.fixture
def small_site(tmp_path, shared):
    store = open_store(tmp_path / "data")
    build_fixture_store(store, shared / "arxiv" / "atom-api" / "cs-2025-12", limit=20)
    build_indexes(store, vectors=False)
    app = create_app(store)
    app.state.data_version.ttl = 0
    yield TestClient(app), store
    store.close()


def test_category_page_urls_share_the_newest_list_until_the_data_changes(small_site):
    client, store = small_site
    category, = store.db.query_tuples("SELECT primary_category FROM papers WHERE primary_category IS NOT NULL "
                                      "GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1")[0]
    first = client.get(f"/c/{category}")
    assert first.status_code == 200
    assert client.get(f"/c/{category}", params={"offset": 20}).text == first.text
    pid, = store.db.query_tuples("SELECT pid FROM papers WHERE primary_category IS NOT ? "
                                       "ORDER BY id LIMIT 1", (category,))[0]
    assert f"/paper/{pid}" not in first.text
    with store.db.transaction():  # another paper becomes the category's newest
        store.db.execute("UPDATE papers SET primary_category = ?, submitted = '2999-01-01', "
                         "change_seq = change_seq + 1, modified_at = '2999-01-01T00:00:00+00:00' WHERE pid = ?",
                         (category, pid))
    for params in ({}, {"offset": 20}):
        page = client.get(f"/c/{category}", params=params)
        assert page.status_code == 200 and f"/paper/{pid}" in page.text
