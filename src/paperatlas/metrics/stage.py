"""The metrics stage of ``paperatlas build``: every derived figure of papers and authors, incrementally.

Order matters: citations feed author figures and trending; embeddings feed novelty; AI Scores feed author
aggregates and trending.  What is cheap is recomputed whole each build (citations and author figures are a few
SQL aggregates; percentiles and trending need no vectors); what is expensive is incremental (embeddings: only
papers without a vector or with changed text; novelty: only papers whose neighbourhood changed; AI Score: only
papers changed since the last build, or all when the model changes).
"""

from __future__ import annotations

import time
from typing import Any

from ..scale import LOCAL, SPARK, check_engine, map_batches
from ..store import Database, Store
from . import ai_score, authors, citations, novelty, trending
from .common import dumps, ensure_paper_rows, now_iso, upsert_paper_metrics

STAGE = "metrics"


def _watermark(db: Database) -> int:
    return int(db.scalar("SELECT watermark FROM stage_state WHERE stage = ?", (STAGE,)) or 0)


def _set_watermark(db: Database, value: int, info: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO stage_state (stage, watermark, info, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (stage) "
        "DO UPDATE SET watermark = excluded.watermark, info = excluded.info, updated_at = excluded.updated_at",
        (STAGE, value, dumps(info), now_iso()),
    )


def update_citations(store: Store, engine: str = LOCAL) -> int:
    db = store.db
    figures = citations.all_figures(store, engine)
    current = {
        r[0]: r[1:] for r in db.query_tuples(
            "SELECT paper_id, citations, citations_external, citations_source FROM paper_metrics"
        )
    }
    changed = []
    for paper_id, fig in figures.items():
        row = (fig.in_store, fig.external, fig.source)
        if current.get(paper_id) != row:
            changed.append((paper_id, *row))
    with db.transaction():
        upsert_paper_metrics(db, ["citations", "citations_external", "citations_source"], changed)
    return len(changed)


AI_SCORE_SCHEMA = "paper_id long, ai_score double, ai_score_reason string, ai_score_model string"


def ai_score_batch(rows: list[tuple]) -> list[tuple]:
    """Score a batch of (paper_id, title, abstract) with the model in use (loaded once per process or executor):
    the per-batch step of :func:`update_ai_scores`."""
    model = ai_score.shipped_model()
    scored = model.score([ai_score.text_of(t, a) for _, t, a in rows], [None] * len(rows))
    out = []
    for (paper_id, title, abstract), (value, reason) in zip(rows, scored, strict=True):
        has_text = bool(title or abstract)
        out.append((paper_id, value if has_text else None,
                    dumps(reason if has_text else {"model": model.version, "meaning": "no title or abstract to score"}),
                    model.version))
    return out


def update_ai_scores(store: Store, since: int, *, full: bool = False, engine: str = LOCAL) -> dict[str, Any]:
    """AI Scores of the papers changed since ``since`` (all when the model changed), in batches on ``engine``."""
    db = store.db
    try:
        model = ai_score.shipped_model()
    except (OSError, ValueError) as exc:
        return {"ai_score_status": f"no AI-Score model: {exc}"}
    where = "" if full else " WHERE p.change_seq > ? OR m.ai_score_model IS NULL OR m.ai_score_model <> ?"
    params: tuple = () if full else (since, model.version)
    sql = ("SELECT p.id, p.title, p.abstract FROM papers p LEFT JOIN paper_metrics m ON m.paper_id = p.id" + where)
    rows = map_batches(store, sql, ai_score_batch, params=params, engine=engine, batch=2000, schema=AI_SCORE_SCHEMA)
    with db.transaction():
        upsert_paper_metrics(db, ["ai_score", "ai_score_reason", "ai_score_model"], rows)
    return {"ai_scored": len(rows), "ai_score_model": model.version}


def update_embeddings_and_novelty(store: Store, options: Any, engine: str = LOCAL) -> dict[str, Any]:
    from ..embeddings import MappedEmbedder, model_name

    db = store.db
    report: dict[str, Any] = {}
    changed: list[int] = []
    model = model_name()
    if getattr(options, "embed", True):
        from ..embeddings.store import pending

        waiting, unchanged = pending(db, model)
        if not waiting:  # nothing to embed: do not spend seconds loading the model
            report.update({"embedded": 0, "embed_unchanged": unchanged})
    if getattr(options, "embed", True) and "embedded" not in report:
        try:
            from ..embeddings import get_embedder
            from ..embeddings.store import embed_missing

            embedder = get_embedder()
            if engine == SPARK:
                embedder = MappedEmbedder(embedder, engine)
        except (ImportError, OSError, ValueError) as exc:
            report["embed_status"] = f"embedding model unavailable: {exc}"
        else:
            model = embedder.name
            result = embed_missing(store, embedder, show_progress=getattr(options, "show_progress", False))
            changed = result.embedded_ids
            report.update({"embedded": result.embedded, "embed_unchanged": result.unchanged,
                           "embed_cached": result.cached,
                           "embed_abstracts_per_s": round(result.rate, 2)})
    elif not getattr(options, "embed", True):
        report["embed_status"] = "skipped (--no-embed)"
    report.update(novelty.compute_raw(db, model, full=getattr(options, "full", False), changed=changed))
    report["novelty_updated"] = novelty.update_percentiles(db)
    return report


# The steps that map their work through the engine's helpers (paperatlas.scale), reported per build.
ENGINE_STEPS = ["metrics.citations.store_counts", "metrics.authors.compute_all", "metrics.stage.update_ai_scores",
                "embeddings.MappedEmbedder.encode"]


def run(store: Store, options: Any) -> dict[str, Any]:
    engine = getattr(options, "engine", LOCAL)
    check_engine(engine)
    db = store.db
    since = 0 if getattr(options, "full", False) else _watermark(db)
    top = int(db.scalar("SELECT COALESCE(MAX(change_seq), 0) FROM papers") or 0)
    report: dict[str, Any] = {}
    timings: dict[str, float] = {}

    def timed(name: str, fn, *args, **kw):
        started = time.perf_counter()
        result = fn(*args, **kw)
        timings[name] = round(time.perf_counter() - started, 3)
        return result

    with db.transaction():
        report["papers_new"] = ensure_paper_rows(db)
    report["citations_changed"] = timed("citations", update_citations, store, engine)
    report.update(timed("embeddings_novelty", update_embeddings_and_novelty, store, options, engine))
    report.update(timed("ai_score", update_ai_scores, store, since, full=getattr(options, "full", False),
                        engine=engine))
    report["authors_updated"] = timed("authors", authors.compute_all, store, engine)
    as_of = getattr(options, "as_of", None) or trending.default_as_of(db)
    report["trending_as_of"] = as_of.isoformat()
    report["trending_papers"] = timed("trending", trending.update, db, as_of)
    with db.transaction():
        _set_watermark(db, top, {"timings": timings})
    report["timings"] = timings
    if engine == SPARK:
        report.update({"engine": SPARK, "spark_steps": ENGINE_STEPS})
    return report
