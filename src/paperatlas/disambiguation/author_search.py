"""``author search``: the people behind a typed name.

Diacritics and case never matter (names are folded), initials match full forenames ("j steinhardt" finds Jacob
Steinhardt), a swapped order is tried ("Steinhardt Jacob"), and a misspelt surname is found by fuzzy matching
(rapidfuzz) over the surnames the store knows.  Two people who share a name come back as two results, each with
the evidence that tells them apart: coauthors, categories, affiliations, years.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
from rapidfuzz import fuzz, process

from ..store import Store
from .block_keys import keys_like
from .names import NameParts, first_names_compatible, parts_of, query_parts

FUZZY_CUTOFF = 80
INITIALS = "0123456789abcdefghijklmnopqrstuvwxyz"  # what a block key's initial can be (names.parts_of)


def _candidate_blocks(store: Store, reading: NameParts) -> list[tuple[str, float]]:
    """Block keys (with a surname similarity 0..100) that the reading may refer to."""
    db = store.db
    if not reading.surname:
        return []
    if reading.first:
        exact = [reading.block] if db.scalar("SELECT 1 FROM identities WHERE block_key = ?", (reading.block,)) else []
        pattern = f"% {reading.initial}"
    else:
        # every block of this surname: "surname x" for each initial x a block key can have (names.parts_of folds
        # forenames to [a-z0-9]), probed on the block-key index; LIKE 'surname %' selected the same keys but
        # scanned all of them (1 ms on the demo store), and a range would depend on PostgreSQL's collation
        blocks = [f"{reading.surname} {initial}" for initial in INITIALS]
        exact = [r[0] for r in db.query_tuples("SELECT DISTINCT block_key FROM identities WHERE block_key IN "
                                               f"({','.join('?' * len(blocks))}) ORDER BY block_key", blocks)]
        pattern = "% %"
    found = [(b, 100.0) for b in exact]
    if not exact:  # a typo: fuzzy over the surnames of blocks with this initial
        keys, surnames = keys_like(db, pattern)  # remembered until the identities change
        for _, similarity, index in process.extract(reading.surname, surnames, scorer=fuzz.ratio,
                                                    score_cutoff=FUZZY_CUTOFF, limit=10):
            found.append((keys[index], float(similarity)))
    return found


def _first_score(query: NameParts, candidate: NameParts) -> float:
    if not query.first:
        return 0.8
    if first_names_compatible(query.first, candidate.first):
        if query.first == candidate.first:
            return 1.0
        return 0.9 if (query.first_is_initial or candidate.first_is_initial) else 0.85
    if not query.first_is_initial and not candidate.first_is_initial:
        ratio = fuzz.ratio(query.first, candidate.first)
        if ratio >= FUZZY_CUTOFF:
            return ratio / 100 * 0.8
    return 0.0


def search_authors(store: Store, name: str, limit: int = 20) -> list[dict[str, Any]]:
    """Identities behind ``name``, best match first (then most papers)."""
    if not name or not name.strip():
        return []
    scored: dict[int, float] = {}
    for reading in query_parts(name):
        for block, similarity in _candidate_blocks(store, reading):
            for identity, display in store.db.query_tuples("SELECT id, name FROM identities WHERE block_key = ?",
                                                           (block,)):
                first = _first_score(reading, parts_of(display))
                if first > 0:
                    value = similarity / 100 * first
                    scored[identity] = max(scored.get(identity, 0.0), value)
    if not scored:
        return []
    rows = {r["id"]: r for r in _identity_rows(store, list(scored))}
    order = sorted(scored, key=lambda i: (-round(scored[i], 3), -(rows[i]["paper_count"] if i in rows else 0), i))
    return [describe(store, rows[i], score=scored[i]) for i in order[:limit] if i in rows]


def _identity_rows(store: Store, ids: list[int]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(ids))
    return store.db.query(f"SELECT id, aid, name, orcid, paper_count FROM identities WHERE id IN ({marks})",
                          tuple(ids))


def _list(raw: str | None) -> list[str]:
    if not raw:
        return []
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return [raw]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def describe(store: Store, identity: dict[str, Any], score: float | None = None, top: int = 5) -> dict[str, Any]:
    """What tells a person apart: papers, coauthors, categories, affiliations, years active."""
    db = store.db
    rows = db.query_tuples(
        "SELECT p.id, p.pid, p.year, p.primary_category, p.categories, a.affiliations FROM authorships a "
        "JOIN papers p ON p.id = a.paper_id WHERE a.identity_id = ? ORDER BY p.year DESC, p.id", (identity["id"],))
    paper_ids = list(dict.fromkeys(r[0] for r in rows))
    categories: Counter[str] = Counter()
    affiliations: Counter[str] = Counter()
    years = [r[2] for r in rows if r[2]]
    for _, _, _, primary, cats, affils in rows:
        for c in _list(cats) or ([primary] if primary else []):
            categories[c] += 1
        for a in _list(affils):
            affiliations[a] += 1
    coauthors: Counter[int] = Counter()
    for start in range(0, len(paper_ids), 500):
        part = paper_ids[start : start + 500]
        marks = ",".join("?" * len(part))
        for (other,) in db.query_tuples(
                f"SELECT identity_id FROM authorships WHERE paper_id IN ({marks}) AND identity_id IS NOT NULL "
                "AND identity_id <> ?", (*part, identity["id"])):
            coauthors[other] += 1
    top_co = coauthors.most_common(top)
    names = {}
    if top_co:
        marks = ",".join("?" * len(top_co))
        names = {i: (aid, n) for i, aid, n in db.query_tuples(
            f"SELECT id, aid, name FROM identities WHERE id IN ({marks})", tuple(i for i, _ in top_co))}
    out = {
        "id": identity["aid"],
        "name": identity["name"],
        "orcid": identity.get("orcid"),
        "paper_ids": list(dict.fromkeys(r[1] for r in rows)),
        "paper_count": len(paper_ids),
        "top_coauthors": [{"id": names[i][0], "name": names[i][1], "count": c} for i, c in top_co if i in names],
        "top_categories": [c for c, _ in categories.most_common(top)],
        "affiliations": [a for a, _ in affiliations.most_common(top)],
        "years_active": [min(years), max(years)] if years else None,
    }
    if score is not None:
        out["match"] = round(score, 3)
    return out
