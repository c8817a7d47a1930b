"""What every reader module shares: time stamps, hashed secrets, input errors and store-kept rate limits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from email_validator import EmailNotValidError, validate_email

from ..store import Database


class ReaderError(ValueError):
    """Input a person must correct; the message is one line they can act on."""


class NotFound(ReaderError):
    """Unknown, or not visible to this account: the two answer alike, so ids cannot be probed."""


class RateLimited(ReaderError):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """One sortable text form for every time stored (so ``<`` on the column compares instants)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    """Secrets are stored hashed: a leaked store copy must not let anyone sign in.  Unsalted SHA-256 is enough
    because the secrets are 256 random bits, not passwords a dictionary could guess."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalize_email(address: str) -> str:
    """The address in canonical form, or :class:`ReaderError` (no DNS look-up: works offline)."""
    address = (address or "").strip()
    if not address or len(address) > 254 or any(c in address for c in "\r\n\0"):
        raise ReaderError("please give a valid e-mail address")
    try:
        found = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ReaderError(f"not a valid e-mail address: {exc}") from None
    return (found.ascii_email or found.normalized).lower()


def count_events(db: Database, scope: str, key: str, action: str, window: timedelta, now: datetime) -> int:
    return int(db.scalar(
        "SELECT COUNT(*) FROM reader_rate_events WHERE scope = ? AND key = ? AND action = ? AND at > ?",
        (scope, key, action, stamp(now - window))) or 0)


def record_event(db: Database, scope: str, key: str, action: str, now: datetime) -> None:
    db.execute("INSERT INTO reader_rate_events (scope, key, action, at) VALUES (?, ?, ?, ?)",
               (scope, key, action, stamp(now)))


def within_limit(db: Database, scope: str, key: str, action: str, limit: int, window: timedelta,
                 now: datetime) -> bool:
    """Record one event and say whether it stayed within ``limit`` per ``window`` (refused events are not
    recorded, so a blocked client's retries do not extend its block)."""
    if count_events(db, scope, key, action, window, now) >= limit:
        return False
    record_event(db, scope, key, action, now)
    return True


def prune_events(db: Database, older_than: timedelta = timedelta(days=2), now: datetime | None = None) -> int:
    return db.execute("DELETE FROM reader_rate_events WHERE at < ?", (stamp((now or utcnow()) - older_than),))
