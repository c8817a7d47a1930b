"""Commit groups: several batches per transaction, each batch still whole, a failed batch losing only its group."""

from __future__ import annotations

import pytest

from paperatlas.ingest import ingest_paths
from paperatlas.merge import writer
from paperatlas.store import open_store


def _pages(shared, count):
    return [shared / "arxiv" / "oai-pmh-cs-2016" / f"page{n:03d}.xml.gz" for n in range(20, 20 + count)]


def _count_commits(store):
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    return statements


def test_batches_are_committed_in_groups(shared, tmp_path):
    store = open_store(tmp_path)
    statements = _count_commits(store)
    summary = ingest_paths(store, _pages(shared, 3), show_progress=False, parallel=False, batch_size=250,
                           commit_records=1000)
    assert summary.batches == 12 and summary.new == 3000
    assert statements.count("COMMIT") == 3  # 12 batches of 250, 1,000 records a transaction
    assert store.db.scalar("SELECT value FROM meta WHERE key = 'change_seq'") == "12"  # one per batch, as before


def test_a_group_of_one_batch_commits_every_batch(shared, tmp_path):
    store = open_store(tmp_path)
    statements = _count_commits(store)
    ingest_paths(store, _pages(shared, 1), show_progress=False, parallel=False, batch_size=250, commit_records=1)
    assert statements.count("COMMIT") == 4


def test_a_failing_batch_rolls_back_its_group_only(shared, tmp_path, monkeypatch):
    store = open_store(tmp_path)
    real, calls = writer.apply_in_transaction, []

    def failing_on_the_sixth(db, items):
        calls.append(len(items))
        if len(calls) == 6:
            raise OSError("disk full (injected)")
        return real(db, items)

    monkeypatch.setattr(writer, "apply_in_transaction", failing_on_the_sixth)
    with pytest.raises(OSError, match="injected"):
        ingest_paths(store, _pages(shared, 3), show_progress=False, parallel=False, batch_size=250,
                     commit_records=1000)
    # The first group (batches 1-4) was committed; batch 5 was applied but its group never committed.
    assert store.db.scalar("SELECT COUNT(*) FROM papers") == 1000
    assert store.db.scalar("SELECT value FROM meta WHERE key = 'change_seq'") == "4"
    monkeypatch.setattr(writer, "apply_in_transaction", real)
    ingest_paths(store, _pages(shared, 3), show_progress=False, parallel=False, batch_size=250)
    assert store.db.scalar("SELECT COUNT(*) FROM papers") == 3000


@pytest.mark.slow
def test_every_source_leaves_no_orphan_rows(shared, tmp_path):
    """The writer skips per-row foreign-key checks during an ingest; the whole store is checked here instead,
    after every kind of source, merges and citations included, and the checks are back on afterwards."""
    store = open_store(tmp_path)
    sources = [_pages(shared, 1)[0], shared / "arxiv" / "kaggle-snapshot", shared / "arxiv" / "atom-api",
               shared / "dblp", shared / "openalex", shared / "semantic-scholar",
               shared / "citations" / "acl-anthology-network"]
    summary = ingest_paths(store, sources, show_progress=False, echo_errors=False)
    assert summary.new > 1000 and summary.merged > 0 and summary.citations > 0
    assert store.db.query_tuples("PRAGMA foreign_key_check") == []
    assert store.db.scalar("PRAGMA foreign_keys") == 1
    assert store.db.scalar("PRAGMA mmap_size") > 0
