"""``paperatlas bench relevance``: navigational queries drawn from the store, and known-item retrieval on real data.

First the sets of :mod:`.navigation`, drawn at random (``--seed``) from the store the bench runs on
(``--data-dir``): author names (``author_p_at_10``), exact titles (``title_mrr``) and nonsense strings
(``nonsense_with_results``).  Then the TL;DR set (``tldr_mrr_at_10``: the engine's default, hybrid, over all the
queries), BM25 alone vs semantic alone vs hybrid, as below (``--no-tldr`` skips it).

Queries: the authors' own TL;DRs of ICLR 2017 submissions (../shared/data/peer-review/iclr-papercopilot/
iclr2017.json, 360 of the 490 have one).  Corpus: all 490 submissions (title, abstract, authors) among real
arXiv cs papers from the 2016 OAI-PMH harvest as distractors (machine-learning categories first, the hardest
ones; ``--distractors`` of them).  The right answer for a TL;DR is its own paper; we report MRR@10 and recall@10.

Honest tuning, two ways.  (1) The queries are split in two halves by a seeded shuffle; the fusion's parameters
(RRF ``k`` and semantic weight, or score fusion's ``alpha``) are chosen on the dev half, and every figure reported
as "test" is on the other half.  (2) ``cross_validated``: 5 folds; each query is ranked by a fusion tuned on the
other four folds, so all the queries count and a paired bootstrap says how sure "hybrid beats semantic" is; per
family (RRF, score fusion), ``chosen_per_fold`` shows whether the best setting is stable.  The engine's default
(``search.engine.FUSION_METHOD`` / ``SCORE_ALPHA``) was chosen from (2); its "test" figure is therefore not
independent of that choice, while the cross-validated one is the estimate for the procedure.

Only the corpus is embedded (with the real model), once: vectors are cached by content hash in the data folder,
so a second run embeds nothing.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import numpy as np
import orjson

from ..shared_data import shared_data_dir
from .report import emit, json_option, machine, peak_rss_mb
from .vector_cache import cached_vectors

ML_CATEGORIES = ("cs.LG", "stat.ML", "cs.NE", "cs.AI", "cs.CL", "cs.CV", "cs.IR")
K_GRID = (5, 10, 20, 40, 60, 100)
WEIGHT_GRID = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
ALPHA_GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
DEPTH = 100
FOLDS = 5


def _shared_default() -> Path | None:
    return shared_data_dir("peer-review")

def iclr_papers(shared: Path) -> list[dict[str, Any]]:
    rows = orjson.loads((shared / "peer-review" / "iclr-papercopilot" / "iclr2017.json").read_bytes())
    out = []
    for row in rows:
        if not row.get("title"):
            continue
        out.append({
            "ids": {"openreview": row["id"]},
            "title": " ".join(row["title"].split()),
            "abstract": " ".join((row.get("abstract") or "").split()) or None,
            "authors": [a.strip() for a in (row.get("author") or "").split(";") if a.strip()],
            "submitted": "2016-11-04", "year": 2016, "primary_category": "cs.LG", "categories": ["cs.LG"],
            "venue_name": "ICLR 2017", "code_links": [row["github"]] if row.get("github") else [],
            "tldr": " ".join((row.get("tldr") or "").split()),
        })
    return out


def pick_distractors(shared: Path, count: int) -> list[dict[str, Any]]:
    from ..search.corpus import oai_papers

    ml, other = [], []
    for paper in oai_papers(shared):
        if not paper.get("abstract"):
            continue
        (ml if set(paper["categories"]) & set(ML_CATEGORIES) else other).append(paper)
    rng = random.Random(3)
    rng.shuffle(ml)
    rng.shuffle(other)
    return (ml + other)[:count]


def _vectors(cache_dir: Path, texts: list[str], show: bool) -> tuple[np.ndarray, str, int]:
    """Vectors for ``texts``, computing only those not in the cache (keyed by model and content hash)."""
    return cached_vectors(cache_dir, "relevance", texts, show, unit="paper", chunk=256)


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    """MRR@10 and recall@10 from the 1-based rank of the right paper (None: not in the top 10)."""
    n = max(1, len(ranks))
    return {"mrr@10": round(sum(1.0 / r for r in ranks if r and r <= 10) / n, 4),
            "recall@10": round(sum(1 for r in ranks if r and r <= 10) / n, 4), "queries": len(ranks)}


def _paired_bootstrap(a: list[int | None], b: list[int | None], reps: int = 2000, seed: int = 7) -> dict[str, Any]:
    """MRR@10 of ``a`` minus that of ``b`` over the same queries: the difference, its 95% interval over
    ``reps`` resamples of the queries, and the share of resamples where ``a`` is ahead."""
    rr_a = np.array([1.0 / r if r and r <= 10 else 0.0 for r in a])
    rr_b = np.array([1.0 / r if r and r <= 10 else 0.0 for r in b])
    diff = rr_a - rr_b
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (reps, len(diff)))].mean(axis=1)
    return {"mrr_difference": round(float(diff.mean()), 4),
            "ci95": [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)],
            "share_of_resamples_ahead": round(float((means > 0).mean()), 3)}


def _rank(ids: list[int], target: int) -> int | None:
    try:
        return ids.index(target) + 1
    except ValueError:
        return None


@click.command("relevance")
@click.option("--distractors", type=click.IntRange(0), default=3000, show_default=True,
              help="Real arXiv papers around the 490 ICLR 2017 papers (ML categories first).")
@click.option("--shared", "shared_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The real data folder [env PAPERATLAS_SHARED_DATA; default ../shared/data].")
@click.option("--seed", type=int, default=18, show_default=True,
              help="Seed of the random author names, titles and nonsense strings drawn from the store.")
@click.option("--tldr/--no-tldr", default=True, show_default=True,
              help="Also run the ICLR 2017 TL;DR set (builds its own corpus; slow the first time: it embeds it).")
@json_option
@click.pass_obj
def bench_relevance(app: Any, distractors: int, shared_dir: Path | None, seed: int, tldr: bool,
                    as_json: bool) -> None:
    """Navigational queries drawn from the store (author names: precision of the top 10; exact titles: MRR;
    nonsense: share answered) and known-item retrieval (ICLR 2017 TL;DRs -> their papers, BM25 vs semantic vs
    hybrid, fusion tuned on a dev half of the queries, reported on the other half)."""
    from ..search.index import open_index
    from .navigation import navigational

    head: dict[str, Any] = {"author_p_at_10": None, "title_mrr": None, "nonsense_with_results": None,
                            "tldr_mrr_at_10": None}
    if app is not None and open_index(app.store) is not None:
        head.update(navigational(app.store, seed))
        head["store"] = str(app.data_dir)
    else:
        head["store"] = "no search index in the --data-dir store: run `paperatlas build` there for the drawn sets"
    if not tldr:
        head["peak_rss_mb"] = round(peak_rss_mb(), 1)
        head["machine"] = machine()
        emit("bench relevance: navigational queries drawn from the store", head, as_json)
        return
    figures = _tldr_figures(app, distractors, shared_dir)
    head["tldr_mrr_at_10"] = figures["engine_default_all_queries"]["mrr@10"]
    head.update(figures)
    emit("bench relevance: store-drawn navigational queries, ICLR 2017 TL;DR -> paper", head, as_json)


def _tldr_figures(app: Any, distractors: int, shared_dir: Path | None) -> dict[str, Any]:
    """The ICLR 2017 TL;DR known-item figures (see the module docstring)."""
    from ..context import fail
    from ..embeddings.store import content_hash, paper_text, to_blob
    from ..search.corpus import load_papers
    from ..search.engine import FUSION_METHOD, RRF_K, SCORE_ALPHA, SEMANTIC_WEIGHT, Fusion, fused, search_papers
    from ..search.stage import update
    from ..store import open_store

    shared_dir = shared_dir or _shared_default()
    if shared_dir is None or not (shared_dir / "peer-review" / "iclr-papercopilot" / "iclr2017.json").exists():
        fail("no ICLR 2017 data under ../shared/data/peer-review (use --shared PATH)")
    show = not (app.quiet if app else False)
    started = time.perf_counter()
    iclr = iclr_papers(shared_dir)
    others = pick_distractors(shared_dir, distractors)
    corpus = iclr + others
    texts = [paper_text(p["title"], p["abstract"]) for p in corpus]
    cache_dir = app.data_dir if app else Path(tempfile.gettempdir())
    matrix, model, embedded_now = _vectors(cache_dir, texts, show)

    base = Path(tempfile.mkdtemp(prefix="bench-relevance-"))
    try:
        store = open_store(base)
        load_papers(store, corpus, fresh=True)
        key_to_id = {v: pid for v, pid in store.db.query_tuples(
            "SELECT scheme || ':' || value, paper_id FROM paper_ids")}
        ids = [key_to_id[f"{next(iter(p['ids']))}:{next(iter(p['ids'].values()))}"] for p in corpus]
        store.db.executemany(
            "INSERT INTO embeddings (paper_id, model, content_hash, dim, vector) VALUES (?, ?, ?, ?, ?)",
            [(pid, model, content_hash(t), matrix.shape[1], to_blob(v)) for pid, t, v in
             zip(ids, texts, matrix, strict=True)])
        update(store, full=True)
        build_s = time.perf_counter() - started

        queries = [(p["tldr"], ids[i]) for i, p in enumerate(iclr) if p["tldr"]]
        random.Random(17).shuffle(queries)
        half = len(queries) // 2
        dev, test = queries[:half], queries[half:]

        # Each query's two rankings, once; fusion is then pure arithmetic over them.
        rankings = {}
        for text, _ in queries:
            bm = search_papers(store, text, limit=DEPTH, mode="bm25", facets=False)["results"]
            se = search_papers(store, text, limit=DEPTH, mode="semantic", facets=False)["results"]
            rankings[text] = ([(r["paper_id"], r["score"]) for r in bm], [(r["paper_id"], r["score"]) for r in se])

        def fused_ranks(split: list[tuple[str, int]], fusion: Fusion) -> list[int | None]:
            out = []
            for text, target in split:
                bm, se = rankings[text]
                out.append(_rank([pid for pid, _ in fused(fusion, bm, se)][:10], target))
            return out

        candidates = [Fusion(method="rrf", k=k, semantic_weight=w) for k in K_GRID for w in WEIGHT_GRID]
        candidates += [Fusion(method="score", alpha=a) for a in ALPHA_GRID]
        grid = [(_metrics(fused_ranks(dev, f))["mrr@10"], i) for i, f in enumerate(candidates)]
        best_mrr, best_i = max(grid, key=lambda g: (g[0], -g[1]))
        best = candidates[best_i]
        best_rrf = max((g for g in grid if candidates[g[1]].method == "rrf"), key=lambda g: (g[0], -g[1]))
        best_score = max((g for g in grid if candidates[g[1]].method == "score"), key=lambda g: (g[0], -g[1]))

        # Cross-validation: every query is scored by a fusion tuned on the other folds only, so all of them
        # count (not half) and no figure comes from a setting chosen on the queries it is measured on.  Done per
        # family (RRF, score fusion, either): a family whose best setting moves from fold to fold is fragile.
        folds = [queries[f::FOLDS] for f in range(FOLDS)]
        singles: dict[str, list[int | None]] = {"bm25": [], "semantic": []}
        for fold in folds:
            singles["bm25"] += [_rank([p for p, _ in rankings[t][0][:10]], g) for t, g in fold]
            singles["semantic"] += [_rank([p for p, _ in rankings[t][1][:10]], g) for t, g in fold]
        families: dict[str, Any] = {}
        family_ranks: dict[str, list[int | None]] = {}
        for family in ("score", "rrf", "either"):
            pool = [c for c in candidates if family == "either" or c.method == family]
            ranks: list[int | None] = []
            chosen = []
            for f, fold in enumerate(folds):
                train = [item for g, other in enumerate(folds) if g != f for item in other]
                scores = [(_metrics(fused_ranks(train, c))["mrr@10"], -i) for i, c in enumerate(pool)]
                pick = pool[-max(scores)[1]]
                chosen.append({"method": "score", "alpha": pick.alpha} if pick.method == "score" else
                              {"method": "rrf", "rrf_k": pick.k, "semantic_weight": pick.semantic_weight})
                ranks += fused_ranks(fold, pick)
            family_ranks[family] = ranks
            families[family] = {**_metrics(ranks), "chosen_per_fold": chosen,
                                "minus_semantic": _paired_bootstrap(ranks, singles["semantic"])}

        def through_engine(split: list[tuple[str, int]], mode: str, fusion: Fusion | None = None) -> dict:
            ranks = []
            for text, target in split:
                found = search_papers(store, text, limit=10, mode=mode, facets=False, fusion=fusion)
                ranks.append(_rank([r["paper_id"] for r in found["results"]], target))
            return _metrics(ranks)

        n_ml = sum(1 for p in others if set(p["categories"]) & set(ML_CATEGORIES))
        figures: dict[str, Any] = {
            "corpus_papers": len(corpus), "iclr_papers": len(iclr), "distractors": len(others),
            "distractor_note": f"real arXiv cs 2016 papers, {n_ml} of them in ML categories",
            "queries": len(queries), "dev_queries": len(dev), "test_queries": len(test), "model": model,
            "embedded_now": embedded_now, "setup_s": round(build_s, 1),
            "test": {
                "bm25": through_engine(test, "bm25"),
                "semantic": through_engine(test, "semantic"),
                "hybrid_tuned": through_engine(test, "hybrid", best),
                "hybrid_default": through_engine(test, "hybrid", Fusion()),
                "hybrid_best_rrf_on_dev": _metrics(fused_ranks(test, candidates[best_rrf[1]])),
                "hybrid_best_score_on_dev": _metrics(fused_ranks(test, candidates[best_score[1]])),
            },
            "dev": {
                "bm25": _metrics([_rank([p for p, _ in rankings[t][0][:10]], g) for t, g in dev]),
                "semantic": _metrics([_rank([p for p, _ in rankings[t][1][:10]], g) for t, g in dev]),
                "hybrid_tuned": _metrics(fused_ranks(dev, best)),
            },
            "tuned": {"method": best.method, "rrf_k": best.k, "semantic_weight": best.semantic_weight,
                      "alpha": best.alpha, "dev_mrr@10": best_mrr, "candidates": len(candidates),
                      "best_rrf": {"k": candidates[best_rrf[1]].k, "semantic_weight":
                                   candidates[best_rrf[1]].semantic_weight, "dev_mrr@10": best_rrf[0]},
                      "best_score": {"alpha": candidates[best_score[1]].alpha, "dev_mrr@10": best_score[0]}},
            "engine_default": {"method": FUSION_METHOD, "rrf_k": RRF_K, "semantic_weight": SEMANTIC_WEIGHT,
                               "alpha": SCORE_ALPHA},
        }
        t = figures["test"]
        figures["hybrid_beats_both_on_test"] = {
            metric: t["hybrid_tuned"][metric] > max(t["bm25"][metric], t["semantic"][metric])
            for metric in ("mrr@10", "recall@10")
        }
        engine_family = FUSION_METHOD
        cv = {"bm25": _metrics(singles["bm25"]), "semantic": _metrics(singles["semantic"]),
              "hybrid": {k: v for k, v in families[engine_family].items() if k != "minus_semantic"}}
        figures["cross_validated"] = {
            "folds": FOLDS, "queries": len(queries), **cv,
            "hybrid_is": f"the engine's fusion ({engine_family}) with its parameter tuned on the other folds",
            "hybrid_minus_semantic": families[engine_family]["minus_semantic"],
            "hybrid_minus_bm25": _paired_bootstrap(family_ranks[engine_family], singles["bm25"]),
            "hybrid_beats_both": {m: cv["hybrid"][m] > max(cv["bm25"][m], cv["semantic"][m])
                                  for m in ("mrr@10", "recall@10")},
            "by_family": families,
        }
        figures["engine_default_all_queries"] = through_engine(queries, "auto")
        figures["hybrid_vs_best_single_mrr_ratio"] = round(
            t["hybrid_tuned"]["mrr@10"] / max(1e-9, max(t["bm25"]["mrr@10"], t["semantic"]["mrr@10"])), 3)
        store.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    figures["machine"] = machine()
    return figures
