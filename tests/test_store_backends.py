"""Store-level behaviour that every engine must share: each test runs on SQLite and on PostgreSQL.

The PostgreSQL half runs when PAPERATLAS_TEST_POSTGRES_URL names a server (a fresh schema per test) and is
reported as skipped, with the reason, when it does not.
"""

from __future__ import annotations

import struct
import threading

import orjson
import pytest

from paperatlas.store import open_store
from paperatlas.store.bulk import copy_rows
from paperatlas.store.migrate import applied, available, migrate
from paperatlas.store.papers import get_paper, get_papers, resolve_author, resolve_paper
from paperatlas.store.stats import store_stats


def _insert_paper(db, pid: str, title: str = "A title", year: int | None = 2020) -> int:
    return db.query(
        "INSERT INTO papers (pid, title, year, categories, created_at, modified_at) "
        "VALUES (?, ?, ?, ?, 'now', 'now') RETURNING id",
        (pid, title, year, orjson.dumps(["cs.CL"]).decode()),
    )[0]["id"]


def test_every_shipped_migration_is_applied_once(any_store):
    numbers = {n for n, _, _ in available()}
    assert applied(any_store.db) == numbers
    assert migrate(any_store.db) == []
    assert any_store.db.table_exists("papers")
    assert not any_store.db.table_exists("no_such_table")


def test_reopening_the_same_store_applies_nothing(any_store):
    reopened = open_store(any_store.data_dir, None if any_store.dialect == "sqlite" else any_store.db.url)
    try:
        assert migrate(reopened.db) == []
    finally:
        reopened.close()


def test_transaction_rolls_back_everything_on_error(any_store):
    db = any_store.db
    with pytest.raises(RuntimeError), db.transaction():
        _insert_paper(db, "p1")
        _insert_paper(db, "p2")
        raise RuntimeError("crash mid-batch")
    assert db.scalar("SELECT COUNT(*) FROM papers") == 0


def test_nested_transaction_undoes_only_the_inner_part(any_store):
    db = any_store.db
    with db.transaction():
        _insert_paper(db, "outer")
        with pytest.raises(ValueError), db.transaction():
            _insert_paper(db, "inner")
            raise ValueError("inner failure")
        _insert_paper(db, "after")
    assert sorted(r[0] for r in db.query_tuples("SELECT pid FROM papers")) == ["after", "outer"]


def test_constraint_violation_leaves_the_store_usable(any_store):
    db = any_store.db
    _insert_paper(db, "dup")
    with pytest.raises(Exception) as raised:  # sqlite3.IntegrityError / psycopg.errors.UniqueViolation
        _insert_paper(db, "dup")
    assert "unique" in str(raised.value).lower()
    _insert_paper(db, "next")
    assert db.scalar("SELECT COUNT(*) FROM papers") == 2


def test_placeholders_are_not_replaced_inside_literals(any_store):
    db = any_store.db
    _insert_paper(db, "q1", title="What? 100% sure?")
    _insert_paper(db, "q2", title="Plain")
    rows = db.query_tuples("SELECT pid, '?' AS mark FROM papers WHERE title LIKE '%?%' AND year = ?", (2020,))
    assert rows == [("q1", "?")]
    assert db.scalar("SELECT COUNT(*) FROM papers WHERE title LIKE ?", ("%100%%",)) == 1


def test_upsert_and_returning_are_portable(any_store):
    db = any_store.db
    paper_id = _insert_paper(db, "pu")
    upsert = (
        "INSERT INTO paper_metrics (paper_id, citations, novelty) VALUES (?, ?, ?) "
        "ON CONFLICT (paper_id) DO UPDATE SET citations = excluded.citations, novelty = excluded.novelty"
    )
    db.execute(upsert, (paper_id, 3, 0.5))
    db.execute(upsert, (paper_id, 7, 12.25))
    assert db.query("SELECT citations, novelty FROM paper_metrics") == [{"citations": 7, "novelty": 12.25}]


def test_aggregates_come_back_as_plain_numbers(any_store):
    db = any_store.db
    for i, year in enumerate([2019, 2020, 2021]):
        _insert_paper(db, f"a{i}", year=year)
    total, mean = db.query_tuples("SELECT SUM(year), AVG(year) FROM papers")[0]
    assert (total, mean) == (6060, 2020.0)
    assert type(total) is int and isinstance(mean, float)
    assert orjson.dumps(db.query("SELECT SUM(year) AS s FROM papers")) == b'[{"s":6060}]'


def test_vectors_round_trip_as_bytes(any_store):
    db = any_store.db
    paper_id = _insert_paper(db, "pv")
    vector = struct.pack("<4f", 0.5, -1.0, 0.25, 2.0)
    db.execute("INSERT INTO embeddings (paper_id, model, content_hash, dim, vector) VALUES (?, 'm', 'h', 4, ?)",
               (paper_id, vector))
    stored = db.scalar("SELECT vector FROM embeddings WHERE paper_id = ?", (paper_id,))
    assert bytes(stored) == vector


def test_iterate_streams_every_row_in_order(any_store):
    db = any_store.db
    with db.transaction():
        db.executemany(
            "INSERT INTO papers (pid, year, created_at, modified_at) VALUES (?, ?, 'now', 'now')",
            [(f"p{i:05d}", 1990 + i % 30) for i in range(2500)],
        )
    streamed = list(db.iterate("SELECT pid FROM papers WHERE year >= ? ORDER BY pid", (1990,), batch=300))
    assert len(streamed) == 2500
    assert streamed[0] == ("p00000",) and streamed[-1] == ("p02499",)


def test_writes_while_iterating(any_store):
    db = any_store.db
    ids = [_insert_paper(db, f"w{i}") for i in range(50)]
    for (paper_id,) in db.iterate("SELECT id FROM papers ORDER BY id", batch=7):
        db.execute("INSERT INTO paper_metrics (paper_id, citations) VALUES (?, ?)", (paper_id, paper_id % 5))
    assert db.scalar("SELECT COUNT(*) FROM paper_metrics") == len(ids)


def test_bulk_copy_appends_all_rows_or_none(any_store):
    db = any_store.db
    paper_id = _insert_paper(db, "pc")
    rows = [(paper_id, f"arxiv:{1000 + i}.0000{i % 10}", None, "s2") for i in range(1200)]
    assert copy_rows(db, "citations", ["citing_id", "cited_ref", "cited_id", "source"], rows) == 1200
    assert db.scalar("SELECT COUNT(*) FROM citations WHERE cited_id IS NULL") == 1200
    bad = [(paper_id, "arxiv:new", None, "s2"), (paper_id, "arxiv:1000.00000", None, "s2")]  # second: duplicate
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        copy_rows(db, "citations", ["citing_id", "cited_ref", "cited_id", "source"], bad)
    assert db.scalar("SELECT COUNT(*) FROM citations") == 1200
    with pytest.raises(ValueError, match="identifier"):
        copy_rows(db, "citations; DROP TABLE papers", ["citing_id"], [])


def test_resolve_and_read_papers(any_store):
    db = any_store.db
    paper_id = _insert_paper(db, "pabc", title="Attention")
    other = _insert_paper(db, "pdef", title="Other")
    db.execute("INSERT INTO paper_ids (scheme, value, paper_id) VALUES ('arxiv', '1706.03762', ?)", (paper_id,))
    db.execute("INSERT INTO authorships (paper_id, position, name, name_key) VALUES (?, 0, 'A. Vaswani', 'vaswani a')",
               (paper_id,))
    assert resolve_paper(db, "pabc") == paper_id
    assert resolve_paper(db, "arxiv:1706.03762v3") == paper_id
    assert resolve_paper(db, "arxiv:9999.99999") is None
    papers = get_papers(db, [other, paper_id, 12345])
    assert [p.pid for p in papers] == ["pdef", "pabc"]
    paper = get_paper(db, paper_id)
    assert paper.ids == {"arxiv": "1706.03762"}
    assert paper.categories == ["cs.CL"]
    assert [a.name for a in paper.authors] == ["A. Vaswani"]


def test_identities_and_stats(any_store):
    db = any_store.db
    paper_id = _insert_paper(db, "ps")
    identity = db.query(
        "INSERT INTO identities (aid, name, name_key, orcid, created_at, modified_at) "
        "VALUES ('a1', 'Ada', 'lovelace a', '0000-0001', 'now', 'now') RETURNING id"
    )[0]["id"]
    db.execute("INSERT INTO authorships (paper_id, position, name, name_key, identity_id) VALUES (?, 0, 'Ada', "
               "'lovelace a', ?)", (paper_id, identity))
    db.execute("INSERT INTO citations (citing_id, cited_ref, cited_id, source) VALUES (?, 'arxiv:x', NULL, 's')",
               (paper_id,))
    assert resolve_author(db, "a1") == identity
    assert resolve_author(db, "orcid:0000-0001") == identity
    stats = store_stats(db)
    assert stats["papers"] == 1 and stats["author_identities"] == 1 and stats["citation_refs_unresolved"] == 1


def test_deleting_a_paper_cascades(any_store):
    db = any_store.db
    paper_id = _insert_paper(db, "pd")
    db.execute("INSERT INTO paper_ids (scheme, value, paper_id) VALUES ('doi', '10.1/x', ?)", (paper_id,))
    db.execute("DELETE FROM papers WHERE id = ?", (paper_id,))
    assert db.scalar("SELECT COUNT(*) FROM paper_ids") == 0


def test_each_thread_gets_its_own_connection(any_store):
    db = any_store.db
    _insert_paper(db, "pt")
    seen: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            seen.append(db.scalar("SELECT COUNT(*) FROM papers"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and seen == [1, 1, 1, 1]
