"""A reader's library: named collections of papers, private unless the owner shares one by link.

Every read of a collection goes through its owner's account (:func:`get_collection`) or through its share token
(:func:`shared_collection`); asking for another account's collection by id answers exactly like an unknown id
(:class:`NotFound`), so collection ids cannot be probed.  Saving a paper also records a ``save`` signal in
``paper_signals`` (one per account and paper), which trending counts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..store import Database
from .common import NotFound, ReaderError, stamp, utcnow
from .recstate import mark_stale
from .votes import bump_activity

DEFAULT_NAME = "Saved"
MAX_COLLECTIONS = 100
MAX_ITEMS = 5000


@dataclass(frozen=True)
class Collection:
    id: int
    account_id: int
    name: str
    share_token: str | None
    created_at: str
    modified_at: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "shared": self.share_token is not None,
                "share_token": self.share_token, "created_at": self.created_at, "modified_at": self.modified_at,
                "papers": self.size}


_SELECT = ("SELECT c.id, c.account_id, c.name, c.share_token, c.created_at, c.modified_at, "
           "(SELECT COUNT(*) FROM reader_collection_items i WHERE i.collection_id = c.id) AS size "
           "FROM reader_collections c ")


def _collection(row: dict[str, Any]) -> Collection:
    return Collection(id=int(row["id"]), account_id=int(row["account_id"]), name=row["name"],
                      share_token=row["share_token"], created_at=row["created_at"], modified_at=row["modified_at"],
                      size=int(row["size"]))


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ReaderError("give the collection a name")
    if len(name) > 80:
        raise ReaderError("a collection name may have at most 80 characters")
    return name


def collections_of(db: Database, account_id: int) -> list[Collection]:
    return [_collection(r) for r in db.query(_SELECT + "WHERE c.account_id = ? ORDER BY c.name", (account_id,))]


def get_collection(db: Database, account_id: int, collection_id: int) -> Collection:
    """The account's own collection, else :class:`NotFound` (another's collection reads as unknown)."""
    rows = db.query(_SELECT + "WHERE c.id = ? AND c.account_id = ?", (collection_id, account_id))
    if not rows:
        raise NotFound("no such collection")
    return _collection(rows[0])


def shared_collection(db: Database, token: str) -> Collection:
    if not token or len(token) > 100:
        raise NotFound("no such collection")
    rows = db.query(_SELECT + "WHERE c.share_token = ?", (token,))
    if not rows:
        raise NotFound("no such collection")
    return _collection(rows[0])


def create_collection(db: Database, account_id: int, name: str, now: datetime | None = None) -> Collection:
    name = clean_name(name)
    now = now or utcnow()
    with db.transaction():
        existing = db.query(_SELECT + "WHERE c.account_id = ? AND c.name = ?", (account_id, name))
        if existing:
            return _collection(existing[0])
        if int(db.scalar("SELECT COUNT(*) FROM reader_collections WHERE account_id = ?", (account_id,))) \
                >= MAX_COLLECTIONS:
            raise ReaderError(f"at most {MAX_COLLECTIONS} collections per account")
        db.execute("INSERT INTO reader_collections (account_id, name, created_at, modified_at) VALUES (?, ?, ?, ?)",
                   (account_id, name, stamp(now), stamp(now)))
        return _collection(db.query(_SELECT + "WHERE c.account_id = ? AND c.name = ?", (account_id, name))[0])


def save(db: Database, account_id: int, paper_id: int, collection_id: int | None = None,
         now: datetime | None = None) -> Collection:
    """Put a paper into a collection (the default "Saved" one when none is named); saving twice is harmless."""
    now = now or utcnow()
    with db.transaction():
        target = (get_collection(db, account_id, collection_id) if collection_id is not None
                  else create_collection(db, account_id, DEFAULT_NAME, now))
        if target.size >= MAX_ITEMS:
            raise ReaderError(f"a collection holds at most {MAX_ITEMS} papers")
        added = db.execute("INSERT INTO reader_collection_items (collection_id, paper_id, added_at) VALUES (?, ?, ?) "
                           "ON CONFLICT (collection_id, paper_id) DO NOTHING", (target.id, paper_id, stamp(now)))
        if added:
            db.execute("UPDATE reader_collections SET modified_at = ? WHERE id = ?", (stamp(now), target.id))
            db.execute("INSERT INTO paper_signals (paper_id, kind, user_key, created_at) VALUES (?, 'save', ?, ?) "
                       "ON CONFLICT (paper_id, kind, user_key) DO NOTHING",
                       (paper_id, f"account:{account_id}", stamp(now)))
            bump_activity(db, now)
            mark_stale(db, account_id)
        return get_collection(db, account_id, target.id)


def remove(db: Database, account_id: int, collection_id: int, paper_id: int, now: datetime | None = None) -> bool:
    now = now or utcnow()
    with db.transaction():
        target = get_collection(db, account_id, collection_id)
        gone = db.execute("DELETE FROM reader_collection_items WHERE collection_id = ? AND paper_id = ?",
                          (target.id, paper_id))
        if gone:
            db.execute("UPDATE reader_collections SET modified_at = ? WHERE id = ?", (stamp(now), target.id))
            if paper_id not in saved_paper_ids(db, account_id):
                db.execute("DELETE FROM paper_signals WHERE paper_id = ? AND kind = 'save' AND user_key = ?",
                           (paper_id, f"account:{account_id}"))
                bump_activity(db, now)
                mark_stale(db, account_id)
    return bool(gone)


def set_shared(db: Database, account_id: int, collection_id: int, shared: bool) -> Collection:
    """Sharing makes a fresh unguessable link; unsharing forgets it (an old link then stops working)."""
    with db.transaction():
        target = get_collection(db, account_id, collection_id)
        token = secrets.token_urlsafe(18) if shared else None
        if shared and target.share_token:
            token = target.share_token
        db.execute("UPDATE reader_collections SET share_token = ? WHERE id = ?", (token, target.id))
        return get_collection(db, account_id, target.id)


def delete_collection(db: Database, account_id: int, collection_id: int) -> None:
    with db.transaction():
        target = get_collection(db, account_id, collection_id)
        db.execute("DELETE FROM reader_collection_items WHERE collection_id = ?", (target.id,))
        db.execute("DELETE FROM reader_collections WHERE id = ?", (target.id,))
        mark_stale(db, account_id)


def paper_ids(db: Database, collection_id: int) -> list[int]:
    """Newest addition first (callers have already checked the reader may see the collection)."""
    return [int(pid) for (pid,) in db.query_tuples(
        "SELECT paper_id FROM reader_collection_items WHERE collection_id = ? ORDER BY added_at DESC, paper_id",
        (collection_id,))]


def saved_paper_ids(db: Database, account_id: int) -> set[int]:
    """Every paper in any of the account's collections (the recommendations issue builds on this)."""
    return {int(pid) for (pid,) in db.query_tuples(
        "SELECT DISTINCT i.paper_id FROM reader_collection_items i JOIN reader_collections c "
        "ON c.id = i.collection_id WHERE c.account_id = ?", (account_id,))}
