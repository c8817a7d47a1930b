"""Upvotes: one per account per paper, counted once per client, and a daily list ranked by them.

Why "per client" too: accounts are free (any address that receives mail), so one person with many addresses could
otherwise inflate a paper.  Each vote records a keyed hash of the client address; the count shown on pages and the
count trending uses (``metrics/trending.py``) are the distinct clients that upvoted, so many accounts on one
machine count once.  The cost is that two readers behind one NAT count once for a paper; docs/accounts.md says so.
Each account may cast ``ACCOUNT_LIMIT`` votes an hour and each client ``CLIENT_LIMIT`` (a script flooding votes
is refused, not silently counted).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta

from ..store import Database
from .common import RateLimited, stamp, utcnow, within_limit
from .recstate import mark_stale

ACCOUNT_LIMIT = (120, timedelta(hours=1))
CLIENT_LIMIT = (300, timedelta(hours=1))
ACTIVITY_STAGE = "readers.activity"  # a stage_state row bumped on every vote: the web cache's data version


def _salt(db: Database) -> str:
    """A random per-store key for hashing client addresses (so the store does not hold reversible IPs)."""
    found = db.scalar("SELECT value FROM meta WHERE key = 'reader_client_salt'")
    if found:
        return str(found)
    db.execute("INSERT INTO meta (key, value) VALUES ('reader_client_salt', ?) ON CONFLICT (key) DO NOTHING",
               (secrets.token_hex(16),))
    return str(db.scalar("SELECT value FROM meta WHERE key = 'reader_client_salt'"))


def client_key(db: Database, client: str) -> str:
    return hmac.new(_salt(db).encode(), client.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


def bump_activity(db: Database, now: datetime | None = None) -> None:
    """Tell the page cache that reader figures changed (it keys rendered pages on every stage_state row)."""
    db.execute(
        "INSERT INTO stage_state (stage, watermark, info, updated_at) VALUES (?, 1, NULL, ?) "
        "ON CONFLICT (stage) DO UPDATE SET watermark = stage_state.watermark + 1, updated_at = excluded.updated_at",
        (ACTIVITY_STAGE, stamp(now or utcnow())))


def upvote(db: Database, account_id: int, paper_id: int, *, client: str, now: datetime | None = None) -> bool:
    """Record the vote; False if the account had already upvoted the paper.  :class:`RateLimited` on a flood."""
    now = now or utcnow()
    key = client_key(db, client)
    with db.transaction():
        if db.scalar("SELECT 1 FROM reader_votes WHERE account_id = ? AND paper_id = ?", (account_id, paper_id)):
            return False
        if not within_limit(db, "account", str(account_id), "vote", *ACCOUNT_LIMIT, now):
            raise RateLimited("too many votes from this account; please try again later")
        if not within_limit(db, "client", key, "vote", *CLIENT_LIMIT, now):
            raise RateLimited("too many votes from your network; please try again later")
        db.execute("INSERT INTO reader_votes (account_id, paper_id, client_key, created_at) VALUES (?, ?, ?, ?)",
                   (account_id, paper_id, key, stamp(now)))
        bump_activity(db, now)
        mark_stale(db, account_id)
    return True


def unvote(db: Database, account_id: int, paper_id: int, now: datetime | None = None) -> bool:
    with db.transaction():
        gone = db.execute("DELETE FROM reader_votes WHERE account_id = ? AND paper_id = ?", (account_id, paper_id))
        if gone:
            bump_activity(db, now)
            mark_stale(db, account_id)
    return bool(gone)


def vote_count(db: Database, paper_id: int) -> int:
    """Distinct clients that upvoted the paper (what pages show and trending counts)."""
    return int(db.scalar("SELECT COUNT(DISTINCT client_key) FROM reader_votes WHERE paper_id = ?",
                         (paper_id,)) or 0)


def vote_counts(db: Database, paper_ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for start in range(0, len(paper_ids), 500):
        chunk = paper_ids[start:start + 500]
        if not chunk:
            continue
        marks = ",".join("?" * len(chunk))
        for pid, count in db.query_tuples(
            f"SELECT paper_id, COUNT(DISTINCT client_key) FROM reader_votes WHERE paper_id IN ({marks}) "
            "GROUP BY paper_id", chunk):
            out[int(pid)] = int(count)
    return out


def votes_of(db: Database, account_id: int) -> dict[int, str]:
    """paper id -> 'up' for every paper the account upvoted (the recommendations issue builds on this; a later
    down-vote would add 'down' values)."""
    return {int(pid): "up" for (pid,) in db.query_tuples(
        "SELECT paper_id FROM reader_votes WHERE account_id = ? ORDER BY created_at DESC", (account_id,))}


def has_voted(db: Database, account_id: int, paper_id: int) -> bool:
    return bool(db.scalar("SELECT 1 FROM reader_votes WHERE account_id = ? AND paper_id = ?",
                          (account_id, paper_id)))


def daily(db: Database, day: date, limit: int = 50, offset: int = 0) -> list[tuple[int, int]]:
    """(paper id, votes) of the papers first submitted on ``day``, most upvoted first (ties: newest id last)."""
    start, end = day.isoformat(), day.isoformat() + "T99"
    rows = db.query_tuples(
        "SELECT p.id, COUNT(DISTINCT v.client_key) AS n FROM papers p LEFT JOIN reader_votes v ON v.paper_id = p.id "
        "WHERE p.submitted >= ? AND p.submitted <= ? GROUP BY p.id ORDER BY n DESC, p.id LIMIT ? OFFSET ?",
        (start, end, limit, offset))
    return [(int(pid), int(n)) for pid, n in rows]
