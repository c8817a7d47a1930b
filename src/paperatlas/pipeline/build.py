"""``paperatlas build``: run every derived stage, each incremental, in the order the data flows.

sources -> store (ingest) -> citations resolved -> identities -> metrics (citations, h-index, embeddings,
novelty, AI Score, trending) -> search indexes.  Each stage module exposes ``run(store, options) -> dict`` and
keeps its own watermark, so a build after a small ingest only touches what changed.  The Spark engine runs the
same stage code per partition (see ``paperatlas/scale``).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..store import Store


@dataclass
class BuildOptions:
    engine: str = "local"  # "local" or "spark"
    as_of: date | None = None  # replay an old corpus as if today were this date (trending)
    full: bool = False  # ignore watermarks and recompute everything
    show_progress: bool = True
    only: list[str] = field(default_factory=list)  # run just these stages
    embed: bool = True  # compute embeddings (slow on CPU); pages and search work without them


STAGES: list[tuple[str, str]] = [
    ("citations", "paperatlas.merge.citations:run"),
    ("identities", "paperatlas.disambiguation.stage:run"),
    ("metrics", "paperatlas.metrics.stage:run"),
    ("search", "paperatlas.search.stage:run"),
]


def _load(target: str) -> Callable[[Store, BuildOptions], dict[str, Any]] | None:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return getattr(module, attr)


def run_build(store: Store, options: BuildOptions) -> dict[str, Any]:
    """Run the stages; return {stage: {"seconds": s, **figures}} (missing stages say so)."""
    report: dict[str, Any] = {}
    for name, target in STAGES:
        if options.only and name not in options.only:
            continue
        stage = _load(target)
        if stage is None:
            report[name] = {"status": "not installed"}
            continue
        if options.engine == "spark":  # the stage's per-group steps run on Spark (see paperatlas/scale/stages.py)
            from ..scale.stages import on_spark

            stage = on_spark(name, stage)
        started = time.perf_counter()
        figures = stage(store, options) or {}
        report[name] = {"seconds": round(time.perf_counter() - started, 3), **figures}
    return report
