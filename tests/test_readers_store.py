"""The reader tables on both engines (SQLite and PostgreSQL): migration 0021 applies, and sign-in, sessions, votes,
library, follows and claims behave the same (nothing is kept in memory only)."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from paperatlas.readers import accounts, claims, follows, library, votes
from paperatlas.readers.common import NotFound, RateLimited, utcnow


def _papers(store, n: int = 3) -> list[int]:
    db = store.db
    now = utcnow().isoformat(timespec="seconds")
    with db.transaction():
        db.execute("INSERT INTO identities (aid, name, name_key, created_at, modified_at) "
                   "VALUES ('a-ada', 'Ada Example', 'ada example', ?, ?)", (now, now))
        identity = db.scalar("SELECT id FROM identities WHERE aid = 'a-ada'")
        ids = []
        for i in range(n):
            db.execute("INSERT INTO papers (pid, title, year, submitted, primary_category, categories, created_at, "
                       "modified_at) VALUES (?, ?, 2025, ?, 'cs.CL', '[\"cs.CL\"]', ?, ?)",
                       (f"p-test{i}", f"Paper {i}", f"2025-12-1{i}", now, now))
            pid = db.scalar("SELECT id FROM papers WHERE pid = ?", (f"p-test{i}",))
            db.execute("INSERT INTO authorships (paper_id, position, name, name_key, affiliations, identity_id) "
                       "VALUES (?, 0, 'Ada Example', 'ada example', ?, ?)",
                       (pid, orjson.dumps(["Univ. of Atlasville"]).decode(), identity))
            ids.append(int(pid))
    return ids


def test_readers_on_both_engines(any_store):
    store = any_store
    db = store.db
    papers = _papers(store)
    asked = accounts.request_signin(db, "Ada@Atlasville.EDU", client="10.0.0.1", next_path="/library")
    assert asked.email == "ada@atlasville.edu" and asked.token
    session, next_path = accounts.complete_signin(db, asked.token)
    assert next_path == "/library"
    with pytest.raises(accounts.LinkError, match="already used"):
        accounts.complete_signin(db, asked.token)
    assert accounts.session_for_cookie(db, session.token).account.email == "ada@atlasville.edu"
    account = session.account
    assert votes.upvote(db, account.id, papers[0], client="10.0.0.1")
    assert not votes.upvote(db, account.id, papers[0], client="10.0.0.1")
    assert votes.votes_of(db, account.id) == {papers[0]: "up"}
    assert votes.daily(db, utcnow().date().replace(year=2025, month=12, day=10))[0] == (papers[0], 1)
    saved = library.save(db, account.id, papers[1])
    assert saved.name == "Saved" and library.saved_paper_ids(db, account.id) == {papers[1]}
    library.set_shared(db, account.id, saved.id, True)
    assert library.shared_collection(db, library.get_collection(db, account.id, saved.id).share_token).id == saved.id
    follows.follow(db, account.id, "author", "a-ada")
    follows.follow(db, account.id, "category", "cs.CL")
    assert set(follows.followed_paper_ids(db, account.id)) == set(papers)
    claim = claims.request_claim(db, account, "a-ada")
    assert claim.status == "approved" and "Atlasville" in claim.evidence
    other = accounts.set_role(db, "someone@other.org", "operator")
    with pytest.raises(NotFound):
        library.get_collection(db, other.id, saved.id)
    assert accounts.revoke_all_sessions(db, account.id) == 1
    assert accounts.session_for_cookie(db, session.token) is None


def test_client_limit_on_signin_requests(any_store):
    db = any_store.db
    now = utcnow()
    for i in range(accounts.CLIENT_LIMIT[0]):
        accounts.request_signin(db, f"r{i}@example.org", client="10.0.0.9", now=now)
    with pytest.raises(RateLimited):
        accounts.request_signin(db, "one-more@example.org", client="10.0.0.9", now=now)
    later = now + accounts.CLIENT_LIMIT[1] + timedelta(seconds=1)
    assert accounts.request_signin(db, "one-more@example.org", client="10.0.0.9", now=later).token
