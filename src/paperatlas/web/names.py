"""What tells apart the people behind one name, for the name-cluster page.

A name cluster ("Wei Wang") groups people who share a name; a reader choosing among them needs, for each, what
differs: whom they write with, in which categories, in which years, where.  Each label is read from the identity's
own papers (all of them, not only those written under this spelling), as the profile it links to counts them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from ..store import Store

LABELLED = 50  # identities beyond the 50 largest keep their name and count only (one query each)


def identity_labels(store: Store, identity_ids: list[int]) -> dict[int, dict[str, Any]]:
    """identity id -> ``{"papers", "coauthors", "categories", "first_year", "last_year", "affiliation"}``."""
    db = store.db
    out: dict[int, dict[str, Any]] = {}
    for iid in identity_ids[:LABELLED]:
        papers = db.query_tuples(
            "SELECT p.id, p.year, p.primary_category FROM (SELECT DISTINCT paper_id FROM authorships "
            "WHERE identity_id = ?) a JOIN papers p ON p.id = a.paper_id", (iid,))
        years = [y for _, y, _ in papers if y]
        categories = Counter(c for _, _, c in papers if c)
        coauthors = db.query_tuples(
            "SELECT MIN(a2.name), COUNT(DISTINCT a2.paper_id) AS n FROM authorships a1 "
            "JOIN authorships a2 ON a2.paper_id = a1.paper_id "
            "WHERE a1.identity_id = ? AND (a2.identity_id IS NULL OR a2.identity_id != ?) "
            "GROUP BY COALESCE(CAST(a2.identity_id AS TEXT), 'n:' || a2.name_key) ORDER BY n DESC, 1 LIMIT 3",
            (iid, iid))
        affiliations: Counter[str] = Counter()
        for (text,) in db.query_tuples(
                "SELECT affiliations FROM authorships WHERE identity_id = ? AND affiliations IS NOT NULL "
                "AND affiliations != '[]'", (iid,)):
            try:
                affiliations.update(a for a in orjson.loads(text) if isinstance(a, str) and a.strip())
            except orjson.JSONDecodeError:
                continue
        out[iid] = {
            "papers": len(papers),
            "coauthors": [name for name, _ in coauthors],
            "categories": [c for c, _ in categories.most_common(2)],
            "first_year": min(years) if years else None,
            "last_year": max(years) if years else None,
            "affiliation": affiliations.most_common(1)[0][0] if affiliations else None,
        }
    return out


__all__ = ["identity_labels"]
