"""Paper search: BM25 full text (tantivy) fused with embedding neighbours (faiss), filters, sorts and facets.

The public contract is two functions, imported lazily so that ``import paperatlas.search`` stays cheap:
``search_papers(store, query, *, limit=20, offset=0, filters=None, sort="relevance") -> dict`` and
``similar_papers(store, paper_id, limit=10) -> list[tuple[int, float]]``.  The indexes are built and kept up to
date by ``paperatlas.search.stage.run`` (a build stage) or ``update_indexes(store)`` after an ingest.
"""

from __future__ import annotations

from typing import Any

from .index import IndexNotBuilt


def search_papers(store: Any, query: str, **kwargs: Any) -> dict[str, Any]:
    from .engine import search_papers as run

    return run(store, query, **kwargs)


def similar_papers(store: Any, paper_id: int, limit: int = 10) -> list[tuple[int, float]]:
    from .engine import similar_papers as run

    return run(store, paper_id, limit=limit)


def update_indexes(store: Any, *, full: bool = False, show_progress: bool = False) -> dict[str, Any]:
    """What the ingest calls after writing papers: bring both indexes up to date with the store."""
    from .stage import update

    return update(store, full=full, show_progress=show_progress)


__all__ = ["IndexNotBuilt", "search_papers", "similar_papers", "update_indexes"]
