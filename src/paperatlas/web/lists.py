"""The feed and category lists: how long the trending feed is, the newest papers of a category with its
cross-listed ones, the category index, and the one-line "why this order" each feed item carries.

The trending order is the metrics stage's (:mod:`paperatlas.metrics.trending`); this module only reads it, so a
page can say how many papers the feed holds (and end honestly) and which inputs put each paper where it is.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from ..metrics import trending
from ..store import Store
from .taxonomy import category_name

# Cross-listed papers are found by reading the category lists of the newest papers (there is no index on a
# JSON list); papers filed under the category as their primary one come from the index, all of them.
CROSS_LIST_SCAN = 50_000


def _like(category: str) -> str:
    escaped = category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f'%"{escaped}"%'


def _stored(store: Store) -> bool:
    return store.db.scalar("SELECT 1 FROM paper_metrics WHERE trending IS NOT NULL LIMIT 1") is not None


def trending_ranked(store: Store, *, category: str | None = None, limit: int = 20,
                    offset: int = 0) -> list[tuple[int, float, dict[str, Any] | None]]:
    """``(paper id, trending score, reason or None)``, highest first: the order is the score a page shows.

    The metrics stage's stored scores when it has run (the reason is then on the paper's card); before it has,
    the same formula computed now for the default as-of day, with its reason, so the page can still explain it.
    """
    if _stored(store):
        sql = ("SELECT m.paper_id, m.trending FROM paper_metrics m JOIN papers p ON p.id = m.paper_id "
               "WHERE m.trending IS NOT NULL")
        params: list[Any] = []
        if category:
            sql += " AND (p.primary_category = ? OR p.categories LIKE ? ESCAPE '\\')"
            params += [category, _like(category)]
        sql += " ORDER BY m.trending DESC, m.paper_id LIMIT ? OFFSET ?"
        return [(pid, value, None) for pid, value in store.db.query_tuples(sql, [*params, limit, offset])]
    figures = trending.compute(store.db, trending.default_as_of(store.db), category)
    ranked = sorted(figures, key=lambda pid: (-figures[pid][0], pid))[offset : offset + limit]
    return [(pid, figures[pid][0], figures[pid][1]) for pid in ranked]


def trending_total(store: Store, category: str | None = None) -> int:
    """How many papers the trending feed holds (those submitted in the window before its as-of date)."""
    if not _stored(store):
        return len(trending.compute(store.db, trending.default_as_of(store.db), category))
    sql = "SELECT COUNT(*) FROM paper_metrics m JOIN papers p ON p.id = m.paper_id WHERE m.trending IS NOT NULL"
    params: list[Any] = []
    if category:
        sql += " AND (p.primary_category = ? OR p.categories LIKE ? ESCAPE '\\')"
        params += [category, _like(category)]
    return int(store.db.scalar(sql, params) or 0)


def trending_cards(store: Store, ranked: list[tuple[int, float, dict[str, Any] | None]],
                   cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cards carrying the score they were ranked by, its reason, and the "why this order" phrases."""
    by_id = {pid: (value, reason) for pid, value, reason in ranked}
    for card in cards:
        value, reason = by_id.get(card["id"], (card.get("trending"), None))
        card["trending"] = value
        if reason is not None:
            card["trending_reason"] = reason
        card["why_order"] = why_order(card)
    return cards


def newest_in_category(store: Store, category: str, *, limit: int = 20) -> list[tuple[int, bool]]:
    """``(paper id, cross_listed)``, newest first: papers filed under ``category`` and papers that list it."""
    db = store.db
    primary = db.query_tuples(
        "SELECT id, submitted FROM papers WHERE primary_category = ? ORDER BY submitted DESC, id DESC LIMIT ?",
        (category, limit))
    cross = db.query_tuples(
        "SELECT id, submitted FROM (SELECT id, submitted, primary_category, categories FROM papers "
        "ORDER BY submitted DESC LIMIT ?) recent WHERE (primary_category IS NULL OR primary_category != ?) "
        "AND categories LIKE ? ESCAPE '\\' ORDER BY submitted DESC, id DESC LIMIT ?",
        (CROSS_LIST_SCAN, category, _like(category), limit))
    merged = sorted([(r[1] or "", r[0], False) for r in primary] + [(r[1] or "", r[0], True) for r in cross],
                    reverse=True)
    return [(pid, crossed) for _, pid, crossed in merged[:limit]]


def newest(store: Store, *, limit: int = 20, offset: int = 0) -> list[int]:
    """Papers by submission date, newest first, then those without one (the submitted index, no sort)."""
    return [r[0] for r in store.db.query_tuples(
        "SELECT id FROM papers ORDER BY submitted DESC LIMIT ? OFFSET ?", (limit, offset))]


def category_index(store: Store) -> list[dict[str, Any]]:
    """Every primary category in the store with its paper count and full name, largest first."""
    rows = store.db.query_tuples(
        "SELECT primary_category, COUNT(*) FROM papers WHERE primary_category IS NOT NULL "
        "GROUP BY primary_category")
    counts = Counter({code: n for code, n in rows})
    return [{"code": code, "name": category_name(code), "papers": n} for code, n in counts.most_common()]


def as_of(store: Store) -> str | None:
    """The day the trending feed is computed for: the metrics stage's, else the newest submission."""
    stored = trending.stored_as_of(store.db)
    if stored is not None:
        return stored.isoformat()
    if store.db.scalar("SELECT 1 FROM papers WHERE submitted IS NOT NULL LIMIT 1") is None:
        return None
    return trending.default_as_of(store.db).isoformat()


def why_order(card: dict[str, Any]) -> list[str]:
    """The trending formula's inputs for one paper, as short phrases ("3 days old", "2.1 citations a month")."""
    reason = card.get("trending_reason")
    if isinstance(reason, str):
        try:
            reason = orjson.loads(reason)
        except orjson.JSONDecodeError:
            return [reason]
    if not isinstance(reason, dict):
        return []
    if "age_days" not in reason:  # a reason of another shape (an older build): shown as it is
        return [f"{str(k).replace('_', ' ')}: {v}" for k, v in reason.items()]
    parts = []
    age = reason.get("age_days")
    if age is not None:
        parts.append("submitted on the as-of day" if age == 0 else f"{age} day{'s' if age != 1 else ''} old "
                     f"(score halves every {reason.get('half_life_days', trending.HALF_LIFE_DAYS):g} days)")
    per_month = reason.get("citations_per_month") or 0
    cites = reason.get("citations") or 0
    parts.append(f"{cites} citing paper{'s' if cites != 1 else ''} ({per_month:g} a month)" if cites
                 else "no citing papers yet")
    if reason.get("ai_score") is not None:
        parts.append(f"AI Score {reason['ai_score']:.0f}")
    parts.append("code released" if reason.get("has_code") else "no code link")
    signals = (reason.get("upvotes") or 0) + (reason.get("saves") or 0)
    if signals:
        parts.append(f"{signals} upvote{'s' if signals != 1 else ''} and saves")
    return parts





def paper_counts(store: Store, identity_ids: list[int]) -> dict[int, int]:
    """Distinct papers per identity, counted the way the author page counts them (from the authorships)."""
    if not identity_ids:
        return {}
    marks = ",".join("?" * len(identity_ids))
    return dict(store.db.query_tuples(
        f"SELECT identity_id, COUNT(DISTINCT paper_id) FROM authorships WHERE identity_id IN ({marks}) "
        "GROUP BY identity_id", identity_ids))


def top_authors(store: Store, limit: int = 30) -> list[dict[str, Any]]:
    """The identities with most papers: picked by the metrics stage's count, shown with the live count (the
    one their profile prints), so the list and the profile never disagree."""
    rows = store.db.query_tuples(
        "SELECT i.id, i.aid, i.name FROM author_metrics m JOIN identities i ON i.id = m.identity_id "
        "ORDER BY m.paper_count DESC, i.id LIMIT ?", (limit,))
    if not rows:  # the metrics stage has not run: count the authorships (one pass over their identity index)
        rows = store.db.query_tuples(
            "SELECT i.id, i.aid, i.name FROM (SELECT identity_id, COUNT(DISTINCT paper_id) AS n FROM authorships "
            "WHERE identity_id IS NOT NULL GROUP BY identity_id ORDER BY n DESC, identity_id LIMIT ?) a "
            "JOIN identities i ON i.id = a.identity_id", (limit,))
    counts = paper_counts(store, [r[0] for r in rows])
    people = [{"aid": aid, "name": name, "paper_count": counts.get(iid, 0)} for iid, aid, name in rows]
    return sorted(people, key=lambda p: (-p["paper_count"], p["name"]))


__all__ = ["as_of", "category_index", "newest", "newest_in_category", "paper_counts", "top_authors", "trending_cards",
           "trending_ranked", "trending_total", "why_order"]
