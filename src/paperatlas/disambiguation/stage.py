"""The ``identities`` build stage: give every authorship a person (``authorships.identity_id``).

Incremental by default: only blocks that hold an unassigned authorship, or an authorship of a paper changed
since the watermark, are clustered again, and there every existing identity is a pin, so new mentions join an
existing person or start a new one without reshuffling anybody else.  ``--full`` re-clusters the world; an
identity keeps its row (and so its public id) when its new cluster holds more than half of its papers.
Curation pins are obeyed in both modes.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import orjson

from ..scale import LOCAL, SPARK, check_engine
from ..store import Store
from .clustering import cluster_mentions
from .distributed import cluster_mentions_on
from .pairmodel import shipped_model
from .storage import (
    Loaded,
    curated_pins,
    fill_block_keys,
    identity_row,
    insert_identities,
    known_aids,
    load_mentions,
    new_aid,
    now,
    update_identities,
)

STAGE = "identities"


def run(store: Store, options: Any) -> dict[str, Any]:
    engine = getattr(options, "engine", LOCAL)
    check_engine(engine)
    started = time.perf_counter()
    db = store.db
    top_seq = int(db.scalar("SELECT COALESCE(MAX(change_seq), 0) FROM papers") or 0)
    watermark = int(db.scalar("SELECT watermark FROM stage_state WHERE stage = ?", (STAGE,)) or 0)
    filled = fill_block_keys(store)
    full = bool(getattr(options, "full", False)) or not db.scalar("SELECT 1 FROM identities LIMIT 1")
    if full:
        loaded = load_mentions(store)
    else:
        blocks = [r[0] for r in db.query_tuples(
            "SELECT DISTINCT a.block_key FROM authorships a JOIN papers p ON p.id = a.paper_id "
            "WHERE a.identity_id IS NULL OR p.change_seq > ?", (watermark,))]
        loaded = load_mentions(store, blocks) if blocks else Loaded()
    figures = resolve(store, loaded, full=full, engine=engine) if loaded.mentions else {"mentions": 0}
    with db.transaction():
        db.execute(
            "INSERT INTO stage_state (stage, watermark, info, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (stage) DO UPDATE SET watermark = excluded.watermark, info = excluded.info, "
            "updated_at = excluded.updated_at",
            (STAGE, top_seq, orjson.dumps({**figures, "model": shipped_model().version}).decode(), now()))
    seconds = time.perf_counter() - started
    figures.update({"mode": "full" if full else "incremental", "block_keys_filled": filled,
                    "mentions_per_s": round(figures.get("mentions", 0) / seconds, 1) if seconds else 0.0})
    if engine == SPARK:
        figures.update({"engine": SPARK, "spark_steps": ["disambiguation.distributed.cluster_mentions_on"]})
    return figures


def resolve(store: Store, loaded: Loaded, *, full: bool, engine: str = LOCAL) -> dict[str, Any]:
    """Cluster the loaded mentions under the pins (chunks of blocks mapped through ``engine`` when it is not
    this process), then write identities and assignments."""
    model = shipped_model()
    db = store.db
    curated = curated_pins(store)
    aid_to_id = {}
    if curated:
        for part_aid in set(curated.values()):
            found = db.scalar("SELECT id FROM identities WHERE aid = ?", (part_aid,))
            if found is not None:
                aid_to_id[part_aid] = int(found)
    pins: list[object | None] = []
    for k, pp in enumerate(loaded.paper_pos):
        aid = curated.get(pp)
        if aid is not None:
            pins.append(aid_to_id.get(aid, f"aid:{aid}") if not full else f"aid:{aid}")
        elif not full and loaded.identity[k] is not None:
            pins.append(loaded.identity[k])
        else:
            pins.append(None)
    if engine == LOCAL:
        result = cluster_mentions(loaded.mentions, model, pins=pins, keys=loaded.blocks)
    else:
        result = cluster_mentions_on(engine, loaded.mentions, model, pins=pins, keys=loaded.blocks)
    members: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(result.labels.tolist()):
        members[label].append(i)
    with db.transaction():
        if full:
            counts = _assign_full(store, loaded, members, pins, model.version)
        else:
            counts = _assign_incremental(store, loaded, members, pins, model.version)
    return {"mentions": len(loaded.mentions), "clusters": len(members), "pairs_scored": result.pairs_scored,
            **counts}


def _seed(loaded: Loaded, group: list[int]) -> str:
    first = min(group, key=lambda i: loaded.paper_pos[i])
    return f"{loaded.blocks[first]}|{loaded.paper_pos[first][0]}:{loaded.paper_pos[first][1]}"


def _write_assignments(store: Store, loaded: Loaded, targets: dict[int, int]) -> int:
    changed = [(identity, loaded.mentions[i].key) for i, identity in targets.items() if loaded.identity[i] != identity]
    if changed:
        store.db.executemany("UPDATE authorships SET identity_id = ? WHERE id = ?", changed)
    return len(changed)


def _assign_incremental(store: Store, loaded: Loaded, members: dict[int, list[int]], pins: list[object | None],
                        version: str) -> dict[str, int]:
    taken = known_aids(store)
    targets: dict[int, int] = {}
    fresh: list[tuple[str, dict[str, Any], list[int]]] = []
    updates: list[tuple[int, dict[str, Any]]] = []
    touched: set[int] = set()
    for group in members.values():
        identity = next((p for p in (pins[i] for i in group) if isinstance(p, int)), None)
        if identity is None:
            pinned = next((p for p in (pins[i] for i in group) if isinstance(p, str)), None)
            aid = pinned[4:] if pinned else new_aid(store, _seed(loaded, group), taken)
            fresh.append((aid, identity_row(loaded, group), group))
            continue
        if any(loaded.identity[i] != identity for i in group):
            updates.append((identity, identity_row(loaded, group)))
        touched.add(identity)
        for i in group:
            targets[i] = identity
    moved, _ = _store_clusters(store, loaded, targets, updates, fresh, version)
    return {"identities_created": len(fresh), "identities_touched": len(touched) + len(fresh),
            "authorships_assigned": moved}


def _store_clusters(store: Store, loaded: Loaded, targets: dict[int, int], updates: list[tuple[int, dict[str, Any]]],
                    fresh: list[tuple[str, dict[str, Any], list[int]]], version: str) -> tuple[int, dict[str, int]]:
    """Write updated and new identity rows and point every mention at its identity.

    Returns the number of mentions moved and the internal ids of the new identities by aid."""
    update_identities(store, updates, version)
    ids = insert_identities(store, [(aid, row) for aid, row, _ in fresh], version)
    for aid, _, group in fresh:
        for i in group:
            targets[i] = ids[aid]
    return _write_assignments(store, loaded, targets), ids


def _assign_full(store: Store, loaded: Loaded, members: dict[int, list[int]], pins: list[object | None],
                 version: str) -> dict[str, int]:
    """Re-clustered world -> rows: keep an old identity (and its aid) for the cluster holding most of its papers."""
    db = store.db
    old_sizes: dict[int, int] = defaultdict(int)
    for identity in loaded.identity:
        if identity is not None:
            old_sizes[identity] += 1
    old_aids = {i: a for i, a in db.query_tuples("SELECT id, aid FROM identities")}
    aid_ids = {a: i for i, a in old_aids.items()}
    claims: dict[int, int] = {}  # old identity -> cluster label that keeps it
    for label, group in members.items():
        overlap: dict[int, int] = defaultdict(int)
        for i in group:
            if loaded.identity[i] is not None:
                overlap[loaded.identity[i]] += 1
        pinned = next((p for p in (pins[i] for i in group) if isinstance(p, str)), None)
        if pinned and pinned[4:] in aid_ids:  # curation named this person: it keeps that row
            claims[aid_ids[pinned[4:]]] = label
            continue
        for old, n in sorted(overlap.items(), key=lambda kv: -kv[1]):
            if n * 2 > old_sizes[old] and old not in claims:
                claims[old] = label
                break
    keeper = {label: old for old, label in claims.items()}
    taken = known_aids(store)
    targets: dict[int, int] = {}
    fresh: list[tuple[str, dict[str, Any], list[int]]] = []
    updates: list[tuple[int, dict[str, Any]]] = []
    for label, group in members.items():
        row = identity_row(loaded, group)
        identity = keeper.get(label)
        if identity is None:
            pinned = next((p for p in (pins[i] for i in group) if isinstance(p, str)), None)
            aid = pinned[4:] if pinned and pinned[4:] not in aid_ids else new_aid(store, _seed(loaded, group), taken)
            fresh.append((aid, row, group))
            continue
        updates.append((identity, row))
        for i in group:
            targets[i] = identity
    moved, ids = _store_clusters(store, loaded, targets, updates, fresh, version)
    # Old identities that no longer hold a cluster: redirect their aid to where most of their papers went.
    retired = {old for old in old_aids if old not in claims}
    dest: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for i, identity in enumerate(loaded.identity):
        if identity in retired:
            dest[identity][targets[i]] += 1
    new_aids = {ids[aid]: aid for aid, _, _ in fresh} | {i: old_aids[i] for i in claims}
    redirects = []
    for old in retired:
        if dest.get(old):
            target = max(dest[old].items(), key=lambda kv: kv[1])[0]
            redirects.append((old_aids[old], new_aids[target], "rebuild", now()))
    if redirects:
        db.executemany("INSERT INTO identity_redirects (aid, target_aid, reason, created_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (aid) DO UPDATE SET target_aid = excluded.target_aid", redirects)
    db.executemany("DELETE FROM identities WHERE id = ?", [(old,) for old in retired])
    return {"identities_kept": len(updates), "identities_created": len(fresh), "identities_retired": len(retired),
            "authorships_assigned": moved}
