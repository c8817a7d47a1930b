"""Upvotes and saves made on this instance: the reader signals trending counts (table ``paper_signals``).

One row per (paper, kind, reader): a reader upvoting twice counts once.  The web UI records them; trending
counts those made up to its ``as_of``.
"""

from __future__ import annotations

from ..store import Database
from .common import now_iso

KINDS = ("upvote", "save")


def record(db: Database, paper_id: int, kind: str, user_key: str, *, at: str | None = None) -> bool:
    """Record a signal; False if this reader had already made it."""
    if kind not in KINDS:
        raise ValueError(f"unknown signal {kind!r}: use one of {', '.join(KINDS)}")
    return bool(db.execute(
        "INSERT INTO paper_signals (paper_id, kind, user_key, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (paper_id, kind, user_key) DO NOTHING",
        (paper_id, kind, user_key, at or now_iso()),
    ))


def remove(db: Database, paper_id: int, kind: str, user_key: str) -> bool:
    return bool(db.execute("DELETE FROM paper_signals WHERE paper_id = ? AND kind = ? AND user_key = ?",
                           (paper_id, kind, user_key)))


def counts(db: Database, paper_id: int) -> dict[str, int]:
    found = dict(db.query_tuples("SELECT kind, COUNT(*) FROM paper_signals WHERE paper_id = ? GROUP BY kind",
                                 (paper_id,)))
    return {kind: int(found.get(kind, 0)) for kind in KINDS}
