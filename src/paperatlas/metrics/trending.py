"""Trending: the daily feed's rank, from recency and the signals a self-hosted instance has.

    trending = 100 * 2^(-age_days / HALF_LIFE_DAYS)
                   * (1 + W_CITES * ln(1 + citations per month)
                        + W_AI * ai_score / 100
                        + W_CODE * has_code
                        + W_SIGNALS * ln(1 + upvotes + saves))

``age_days`` counts from first submission to ``as_of``; citations are the distinct citing papers in the store
submitted on or before ``as_of`` (so a replayed corpus does not see the future); upvotes/saves are those made on
this instance up to ``as_of`` (table ``paper_signals``, plus the account upvotes of ``reader_votes`` counted once
per client and paper: see readers/votes.py).  Only papers submitted in the ``WINDOW_DAYS`` before
``as_of`` are ranked: older ones would score below 2^-12 anyway.

``as_of`` defaults to today, unless the newest paper in the store is older than ``STALE_DAYS`` (an old corpus,
such as the demo's): then it is that newest submission date, so the feed replays the corpus as if it were new.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import orjson

from ..store import Database, Store
from .common import dumps, loads, now_iso

HALF_LIFE_DAYS = 7.0
WINDOW_DAYS = 90
STALE_DAYS = 30
W_CITES = 0.5
W_AI = 0.5
W_CODE = 0.3
W_SIGNALS = 0.5
STAGE = "metrics.trending"


def default_as_of(db: Database, today: date | None = None) -> date:
    today = today or date.today()
    newest = db.scalar("SELECT MAX(submitted) FROM papers WHERE submitted IS NOT NULL")
    if not newest:
        return today
    try:
        newest_day = date.fromisoformat(str(newest)[:10])
    except ValueError:
        return today
    return newest_day if newest_day < today - timedelta(days=STALE_DAYS) else today


def score(age_days: float, cites_per_month: float, ai_score: float | None, has_code: bool, signals: int) -> float:
    decay = 2.0 ** (-max(age_days, 0.0) / HALF_LIFE_DAYS)
    boost = (1.0 + W_CITES * math.log1p(cites_per_month) + W_AI * (ai_score or 0.0) / 100.0
             + W_CODE * (1.0 if has_code else 0.0) + W_SIGNALS * math.log1p(signals))
    return 100.0 * decay * boost


def compute(db: Database, as_of: date, category: str | None = None) -> dict[int, tuple[float, dict[str, Any]]]:
    """paper id -> (trending, reason) for the papers inside the window before ``as_of``."""
    start = (as_of - timedelta(days=WINDOW_DAYS)).isoformat()
    end = as_of.isoformat() + "T99"  # includes any time of day on as_of
    sql = (
        "SELECT p.id, p.submitted, p.code_links, m.ai_score FROM papers p "
        "LEFT JOIN paper_metrics m ON m.paper_id = p.id "
        "WHERE p.submitted >= ? AND p.submitted <= ?"
    )
    params: list[Any] = [start, end]
    if category:
        sql += " AND (p.primary_category = ? OR p.categories LIKE ?)"
        params += [category, f'%"{category}"%']
    rows = db.query_tuples(sql, params)
    if not rows:
        return {}
    ids = [r[0] for r in rows]
    cites: dict[int, int] = {}
    has_votes = db.table_exists("reader_votes")
    signals: dict[int, dict[str, int]] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        marks = ",".join("?" * len(chunk))
        for cited, count in db.query_tuples(
            "SELECT c.cited_id, COUNT(DISTINCT c.citing_id) FROM citations c JOIN papers q ON q.id = c.citing_id "
            f"WHERE c.cited_id IN ({marks}) AND c.citing_id <> c.cited_id "
            "AND (q.submitted IS NULL OR q.submitted <= ?) "
            "GROUP BY c.cited_id", [*chunk, end]
        ):
            cites[cited] = count
        for paper_id, kind, count in db.query_tuples(
            f"SELECT paper_id, kind, COUNT(*) FROM paper_signals WHERE paper_id IN ({marks}) AND created_at <= ? "
            "GROUP BY paper_id, kind", [*chunk, end]
        ):
            signals.setdefault(paper_id, {})[kind] = count
        if has_votes:
            # account upvotes (issue 21): one per client and paper, cast on or before as_of, so --as-of replays
            for paper_id, count in db.query_tuples(
                f"SELECT paper_id, COUNT(DISTINCT client_key) FROM reader_votes WHERE paper_id IN ({marks}) "
                "AND created_at <= ? GROUP BY paper_id", [*chunk, end]
            ):
                bucket = signals.setdefault(paper_id, {})
                bucket["upvote"] = bucket.get("upvote", 0) + count
    out = {}
    for paper_id, submitted, code_links, ai in rows:
        try:
            age = (as_of - date.fromisoformat(submitted[:10])).days
        except ValueError:
            continue
        per_month = cites.get(paper_id, 0) / max(age / 30.0, 1.0)
        has_code = bool(loads(code_links, []))
        sig = signals.get(paper_id, {})
        value = score(age, per_month, ai, has_code, sum(sig.values()))
        out[paper_id] = (round(value, 3), {
            "as_of": as_of.isoformat(), "age_days": age, "half_life_days": HALF_LIFE_DAYS,
            "citations": cites.get(paper_id, 0), "citations_per_month": round(per_month, 3),
            "ai_score": ai, "has_code": has_code, "upvotes": sig.get("upvote", 0), "saves": sig.get("save", 0),
            "formula": "100 * 2^(-age/7) * (1 + 0.5 ln(1+cites/month) + 0.5 ai/100 + 0.3 code + 0.5 ln(1+signals))",
        })
    return out


def stored_as_of(db: Database) -> date | None:
    info = db.scalar("SELECT info FROM stage_state WHERE stage = ?", (STAGE,))
    if not info:
        return None
    return date.fromisoformat(orjson.loads(info)["as_of"])


def update(db: Database, as_of: date) -> int:
    """Store trending for the window before ``as_of`` and clear it everywhere else."""
    from .common import upsert_paper_metrics

    figures = compute(db, as_of)
    with db.transaction():
        db.execute("UPDATE paper_metrics SET trending = NULL, trending_reason = NULL, trending_as_of = NULL "
                   "WHERE trending IS NOT NULL")
        rows = ((pid, value, dumps(reason), as_of.isoformat()) for pid, (value, reason) in figures.items())
        upsert_paper_metrics(db, ["trending", "trending_reason", "trending_as_of"], rows)
        db.execute(
            "INSERT INTO stage_state (stage, watermark, info, updated_at) VALUES (?, 0, ?, ?) "
            "ON CONFLICT (stage) DO UPDATE SET info = excluded.info, updated_at = excluded.updated_at",
            (STAGE, dumps({"as_of": as_of.isoformat(), "papers": len(figures)}), now_iso()),
        )
    return len(figures)


def trending_papers(store: Store, as_of: date | None = None, category: str | None = None, limit: int = 20,
                    offset: int = 0) -> list[int]:
    """Paper ids, most trending first.  Reads the stored ranks when ``as_of`` is the built one, else computes."""
    db = store.db
    built = stored_as_of(db)
    if as_of is None or as_of == built:
        if built is not None:
            sql = ("SELECT m.paper_id FROM paper_metrics m JOIN papers p ON p.id = m.paper_id "
                   "WHERE m.trending IS NOT NULL")
            params: list[Any] = []
            if category:
                sql += " AND (p.primary_category = ? OR p.categories LIKE ?)"
                params += [category, f'%"{category}"%']
            sql += " ORDER BY m.trending DESC, m.paper_id LIMIT ? OFFSET ?"
            return [r[0] for r in db.query_tuples(sql, [*params, limit, offset])]
        as_of = as_of or default_as_of(db)
    figures = compute(db, as_of, category)
    ranked = sorted(figures, key=lambda pid: (-figures[pid][0], pid))
    return ranked[offset : offset + limit]
