"""Reading mentions out of the store and writing identities back: the only SQL of the clustering path."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from ..normalize import name_key, split_homonym
from ..store import Store
from ..store.ids import make_aid
from .mentions import Mention
from .names import parts_of

_MENTION_SQL = (
    "SELECT a.id, a.paper_id, a.position, a.name, a.forenames, a.surname, a.affiliations, a.orcid, a.dblp_homonym, "
    "a.identity_id, a.block_key, p.title, p.venue_name, p.categories, p.year FROM authorships a "
    "JOIN papers p ON p.id = a.paper_id"
)
CHUNK = 500


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json_list(raw: str | None) -> list[str]:
    if not raw or raw == "[]":
        return []
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return [raw]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def fill_block_keys(store: Store) -> int:
    """Compute ``authorships.block_key`` where the ingest left it empty."""
    rows = store.db.query_tuples("SELECT id, name, forenames, surname FROM authorships WHERE block_key IS NULL")
    updates = [(parts_of(name or "", fore, sur).block, aid) for aid, name, fore, sur in rows]
    if updates:
        with store.db.transaction():
            store.db.executemany("UPDATE authorships SET block_key = ? WHERE id = ?", updates)
    return len(updates)


class Loaded:
    """Mentions with their store context (authorship id, paper/position, current identity)."""

    def __init__(self) -> None:
        self.mentions: list[Mention] = []
        self.paper_pos: list[tuple[int, int]] = []
        self.identity: list[int | None] = []
        self.blocks: list[str] = []


def load_mentions(store: Store, blocks: Sequence[str] | None = None) -> Loaded:
    """Every authorship (``blocks`` None) or those of the given blocks, with coauthors and paper evidence."""
    db = store.db
    if blocks is None:
        rows = db.query_tuples(_MENTION_SQL + " ORDER BY a.id")
    else:
        rows = []
        for part in chunks(list(blocks)):
            marks = ",".join("?" * len(part))
            rows.extend(db.query_tuples(_MENTION_SQL + f" WHERE a.block_key IN ({marks})", tuple(part)))
        rows.sort(key=lambda r: r[0])
    papers = sorted({r[1] for r in rows})
    names_by_paper: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if blocks is None:
        for r in rows:
            names_by_paper[r[1]].append((r[2], r[3]))
    else:
        for part in chunks(papers):
            marks = ",".join("?" * len(part))
            for pid, pos, name in db.query_tuples(
                    f"SELECT paper_id, position, name FROM authorships WHERE paper_id IN ({marks})", tuple(part)):
                names_by_paper[pid].append((pos, name))
    categories: dict[int, list[str]] = {}
    out = Loaded()
    for (aid, paper, pos, name, fore, sur, affils, orcid, homonym, identity, block, title, venue, cats,
         year) in rows:
        if paper not in categories:
            categories[paper] = _json_list(cats)
        others = names_by_paper[paper]
        out.mentions.append(Mention(
            key=aid, paper=paper, name=name or "", forenames=fore, surname=sur,
            coauthors=[n for p, n in others if p != pos], title=title or "", venue=venue or "",
            categories=categories[paper], affiliations=_json_list(affils), year=year, orcid=orcid,
            homonym=homonym or split_homonym(name or "")[1], n_authors=len(others),
        ))
        out.paper_pos.append((paper, pos))
        out.identity.append(identity)
        out.blocks.append(block or parts_of(name or "", fore, sur).block)
    return out


def curated_pins(store: Store) -> dict[tuple[int, int], str]:
    return {(p, pos): aid for p, pos, aid in store.db.query_tuples(
        "SELECT paper_id, position, aid FROM identity_pins")}


def display_name(names: Iterable[str]) -> str:
    """The most frequent full form (a written-out first name beats initials), homonym numbers stripped."""
    bare = Counter(split_homonym(n)[0] for n in names if n)
    if not bare:
        return "?"
    full = {n: c for n, c in bare.items() if not parts_of(n).first_is_initial}
    pool = full or bare
    return max(pool.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0]))[0]


def known_aids(store: Store) -> set[str]:
    """Every public id ever handed out (live or redirected): a new one must differ from all of them."""
    return {r[0] for r in store.db.query_tuples("SELECT aid FROM identities UNION SELECT aid FROM identity_redirects")}


def new_aid(store: Store, seed: str, taken: set[str] | None = None) -> str:
    """A fresh aid from ``seed``; ``taken`` (from :func:`known_aids`, kept up to date) saves a query per id."""
    attempt = 0
    while True:
        aid = make_aid(seed, attempt)
        if taken is not None:
            free = aid not in taken
        else:
            free = store.db.scalar("SELECT 1 FROM identities WHERE aid = ? UNION SELECT 1 FROM identity_redirects "
                                   "WHERE aid = ?", (aid, aid)) is None
        if free:
            if taken is not None:
                taken.add(aid)
            return aid
        attempt += 1


def identity_row(loaded: Loaded, members: Sequence[int]) -> dict[str, Any]:
    names = [loaded.mentions[i].name for i in members]
    orcids = Counter(loaded.mentions[i].orcid for i in members if loaded.mentions[i].orcid)
    homonyms = Counter(loaded.mentions[i].homonym for i in members if loaded.mentions[i].homonym)
    name = display_name(names)
    blocks = Counter(loaded.blocks[i] for i in members)
    return {
        "name": name, "name_key": name_key(name), "orcid": orcids.most_common(1)[0][0] if orcids else None,
        "dblp_homonym": homonyms.most_common(1)[0][0] if homonyms else None,
        "block_key": blocks.most_common(1)[0][0], "paper_count": len({loaded.mentions[i].paper for i in members}),
    }


def insert_identities(store: Store, rows: list[tuple[str, dict[str, Any]]], model_version: str) -> dict[str, int]:
    """Insert many identities at once; returns {aid: id}."""
    if not rows:
        return {}
    stamp = now()
    store.db.executemany(
        "INSERT INTO identities (aid, name, name_key, orcid, dblp_homonym, block_key, paper_count, model_version, "
        "created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(aid, r["name"], r["name_key"], r["orcid"], r["dblp_homonym"], r["block_key"], r["paper_count"],
          model_version, stamp, stamp) for aid, r in rows])
    ids: dict[str, int] = {}
    for part in chunks([aid for aid, _ in rows]):
        marks = ",".join("?" * len(part))
        ids.update((a, int(i)) for a, i in store.db.query_tuples(
            f"SELECT aid, id FROM identities WHERE aid IN ({marks})", tuple(part)))
    return ids


def update_identities(store: Store, rows: list[tuple[int, dict[str, Any]]], model_version: str) -> None:
    if not rows:
        return
    stamp = now()
    store.db.executemany(
        "UPDATE identities SET name = ?, name_key = ?, orcid = ?, dblp_homonym = ?, block_key = ?, paper_count = ?, "
        "model_version = ?, modified_at = ? WHERE id = ?",
        [(r["name"], r["name_key"], r["orcid"], r["dblp_homonym"], r["block_key"], r["paper_count"], model_version,
          stamp, identity) for identity, r in rows])


def refresh_identities(store: Store, identity_ids: Iterable[int]) -> None:
    """Recount papers and re-pick the display name of identities whose authorships changed (curation)."""
    for identity in set(identity_ids):
        rows = store.db.query_tuples(
            "SELECT name, paper_id, orcid, dblp_homonym, block_key FROM authorships WHERE identity_id = ?",
            (identity,))
        if not rows:
            store.db.execute("DELETE FROM identities WHERE id = ?", (identity,))
            continue
        name = display_name(r[0] for r in rows)
        store.db.execute(
            "UPDATE identities SET name = ?, name_key = ?, paper_count = ?, modified_at = ? WHERE id = ?",
            (name, name_key(name), len({r[1] for r in rows}), now(), identity))
