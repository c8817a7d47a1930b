"""Real embedding-model vectors for a benchmark's texts, computed once and kept in the data folder.

Benchmarks that embed texts outside the store (the relevance bench's ICLR papers, the recommendation bench's ACL
titles) share this cache: keyed by model and content hash as ``embeddings/cache.py`` keys vectors, written after
every chunk so an interrupted first run keeps what it finished.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import numpy as np


def cached_vectors(cache_dir: Path, name: str, texts: list[str], show: bool, *, unit: str = "text",
                   chunk: int = 256) -> tuple[np.ndarray, str, int]:
    """Vectors for ``texts`` from ``<cache_dir>/bench-<name>-vectors-<model>.npz``, computing only the missing
    ones with the real model; returns (matrix, model name, how many were computed now)."""
    from ..embeddings import get_embedder
    from ..embeddings.store import content_hash
    from ..progress import progress

    embedder = get_embedder()
    safe = re.sub(r"[^\w.-]", "_", embedder.name)
    path = cache_dir / f"bench-{name}-vectors-{safe}.npz"
    cached: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            cached = dict(zip(data["hashes"].tolist(), data["matrix"], strict=True))
    hashes = [content_hash(t) for t in texts]
    todo = sorted({h: i for i, h in enumerate(hashes) if h not in cached}.values())  # each new text once
    if todo:
        if show:
            click.echo(f"embedding {len(todo)} {unit}s once with {embedder.name} (cached in {path})", err=True)
        bar = progress(total=len(todo), desc="embed", unit=unit, enabled=show)
        for start in range(0, len(todo), chunk):
            part = todo[start : start + chunk]
            for i, vector in zip(part, embedder.encode([texts[i] for i in part]), strict=True):
                cached[hashes[i]] = vector
            bar.update(len(part))
            path.parent.mkdir(parents=True, exist_ok=True)
            keys = list(cached)
            np.savez(path, hashes=np.asarray(keys), matrix=np.vstack([cached[k] for k in keys]))
        bar.close()
    return np.vstack([cached[h] for h in hashes]).astype(np.float32), embedder.name, len(todo)
