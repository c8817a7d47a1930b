"""``paperatlas build``: run every derived stage, each incremental, in the order the data flows.

sources -> store (ingest) -> citations resolved -> identities -> metrics (citations, h-index, embeddings,
novelty, AI Score, trending) -> search indexes.  Each stage module exposes ``run(store, options) -> dict`` and
keeps its own watermark, so a build after a small ingest only touches what changed.  ``options.engine`` ("local"
or "spark") is passed down: each stage maps its per-group work through ``paperatlas.scale`` on that engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..disambiguation import stage as identities
from ..merge import citations as merge_citations
from ..metrics import stage as metrics
from ..scale import check_engine
from ..search import stage as search
from ..store import Store


@dataclass
class BuildOptions:
    engine: str = "local"  # "local" or "spark"
    as_of: date | None = None  # replay an old corpus as if today were this date (trending)
    full: bool = False  # ignore watermarks and recompute everything
    show_progress: bool = True
    only: list[str] = field(default_factory=list)  # run just these stages
    embed: bool = True  # compute embeddings (slow on CPU); pages and search work without them


Stage = Callable[[Store, BuildOptions], dict[str, Any]]

# In the order the data flows.  Each stage takes ``options.engine`` and maps its per-group work through
# ``paperatlas.scale``'s helpers; a renamed or missing stage function is an ImportError when this module loads.
STAGES: list[tuple[str, Stage]] = [
    ("citations", merge_citations.run),
    ("identities", identities.run),
    ("metrics", metrics.run),
    ("search", search.run),
]


def run_build(store: Store, options: BuildOptions) -> dict[str, Any]:
    """Run the stages; return {stage: {"seconds": s, **figures}}."""
    check_engine(options.engine)
    report: dict[str, Any] = {}
    for name, stage in STAGES:
        if options.only and name not in options.only:
            continue
        started = time.perf_counter()
        figures = stage(store, options) or {}
        report[name] = {"seconds": round(time.perf_counter() - started, 3), **figures}
    return report
