"""Warm start: everything a first search needs, loaded before the server accepts a connection.

Loading the query encoder takes a moment (ONNX Runtime and the exported weights; 7-9 s through torch on the demo
machine before), and the first search after ``serve`` used to pay for it, as did the first one after each worker
started.  ``serve`` and the worker factory call :func:`warm` before uvicorn binds its socket, so no request ever
waits on a model load: the model is loaded and one query embedded, the full-text index opened and searched once,
the vector index read.
"""

from __future__ import annotations

import time
from typing import Any

from ..store import Store


def warm(store: Store) -> dict[str, Any]:
    """Open both indexes and load the query encoder; returns what was loaded and how long it took (seconds)."""
    from .engine import search_papers
    from .index import open_index
    from .vectors import open_vectors

    started = time.perf_counter()
    out: dict[str, Any] = {"text_index": False, "vectors": 0, "model": None}
    index = open_index(store)
    if index is not None:
        out["text_index"] = True
        vindex = open_vectors(store)
        if vindex is not None and vindex.size:
            from .encoder import encode_query

            encode_query("warm up the query encoder", vindex.model, store.data_dir)
            out["vectors"], out["model"] = vindex.size, vindex.model
        search_papers(store, "warm up", limit=1, facets=True)  # the searcher, the analyzers, the facet pool
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out
