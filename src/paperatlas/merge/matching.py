"""Which paper a source record is: by any identifier first, failing those by title + year + first author.

Lookups are batched (one query per identifier scheme, one for all title keys of a batch) because the ingest of
a bulk dump asks this 10^5 times; the per-record decision (:func:`title_match`) is pure, so ``bench merge`` can
measure exactly the rule the ingest applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model import ARXIV, ID_SCHEMES
from ..store.database import Database, query_in

# Identifier schemes in the order a record's identifiers are tried: the most specific first.
MATCH_ORDER = (ARXIV, "doi", "dblp", "openalex", "s2", "acl", "s2corpus", "mag", "pubmed")
# A title folded to fewer characters than this ("Introduction", "Preface") says too little to merge on.
MIN_TITLE_KEY = 12
_CHUNK = 500


@dataclass(slots=True)
class Candidate:
    """A paper that a title match could land on."""

    paper_id: int
    year: int | None
    first_author_key: str | None
    arxiv: set[str] = field(default_factory=set)


def same_surname(a: str | None, b: str | None) -> bool:
    """Equal surname keys, or one the tail of the other when a source split a compound surname differently
    (``Elvey-Price`` as keyname vs. ``Andrew Elvey Price`` parsed as ``Price``)."""
    if not a or not b:
        return False
    if a == b:
        return True
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return len(short) >= 4 and long.endswith(short)


def title_match(candidates: Iterable[Candidate], year: int | None, author_key: str | None,
                arxiv: str | None) -> int | None:
    """The paper with the same folded title, a year within one and the same first-author surname, or None.

    Both sides must name a first author; a candidate that already has a *different* arXiv id is a different
    paper (two arXiv submissions with one title are not merged)."""
    if not author_key:
        return None
    best: tuple[int, int] | None = None
    for cand in candidates:
        if not same_surname(cand.first_author_key, author_key):
            continue
        if arxiv and cand.arxiv and arxiv not in cand.arxiv:
            continue
        gap = abs(year - cand.year) if year and cand.year else 0
        if gap > 1:
            continue
        if best is None or (gap, cand.paper_id) < best:
            best = (gap, cand.paper_id)
    return best[1] if best else None


def lookup_ids(db: Database, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """paper id of every known (scheme, value): one query per scheme and 500 values."""
    by_scheme: dict[str, set[str]] = {}
    for scheme, value in pairs:
        by_scheme.setdefault(scheme, set()).add(value)
    found: dict[tuple[str, str], int] = {}
    for scheme, values in by_scheme.items():
        ordered = sorted(values)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for value, paper_id in db.query_tuples(
                f"SELECT value, paper_id FROM paper_ids WHERE scheme = ? AND value IN ({marks})", [scheme, *chunk]
            ):
                found[(scheme, value)] = paper_id
    return found


def lookup_titles(db: Database, keys: Iterable[str]) -> dict[str, list[Candidate]]:
    """Papers by folded title, with what :func:`title_match` needs to decide."""
    ordered = sorted({k for k in keys if k and len(k) >= MIN_TITLE_KEY})
    found: dict[str, list[Candidate]] = {}
    by_id: dict[int, Candidate] = {}
    sql = ("SELECT id, title_key, year, first_author_key FROM papers WHERE title_key IN ({marks})")
    for paper_id, key, year, author_key in query_in(db, sql, ordered, size=_CHUNK):
        cand = Candidate(paper_id, year, author_key)
        by_id[paper_id] = cand
        found.setdefault(key, []).append(cand)
    ids = sorted(by_id)
    sql = ("SELECT paper_id, value FROM paper_ids WHERE scheme = 'arxiv' AND paper_id IN ({marks})")
    for paper_id, value in query_in(db, sql, ids, size=_CHUNK):
        by_id[paper_id].arxiv.add(value)
    return found


def record_pairs(ids: dict[str, Any]) -> list[tuple[str, str]]:
    """A record's identifiers in match order."""
    ranked = sorted(ids.items(), key=lambda kv: MATCH_ORDER.index(kv[0]) if kv[0] in MATCH_ORDER
                    else len(MATCH_ORDER) + (ID_SCHEMES.index(kv[0]) if kv[0] in ID_SCHEMES else 0))
    return [(scheme, str(value)) for scheme, value in ranked if value]
