"""Paper vectors in the core ``embeddings`` table: load them, and compute only the ones that are missing.

A vector is kept per (paper, model) with the hash of the text it was computed from, so a build embeds a paper
once, re-embeds it only when its title or abstract changes, and never mixes vectors of two models.  Embedding is
the slowest stage of a build on CPU (~30 abstracts/s), which is why this is incremental and batched.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..progress import progress

if TYPE_CHECKING:
    import numpy as np

    from ..store import Database, Store
    from . import Embedder

_SPACES = re.compile(r"\s+")


def paper_text(title: str | None, abstract: str | None) -> str:
    """What is embedded: ``title + ". " + abstract`` with whitespace collapsed ("" when both are missing)."""
    title = _SPACES.sub(" ", title or "").strip().rstrip(".")
    abstract = _SPACES.sub(" ", abstract or "").strip()
    if title and abstract:
        return f"{title}. {abstract}"
    return title or abstract


def content_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def to_blob(vector: np.ndarray) -> bytes:
    import numpy as np

    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes | memoryview, dim: int) -> np.ndarray:
    import numpy as np

    return np.frombuffer(bytes(blob), dtype="<f4", count=dim).astype(np.float32)


def load_vectors(db: Database, model: str) -> tuple[np.ndarray, np.ndarray]:
    """All stored vectors of ``model``: (paper ids int64, float32 matrix with one L2-normalised row each).

    Ordered by paper id; an empty store gives arrays of shape (0,) and (0, 0).
    """
    import numpy as np

    ids: list[int] = []
    blobs: list[bytes] = []
    dim = 0
    for paper_id, d, blob in db.iterate(
        "SELECT paper_id, dim, vector FROM embeddings WHERE model = ? ORDER BY paper_id", (model,)
    ):
        if dim and d != dim:
            continue  # a half-written row of another size cannot belong to this model's space
        dim = d
        ids.append(paper_id)
        blobs.append(bytes(blob))
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), dim).astype(np.float32)
    return np.asarray(ids, dtype=np.int64), matrix


def load_vectors_for(db: Database, model: str, paper_ids: Iterable[int]) -> dict[int, np.ndarray]:
    """Vectors of just these papers (those that have one)."""
    wanted = list(paper_ids)
    out: dict[int, np.ndarray] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for paper_id, dim, blob in db.query_tuples(
            f"SELECT paper_id, dim, vector FROM embeddings WHERE model = ? AND paper_id IN ({marks})",
            [model, *chunk],
        ):
            out[paper_id] = from_blob(blob, dim)
    return out


@dataclass
class EmbedReport:
    model: str
    papers: int = 0  # papers with text to embed
    embedded: int = 0  # vectors computed now
    unchanged: int = 0  # already embedded from the same text
    cached: int = 0  # taken from a shipped vector cache (see cache.py) instead of the model
    seconds: float = 0.0
    encode_seconds: float = 0.0  # time inside the model alone
    embedded_ids: list[int] = field(default_factory=list, repr=False)  # papers whose vector is new or changed

    @property
    def rate(self) -> float:
        return self.embedded / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "papers": self.papers, "embedded": self.embedded, "unchanged": self.unchanged,
            "cached": self.cached,
            "seconds": round(self.seconds, 3), "encode_seconds": round(self.encode_seconds, 3),
            "abstracts_per_s": round(self.rate, 2),
        }


def pending(db: Database, model: str, paper_ids: Iterable[int] | None = None) -> tuple[list[tuple[int, str, str]], int]:
    """Papers whose vector for ``model`` is missing or stale: [(paper_id, text, hash)], and the count unchanged."""
    stored = dict(db.query_tuples("SELECT paper_id, content_hash FROM embeddings WHERE model = ?", (model,)))
    only = set(paper_ids) if paper_ids is not None else None
    todo: list[tuple[int, str, str]] = []
    unchanged = 0
    for paper_id, title, abstract in db.iterate("SELECT id, title, abstract FROM papers ORDER BY id"):
        if only is not None and paper_id not in only:
            continue
        text = paper_text(title, abstract)
        if not text:
            continue
        digest = content_hash(text)
        if stored.get(paper_id) == digest:
            unchanged += 1
        else:
            todo.append((paper_id, text, digest))
    return todo, unchanged


def embed_missing(
    store: Store,
    embedder: Embedder | None = None,
    *,
    batch_size: int = 64,
    chunk_size: int = 512,
    paper_ids: Iterable[int] | None = None,
    limit: int | None = None,
    show_progress: bool = True,
) -> EmbedReport:
    """Embed every paper that has no vector for this model, or whose title/abstract changed since.

    Work is written in chunks of ``chunk_size`` papers, each in its own transaction, so an interrupted run keeps
    what it finished and the next run goes on from there.  ``paper_ids`` restricts the work to those papers;
    ``limit`` caps how many are embedded now (the rest stay pending).
    """
    if embedder is None:
        from . import get_embedder

        embedder = get_embedder()
    db = store.db
    started = time.perf_counter()
    todo, unchanged = pending(db, embedder.name, paper_ids)
    report = EmbedReport(model=embedder.name, papers=len(todo) + unchanged, unchanged=unchanged)
    if limit is not None:
        todo = todo[:limit]
    todo = _take_cached(store, embedder.name, todo, report)
    # Similar lengths in one batch waste less padding; sentence-transformers sorts within a call, we sort chunks.
    todo.sort(key=lambda item: len(item[1]))
    bar = progress(total=len(todo), desc=f"embed {embedder.name}", unit="paper", enabled=show_progress and bool(todo))
    try:
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start : start + chunk_size]
            t0 = time.perf_counter()
            vectors = embedder.encode([text for _, text, _ in chunk], batch_size=batch_size)
            report.encode_seconds += time.perf_counter() - t0
            rows = [
                (paper_id, embedder.name, digest, embedder.dim, to_blob(vector))
                for (paper_id, _, digest), vector in zip(chunk, vectors, strict=True)
            ]
            with db.transaction():
                db.executemany(
                    "INSERT INTO embeddings (paper_id, model, content_hash, dim, vector) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (paper_id, model) DO UPDATE SET content_hash = excluded.content_hash, "
                    "dim = excluded.dim, vector = excluded.vector",
                    rows,
                )
            report.embedded += len(chunk)
            report.embedded_ids.extend(paper_id for paper_id, _, _ in chunk)
            bar.update(len(chunk))
    finally:
        bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _take_cached(store: Store, model: str, todo: list[tuple[int, str, str]],
                 report: EmbedReport) -> list[tuple[int, str, str]]:
    """Store the vectors a shipped cache already holds for these texts; return what is left for the model."""
    from .cache import caches_for

    caches = caches_for(model, store.data_dir) if todo else []
    if not caches:
        return todo
    left: list[tuple[int, str, str]] = []
    rows = []
    for paper_id, text, digest in todo:
        vector = next((v for v in (c.get(digest) for c in caches) if v is not None), None)
        if vector is None:
            left.append((paper_id, text, digest))
        else:
            rows.append((paper_id, model, digest, int(vector.shape[0]), to_blob(vector)))
    with store.db.transaction():
        store.db.executemany(
            "INSERT INTO embeddings (paper_id, model, content_hash, dim, vector) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (paper_id, model) DO UPDATE SET content_hash = excluded.content_hash, "
            "dim = excluded.dim, vector = excluded.vector",
            rows,
        )
    report.cached += len(rows)
    report.embedded_ids.extend(row[0] for row in rows)
    return left


def count_pending(db: Database, model: str) -> int:
    return len(pending(db, model)[0])


__all__ = [
    "EmbedReport",
    "content_hash",
    "count_pending",
    "embed_missing",
    "from_blob",
    "load_vectors",
    "load_vectors_for",
    "paper_text",
    "pending",
    "to_blob",
]
