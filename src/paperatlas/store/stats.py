"""Counts that tell what a store holds (``paperatlas stats``)."""

from __future__ import annotations

from typing import Any

from .database import Database


def store_stats(db: Database) -> dict[str, Any]:
    count = lambda sql: int(db.scalar(sql) or 0)  # noqa: E731
    per_source = {
        source: n
        for source, n in db.query_tuples(
            "SELECT source, COUNT(DISTINCT paper_id) FROM paper_records GROUP BY source ORDER BY source"
        )
    }
    return {
        "papers": count("SELECT COUNT(*) FROM papers"),
        "authorships": count("SELECT COUNT(*) FROM authorships"),
        "author_identities": count("SELECT COUNT(*) FROM identities"),
        "name_clusters": count("SELECT COUNT(DISTINCT name_key) FROM authorships"),
        "citation_edges": count("SELECT COUNT(*) FROM (SELECT DISTINCT citing_id, cited_id FROM citations "
                                "WHERE cited_id IS NOT NULL) AS edges"),
        "citation_refs_unresolved": count("SELECT COUNT(*) FROM citations WHERE cited_id IS NULL"),
        "source_records": count("SELECT COUNT(*) FROM paper_records"),
        "papers_per_source": per_source,
    }
