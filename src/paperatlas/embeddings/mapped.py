"""An embedder whose ``encode`` runs its batches through the engine's helpers (``paperatlas build --engine spark``).

Batches are formed the way sentence-transformers forms them inside one ``encode`` call (texts sorted by
decreasing length, cut every ``batch_size``), so each text is padded with the same neighbours as in-process and
the vectors equal the local ones; each batch is one item of :func:`paperatlas.scale.map_items`, encoded on an
executor by the same named model (loaded once per Python worker).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..scale import map_items


def encode_batch(item: tuple[str, list[str], int]) -> Any:
    """One batch of texts, by the embedder of that name (the per-item step of :meth:`MappedEmbedder.encode`)."""
    from . import get_embedder

    name, texts, batch_size = item
    return get_embedder(name).encode(texts, batch_size=batch_size)


class MappedEmbedder:
    """The embedder the stage asked for, with ``encode`` spread over the engine, one batch per item."""

    def __init__(self, inner: Any, engine: str):
        self.inner = inner
        self.engine = engine
        self.name = inner.name
        self.dim = inner.dim

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return self.inner.encode(texts, batch_size=batch_size)
        order = np.argsort([-len(t) for t in texts])
        batches = [(self.name, [texts[i] for i in order[s : s + batch_size]], batch_size)
                   for s in range(0, len(texts), batch_size)]
        vectors = np.concatenate(map_items(batches, encode_batch, engine=self.engine))
        out = np.empty_like(vectors)
        out[order] = vectors
        return out
