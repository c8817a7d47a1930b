"""Follows: authors, categories and saved searches a reader keeps up with, from buttons on their pages.

A follow is (kind, value): ``author`` with the public author id (aid), ``category`` with an arXiv code, ``query``
with a saved search.  The digest uses the same follows: when the account's address is also a digest subscriber,
every change here is written to that subscription too, so the mail and the "Following" page never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..store import Database
from ..store.papers import resolve_author
from .common import NotFound, ReaderError, stamp, utcnow
from .recstate import mark_stale

KINDS = ("author", "category", "query")
MAX_FOLLOWS = 200
MAX_QUERY_CHARS = 200
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$")


@dataclass(frozen=True)
class Follow:
    kind: str
    value: str
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "created_at": self.created_at}


def clean(db: Database, kind: str, value: str) -> str:
    """The stored form of a follow, or :class:`ReaderError` / :class:`NotFound` (an unknown author)."""
    value = " ".join((value or "").split())
    if kind == "author":
        found = resolve_author(db, value) if value else None
        if found is None:
            raise NotFound(f"no author with the id {value!r}")
        return str(db.scalar("SELECT aid FROM identities WHERE id = ?", (found,)))
    if kind == "category":
        if not _CATEGORY.match(value) or len(value) > 40:
            raise ReaderError(f"not a category: {value!r} (e.g. cs.CL)")
        return value
    if kind == "query":
        if not value:
            raise ReaderError("give the search to follow")
        if len(value) > MAX_QUERY_CHARS:
            raise ReaderError(f"a saved search may have at most {MAX_QUERY_CHARS} characters")
        return value
    raise ReaderError(f"one can follow {', '.join(KINDS)}, not {kind!r}")


def follows_of(db: Database, account_id: int) -> list[Follow]:
    return [Follow(k, v, c) for k, v, c in db.query_tuples(
        "SELECT kind, value, created_at FROM reader_follows WHERE account_id = ? ORDER BY kind, value",
        (account_id,))]


def is_following(db: Database, account_id: int, kind: str, value: str) -> bool:
    return bool(db.scalar("SELECT 1 FROM reader_follows WHERE account_id = ? AND kind = ? AND value = ?",
                          (account_id, kind, value)))


def follow(db: Database, account_id: int, kind: str, value: str, now: datetime | None = None) -> Follow:
    value = clean(db, kind, value)
    now = now or utcnow()
    with db.transaction():
        if int(db.scalar("SELECT COUNT(*) FROM reader_follows WHERE account_id = ?", (account_id,))) >= MAX_FOLLOWS:
            raise ReaderError(f"at most {MAX_FOLLOWS} follows per account")
        db.execute("INSERT INTO reader_follows (account_id, kind, value, created_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (account_id, kind, value) DO NOTHING", (account_id, kind, value, stamp(now)))
        _mirror_to_digest(db, account_id)
        mark_stale(db, account_id)
    created = db.scalar("SELECT created_at FROM reader_follows WHERE account_id = ? AND kind = ? AND value = ?",
                        (account_id, kind, value))
    return Follow(kind, value, str(created))


def unfollow(db: Database, account_id: int, kind: str, value: str) -> bool:
    value = " ".join((value or "").split())
    with db.transaction():
        gone = db.execute("DELETE FROM reader_follows WHERE account_id = ? AND kind = ? AND value = ?",
                          (account_id, kind, value))
        _mirror_to_digest(db, account_id)
        if gone:
            mark_stale(db, account_id)
    return bool(gone)


def _mirror_to_digest(db: Database, account_id: int) -> None:
    """Make the digest subscription of the same address follow exactly what the account follows."""
    if not db.table_exists("digest_follows"):
        return
    subscriber = db.scalar("SELECT s.id FROM digest_subscribers s JOIN reader_accounts a ON a.email = s.email "
                           "WHERE a.id = ?", (account_id,))
    if subscriber is None:
        return
    db.execute("DELETE FROM digest_follows WHERE subscriber_id = ?", (subscriber,))
    db.execute("INSERT INTO digest_follows (subscriber_id, kind, value) SELECT ?, kind, value FROM reader_follows "
               "WHERE account_id = ?", (subscriber, account_id))


def followed_paper_ids(db: Database, account_id: int, limit: int = 50, offset: int = 0) -> list[int]:
    """Newest papers by followed authors or in followed categories (saved searches are run by the caller, which
    owns the search engine), newest submission first."""
    follows = follows_of(db, account_id)
    authors = [f.value for f in follows if f.kind == "author"]
    categories = [f.value for f in follows if f.kind == "category"]
    found: dict[int, str] = {}
    if authors:
        marks = ",".join("?" * len(authors))
        for pid, submitted in db.query_tuples(
            "SELECT DISTINCT p.id, p.submitted FROM papers p JOIN authorships a ON a.paper_id = p.id "
            f"JOIN identities i ON i.id = a.identity_id WHERE i.aid IN ({marks}) "
            "ORDER BY p.submitted DESC LIMIT ?", [*authors, limit + offset]):
            found[int(pid)] = submitted or ""
    for category in categories:
        for pid, submitted in db.query_tuples(
            "SELECT id, submitted FROM papers WHERE primary_category = ? OR categories LIKE ? "
            "ORDER BY submitted DESC LIMIT ?", (category, f'%"{category}"%', limit + offset)):
            found[int(pid)] = submitted or ""
    ranked = sorted(found, key=lambda pid: (found[pid], pid), reverse=True)
    return ranked[offset:offset + limit]


def citation_alerts(db: Database, account_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """New citations, in the store, of papers by followed authors or by identities the account has claimed:
    a citing paper that arrived in the store after the follow (or claim) was made."""
    rows = db.query(
        "SELECT DISTINCT c.citing_id, c.cited_id, q.created_at FROM citations c "
        "JOIN papers q ON q.id = c.citing_id "
        "JOIN authorships a ON a.paper_id = c.cited_id JOIN identities i ON i.id = a.identity_id "
        "JOIN ("
        "  SELECT value AS aid, created_at AS since FROM reader_follows WHERE account_id = ? AND kind = 'author'"
        "  UNION ALL SELECT aid, COALESCE(decided_at, created_at) FROM reader_claims "
        "  WHERE account_id = ? AND status = 'approved'"
        ") w ON w.aid = i.aid "
        "WHERE c.citing_id <> c.cited_id AND q.created_at >= w.since "
        "ORDER BY q.created_at DESC LIMIT ?", (account_id, account_id, limit))
    return [{"citing_id": int(r["citing_id"]), "cited_id": int(r["cited_id"]), "at": r["created_at"]} for r in rows]


def require_kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(f"unknown follow kind {kind!r}")
    return kind
