"""``paperatlas build --engine spark``: the build stages with their per-group work on Spark.

The stages are written by other modules for one process.  Rather than fork them, the Spark engine keeps each
stage's own orchestration (order of steps, watermarks, transactions, reports) and swaps only the steps that are a
pure function applied per group for their Spark twin, which runs *the same function* through
:func:`paperatlas.scale.run_per_block` / :func:`~paperatlas.scale.map_batches`:

* metrics: ``metrics.citations.store_counts`` -> distinct citing papers, per cited paper;
* metrics: ``metrics.authors.compute_all`` -> ``authors.summarize`` (papers, citations, h-index, i10, per year,
  primary category, medians), per identity;
* metrics: ``metrics.stage.update_ai_scores`` -> ``AIScoreModel.score``, per batch of papers;
* metrics: ``embeddings.get_embedder`` -> the same embedder, whose ``encode`` runs one length-sorted batch per
  Spark task item (``embed_missing`` still chooses what to embed and writes the vectors);
* identities: ``disambiguation.stage.cluster_mentions`` -> chunks of whole name blocks through
  ``clustering.score`` (hard rules, pair features, the pair model) and ``clustering.cut`` (linkage); blocking,
  the corpus-wide TF-IDF evidence and curation pins stay in the driver: they span blocks.

Everything else a stage does (choosing what to embed, novelty neighbours, trending, the search index, the citation
resolver) runs in the driver exactly as with ``--engine local``; the build report says, per stage, which steps ran on
Spark.  Results are written back to the store by the stage's own code path, so ``--engine spark`` and
``--engine local`` produce the same tables.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..store import Store

Stage = Callable[[Store, Any], dict[str, Any]]


# --- metrics: citations per paper ----------------------------------------------------------------------------------


def _distinct_citing(cited_id: int, rows: list[tuple]) -> list[tuple]:
    return [(cited_id, len({citing for (citing,) in rows}))]


def spark_store_counts(store: Store) -> Callable[[Any], dict[int, int]]:
    def store_counts(db) -> dict[int, int]:
        from . import run_per_block

        rows = run_per_block(
            store,
            "SELECT cited_id, citing_id FROM citations WHERE cited_id IS NOT NULL AND cited_id <> citing_id",
            _distinct_citing, schema="paper_id long, citations long", engine="spark",
        )
        return dict(rows)

    return store_counts


# --- metrics: author figures ---------------------------------------------------------------------------------------


def _author_figures(identity_id: int, rows: list[tuple]) -> list[tuple]:
    """One identity's row of ``author_metrics``, by the metrics module's own functions."""
    from ..metrics.authors import _row_to_paper, summarize
    from ..metrics.common import dumps

    s = summarize([_row_to_paper((identity_id, *row)) for row in rows])
    return [(identity_id, s.paper_count, s.citations, s.h_index, s.i10_index, s.primary_category, s.novelty,
             s.ai_score, dumps(s.per_year), dumps(s.reason))]


AUTHOR_SCHEMA = ("identity_id long, paper_count long, citations long, h_index long, i10_index long, "
                 "primary_category string, novelty double, ai_score double, per_year string, reason string")


def spark_author_metrics(store: Store) -> Callable[[Any], int]:
    def compute_all(db) -> int:
        from ..metrics import authors
        from ..metrics.common import now_iso
        from . import run_per_block

        figures = run_per_block(store, authors._PAPERS_SQL + "WHERE a.identity_id IS NOT NULL", _author_figures,
                                schema=AUTHOR_SCHEMA, engine="spark")
        stored = {
            r[0]: tuple(r[1:]) for r in db.iterate(
                "SELECT identity_id, paper_count, citations, h_index, i10_index, primary_category, novelty, "
                "ai_score, per_year, reason FROM author_metrics"
            )
        }
        stamp = now_iso()
        changed = [(*row, stamp) for row in figures if stored.get(row[0]) != tuple(row[1:])]
        with db.transaction():
            db.execute("DELETE FROM author_metrics WHERE identity_id NOT IN "
                       "(SELECT identity_id FROM authorships WHERE identity_id IS NOT NULL)")
            db.executemany(
                "INSERT INTO author_metrics (identity_id, paper_count, citations, h_index, i10_index, "
                "primary_category, novelty, ai_score, per_year, reason, computed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (identity_id) DO UPDATE SET paper_count = excluded.paper_count, "
                "citations = excluded.citations, h_index = excluded.h_index, i10_index = excluded.i10_index, "
                "primary_category = excluded.primary_category, novelty = excluded.novelty, "
                "ai_score = excluded.ai_score, per_year = excluded.per_year, reason = excluded.reason, "
                "computed_at = excluded.computed_at",
                changed,
            )
        return len(changed)

    return compute_all


# --- metrics: AI Score ---------------------------------------------------------------------------------------------


def _ai_scores(rows: list[tuple]) -> list[tuple]:
    """Score a batch of (paper_id, title, abstract) with the shipped model (loaded once per executor)."""
    from ..metrics import ai_score
    from ..metrics.common import dumps

    model = ai_score.shipped_model()
    scored = model.score([ai_score.text_of(t, a) for _, t, a in rows], [None] * len(rows))
    out = []
    for (paper_id, title, abstract), (value, reason) in zip(rows, scored, strict=True):
        has_text = bool(title or abstract)
        out.append((paper_id, value if has_text else None,
                    dumps(reason if has_text else {"model": model.version,
                                                   "meaning": "no title or abstract to score"}),
                    model.version))
    return out


def spark_ai_scores(store: Store) -> Callable[..., dict[str, Any]]:
    def update_ai_scores(db, since: int, *, full: bool = False) -> dict[str, Any]:
        from ..metrics import ai_score
        from ..metrics.common import upsert_paper_metrics
        from . import map_batches

        try:
            model = ai_score.shipped_model()
        except (OSError, ValueError) as exc:
            return {"ai_score_status": f"no AI-Score model: {exc}"}
        where = "" if full else " WHERE p.change_seq > ? OR m.ai_score_model IS NULL OR m.ai_score_model <> ?"
        params: tuple = () if full else (since, model.version)
        sql = "SELECT p.id, p.title, p.abstract FROM papers p LEFT JOIN paper_metrics m ON m.paper_id = p.id" + where
        rows = map_batches(store, sql, _ai_scores, params=params, engine="spark", batch=2000,
                           schema="paper_id long, ai_score double, ai_score_reason string, ai_score_model string")
        with db.transaction():
            upsert_paper_metrics(db, ["ai_score", "ai_score_reason", "ai_score_model"], rows)
        return {"ai_scored": len(rows), "ai_score_model": model.version}

    return update_ai_scores


# --- metrics: embeddings ------------------------------------------------------------------------------------------


def _encode_batch(item: tuple[str, list[str], int]) -> Any:
    """One batch of texts on an executor, by the same embedder (loaded once per Python worker)."""
    from ..embeddings import get_embedder

    name, texts, batch_size = item
    return get_embedder(name).encode(texts, batch_size=batch_size)


class SparkEmbedder:
    """The embedder the stage asked for, with ``encode`` spread over Spark tasks, one batch per task item.

    Batches are formed the way sentence-transformers forms them inside one ``encode`` call (texts sorted by
    decreasing length, cut every ``batch_size``), so each text is padded with the same neighbours as in-process.
    """

    def __init__(self, inner: Any):
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)

    def encode(self, texts: list[str], batch_size: int = 64) -> Any:
        import numpy as np

        from . import map_items

        if not texts:
            return self.inner.encode(texts, batch_size=batch_size)
        order = np.argsort([-len(t) for t in texts])
        batches = [(self.name, [texts[i] for i in order[s : s + batch_size]], batch_size)
                   for s in range(0, len(texts), batch_size)]
        vectors = np.concatenate(map_items(batches, _encode_batch, engine="spark"))
        out = np.empty_like(vectors)
        out[order] = vectors
        return out


def spark_get_embedder(store: Store) -> Callable[..., Any]:
    def get_embedder(name: str | None = None, **kwargs: Any) -> Any:
        return SparkEmbedder(_ORIGINALS["paperatlas.embeddings.get_embedder"](name, **kwargs))

    return get_embedder


# --- identities: name-block clustering ----------------------------------------------------------------------------


def _cluster_chunk(payload: tuple) -> tuple[list[int], int]:
    """Some whole name blocks, on an executor, through the clustering module's own ``score`` and ``cut``."""
    from ..disambiguation import clustering as c

    mentions, evidence, block_ids, pins, model, threshold, method = payload
    scored = c.score(mentions, model, pins=pins, keys=block_ids, evidence=evidence)
    scored.pins = None  # a pin may span blocks in other chunks: the driver enforces pins over all blocks at once
    return c.cut(scored, threshold, method).tolist(), int(scored.pairs_scored)


def spark_cluster_mentions(store: Store) -> Callable[..., Any]:
    """``clustering.cluster_mentions`` with the per-block work on Spark.

    Blocking, the corpus-wide evidence (TF-IDF weights over all mentions) and curation pins stay in the driver,
    because they span blocks; chunks of whole blocks go to Spark tasks, which run the clustering module's own
    ``score`` (hard rules, pair features, the pair model) and ``cut`` (linkage) on them.
    """

    def cluster_mentions(mentions, model=None, *, pins=None, threshold=None, keys=None):
        import numpy as np

        from ..disambiguation import blocking as b
        from ..disambiguation import clustering as c
        from ..disambiguation import linkage
        from ..disambiguation.features import Evidence
        from ..disambiguation.mentions import name_parts
        from . import map_items

        model = model or c.shipped_model()
        parts = name_parts(mentions)
        keys = keys if keys is not None else b.swap_aware_blocks(parts)
        blocks = b.blocks_of(parts, keys)
        pin_codes = b.codes(list(pins) if pins is not None else [None] * len(mentions))
        evidence = Evidence.build(mentions, parts)
        cut_at = model.threshold if threshold is None else threshold
        method = getattr(model, "linkage", "average")
        labels = np.full(len(mentions), -1, dtype=np.int64)
        next_label = 0
        shared = []
        for members in blocks:
            if len(members) == 1:  # nothing to score: one person
                labels[members[0]] = next_label
                next_label += 1
            else:
                shared.append(members)
        per_task = max(1, -(-len(shared) // 64))  # ~64 tasks: spread, yet one model call per many blocks
        payloads, index_of = [], []
        for start in range(0, len(shared), per_task):
            group = shared[start : start + per_task]
            rows = np.concatenate(group)
            block_ids = [str(b) for b, members in enumerate(group) for _ in members]
            payloads.append(([mentions[i] for i in rows], evidence.take(rows), block_ids,
                             pin_codes[rows].tolist() if pins is not None else None, model, cut_at, method))
            index_of.append(rows)
        pairs = 0
        for rows, (local, scored_pairs) in zip(index_of, map_items(payloads, _cluster_chunk, engine="spark"),
                                               strict=True):
            local_labels = np.asarray(local, dtype=np.int64)
            labels[rows] = local_labels + next_label
            next_label += int(local_labels.max()) + 1
            pairs += scored_pairs
        if pins is not None:
            labels = linkage.enforce_pins(labels, pin_codes)
        return c.Clustering(labels=labels, blocks=keys, pairs_scored=pairs)

    return cluster_mentions


# --- the swap ------------------------------------------------------------------------------------------------------

# stage name -> [(module, attribute, factory of the Spark twin given the store)]
SPARK_STEPS: dict[str, list[tuple[str, str, Callable[[Store], Callable]]]] = {
    "identities": [
        ("paperatlas.disambiguation.stage", "cluster_mentions", spark_cluster_mentions),
    ],
    "metrics": [
        ("paperatlas.metrics.citations", "store_counts", spark_store_counts),
        ("paperatlas.metrics.authors", "compute_all", spark_author_metrics),
        ("paperatlas.metrics.stage", "update_ai_scores", spark_ai_scores),
        ("paperatlas.embeddings", "get_embedder", spark_get_embedder),
    ],
}


_ORIGINALS: dict[str, Any] = {}  # what a twin may still need to call: the function it stands in for


@contextmanager
def _swapped(store: Store, steps: list[tuple[str, str, Callable[[Store], Callable]]]) -> Iterator[list[str]]:
    """Put the Spark twins in place of the named functions for the duration of one stage run."""
    saved: list[tuple[Any, str, Any]] = []
    names: list[str] = []
    try:
        for module_name, attribute, factory in steps:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError:
                continue
            if not hasattr(module, attribute):
                continue  # the stage changed shape: that step simply stays local
            saved.append((module, attribute, getattr(module, attribute)))
            _ORIGINALS[f"{module_name}.{attribute}"] = getattr(module, attribute)
            setattr(module, attribute, factory(store))
            names.append(f"{module_name.removeprefix('paperatlas.')}.{attribute}")
        yield names
    finally:
        for module, attribute, original in reversed(saved):
            setattr(module, attribute, original)


def spark_steps(name: str) -> list[str]:
    """The steps of a stage that ``--engine spark`` runs on Spark (for docs and the build report)."""
    return [f"{m.removeprefix('paperatlas.')}.{a}" for m, a, _ in SPARK_STEPS.get(name, [])]


def on_spark(name: str, stage: Stage) -> Stage:
    """The stage as ``--engine spark`` runs it: its per-group steps on Spark, the rest as usual."""
    steps = SPARK_STEPS.get(name)

    @functools.wraps(stage)
    def run(store: Store, options: Any) -> dict[str, Any]:
        if not steps:
            figures = stage(store, options) or {}
            return {**figures, "engine": "in the driver (no per-group step swapped; options.engine is 'spark')"}
        with _swapped(store, steps) as swapped:
            figures = stage(store, options) or {}
        return {**figures, "engine": "spark", "spark_steps": swapped}

    return run
