"""Build stage ``citations``: resolve citation references to papers that have arrived since the last run.

The ingest resolves a reference when the cited paper is already known; an edge whose cited paper arrives later
stays with ``cited_id`` NULL, and an edge whose *citing* paper is unknown waits in ``pending_citations``.  This
stage closes both gaps, incrementally: only identifiers of papers changed since its watermark (``change_seq``)
can resolve anything new, so a build after a small ingest touches only those.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..store import Store
from .matching import lookup_ids

STAGE = "citations"
_CHUNK = 500


def _watermark(store: Store) -> int:
    return int(store.db.scalar("SELECT watermark FROM stage_state WHERE stage = ?", (STAGE,)) or 0)


def run(store: Store, options: Any = None) -> dict[str, Any]:
    """Resolve what became resolvable; return figures for the build report."""
    db = store.db
    full = bool(getattr(options, "full", False))
    since = 0 if full else _watermark(store)
    top = int(db.scalar("SELECT MAX(change_seq) FROM papers") or 0)
    refs: dict[str, int] = {}
    for scheme, value, paper_id in db.iterate(
        "SELECT i.scheme, i.value, i.paper_id FROM paper_ids i JOIN papers p ON p.id = i.paper_id "
        "WHERE p.change_seq > ?", (since,)
    ):
        refs[f"{scheme}:{value}"] = paper_id
    resolved = moved = 0
    with db.transaction():
        if refs:
            before = int(db.scalar("SELECT COUNT(*) FROM citations WHERE cited_id IS NULL") or 0)
            db.executemany("UPDATE citations SET cited_id = ? WHERE cited_ref = ? AND cited_id IS NULL",
                           [(paper_id, ref) for ref, paper_id in refs.items()])
            resolved = before - int(db.scalar("SELECT COUNT(*) FROM citations WHERE cited_id IS NULL") or 0)
            moved = _move_pending(store, refs)
        db.execute(
            "INSERT INTO stage_state (stage, watermark, updated_at) VALUES (?, ?, ?) ON CONFLICT (stage) DO UPDATE "
            "SET watermark = excluded.watermark, updated_at = excluded.updated_at",
            (STAGE, top, datetime.now(UTC).isoformat(timespec="seconds")),
        )
    return {
        "resolved": resolved,
        "pending_moved": moved,
        "unresolved": int(db.scalar("SELECT COUNT(*) FROM citations WHERE cited_id IS NULL") or 0),
        "pending": int(db.scalar("SELECT COUNT(*) FROM pending_citations") or 0),
        "watermark": top,
    }


def _split(ref: str) -> tuple[str, str] | None:
    scheme, sep, value = ref.partition(":")
    return (scheme, value) if sep and value else None


def _move_pending(store: Store, refs: dict[str, int]) -> int:
    """Edges whose citing paper is now known become citations (their cited side resolved when possible)."""
    db = store.db
    if not int(db.scalar("SELECT COUNT(*) FROM pending_citations") or 0):
        return 0
    keys = sorted(refs)
    moved = 0
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = db.query_tuples(
            f"SELECT citing_ref, cited_ref, source FROM pending_citations WHERE citing_ref IN ({marks})", chunk)
        if not rows:
            continue
        cited_refs = {cited for _, cited, _ in rows}
        pairs = [pair for ref in cited_refs if ref not in refs and (pair := _split(ref))]
        cited_ids = {f"{s}:{v}": pid for (s, v), pid in lookup_ids(db, pairs).items()}
        cited_ids.update({ref: refs[ref] for ref in cited_refs if ref in refs})
        db.executemany(
            "INSERT INTO citations (citing_id, cited_ref, cited_id, source) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (citing_id, cited_ref, source) DO NOTHING",
            [(refs[citing], cited, cited_ids.get(cited), source) for citing, cited, source in rows],
        )
        db.executemany("DELETE FROM pending_citations WHERE citing_ref = ? AND cited_ref = ? AND source = ?", rows)
        moved += len(rows)
    return moved
