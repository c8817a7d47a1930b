"""Claiming an author profile, and what its verified owner may change.

A signed-in reader asks to claim an identity (public id ``aid``).  The claim is approved at once when the
account's e-mail domain matches an affiliation written on the identity's own papers (``cs.stanford.edu`` and
"Stanford University": the domain's organisation label appears as a word of the affiliation); webmail domains
never match.  Otherwise it waits for an operator (``paperatlas claims list|approve|reject``).  ORCID proof would
need ORCID's OAuth sign-in, which an offline instance cannot reach, so such claims are queued too.

A verified owner changes their profile only through :mod:`paperatlas.disambiguation.curation`, so every change
is in the audit log (actor ``author:<account id>``) and pinned across rebuilds: removing a wrong paper splits that
authorship off to a new identity; adding a paper moves an authorship of the same name cluster in; display name,
affiliation and homepage are a ``profile`` curation.  An operator may revoke a claim; the edits made under it
stay (they are audited and an operator can curate them back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from ..disambiguation import curation
from ..store import Database, Store
from ..store.papers import resolve_author, resolve_paper
from .accounts import Account
from .common import NotFound, ReaderError, stamp, utcnow
from .votes import bump_activity

STATUSES = ("pending", "approved", "rejected", "revoked")
WEBMAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "ymail.com",
    "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "pm.me", "gmx.de", "gmx.net",
    "gmx.com", "web.de", "mail.ru", "yandex.ru", "yandex.com", "qq.com", "163.com", "126.com", "foxmail.com",
    "sina.com", "naver.com", "fastmail.com", "zoho.com", "example.com", "example.org", "example.net",
})
_SECOND_LEVEL = frozenset({"ac", "edu", "co", "com", "org", "gov", "net", "res", "uni"})


@dataclass(frozen=True)
class Claim:
    id: int
    account_id: int
    email: str
    aid: str
    status: str
    method: str | None
    evidence: str | None
    created_at: str
    decided_at: str | None
    decided_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("id", "account_id", "email", "aid", "status", "method", "evidence",
                                              "created_at", "decided_at", "decided_by")}


_SELECT = ("SELECT c.id, c.account_id, a.email, c.aid, c.status, c.method, c.evidence, c.created_at, "
           "c.decided_at, c.decided_by FROM reader_claims c JOIN reader_accounts a ON a.id = c.account_id ")


def _claim(row: dict[str, Any]) -> Claim:
    return Claim(**{**row, "id": int(row["id"]), "account_id": int(row["account_id"])})


def organisation_label(email: str) -> str | None:
    """``x@cs.stanford.edu`` -> ``stanford``; ``x@ox.ac.uk`` -> ``ox``; None for webmail and odd domains."""
    domain = email.rpartition("@")[2].lower().strip(".")
    parts = domain.split(".")
    if domain in WEBMAIL or ".".join(parts[-2:]) in WEBMAIL or len(parts) < 2:
        return None
    label = parts[-3] if len(parts) >= 3 and parts[-2] in _SECOND_LEVEL else parts[-2]
    return label if len(label) >= 2 and label.isalnum() and label not in _SECOND_LEVEL else None


def domain_evidence(db: Database, email: str, aid: str) -> str | None:
    """Why the address's domain proves the claim (one line), or None when it does not."""
    label = organisation_label(email)
    if label is None:
        return None
    word = re.compile(rf"(?<![a-z0-9]){re.escape(label)}(?![a-z0-9])", re.IGNORECASE)
    for affiliations, pid in db.query_tuples(
        "SELECT a.affiliations, p.pid FROM authorships a JOIN identities i ON i.id = a.identity_id "
        "JOIN papers p ON p.id = a.paper_id WHERE i.aid = ? AND a.affiliations IS NOT NULL", (aid,)):
        try:
            names = orjson.loads(affiliations)
        except orjson.JSONDecodeError:
            continue
        for name in names if isinstance(names, list) else []:
            if isinstance(name, str) and word.search(name):
                domain = email.rpartition("@")[2]
                return f"e-mail domain {domain} matches the affiliation {name!r} on paper {pid}"
    return None


def _aid(db: Database, ref: str) -> str:
    found = resolve_author(db, ref or "")
    if found is None:
        raise NotFound(f"no author with the id {ref!r}")
    return str(db.scalar("SELECT aid FROM identities WHERE id = ?", (found,)))


def request_claim(db: Database, account: Account, ref: str, now: datetime | None = None) -> Claim:
    """Ask to own an identity: approved at once on a domain match, else queued for an operator."""
    now = now or utcnow()
    aid = _aid(db, ref)
    with db.transaction():
        owner = db.scalar("SELECT account_id FROM reader_claims WHERE aid = ? AND status = 'approved'", (aid,))
        if owner is not None and int(owner) != account.id:
            raise ReaderError("this profile is already claimed; if that is wrong, write to the operator")
        mine = db.query(_SELECT + "WHERE c.account_id = ? AND c.aid = ? AND c.status IN ('pending', 'approved')",
                        (account.id, aid))
        if mine:
            return _claim(mine[0])
        evidence = domain_evidence(db, account.email, aid)
        if evidence:
            status, method, decided, by = "approved", "domain", stamp(now), "automatic"
        else:
            status, method, decided, by = "pending", None, None, None
            evidence = (f"e-mail domain {account.email.rpartition('@')[2]} matches no affiliation on the "
                        "profile's papers")
        db.execute("INSERT INTO reader_claims (account_id, aid, status, method, evidence, created_at, decided_at, "
                   "decided_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (account.id, aid, status, method, evidence, stamp(now), decided, by))
        if status == "approved":
            bump_activity(db, now)  # the author page's "verified by the author" mark changes
        return _claim(db.query(_SELECT + "WHERE c.account_id = ? AND c.aid = ? ORDER BY c.id DESC LIMIT 1",
                               (account.id, aid))[0])


def get_claim(db: Database, claim_id: int) -> Claim:
    rows = db.query(_SELECT + "WHERE c.id = ?", (claim_id,))
    if not rows:
        raise NotFound(f"no claim #{claim_id}")
    return _claim(rows[0])


def list_claims(db: Database, status: str | None = None) -> list[Claim]:
    if status is not None and status not in STATUSES:
        raise ReaderError(f"status must be one of {', '.join(STATUSES)}")
    sql = _SELECT + ("WHERE c.status = ? " if status else "") + "ORDER BY c.id"
    return [_claim(r) for r in db.query(sql, (status,) if status else ())]


def claims_of(db: Database, account_id: int) -> list[Claim]:
    return [_claim(r) for r in db.query(_SELECT + "WHERE c.account_id = ? ORDER BY c.id", (account_id,))]


def _decide(db: Database, claim_id: int, from_status: tuple[str, ...], to_status: str, operator: str,
            now: datetime | None) -> Claim:
    now = now or utcnow()
    with db.transaction():
        claim = get_claim(db, claim_id)
        if claim.status not in from_status:
            raise ReaderError(f"claim #{claim_id} is {claim.status}; only a {' or '.join(from_status)} claim can "
                              f"become {to_status}")
        if to_status == "approved":
            other = db.scalar("SELECT id FROM reader_claims WHERE aid = ? AND status = 'approved' AND id <> ?",
                              (claim.aid, claim_id))
            if other is not None:
                raise ReaderError(f"{claim.aid} is already owned through claim #{other}; revoke that first")
        db.execute("UPDATE reader_claims SET status = ?, method = COALESCE(method, 'operator'), decided_at = ?, "
                   "decided_by = ? WHERE id = ?", (to_status, stamp(now), operator, claim_id))
        db.execute("UPDATE identities SET modified_at = ? WHERE aid = ?", (stamp(now), claim.aid))
        bump_activity(db, now)
        return get_claim(db, claim_id)


def approve(db: Database, claim_id: int, operator: str = "operator", now: datetime | None = None) -> Claim:
    return _decide(db, claim_id, ("pending",), "approved", operator, now)


def reject(db: Database, claim_id: int, operator: str = "operator", now: datetime | None = None) -> Claim:
    return _decide(db, claim_id, ("pending",), "rejected", operator, now)


def revoke(db: Database, claim_id: int, operator: str = "operator", now: datetime | None = None) -> Claim:
    return _decide(db, claim_id, ("approved",), "revoked", operator, now)


def owner(db: Database, aid: str) -> int | None:
    """The account that owns the identity through an approved claim."""
    found = db.scalar("SELECT account_id FROM reader_claims WHERE aid = ? AND status = 'approved'", (aid,))
    return int(found) if found is not None else None


def verified_profile(db: Database, aid: str) -> dict[str, Any] | None:
    """What the verified owner set, for the author page's "verified by the author" mark (None: not claimed)."""
    if owner(db, aid) is None:
        return None
    rows = db.query("SELECT display_name, affiliation, homepage, updated_at FROM identity_profiles WHERE aid = ?",
                    (aid,))
    return rows[0] if rows else {"display_name": None, "affiliation": None, "homepage": None, "updated_at": None}


def _require_owner(db: Database, account: Account, aid: str) -> None:
    if owner(db, aid) != account.id:
        raise NotFound("you have no verified claim on this profile")


def _actor(account: Account) -> str:
    return f"author:{account.id} (verified by the author)"


def remove_paper(store: Store, account: Account, ref: str, paper_ref: str) -> curation.Outcome:
    """A wrong paper leaves the profile: its authorship becomes a new person, pinned so rebuilds keep it off."""
    aid = _aid(store.db, ref)
    _require_owner(store.db, account, aid)
    paper = resolve_paper(store.db, paper_ref)
    if paper is None:
        raise NotFound(f"no paper with the id {paper_ref!r}")
    pid = str(store.db.scalar("SELECT pid FROM papers WHERE id = ?", (paper,)))
    try:
        return curation.split(store, aid, [pid], actor=_actor(account))
    except curation.CurationError as exc:
        raise ReaderError(str(exc)) from None


def add_paper(store: Store, account: Account, ref: str, paper_ref: str) -> curation.Outcome:
    """Take in a paper of the same name cluster (an authorship with the profile's name key) that the model gave
    to someone else or to nobody."""
    db = store.db
    aid = _aid(db, ref)
    _require_owner(db, account, aid)
    paper = resolve_paper(db, paper_ref)
    if paper is None:
        raise NotFound(f"no paper with the id {paper_ref!r}")
    name_key = db.scalar("SELECT name_key FROM identities WHERE aid = ?", (aid,))
    rows = db.query_tuples("SELECT a.position FROM authorships a LEFT JOIN identities i ON i.id = a.identity_id "
                           "WHERE a.paper_id = ? AND a.name_key = ? AND (i.aid IS NULL OR i.aid <> ?) "
                           "ORDER BY a.position", (paper, name_key, aid))
    if not rows:
        raise ReaderError("that paper has no author of this profile's name outside the profile")
    pid = str(db.scalar("SELECT pid FROM papers WHERE id = ?", (paper,)))
    try:
        return curation.move(store, f"{pid}@{int(rows[0][0]) + 1}", aid, actor=_actor(account))
    except curation.CurationError as exc:
        raise ReaderError(str(exc)) from None


def set_profile(store: Store, account: Account, ref: str, *, display_name: str | None = None,
                affiliation: str | None = None, homepage: str | None = None) -> curation.Outcome:
    aid = _aid(store.db, ref)
    _require_owner(store.db, account, aid)
    fields: dict[str, str | None] = {}
    for key, value, cap in (("display_name", display_name, 120), ("affiliation", affiliation, 200)):
        if value is not None:
            value = " ".join(value.split())
            if len(value) > cap:
                raise ReaderError(f"{key.replace('_', ' ')} may have at most {cap} characters")
            fields[key] = value or None
    if homepage is not None:
        homepage = homepage.strip()
        if homepage:
            parts = urlsplit(homepage)
            if parts.scheme not in ("http", "https") or not parts.netloc or len(homepage) > 300:
                raise ReaderError("the homepage must be an http(s) address")
        fields["homepage"] = homepage or None
    if not fields:
        raise ReaderError("nothing to change")
    try:
        return curation.profile(store, aid, fields, actor=_actor(account))
    except curation.CurationError as exc:
        raise ReaderError(str(exc)) from None
