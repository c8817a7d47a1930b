"""Subscribers and what they follow, with double opt-in and rate limits kept in the store.

The rules that keep this from becoming a way to mail-bomb someone:

* a new address is ``pending`` and gets exactly one kind of mail, the confirmation, until it confirms;
* at most one mail per address per hour (and three a day) whatever the number of subscribe requests, and at most
  ``IP_LIMIT`` subscribe requests per IP per hour; the answer to the requester is the same either way, so the form
  does not reveal who is subscribed;
* re-subscribing a *confirmed* address changes nothing (else anyone could rewrite someone's follows): it mails the
  owner a manage link instead, under the same per-address limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ..store import Store
from .tokens import TokenError, Tokens, new_nonce

FREQUENCIES = ("daily", "weekly")
ADDRESS_LIMITS = ((1, timedelta(hours=1)), (3, timedelta(days=1)))  # mails per address
IP_LIMIT = (10, timedelta(hours=1))  # subscribe requests per IP
MAX_FOLLOWS = 20
MAX_QUERY_CHARS = 200
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$")


class SubscriptionError(ValueError):
    """Input a person must correct; the message says how."""


class RateLimited(SubscriptionError):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class Follows:
    authors: list[str] = field(default_factory=list)  # identities.aid
    categories: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        return ([("author", a) for a in self.authors] + [("category", c) for c in self.categories]
                + [("query", q) for q in self.queries])

    def is_empty(self) -> bool:
        return not (self.authors or self.categories or self.queries)


@dataclass
class Subscriber:
    id: int
    email: str
    frequency: str
    status: str
    nonce: str
    created_at: str
    confirmed_at: str | None
    unsubscribed_at: str | None
    confirmation_sent_at: str | None
    follows: Follows = field(default_factory=Follows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "email": self.email, "frequency": self.frequency, "status": self.status,
            "created_at": self.created_at, "confirmed_at": self.confirmed_at,
            "unsubscribed_at": self.unsubscribed_at, "confirmation_sent_at": self.confirmation_sent_at,
            "follows": {"authors": self.follows.authors, "categories": self.follows.categories,
                        "queries": self.follows.queries},
        }


@dataclass
class SubscribeOutcome:
    subscriber: Subscriber
    mail: str | None  # "confirm", "manage", or None (rate-limited / nothing to mail)
    created: bool


def normalize_email(address: str) -> str:
    """The address in canonical form, or :class:`SubscriptionError` (no DNS look-up: works offline)."""
    address = (address or "").strip()
    if not address or len(address) > 254 or any(c in address for c in "\r\n\0"):
        raise SubscriptionError("please give a valid email address")
    try:
        # ASCII only (IDN domains as punycode): SMTPUTF8 relays are not universal, and every header stays ASCII.
        # Lower-cased whole: nobody runs case-sensitive mailboxes, and "Bob@x" must not dodge the limits of "bob@x".
        found = validate_email(address, check_deliverability=False, allow_smtputf8=False)
        return (found.ascii_email or found.normalized).lower()
    except EmailNotValidError as exc:
        raise SubscriptionError(f"not a valid email address: {exc}") from None


def clean_frequency(value: str | None) -> str:
    value = (value or "daily").strip().lower()
    if value not in FREQUENCIES:
        raise SubscriptionError("frequency must be daily or weekly")
    return value


def clean_follows(store: Store, authors: list[str], categories: list[str], queries: list[str]) -> Follows:
    """Validated follows: authors must exist (any id ``resolve_author`` accepts, stored as the aid)."""
    from ..store.papers import resolve_author

    def items(values: list[str], separators: str = r"[\n,]") -> list[str]:
        out: list[str] = []
        for value in values:
            for part in re.split(separators, value or ""):
                part = " ".join(part.split())
                if part and part not in out:
                    out.append(part)
        return out

    follows = Follows()
    for ref in items(authors):
        found = resolve_author(store.db, ref)
        if found is None:
            raise SubscriptionError(f"unknown author id {ref!r}")
        aid = store.db.scalar("SELECT aid FROM identities WHERE id = ?", (found,))
        if aid not in follows.authors:
            follows.authors.append(aid)
    for category in items(categories):
        if not _CATEGORY.match(category) or len(category) > 40:
            raise SubscriptionError(f"not a category: {category!r} (e.g. cs.CL)")
        follows.categories.append(category)
    for query in items(queries, r"\n"):  # a search may contain commas
        if len(query) > MAX_QUERY_CHARS:
            raise SubscriptionError(f"a saved search may have at most {MAX_QUERY_CHARS} characters")
        follows.queries.append(query)
    if len(follows.rows()) > MAX_FOLLOWS:
        raise SubscriptionError(f"at most {MAX_FOLLOWS} follows per subscription")
    return follows


# -- rate limits ---------------------------------------------------------------------------------------------------

def _count_events(store: Store, scope: str, key: str, action: str, since: datetime) -> int:
    return int(store.db.scalar(
        "SELECT COUNT(*) FROM digest_rate_events WHERE scope = ? AND key = ? AND action = ? AND at > ?",
        (scope, key, action, stamp(since))) or 0)


def _record_event(store: Store, scope: str, key: str, action: str, now: datetime) -> None:
    store.db.execute("INSERT INTO digest_rate_events (scope, key, action, at) VALUES (?, ?, ?, ?)",
                     (scope, key, action, stamp(now)))


def address_may_receive(store: Store, email: str, now: datetime) -> bool:
    return all(_count_events(store, "address", email, "mail", now - window) < limit
               for limit, window in ADDRESS_LIMITS)


def release_mail(store: Store, email: str) -> None:
    """Give back the mail allowance taken by :func:`subscribe` when the mail could not be sent after all."""
    store.db.execute("DELETE FROM digest_rate_events WHERE id = (SELECT MAX(id) FROM digest_rate_events "
                     "WHERE scope = 'address' AND key = ? AND action = 'mail')", (normalize_email(email),))


def prune_events(store: Store, now: datetime | None = None) -> int:
    """Forget events older than the longest window (called now and then, e.g. by ``digest send``)."""
    oldest = (now or utcnow()) - max(w for _, w in (*ADDRESS_LIMITS, IP_LIMIT))
    return store.db.execute("DELETE FROM digest_rate_events WHERE at < ?", (stamp(oldest),))


# -- subscribers ---------------------------------------------------------------------------------------------------

def _follows_of(store: Store, subscriber_id: int) -> Follows:
    follows = Follows()
    for kind, value in store.db.query_tuples(
        "SELECT kind, value FROM digest_follows WHERE subscriber_id = ? ORDER BY kind, value", (subscriber_id,)
    ):
        {"author": follows.authors, "category": follows.categories, "query": follows.queries}[kind].append(value)
    return follows


def _subscriber(store: Store, row: dict[str, Any] | None) -> Subscriber | None:
    if row is None:
        return None
    fields = {k: row[k] for k in ("id", "email", "frequency", "status", "nonce", "created_at", "confirmed_at",
                                  "unsubscribed_at", "confirmation_sent_at")}
    return Subscriber(**fields, follows=_follows_of(store, row["id"]))


def get_subscriber(store: Store, subscriber_id: int) -> Subscriber | None:
    rows = store.db.query("SELECT * FROM digest_subscribers WHERE id = ?", (subscriber_id,))
    return _subscriber(store, rows[0] if rows else None)


def find_subscriber(store: Store, email: str) -> Subscriber | None:
    rows = store.db.query("SELECT * FROM digest_subscribers WHERE email = ?", (normalize_email(email),))
    return _subscriber(store, rows[0] if rows else None)


def list_subscribers(store: Store, status: str | None = None) -> list[Subscriber]:
    sql = "SELECT * FROM digest_subscribers" + (" WHERE status = ?" if status else "") + " ORDER BY id"
    rows = store.db.query(sql, (status,) if status else ())
    follows: dict[int, Follows] = {}
    for sid, kind, value in store.db.query_tuples(
        "SELECT subscriber_id, kind, value FROM digest_follows ORDER BY subscriber_id, kind, value"
    ):
        f = follows.setdefault(sid, Follows())
        {"author": f.authors, "category": f.categories, "query": f.queries}[kind].append(value)
    out = []
    for row in rows:
        fields = {k: row[k] for k in ("id", "email", "frequency", "status", "nonce", "created_at", "confirmed_at",
                                      "unsubscribed_at", "confirmation_sent_at")}
        out.append(Subscriber(**fields, follows=follows.get(row["id"], Follows())))
    return out


def _replace_follows(store: Store, subscriber_id: int, follows: Follows) -> None:
    store.db.execute("DELETE FROM digest_follows WHERE subscriber_id = ?", (subscriber_id,))
    store.db.executemany("INSERT INTO digest_follows (subscriber_id, kind, value) VALUES (?, ?, ?)",
                         [(subscriber_id, kind, value) for kind, value in follows.rows()])


def subscribe(store: Store, email: str, frequency: str = "daily", follows: Follows | None = None, *,
              ip: str | None = None, now: datetime | None = None) -> SubscribeOutcome:
    """Record a subscribe request and decide which mail (if any) it may trigger; the caller sends it.

    Raises :class:`RateLimited` when the IP has asked too often, :class:`SubscriptionError` for bad input.
    """
    now = now or utcnow()
    email = normalize_email(email)
    frequency = clean_frequency(frequency)
    follows = follows or Follows()
    with store.db.transaction():
        if ip:
            limit, window = IP_LIMIT
            if _count_events(store, "ip", ip, "subscribe", now - window) >= limit:
                raise RateLimited("too many subscribe requests from your network; please try again later")
            _record_event(store, "ip", ip, "subscribe", now)
        rows = store.db.query("SELECT * FROM digest_subscribers WHERE email = ?", (email,))
        created = not rows
        if created:
            store.db.execute(
                "INSERT INTO digest_subscribers (email, frequency, status, nonce, created_at, modified_at) "
                "VALUES (?, ?, 'pending', ?, ?, ?)", (email, frequency, new_nonce(), stamp(now), stamp(now)))
            rows = store.db.query("SELECT * FROM digest_subscribers WHERE email = ?", (email,))
            _replace_follows(store, rows[0]["id"], follows)
            mail: str | None = "confirm"
        elif rows[0]["status"] == "confirmed":
            mail = "manage"  # change nothing: only the owner, through the mailed link, may change follows
        else:
            mail = "confirm"
        if mail and not address_may_receive(store, email, now):
            mail = None  # rate-limited: no mail, and (below) no change to a subscription nobody will be told about
        if mail:
            _record_event(store, "address", email, "mail", now)
        if mail == "confirm" and not created:
            # pending or unsubscribed: the latest request wins, since a fresh confirmation describing it goes out
            store.db.execute(
                "UPDATE digest_subscribers SET frequency = ?, status = 'pending', modified_at = ? WHERE id = ?",
                (frequency, stamp(now), rows[0]["id"]))
            _replace_follows(store, rows[0]["id"], follows)
        if mail == "confirm":
            store.db.execute("UPDATE digest_subscribers SET confirmation_sent_at = ? WHERE email = ?",
                             (stamp(now), email))
    subscriber = find_subscriber(store, email)
    assert subscriber is not None
    return SubscribeOutcome(subscriber=subscriber, mail=mail, created=created)


def subscriber_for_token(store: Store, tokens: Tokens, purpose: str, token: str) -> Subscriber:
    """The subscriber a token names, or :class:`TokenError` (also when the row's nonce no longer matches)."""
    subject = tokens.read(purpose, token)
    subscriber = get_subscriber(store, subject.subscriber_id)
    if subscriber is None or subscriber.nonce != subject.nonce:
        raise TokenError("this link is not valid")
    return subscriber


def confirm(store: Store, tokens: Tokens, token: str, now: datetime | None = None) -> Subscriber:
    subscriber = subscriber_for_token(store, tokens, "confirm", token)
    if subscriber.status == "unsubscribed":
        raise TokenError("this subscription was cancelled; please subscribe again")
    if subscriber.status == "pending":
        now = now or utcnow()
        store.db.execute("UPDATE digest_subscribers SET status = 'confirmed', confirmed_at = ?, modified_at = ? "
                         "WHERE id = ? AND status = 'pending'", (stamp(now), stamp(now), subscriber.id))
    found = get_subscriber(store, subscriber.id)
    assert found is not None
    return found


def unsubscribe(store: Store, subscriber_id: int, now: datetime | None = None) -> None:
    """Idempotent: a second one-click POST (mail clients do retry) answers the same."""
    now = now or utcnow()
    store.db.execute("UPDATE digest_subscribers SET status = 'unsubscribed', unsubscribed_at = ?, modified_at = ? "
                     "WHERE id = ? AND status <> 'unsubscribed'", (stamp(now), stamp(now), subscriber_id))


def update_subscription(store: Store, subscriber_id: int, frequency: str, follows: Follows,
                        now: datetime | None = None) -> None:
    now = now or utcnow()
    frequency = clean_frequency(frequency)
    with store.db.transaction():
        store.db.execute("UPDATE digest_subscribers SET frequency = ?, modified_at = ? WHERE id = ?",
                         (frequency, stamp(now), subscriber_id))
        _replace_follows(store, subscriber_id, follows)


def confirm_directly(store: Store, subscriber_id: int, now: datetime | None = None) -> None:
    """Mark confirmed without a token (benchmarks and ops imports); never used by the web form."""
    now = now or utcnow()
    store.db.execute("UPDATE digest_subscribers SET status = 'confirmed', confirmed_at = ?, modified_at = ? "
                     "WHERE id = ?", (stamp(now), stamp(now), subscriber_id))
