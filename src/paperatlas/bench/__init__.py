"""``paperatlas bench ...``: measured speed and quality on real data.  See ``bench/report.py`` for the output.

The whole command group is assembled here, by plain imports of the stages it measures; nothing in the runtime
stages imports from ``paperatlas.bench`` (the import-linter contract in ``pyproject.toml`` enforces it).
"""

from __future__ import annotations

import click

from .ai_score import bench_ai_score
from .build import bench_build
from .digest import bench_digest
from .disambiguation import bench_disambiguation
from .embed import bench_embed
from .foryou import bench_foryou
from .ingest import bench_ingest
from .merge import bench_merge
from .recommend import bench_recommend
from .relevance import bench_relevance
from .search import bench_search
from .web import bench_web

group = click.Group("bench", help="Benchmarks on real data: each prints a table, or one JSON object with --json.")
for _name, _command in (("ingest", bench_ingest), ("merge", bench_merge), ("disambiguation", bench_disambiguation),
                        ("embed", bench_embed), ("search", bench_search), ("relevance", bench_relevance),
                        ("web", bench_web), ("digest", bench_digest), ("build", bench_build),
                        ("ai-score", bench_ai_score), ("recommend", bench_recommend),
                        ("for-you", bench_foryou)):
    group.add_command(_command, name=_name)

__all__ = ["group"]
