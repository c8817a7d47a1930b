"""Accounts, sign-in links, sessions and API tokens: signing in without passwords.

* ``/signin`` asks for an address; :func:`request_signin` makes a single-use link valid 15 minutes.  It does the
  same work whether or not the address has an account (accounts are made at first sign-in), so neither the answer
  nor its timing tells a stranger who is registered.  Limits: 3 links per address per 15 minutes (further requests
  are answered alike but mail nothing) and 20 requests per client per hour (answered "too many").
* :func:`complete_signin` spends the link atomically (a second use, or a use after expiry, fails) and opens a
  session: a random cookie whose hash is the row key, revocable server-side (sign out; sign out everywhere).
* API tokens are long-lived random secrets for scripts, stored hashed, revocable.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..store import Database
from .common import (
    RateLimited,
    ReaderError,
    hash_secret,
    new_secret,
    normalize_email,
    stamp,
    utcnow,
    within_limit,
)

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=30)
ADDRESS_LIMIT = (3, timedelta(minutes=15))  # sign-in mails per address
CLIENT_LIMIT = (20, timedelta(hours=1))  # sign-in requests per client
ROLES = ("reader", "operator")


class LinkError(ReaderError):
    """A sign-in link that is unknown, used, or expired."""


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    role: str
    display_name: str | None
    created_at: str

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "role": self.role, "display_name": self.display_name,
                "created_at": self.created_at}


@dataclass(frozen=True)
class Session:
    token: str  # the cookie value (only known right after sign-in)
    csrf: str
    account: Account


@dataclass(frozen=True)
class SigninRequest:
    email: str
    token: str | None  # None: the address's limit is reached, mail nothing (the person is told the same)


def _account(row: dict[str, Any] | None) -> Account | None:
    if row is None:
        return None
    return Account(id=int(row["id"]), email=row["email"], role=row["role"], display_name=row["display_name"],
                   created_at=row["created_at"])


def get_account(db: Database, account_id: int) -> Account | None:
    rows = db.query("SELECT * FROM reader_accounts WHERE id = ?", (account_id,))
    return _account(rows[0] if rows else None)


def find_account(db: Database, email: str) -> Account | None:
    rows = db.query("SELECT * FROM reader_accounts WHERE email = ?", (normalize_email(email),))
    return _account(rows[0] if rows else None)


def safe_next(path: str | None) -> str:
    """Only a path on this site (no scheme, no ``//host``, no backslash): an open redirect would make sign-in
    links useful to phishers."""
    path = (path or "/").strip()
    if not path.startswith("/") or path.startswith("//") or "\\" in path or any(ord(c) < 32 for c in path):
        return "/"
    return path[:500]


def request_signin(db: Database, email: str, *, client: str, next_path: str | None = None,
                   now: datetime | None = None) -> SigninRequest:
    """Record a sign-in request; returns the link token to mail, or None when the address's limit is reached.

    Raises :class:`RateLimited` when the client has asked too often, :class:`ReaderError` for a bad address.
    """
    now = now or utcnow()
    address = normalize_email(email)
    with db.transaction():
        if not within_limit(db, "client", client, "signin", *CLIENT_LIMIT, now):
            raise RateLimited("too many sign-in requests from your network; please try again later")
        if not within_limit(db, "address", address, "signin", *ADDRESS_LIMIT, now):
            return SigninRequest(address, None)
        token = new_secret()
        db.execute("INSERT INTO reader_signin_links (token_hash, email, next_path, created_at, expires_at) "
                   "VALUES (?, ?, ?, ?, ?)",
                   (hash_secret(token), address, safe_next(next_path), stamp(now), stamp(now + LINK_LIFETIME)))
    return SigninRequest(address, token)


def link_is_usable(db: Database, token: str, now: datetime | None = None) -> bool:
    """Whether the link would still sign in (the page behind a GET shows a button; only the POST spends it)."""
    now = now or utcnow()
    return bool(db.scalar("SELECT 1 FROM reader_signin_links WHERE token_hash = ? AND used_at IS NULL "
                          "AND expires_at > ?", (hash_secret(token or ""), stamp(now))))


def complete_signin(db: Database, token: str, now: datetime | None = None) -> tuple[Session, str]:
    """Spend the link and open a session; returns (session, where to go next).  :class:`LinkError` otherwise."""
    now = now or utcnow()
    digest = hash_secret(token or "")
    with db.transaction():
        rows = db.query("SELECT email, next_path, expires_at, used_at FROM reader_signin_links "
                        "WHERE token_hash = ?", (digest,))
        if not rows:
            raise LinkError("this sign-in link is not valid")
        row = rows[0]
        if row["used_at"] is not None:
            raise LinkError("this sign-in link was already used; ask for a new one")
        if row["expires_at"] <= stamp(now):
            raise LinkError("this sign-in link has expired; ask for a new one")
        spent = db.execute("UPDATE reader_signin_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
                           (stamp(now), digest))
        if spent != 1:  # another request spent it between our read and our write
            raise LinkError("this sign-in link was already used; ask for a new one")
        account = _ensure_account(db, row["email"], now)
        session = open_session(db, account, now)
    return session, safe_next(row["next_path"])


def _ensure_account(db: Database, email: str, now: datetime) -> Account:
    """The account of ``email``, made on first sign-in; a digest subscriber's follows carry over."""
    existing = find_account(db, email)
    if existing is not None:
        db.execute("UPDATE reader_accounts SET last_signin_at = ? WHERE id = ?", (stamp(now), existing.id))
        return existing
    db.execute("INSERT INTO reader_accounts (email, role, created_at, last_signin_at) VALUES (?, 'reader', ?, ?)",
               (email, stamp(now), stamp(now)))
    account = find_account(db, email)
    assert account is not None
    if db.table_exists("digest_follows"):
        db.execute(
            "INSERT INTO reader_follows (account_id, kind, value, created_at) "
            "SELECT ?, f.kind, f.value, ? FROM digest_follows f JOIN digest_subscribers s ON s.id = f.subscriber_id "
            "WHERE s.email = ? AND s.status = 'confirmed' ON CONFLICT DO NOTHING",
            (account.id, stamp(now), email))
    return account


def open_session(db: Database, account: Account, now: datetime | None = None) -> Session:
    now = now or utcnow()
    token, csrf = new_secret(), secrets.token_urlsafe(24)
    db.execute("INSERT INTO reader_sessions (token_hash, account_id, csrf, created_at, expires_at) "
               "VALUES (?, ?, ?, ?, ?)",
               (hash_secret(token), account.id, csrf, stamp(now), stamp(now + SESSION_LIFETIME)))
    return Session(token=token, csrf=csrf, account=account)


def session_for_cookie(db: Database, cookie: str | None, now: datetime | None = None) -> Session | None:
    """The live session a cookie names, else None (unknown, tampered, expired or revoked: all simply anonymous)."""
    if not cookie or len(cookie) > 200:
        return None
    now = now or utcnow()
    rows = db.query("SELECT account_id, csrf FROM reader_sessions WHERE token_hash = ? AND revoked_at IS NULL "
                    "AND expires_at > ?", (hash_secret(cookie), stamp(now)))
    if not rows:
        return None
    account = get_account(db, int(rows[0]["account_id"]))
    return Session(token=cookie, csrf=rows[0]["csrf"], account=account) if account else None


def revoke_session(db: Database, cookie: str, now: datetime | None = None) -> None:
    db.execute("UPDATE reader_sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
               (stamp(now or utcnow()), hash_secret(cookie)))


def revoke_all_sessions(db: Database, account_id: int, now: datetime | None = None) -> int:
    """Sign out everywhere: every session of the account, this one included."""
    return db.execute("UPDATE reader_sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
                      (stamp(now or utcnow()), account_id))


def create_api_token(db: Database, account_id: int, name: str, now: datetime | None = None) -> str:
    """A new token (shown once); scripts send it as ``Authorization: Bearer <token>``."""
    name = " ".join((name or "").split())[:80] or "script"
    token = "pat_" + new_secret()
    db.execute("INSERT INTO reader_api_tokens (token_hash, account_id, name, created_at) VALUES (?, ?, ?, ?)",
               (hash_secret(token), account_id, name, stamp(now or utcnow())))
    return token


def account_for_api_token(db: Database, token: str | None) -> Account | None:
    if not token or len(token) > 200:
        return None
    found = db.scalar("SELECT account_id FROM reader_api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                      (hash_secret(token),))
    return get_account(db, int(found)) if found is not None else None


def revoke_api_tokens(db: Database, account_id: int, now: datetime | None = None) -> int:
    return db.execute("UPDATE reader_api_tokens SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
                      (stamp(now or utcnow()), account_id))


def set_role(db: Database, email: str, role: str) -> Account:
    """Operators are made from the command line only (nobody can grant a role through the site)."""
    if role not in ROLES:
        raise ReaderError(f"role must be one of {', '.join(ROLES)}")
    address = normalize_email(email)
    with db.transaction():
        account = _ensure_account(db, address, utcnow())
        db.execute("UPDATE reader_accounts SET role = ? WHERE id = ?", (role, account.id))
    found = get_account(db, account.id)
    assert found is not None
    return found
