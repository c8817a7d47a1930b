"""``paperatlas bench build``: ingest + build on a chosen store and engine, beside the embedded default.

One run measures two configurations on the same real input: the baseline (embedded SQLite, ``--engine local``)
and the one asked for (``--database postgresql://...`` and/or ``--engine spark``).  Each gets a fresh store (a new
temporary SQLite file, or a new schema on the PostgreSQL server that is dropped afterwards), the same ingest of
real records, and a full ``build`` (embeddings off unless ``--embed``: they are a separate benchmark).  It prints
per-stage seconds, papers/s through the build, the ratio to the baseline, and whether both produced the same
derived figures (identities per paper slot, citations, h-indexes, AI Scores).

Input: the ACL Anthology Network (18,041 real papers with 94,973 real citation edges, for citation figures) plus
the first ``--pages`` pages of the real 2016 arXiv OAI-PMH cs harvest (~1,000 records each, 103 pages).  Nothing
is generated: at most 120,579 real records.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..shared_data import shared_data_dir_or_default
from .report import emit, json_option, machine, peak_rss_mb


def inputs(shared: Path, pages: int) -> list[Path]:
    acl = shared / "citations" / "acl-anthology-network"
    oai = sorted((shared / "arxiv" / "oai-pmh-cs-2016").glob("page*.xml.gz"))[:pages]
    return [acl / "acl-metadata.txt", acl / "acl.txt", *oai]


@contextmanager
def fresh_store(database: str | None, work: Path) -> Iterator[Any]:
    """A new empty store: a SQLite file in ``work``, or a new schema on the PostgreSQL server (dropped after)."""
    from ..store import open_store

    if not database:
        store = open_store(work)
        try:
            yield store
        finally:
            store.close()
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{database}{'&' if '?' in database else '?'}options=-csearch_path%3D{schema}"
    store = open_store(work, url)
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def fingerprint(store) -> dict[str, str]:
    """Digests of the derived figures, keyed by public ids (so they compare across engines and databases)."""
    queries = {
        "identities": "SELECT p.pid, a.position, i.aid FROM authorships a JOIN papers p ON p.id = a.paper_id "
                      "LEFT JOIN identities i ON i.id = a.identity_id",
        "paper_metrics": "SELECT p.pid, m.citations, m.citations_external, m.ai_score, m.trending FROM paper_metrics m "
                         "JOIN papers p ON p.id = m.paper_id",
        "author_metrics": "SELECT i.aid, m.paper_count, m.citations, m.h_index, m.i10_index, m.per_year "
                          "FROM author_metrics m JOIN identities i ON i.id = m.identity_id",
    }
    out = {}
    for name, sql in queries.items():
        rows = sorted(repr(tuple(round(v, 6) if isinstance(v, float) else v for v in row))
                      for row in store.db.query_tuples(sql))
        out[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
    return out


def measure(database: str | None, engine: str, files: list[Path], *, embed: bool) -> dict[str, Any]:
    from ..ingest import ingest_paths
    from ..pipeline.build import BuildOptions, run_build

    work = Path(tempfile.mkdtemp(prefix="paperatlas-bench-build-"))
    try:
        with fresh_store(database, work) as store:
            summary = ingest_paths(store, files, show_progress=False, echo_errors=False)
            spark_start = 0.0
            if engine == "spark":
                from ..scale.session import get_spark

                started = time.perf_counter()
                get_spark().range(1).count()  # JVM start and first job: paid once per process, not per stage
                spark_start = time.perf_counter() - started
            started = time.perf_counter()
            report = run_build(store, BuildOptions(engine=engine, embed=embed, full=True, show_progress=False))
            build_seconds = time.perf_counter() - started
            papers = int(store.db.scalar("SELECT COUNT(*) FROM papers") or 0)
            mentions = int(store.db.scalar("SELECT COUNT(*) FROM authorships") or 0)
            figures = {
                "store": store.dialect,
                "engine": engine,
                "records": summary.read,
                "papers": papers,
                "authorships": mentions,
                "citation_edges": int(store.db.scalar("SELECT COUNT(*) FROM citations WHERE cited_id IS NOT NULL")
                                      or 0),
                "ingest_seconds": round(summary.seconds, 2),
                "ingest_records_per_s": round(summary.records_per_s, 1),
                "spark_start_seconds": round(spark_start, 2),
                "build_seconds": round(build_seconds, 2),
                "build_papers_per_s": round(papers / build_seconds, 1) if build_seconds else 0.0,
                "stages": {name: (stage.get("seconds") if isinstance(stage, dict) and "seconds" in stage
                                  else stage.get("status", "?")) for name, stage in report.items()},
                "spark_steps": sorted({step for stage in report.values() if isinstance(stage, dict)
                                       for step in stage.get("spark_steps", [])}),
                "fingerprint": fingerprint(store),
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return figures


@click.command("build")
@click.option("--database", "database_opt", help="postgresql://... to measure on a PostgreSQL server (a fresh schema "
              "is created and dropped) [default: the global --database, else embedded SQLite].")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="Run the build's per-group steps in-process or on Spark.")
@click.option("--pages", type=click.IntRange(0, 103), default=3, show_default=True,
              help="How many real OAI-PMH pages (~1,000 arXiv records each) to add to the ACL Anthology Network.")
@click.option("--embed", is_flag=True, help="Also compute embeddings (slow on CPU; measured by bench embed).")
@click.option("--no-baseline", is_flag=True, help="Skip the SQLite + local baseline run.")
@json_option
@click.pass_context
def bench_build(ctx: click.Context, database_opt: str | None, engine: str, pages: int, embed: bool,
                no_baseline: bool, as_json: bool) -> None:
    """Ingest + build time on PostgreSQL and/or Spark, beside the embedded SQLite + local baseline, same input."""
    from ..context import fail

    app = ctx.find_object(object)
    database = database_opt or getattr(app, "database", None)
    if database and not database.startswith(("postgresql://", "postgres://")):
        fail(f"--database must be a postgresql:// URL (the baseline is always embedded SQLite): {database!r}")
    shared = shared_data_dir_or_default()
    files = inputs(shared, pages)
    missing = [str(f) for f in files if not f.exists()]
    if missing or not files:
        fail(f"real input missing: {', '.join(missing) or shared} (set PAPERATLAS_SHARED_DATA)")
    try:
        target = measure(database, engine, files, embed=embed)
        baseline = None
        if not no_baseline and (database or engine != "local"):
            baseline = measure(None, "local", files, embed=embed)
    except Exception as exc:  # an unreachable server or a failed Spark start: one line, not a traceback
        fail(f"bench build failed: {type(exc).__name__}: {exc}")
        return
    figures: dict[str, Any] = {
        "input": f"real records: ACL Anthology Network + {pages} arXiv OAI-PMH pages (nothing generated)",
        "records": target["records"],
        "papers": target["papers"],
        "build_seconds": target["build_seconds"],
        "build_papers_per_s": target["build_papers_per_s"],
        "ingest_records_per_s": target["ingest_records_per_s"],
    }
    if baseline:
        figures.update({
            "baseline_build_seconds": baseline["build_seconds"],
            "baseline_build_papers_per_s": baseline["build_papers_per_s"],
            "baseline_ingest_records_per_s": baseline["ingest_records_per_s"],
            "build_time_ratio_to_baseline": round(target["build_seconds"] / baseline["build_seconds"], 3)
            if baseline["build_seconds"] else None,
            "ingest_speed_ratio_to_baseline": round(target["ingest_records_per_s"]
                                                    / baseline["ingest_records_per_s"], 3)
            if baseline["ingest_records_per_s"] else None,
            "same_results_as_baseline": target["fingerprint"] == baseline["fingerprint"],
        })
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    figures["target"] = target
    if baseline:
        figures["baseline"] = baseline
    figures["machine"] = machine()
    label = f"{'PostgreSQL' if database else 'SQLite'} + {engine}"
    emit(f"bench build ({label}; baseline SQLite + local, same input)", figures, as_json)
