"""The embedded store: migrations, transactions, id resolution."""

from __future__ import annotations

import sqlite3

import orjson
import pytest

from paperatlas.store import open_store
from paperatlas.store.migrate import applied, available, migrate
from paperatlas.store.papers import get_paper, parse_ref, resolve_paper


def _insert_paper(db, pid="ptest", title="A title"):
    db.execute(
        "INSERT INTO papers (pid, title, categories, created_at, modified_at) VALUES (?, ?, ?, 'now', 'now')",
        (pid, title, orjson.dumps(["cs.CL"]).decode()),
    )
    return db.scalar("SELECT id FROM papers WHERE pid = ?", (pid,))


def test_store_is_one_sqlite_file_in_wal_mode(store):
    assert (store.data_dir / "paperatlas.sqlite3").exists()
    assert store.db.scalar("PRAGMA journal_mode") == "wal"


def test_every_shipped_migration_is_applied_once(store):
    numbers = {n for n, _, _ in available()}
    assert applied(store.db) == numbers
    assert migrate(store.db) == []  # a second run applies nothing


def test_transaction_rolls_back_everything_on_error(store):
    db = store.db
    with pytest.raises(RuntimeError), db.transaction():
        _insert_paper(db, "p1")
        _insert_paper(db, "p2")
        raise RuntimeError("crash mid-batch")
    assert db.scalar("SELECT COUNT(*) FROM papers") == 0


def test_uncommitted_batch_is_invisible_after_reopen(tmp_path):
    store = open_store(tmp_path)
    db = store.db
    db.conn.execute("BEGIN IMMEDIATE")
    db.conn.execute("INSERT INTO papers (pid, created_at, modified_at) VALUES ('px', 'now', 'now')")
    # simulate a killed writer: the connection goes away without COMMIT
    db.conn.close()
    reopened = sqlite3.connect(tmp_path / "paperatlas.sqlite3")
    assert reopened.execute("SELECT COUNT(*) FROM papers").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("arxiv:1706.03762", ("arxiv", "1706.03762")),
        ("arXiv:1706.03762v5", ("arxiv", "1706.03762")),
        ("1706.03762", ("arxiv", "1706.03762")),
        ("https://arxiv.org/abs/cs/0112017v1", ("arxiv", "cs/0112017")),
        ("doi:10.18653/V1/P19-1001", ("doi", "10.18653/v1/p19-1001")),
        ("https://doi.org/10.1145/3292500.3330701", ("doi", "10.1145/3292500.3330701")),
        ("acl:P02-1001", ("acl", "P02-1001")),
        ("openalex:W2741809807", ("openalex", "W2741809807")),
        ("not an id", None),
    ],
)
def test_parse_ref(ref, expected):
    assert parse_ref(ref) == expected


def test_resolve_paper_by_public_id_or_any_source_id(store):
    db = store.db
    paper_id = _insert_paper(db, "pabc")
    db.execute("INSERT INTO paper_ids (scheme, value, paper_id) VALUES ('arxiv', '1706.03762', ?)", (paper_id,))
    assert resolve_paper(db, "pabc") == paper_id
    assert resolve_paper(db, "arxiv:1706.03762v3") == paper_id
    assert resolve_paper(db, "arxiv:9999.99999") is None
    paper = get_paper(db, paper_id)
    assert paper.ids == {"arxiv": "1706.03762"}
    assert paper.categories == ["cs.CL"]


def test_query_in_cuts_long_lists_and_keeps_the_parameters_around_them(store):
    from paperatlas.store import query_in, query_rows_in

    with store.db.transaction():
        store.db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [(f"k{i}", str(i)) for i in range(1203)])
    keys = [f"k{i}" for i in range(1203)]
    rows = query_in(store.db, "SELECT key FROM meta WHERE value != ? AND key IN ({marks}) AND key != ?", keys,
                    before=("7",), after=("k8",), size=100)
    assert sorted(r[0] for r in rows) == sorted(set(keys) - {"k7", "k8"})  # 13 chunks, nothing lost or doubled
    named = query_rows_in(store.db, "SELECT key, value FROM meta WHERE key IN ({marks})", keys[:3], size=2)
    assert {r["key"]: r["value"] for r in named} == {"k0": "0", "k1": "1", "k2": "2"}
