"""The search build stage: keep the full-text and vector indexes in step with the store, incrementally.

Full text: papers whose ``change_seq`` is above the stage's watermark (in ``stage_state``) are re-indexed (delete
by ``paper_id``, add again); papers gone from the store (deleted, or merged into another) are removed, found by
comparing the ids the index holds (``index/indexed_ids.npy``) with the store's.  The id list is written before
the index commits and the watermark after it, so a crash at any point only means redoing some work next time.

Vectors: the embeddings table has no change sequence, so the stage compares each paper's ``content_hash`` with
the digest it indexed last time, and replaces, adds or removes only those vectors (or rebuilds when most changed).

Query encoder: the vectors' model exported to ONNX for the server (:mod:`paperatlas.embeddings.onnx`), made when
it is missing or of another model.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..embeddings import onnx as query_encoder
from ..progress import progress
from ..store import Database, Store
from . import vectors as vec
from .documents import iter_index_rows, to_document
from .index import create_index, index_dir, open_index

STAGE = "search"
SCHEMA_VERSION = 1
WRITER_HEAP = 256_000_000
REBUILD_SHARE = 0.3  # rebuild the vector index when more than this share of it changed


def run(store: Store, options: Any) -> dict[str, Any]:
    """Build-stage entry point (``paperatlas build``)."""
    return update(store, full=bool(getattr(options, "full", False)),
                  show_progress=bool(getattr(options, "show_progress", False)))


def update(store: Store, *, full: bool = False, show_progress: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    figures = update_text(store, full=full, show_progress=show_progress)
    figures["text_seconds"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    figures.update(update_vectors(store, full=full))
    figures["vector_seconds"] = round(time.perf_counter() - started, 3)
    if figures.get("model"):
        # what the server embeds queries with (embeddings/onnx.py): exported once per model, kept while it stands
        started = time.perf_counter()
        figures.update(query_encoder.ensure(store.data_dir, figures["model"]))
        figures["query_encoder_seconds"] = round(time.perf_counter() - started, 3)
    return figures


def _state(db: Database, stage: str) -> tuple[int, dict[str, Any]]:
    rows = db.query_tuples("SELECT watermark, info FROM stage_state WHERE stage = ?", (stage,))
    if not rows:
        return 0, {}
    return int(rows[0][0]), json.loads(rows[0][1]) if rows[0][1] else {}


def _save_state(db: Database, stage: str, watermark: int, info: dict[str, Any]) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    db.execute(
        "INSERT INTO stage_state (stage, watermark, info, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (stage) DO UPDATE SET watermark = excluded.watermark, info = excluded.info, "
        "updated_at = excluded.updated_at",
        (stage, watermark, json.dumps(info), now),
    )


def _ids_path(store: Store):
    return store.data_dir / "index" / "indexed_ids.npy"


def update_text(store: Store, *, full: bool = False, show_progress: bool = False) -> dict[str, Any]:
    db = store.db
    watermark, info = _state(db, STAGE)
    index = None if full else open_index(store)
    rebuild = index is None or info.get("schema") != SCHEMA_VERSION or not _ids_path(store).exists()
    if rebuild:
        index = create_index(store)
        watermark = 0
        old_ids = np.zeros(0, dtype=np.int64)
    else:
        old_ids = np.load(_ids_path(store))
    top = int(db.scalar("SELECT COALESCE(MAX(change_seq), 0) FROM papers") or 0)
    current = np.fromiter((r[0] for r in db.iterate("SELECT id FROM papers")), dtype=np.int64)
    gone = np.setdiff1d(old_ids, current, assume_unique=True)
    total_changed = int(db.scalar("SELECT COUNT(*) FROM papers WHERE change_seq > ?", (watermark,)) or 0)
    if total_changed == 0 and len(gone) == 0:
        return {"indexed": 0, "removed": 0, "documents": len(current), "rebuilt": False}
    writer = index.writer(WRITER_HEAP, 2 if total_changed > 20_000 else 1)
    changed: list[int] = []
    bar = progress(total=total_changed, desc="search index", unit="paper", enabled=show_progress)
    try:
        for pid in gone.tolist():
            writer.delete_documents_by_term("paper_id", int(pid))
        for row in iter_index_rows(db, "AND change_seq > ?", (watermark,)):
            if not rebuild:
                writer.delete_documents_by_term("paper_id", int(row["id"]))
            writer.add_document(to_document(row))
            changed.append(int(row["id"]))
            bar.update(1)
        indexed = np.union1d(np.setdiff1d(old_ids, gone, assume_unique=True), np.asarray(changed, dtype=np.int64))
        np.save(_ids_path(store), indexed)
        writer.commit()
        writer.wait_merging_threads()
    except BaseException:
        writer.rollback()
        raise
    finally:
        bar.close()
    _save_state(db, STAGE, top, {"schema": SCHEMA_VERSION, "documents": len(indexed)})
    index.reload()
    return {"indexed": len(changed), "removed": len(gone), "documents": len(indexed), "rebuilt": rebuild,
            "index_path": str(index_dir(store))}


def _pick_model(db: Database, current: str | None) -> str | None:
    models = {m: n for m, n in db.query_tuples("SELECT model, COUNT(*) FROM embeddings GROUP BY model")}
    if not models:
        return None
    if current in models:
        return current
    return max(models, key=lambda m: models[m])


def load_vectors(db: Database, model: str, paper_ids: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stored vectors of ``model`` (all, or those of ``paper_ids``) as (ids, matrix)."""
    if paper_ids is None:
        try:
            from paperatlas.embeddings.store import load_vectors as contract_load

            return contract_load(db, model)
        except ImportError:
            rows = list(db.iterate("SELECT paper_id, vector FROM embeddings WHERE model = ? ORDER BY paper_id",
                                   (model,)))
    else:
        rows = []
        for start in range(0, len(paper_ids), 900):
            chunk = paper_ids[start:start + 900]
            marks = ",".join("?" * len(chunk))
            rows += db.query_tuples(
                f"SELECT paper_id, vector FROM embeddings WHERE model = ? AND paper_id IN ({marks})", (model, *chunk))
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    matrix = np.vstack([np.frombuffer(bytes(r[1]), dtype="<f4") for r in rows]).astype(np.float32)
    return ids, matrix


def update_vectors(store: Store, *, full: bool = False) -> dict[str, Any]:
    db = store.db
    existing = None if full else vec.open_vectors(store)
    model = _pick_model(db, existing.model if existing else None)
    if model is None:
        (vec.vector_dir(store) / "meta.json").unlink(missing_ok=True)  # embeddings all gone: BM25 alone
        return {"vectors": 0, "model": None}
    rows = db.query_tuples("SELECT paper_id, content_hash FROM embeddings WHERE model = ?", (model,))
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    digests = np.asarray([vec.digest(r[1]) for r in rows], dtype=np.int64)
    state = vec.load_state(store)
    if existing is not None and existing.model == model and state is not None:
        old = dict(zip(state[0].tolist(), state[1].tolist(), strict=True))
        now = dict(zip(ids.tolist(), digests.tolist(), strict=True))
        changed = [i for i, d in now.items() if old.get(i) != d]
        removed = [i for i in old if i not in now]
        share = (len(changed) + len(removed)) / max(1, len(now))
        flat_too_big = existing.kind == "flat" and len(now) >= 2 * vec.EXACT_BELOW
        if not changed and not removed:
            return {"vectors": existing.size, "model": model, "vectors_changed": 0}
        if share <= REBUILD_SHARE and not flat_too_big:
            drop = np.asarray(changed + removed, dtype=np.int64)
            existing.index.remove_ids(drop)
            add_ids, add_matrix = load_vectors(db, model, changed)
            if len(add_ids):
                existing.index.add_with_ids(add_matrix, add_ids)
            vec.save(store, existing, ids, digests)
            return {"vectors": existing.size, "model": model, "vectors_changed": len(changed),
                    "vectors_removed": len(removed), "vector_index": existing.kind}
    all_ids, matrix = load_vectors(db, model)
    vindex = vec.build(all_ids, matrix, model)
    by_id = dict(zip(ids.tolist(), digests.tolist(), strict=True))
    vec.save(store, vindex, all_ids, np.asarray([by_id.get(i, 0) for i in all_ids.tolist()], dtype=np.int64))
    return {"vectors": vindex.size, "model": model, "vectors_rebuilt": True, "vector_index": vindex.kind}
