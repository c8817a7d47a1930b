"""Name clusters: every authorship whose full name matches case-insensitively after Unicode normalization
(DBLP homonym numbers stripped).  A name cluster is what a name *could* mean; the identities inside it are the
people the disambiguation found (the "author rows" of a name-cluster page)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..normalize import name_key, split_homonym
from ..store import Store


def name_cluster(store: Store, name: str) -> dict[str, Any] | None:
    """The cluster of ``name``: display name, key, paper ids (internal), count, identities; None if unknown."""
    key = name_key(name)
    if not key:
        return None
    rows = store.db.query_tuples(
        "SELECT a.paper_id, a.name, a.identity_id, p.year FROM authorships a JOIN papers p ON p.id = a.paper_id "
        "WHERE a.name_key = ? ORDER BY p.year DESC, a.paper_id", (key,))
    if not rows:
        return None
    paper_ids = list(dict.fromkeys(r[0] for r in rows))
    shown = Counter(split_homonym(r[1])[0] for r in rows).most_common(1)[0][0]
    per_identity = Counter(r[2] for r in rows if r[2] is not None)
    identities = []
    if per_identity:
        marks = ",".join("?" * len(per_identity))
        names = {i: (aid, n) for i, aid, n in store.db.query_tuples(
            f"SELECT id, aid, name FROM identities WHERE id IN ({marks})", tuple(per_identity))}
        for identity, count in per_identity.most_common():
            if identity in names:
                aid, display = names[identity]
                identities.append({"aid": aid, "name": display, "paper_count": count})
    return {"name": shown, "key": key, "paper_ids": paper_ids, "paper_count": len(paper_ids),
            "identities": identities, "unassigned": sum(1 for r in rows if r[2] is None)}


def list_name_clusters(store: Store, prefix: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Name clusters by size (optionally those whose key starts with ``prefix``): key, papers, identities."""
    where, params = "", []
    if prefix:
        where = "WHERE name_key LIKE ?"
        params.append(name_key(prefix).replace("%", "") + "%")
    rows = store.db.query_tuples(
        f"SELECT name_key, COUNT(DISTINCT paper_id), COUNT(DISTINCT identity_id), MIN(name) FROM authorships {where} "
        "GROUP BY name_key ORDER BY COUNT(DISTINCT paper_id) DESC, name_key LIMIT ?", (*params, limit))
    return [{"key": k, "name": split_homonym(n)[0], "paper_count": p, "identity_count": i} for k, p, i, n in rows]
