"""A reader's "For you" list: their profile from the readers tables, precomputed candidates, and thumbs feedback.

Why precomputed: scoring a reader's candidates (``recommend.recommend_for``) costs 10-50 ms and a handful of
queries; the page must answer in a few milliseconds whatever the store's size, so each reader's ranked list (with
its reasons) is kept in ``reader_recommendations`` and the page reads rows.  The list is remade

* when the reader acts: votes, saves, follows and thumbs mark it stale (``recstate.mark_stale``, in the same
  transaction as the action); the web layer retrains right after answering, and any read of a stale list retrains
  first, so an answer never lags an action;
* for every reader after each ``paperatlas build`` (:func:`retrain_all`), because new papers are new candidates.

The profile: positives are the papers in any of the reader's collections, their upvotes and their thumbs-up, most
recent last (the model seeds its neighbour search from the newest); negatives are thumbs-down (a thumbs-down wins
over a save of the same paper: it is the reader's latest word on it); followed authors and categories are the cold
start.  Followed saved searches are not used (the model has no query signal).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..recommend import ReaderProfile, recommend_for
from ..search.vectors import open_vectors
from ..store import Database, Store
from .common import NotFound, ReaderError, stamp, utcnow
from .recstate import mark_stale

KEEP = 100  # recommendations kept per reader (the page shows PAGE of them; thumbs-down ones drop out on retrain)
PAGE = 30
FEEDBACK = ("up", "down")


@dataclass(frozen=True)
class ForYouItem:
    rank: int
    paper_id: int
    pid: str
    title: str
    year: int | None
    score: float
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "paper": self.pid, "title": self.title, "year": self.year, "score": self.score,
                "reasons": self.reasons}


def profile_of(db: Database, account_id: int) -> ReaderProfile:
    """The model's view of a reader, read from their library, upvotes, thumbs and follows."""
    when: dict[int, str] = {}
    for paper_id, at in db.query_tuples(
        "SELECT i.paper_id, MAX(i.added_at) FROM reader_collection_items i JOIN reader_collections c "
        "ON c.id = i.collection_id WHERE c.account_id = ? GROUP BY i.paper_id", (account_id,)):
        when[int(paper_id)] = max(when.get(int(paper_id), ""), at or "")
    for paper_id, at in db.query_tuples(
        "SELECT paper_id, created_at FROM reader_votes WHERE account_id = ?", (account_id,)):
        when[int(paper_id)] = max(when.get(int(paper_id), ""), at or "")
    negatives: list[tuple[str, int]] = []
    for paper_id, value, at in db.query_tuples(
        "SELECT paper_id, value, created_at FROM reader_feedback WHERE account_id = ?", (account_id,)):
        if value == "up":
            when[int(paper_id)] = max(when.get(int(paper_id), ""), at or "")
        else:
            negatives.append((at or "", int(paper_id)))
    rejected = {p for _, p in negatives}
    positives = [p for p, _ in sorted(when.items(), key=lambda kv: (kv[1], kv[0])) if p not in rejected]
    follows = [int(i) for (i,) in db.query_tuples(
        "SELECT i.id FROM reader_follows f JOIN identities i ON i.aid = f.value "
        "WHERE f.account_id = ? AND f.kind = 'author' ORDER BY i.id", (account_id,))]
    categories = [str(v) for (v,) in db.query_tuples(
        "SELECT value FROM reader_follows WHERE account_id = ? AND kind = 'category' ORDER BY value",
        (account_id,))]
    return ReaderProfile(positives=tuple(positives), negatives=tuple(p for _, p in sorted(negatives)),
                         follows=tuple(follows), categories=tuple(categories))


def retrain(store: Store, account_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Remake the reader's list from their current profile and store it; returns {"items", "ms"}.

    :class:`LookupError` when the reader has saved papers but the store has no vector index yet (run
    ``paperatlas build``): the caller says so rather than showing a list made without the reader's library.
    """
    db = store.db
    started = time.perf_counter()
    pending = int(db.scalar("SELECT stale FROM reader_recommendation_state WHERE account_id = ?",
                            (account_id,)) or 0)
    found = recommend_for(store, profile_of(db, account_id), limit=KEEP)
    ms = round((time.perf_counter() - started) * 1000, 2)
    with db.transaction():
        db.execute("DELETE FROM reader_recommendations WHERE account_id = ?", (account_id,))
        db.executemany(
            "INSERT INTO reader_recommendations (account_id, rank, paper_id, score, reasons) VALUES (?, ?, ?, ?, ?)",
            [(account_id, rank, r.paper_id, float(r.score), json.dumps(r.reasons, ensure_ascii=False))
             for rank, r in enumerate(found, start=1)])
        # Subtract the actions this training saw: one that landed meanwhile keeps the list stale.
        db.execute("INSERT INTO reader_recommendation_state (account_id, stale, trained_at, train_ms, items) "
                   "VALUES (?, 0, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET "
                   "stale = CASE WHEN reader_recommendation_state.stale > ? "
                   "THEN reader_recommendation_state.stale - ? ELSE 0 END, trained_at = excluded.trained_at, "
                   "train_ms = excluded.train_ms, items = excluded.items",
                   (account_id, stamp(now or utcnow()), ms, len(found), pending, pending))
    return {"items": len(found), "ms": ms}


def needs_training(db: Database, account_id: int) -> bool:
    row = db.query_tuples("SELECT stale, trained_at FROM reader_recommendation_state WHERE account_id = ?",
                          (account_id,))
    return not row or row[0][1] is None or int(row[0][0]) > 0


def recommendations(store: Store, account_id: int, limit: int = PAGE, offset: int = 0) -> list[ForYouItem]:
    """The reader's stored list (retrained first when an action made it stale), best first.

    Only this account's rows are ever read: the account id comes from the session or token, never from the
    request."""
    db = store.db
    if needs_training(db, account_id):
        retrain(store, account_id)
    return [ForYouItem(int(rank), int(pid_), str(pid), title or "", year, float(score), json.loads(reasons))
            for rank, pid_, pid, title, year, score, reasons in db.query_tuples(
                "SELECT r.rank, r.paper_id, p.pid, p.title, COALESCE(p.year, p.venue_year), r.score, r.reasons "
                "FROM reader_recommendations r JOIN papers p ON p.id = r.paper_id "
                "WHERE r.account_id = ? ORDER BY r.rank LIMIT ? OFFSET ?", (account_id, limit, offset))]


def has_signals(db: Database, account_id: int) -> bool:
    """Whether the reader has a library or votes (the digest's "For you" section is for those readers)."""
    return bool(db.scalar(
        "SELECT 1 FROM reader_votes WHERE account_id = ? UNION ALL SELECT 1 FROM reader_collection_items i "
        "JOIN reader_collections c ON c.id = i.collection_id WHERE c.account_id = ? LIMIT 1",
        (account_id, account_id)))


def feedback_of(db: Database, account_id: int) -> dict[int, str]:
    return {int(p): str(v) for p, v in db.query_tuples(
        "SELECT paper_id, value FROM reader_feedback WHERE account_id = ?", (account_id,))}


def give_feedback(db: Database, account_id: int, paper_id: int, value: str, now: datetime | None = None) -> bool:
    """Record thumbs 'up' or 'down' on a paper, or 'clear' to take it back; marks the reader's list stale.
    Returns whether anything changed."""
    if value not in (*FEEDBACK, "clear"):
        raise ReaderError("feedback is 'up', 'down' or 'clear'")
    if not db.scalar("SELECT 1 FROM papers WHERE id = ?", (paper_id,)):
        raise NotFound("no such paper")
    with db.transaction():
        if value == "clear":
            changed = db.execute("DELETE FROM reader_feedback WHERE account_id = ? AND paper_id = ?",
                                 (account_id, paper_id))
        else:
            changed = db.execute(
                "INSERT INTO reader_feedback (account_id, paper_id, value, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (account_id, paper_id) DO UPDATE SET value = excluded.value, "
                "created_at = excluded.created_at", (account_id, paper_id, value, stamp(now or utcnow())))
        if changed:
            mark_stale(db, account_id)
    return bool(changed)


def active_accounts(db: Database) -> list[int]:
    """Readers with anything to recommend from: a library, votes, thumbs or follows."""
    return sorted({int(a) for (a,) in db.query_tuples(
        "SELECT account_id FROM reader_votes UNION SELECT c.account_id FROM reader_collections c "
        "JOIN reader_collection_items i ON i.collection_id = c.id UNION SELECT account_id FROM reader_feedback "
        "UNION SELECT account_id FROM reader_follows WHERE kind IN ('author', 'category') "
        "UNION SELECT account_id FROM reader_recommendation_state")})


def trainable(store: Store, account_id: int) -> bool:
    """Whether the reader's list can be made now: a reader with saved papers needs the vector index."""
    return open_vectors(store) is not None or not profile_of(store.db, account_id).positives


def retrain_if_stale(store: Store, account_id: int) -> bool:
    """The retraining after an action (run after the answer is sent).  A store without a vector index leaves the
    list stale: the reader's next page then says what is missing (a background task has nobody to tell)."""
    if not needs_training(store.db, account_id) or not trainable(store, account_id):
        return False
    retrain(store, account_id)
    return True


def retrain_all(store: Store) -> dict[str, Any]:
    """Retrain every reader (after a build: new papers are new candidates).  Without a vector index only readers
    with nothing saved can be served; the others are counted in ``skipped_no_vectors`` and keep their old list,
    marked stale, so their next page says the index is missing instead of showing an old list as new."""
    started = time.perf_counter()
    vectors = open_vectors(store) is not None
    trained, skipped, times = 0, 0, []
    for account_id in active_accounts(store.db):
        if not vectors and not trainable(store, account_id):
            mark_stale(store.db, account_id)
            skipped += 1
            continue
        times.append(retrain(store, account_id)["ms"])
        trained += 1
    times.sort()
    return {"readers": trained, "skipped_no_vectors": skipped,
            "retrain_ms_p50": times[len(times) // 2] if times else None,
            "seconds": round(time.perf_counter() - started, 3)}
