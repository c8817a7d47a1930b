"""Embedding a query with the same model that embedded the papers, without torch.

The search stage exports that model to ONNX into ``<data_dir>/index/query-encoder`` (see
:mod:`paperatlas.embeddings.onnx`, which says why); here it is loaded with ONNX Runtime, once per folder and model,
and each query's vector is remembered.  No export, or one of another model than the vectors', is
:class:`paperatlas.embeddings.onnx.QueryEncoderMissing`: it says to run ``paperatlas build --only search``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ..embeddings.onnx import OnnxEncoder, QueryEncoderMissing, encoder_dir


@functools.lru_cache(maxsize=4)
def get_encoder(data_dir: Path, model: str) -> OnnxEncoder:
    """The query encoder of the store in ``data_dir`` for vectors of ``model`` (a stored model name)."""
    return OnnxEncoder(encoder_dir(data_dir), model)


@functools.lru_cache(maxsize=2048)
def encode_query(text: str, model: str, data_dir: Path) -> np.ndarray:
    """One query's vector (a 1 x dim row), remembered: paging through results, popular queries.

    Callers on several threads may run at once: ONNX Runtime releases the GIL and is safe to share."""
    vector = get_encoder(data_dir, model).encode([text])
    vector.setflags(write=False)  # shared by every caller through the cache
    return vector


__all__ = ["QueryEncoderMissing", "encode_query", "get_encoder"]
