"""OpenAlex author/institution entities land in source_entities (evidence for disambiguation), idempotently."""

from __future__ import annotations

from paperatlas.ingest import ingest_paths


def test_openalex_entities_are_kept_once(store, shared):
    folder = shared / "openalex" / "entities"
    first = ingest_paths(store, [folder], show_progress=False, echo_errors=False)
    assert first.entities > 0
    kinds = dict(store.db.query_tuples("SELECT kind, COUNT(*) FROM source_entities GROUP BY kind"))
    assert kinds.get("author", 0) > 0 and kinds.get("institution", 0) > 0
    assert store.db.scalar("SELECT COUNT(*) FROM source_entities WHERE id NOT LIKE 'openalex:%'") == 0
    before = store.db.query_tuples("SELECT source, id, content_hash FROM source_entities ORDER BY source, id")
    again = ingest_paths(store, [folder], show_progress=False, echo_errors=False)
    assert again.entities == 0 and again.new == 0
    assert store.db.query_tuples("SELECT source, id, content_hash FROM source_entities ORDER BY source, id") == before
