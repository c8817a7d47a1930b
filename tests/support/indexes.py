"""Build a test store's real search indexes: tantivy over its papers and, when asked, faiss over real MiniLM vectors.

The vectors come from the demo corpus' cache (``demo/vectors/minilm.npz``, the real model's output keyed by the
hash of the embedded text) and, for any text it does not cover, from the real model itself; so pages and the API
answer from the engine exactly as in production, never from a stand-in.
"""

from __future__ import annotations

from pathlib import Path

from paperatlas.settings import overridden
from paperatlas.store import Store

REPO = Path(__file__).resolve().parents[2]
DEMO_VECTORS = REPO / "demo" / "vectors" / "minilm.npz"


def build_indexes(store: Store, *, vectors: bool = True) -> dict:
    """Embed what has no vector (cache first), then build both indexes from scratch; returns the index figures."""
    from paperatlas.search import update_indexes

    if vectors:
        from paperatlas.embeddings import get_embedder
        from paperatlas.embeddings.store import embed_missing

        with overridden(vector_cache=str(DEMO_VECTORS)):
            embed_missing(store, get_embedder(), show_progress=False)
    return update_indexes(store, full=True)
