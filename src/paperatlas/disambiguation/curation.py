"""Curation: people fix what the model got wrong, and every rebuild keeps the fix.

Each action changes the assignments at once, writes a row to the audit log (``identity_curations``) and pins the
affected authorships to a public id (``identity_pins``): the clustering treats pins as hard constraints (same
pin: one person; different pins: different people), so neither an incremental run nor ``build --full`` undoes
a merge, a split or a move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ..store import Store
from ..store.papers import resolve_author, resolve_paper
from .storage import new_aid, now, refresh_identities


class CurationError(ValueError):
    """Bad input for a curation command (unknown id, nothing to split...): one line for the user."""


@dataclass
class Outcome:
    action: str
    curation_id: int
    result: dict[str, Any]


def _identity(store: Store, ref: str) -> tuple[int, str]:
    found = resolve_author(store.db, ref)
    if found is None:
        target = store.db.scalar("SELECT target_aid FROM identity_redirects WHERE aid = ?", (ref.strip(),))
        found = resolve_author(store.db, target) if target else None
    if found is None:
        raise CurationError(f"no author with id {ref!r}")
    return found, store.db.scalar("SELECT aid FROM identities WHERE id = ?", (found,))


def _authorships(store: Store, identity: int) -> list[tuple[int, int, int]]:
    return [tuple(r) for r in store.db.query_tuples(
        "SELECT id, paper_id, position FROM authorships WHERE identity_id = ? ORDER BY paper_id, position",
        (identity,))]


def _log(store: Store, action: str, args: dict[str, Any], actor: str | None) -> int:
    return int(store.db.query_tuples(
        "INSERT INTO identity_curations (action, args, actor, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        (action, orjson.dumps(args).decode(), actor, now()))[0][0])


def _finish(store: Store, curation_id: int, result: dict[str, Any]) -> None:
    store.db.execute("UPDATE identity_curations SET result = ? WHERE id = ?",
                     (orjson.dumps(result).decode(), curation_id))


def _pin(store: Store, rows: list[tuple[int, int, int]], aid: str, curation_id: int) -> None:
    store.db.executemany(
        "INSERT INTO identity_pins (paper_id, position, aid, curation_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (paper_id, position) DO UPDATE SET aid = excluded.aid, curation_id = excluded.curation_id",
        [(paper, pos, aid, curation_id) for _, paper, pos in rows])


def merge(store: Store, keep_ref: str, other_ref: str, actor: str | None = None) -> Outcome:
    """One person written as two: every authorship of ``other`` moves to ``keep``; ``other``'s id redirects."""
    keep, keep_aid = _identity(store, keep_ref)
    other, other_aid = _identity(store, other_ref)
    if keep == other:
        raise CurationError(f"{keep_aid} and {other_aid} are already one author")
    with store.db.transaction():
        cid = _log(store, "merge", {"keep": keep_aid, "other": other_aid}, actor)
        rows = _authorships(store, keep) + _authorships(store, other)
        store.db.execute("UPDATE authorships SET identity_id = ? WHERE identity_id = ?", (keep, other))
        store.db.execute("UPDATE identity_pins SET aid = ? WHERE aid = ?", (keep_aid, other_aid))
        _pin(store, rows, keep_aid, cid)
        store.db.execute("DELETE FROM identities WHERE id = ?", (other,))
        store.db.execute("INSERT INTO identity_redirects (aid, target_aid, reason, created_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (aid) DO UPDATE SET target_aid = excluded.target_aid",
                         (other_aid, keep_aid, f"merge #{cid}", now()))
        store.db.execute("UPDATE identity_redirects SET target_aid = ? WHERE target_aid = ?", (keep_aid, other_aid))
        refresh_identities(store, [keep])
        result = {"kept": keep_aid, "retired": other_aid, "authorships": len(rows)}
        _finish(store, cid, result)
    return Outcome("merge", cid, result)


def split(store: Store, ref: str, papers: list[str], actor: str | None = None) -> Outcome:
    """Two people under one id: the authorships on ``papers`` become a new person; the rest stay."""
    identity, aid = _identity(store, ref)
    wanted = set()
    for paper in papers:
        found = resolve_paper(store.db, paper)
        if found is None:
            raise CurationError(f"no paper with id {paper!r}")
        wanted.add(found)
    rows = _authorships(store, identity)
    moving = [r for r in rows if r[1] in wanted]
    staying = [r for r in rows if r[1] not in wanted]
    if not moving:
        raise CurationError(f"none of those papers is by {aid}")
    if not staying:
        raise CurationError(f"that would move every paper of {aid}: nothing to split")
    with store.db.transaction():
        cid = _log(store, "split", {"author": aid, "papers": papers}, actor)
        new = new_aid(store, f"split|{aid}|{cid}")
        stamp = now()
        row = store.db.query("SELECT name, name_key, orcid, dblp_homonym, block_key FROM identities WHERE id = ?",
                             (identity,))[0]
        new_id = int(store.db.query_tuples(
            "INSERT INTO identities (aid, name, name_key, orcid, dblp_homonym, block_key, created_at, modified_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (new, row["name"], row["name_key"], None, None, row["block_key"], stamp, stamp))[0][0])
        store.db.executemany("UPDATE authorships SET identity_id = ? WHERE id = ?", [(new_id, r[0]) for r in moving])
        _pin(store, moving, new, cid)
        _pin(store, staying, aid, cid)
        refresh_identities(store, [identity, new_id])
        result = {"author": aid, "new_author": new, "moved": len(moving), "stayed": len(staying)}
        _finish(store, cid, result)
    return Outcome("split", cid, result)


def resolve_authorship(store: Store, ref: str) -> int | None:
    """An authorship by internal id (``123``) or by paper and 1-based position (``arxiv:1706.03762@2``)."""
    ref = ref.strip()
    if ref.isdigit():
        found = store.db.scalar("SELECT id FROM authorships WHERE id = ?", (int(ref),))
        return int(found) if found is not None else None
    paper_ref, sep, position = ref.rpartition("@")
    if not sep or not position.isdigit():
        return None
    paper = resolve_paper(store.db, paper_ref)
    if paper is None:
        return None
    found = store.db.scalar("SELECT id FROM authorships WHERE paper_id = ? AND position = ?",
                            (paper, int(position) - 1))
    return int(found) if found is not None else None


def move(store: Store, authorship_ref: str, to_ref: str, actor: str | None = None) -> Outcome:
    """One authorship given to the wrong person: move it to ``to``; both sides are pinned."""
    authorship = resolve_authorship(store, authorship_ref)
    if authorship is None:
        raise CurationError(f"no authorship {authorship_ref!r} (give its id, or PAPER@POSITION counting from 1)")
    target, target_aid = _identity(store, to_ref)
    paper, pos, current = store.db.query_tuples(
        "SELECT paper_id, position, identity_id FROM authorships WHERE id = ?", (authorship,))[0]
    if current == target:
        raise CurationError(f"authorship {authorship_ref} already belongs to {target_aid}")
    clash = store.db.scalar("SELECT 1 FROM authorships WHERE paper_id = ? AND identity_id = ? AND id <> ?",
                            (paper, target, authorship))
    if clash:
        raise CurationError(f"{target_aid} is already an author of that paper")
    with store.db.transaction():
        old_aid = store.db.scalar("SELECT aid FROM identities WHERE id = ?", (current,)) if current else None
        cid = _log(store, "move", {"authorship": authorship_ref, "to": target_aid, "from": old_aid}, actor)
        store.db.execute("UPDATE authorships SET identity_id = ? WHERE id = ?", (target, authorship))
        _pin(store, [(authorship, paper, pos)], target_aid, cid)
        if current is not None:
            _pin(store, _authorships(store, current), old_aid, cid)
        _pin(store, [r for r in _authorships(store, target) if r[0] != authorship], target_aid, cid)
        refresh_identities(store, [target] + ([current] if current else []))
        result = {"authorship": authorship, "from": old_aid, "to": target_aid}
        _finish(store, cid, result)
    return Outcome("move", cid, result)


def profile(store: Store, ref: str, fields: dict[str, str | None], actor: str | None = None) -> Outcome:
    """Set what a person shows beside their name (display name, affiliation, homepage), audited like the rest.

    Kept in ``identity_profiles`` keyed by the public id, which pins keep across rebuilds, so a rebuild does not
    lose it.  Only the keys given change; an empty value clears that key.
    """
    allowed = {"display_name", "affiliation", "homepage"}
    unknown = set(fields) - allowed
    if unknown:
        raise CurationError(f"unknown profile field(s): {', '.join(sorted(unknown))}")
    _, aid = _identity(store, ref)
    with store.db.transaction():
        cid = _log(store, "profile", {"author": aid, **fields}, actor)
        stamp = now()
        store.db.execute("INSERT INTO identity_profiles (aid, curation_id, updated_at) VALUES (?, ?, ?) "
                         "ON CONFLICT (aid) DO UPDATE SET curation_id = excluded.curation_id, "
                         "updated_at = excluded.updated_at", (aid, cid, stamp))
        for key, value in fields.items():  # keys are from the fixed set above, never from input
            store.db.execute(f"UPDATE identity_profiles SET {key} = ? WHERE aid = ?", (value or None, aid))
        store.db.execute("UPDATE identities SET modified_at = ? WHERE aid = ?", (stamp, aid))
        result = {"author": aid, "set": sorted(fields)}
        _finish(store, cid, result)
    return Outcome("profile", cid, result)


def audit_log(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    rows = store.db.query("SELECT id, action, args, result, actor, created_at FROM identity_curations "
                          "ORDER BY id DESC LIMIT ?", (limit,))
    for row in rows:
        row["args"] = orjson.loads(row["args"])
        row["result"] = orjson.loads(row["result"]) if row["result"] else None
    return rows
