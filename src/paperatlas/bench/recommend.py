"""``paperatlas bench recommend``: per-reader recommendations on the real ACL Anthology Network, against baselines.

Protocol (issue 22, item 3; details in ``recommend_data.py``): for a year Y, authors with a paper in Y and >= 10
distinct papers cited before Y are the readers; a reader's library is what they cited before Y; the candidates
are the papers of Y-2 and Y-1; the relevant ones are those the reader cites in Y.  Four rankings of the same
candidates in the same run: the shipped model (``paperatlas.recommend.model``), popularity (citations received
before Y), arxiv-sanity-lite's tf-idf + LinearSVC per reader, and the centroid of the library's embeddings.  Text
is titles only (AAN has no abstracts), embedded with the real model; vectors are cached by content hash in the
data folder, so only the first run embeds.

The shipped weights were fitted on Y = 2009 and 2010 only (``--fit`` reproduces that fit and prints the
weights); every other year is held out.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..recommend import model as rec
from ..shared_data import shared_data_dir
from .recommend_data import AAN_FOLDER, load_corpus, make_split, title_texts, title_vectors
from .recommend_eval import K_RECALL, SplitData, TfidfSvm, evaluate, features, ndcg_at, prepare, reader_candidates
from .report import emit, json_option, machine, peak_rss_mb

FIT_YEARS = (2009, 2010)
BASELINES = ("popularity", "tfidf_svm", "embedding_centroid")
GRID = (0.0, 0.03, 0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 100.0)


def fit_weights(splits: list[SplitData], rounds: int = 3) -> tuple[rec.Weights, float]:
    """Coordinate ascent of mean nDCG@10 over ``splits``' readers on a multiplicative grid per weight.

    Each reader's signals are computed once; a weight setting is then one matrix-vector product per reader.
    ``nearest`` stays 1 (the scale); the negative weight is not fitted (no negatives here, see model.py).
    """
    cases = []
    for data in splits:
        for reader in data.split.readers:
            rows = reader_candidates(data, reader)
            f = features(data, reader, rows)
            matrix = np.column_stack([f[name] for name in rec.FEATURES]).astype(np.float64)
            cases.append((matrix, data.split.candidates[rows], reader.relevant))

    def score(w: np.ndarray) -> float:
        total = 0.0
        for matrix, ids, relevant in cases:
            s = matrix @ w
            best = np.argpartition(-s, min(10, len(s) - 1))[:10]
            ranked = ids[best[np.lexsort((ids[best], -s[best]))]]
            total += ndcg_at(ranked, relevant)
        return total / max(1, len(cases))

    w = np.array([1.0 if name == "nearest" else 0.0 for name in rec.FEATURES])
    best = score(w)
    for _ in range(rounds):
        improved = False
        for j, name in enumerate(rec.FEATURES):
            if name == "nearest":
                continue
            for value in GRID:
                trial = w.copy()
                trial[j] = value
                got = score(trial)
                if got > best + 1e-6:
                    best, w, improved = got, trial, True
        if not improved:
            break
    values = dict(zip(rec.FEATURES, (float(x) for x in w), strict=True))
    return rec.Weights(**values, negative=values["nearest"]), round(best, 4)


def _retrain_ms(data: SplitData, readers: int = 50) -> float:
    """Median time to (re)train one reader's model and score their candidates."""
    times = []
    for reader in data.split.readers[:readers]:
        t0 = time.perf_counter()
        rows = reader_candidates(data, reader)
        rec.blend(features(data, reader, rows))
        times.append((time.perf_counter() - t0) * 1000)
    return round(float(np.median(times)), 2) if times else 0.0


@click.command("recommend")
@click.option("--year", type=click.IntRange(1970, 2100), default=2010, show_default=True,
              help="Readers' libraries are what they cited before this year; they are scored on what they cite in it.")
@click.option("--min-library", type=click.IntRange(1), default=10, show_default=True,
              help="A reader must have cited at least this many distinct papers before the year.")
@click.option("--fit", is_flag=True, help="Refit the blend's weights on 2009 and 2010 and print them (slow).")
@click.option("--shared", "shared_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The real data folder [env PAPERATLAS_SHARED_DATA; default ../shared/data].")
@json_option
@click.pass_obj
def bench_recommend(app: Any, year: int, min_library: int, fit: bool, shared_dir: Path | None, as_json: bool) -> None:
    """Recommendations for AAN authors as readers: nDCG@10 and recall@50 of the shipped model and three baselines
    (popularity, tf-idf + LinearSVC per reader, embedding centroid), all in the same run."""
    from ..context import fail

    shared_dir = shared_dir or shared_data_dir(str(AAN_FOLDER))
    if shared_dir is None or not (shared_dir / AAN_FOLDER / "acl-metadata.txt").exists():
        fail(f"no ACL Anthology Network data under ../shared/data/{AAN_FOLDER} (use --shared PATH)")
    show = not (app.quiet if app else False)
    started = time.perf_counter()
    corpus = load_corpus(shared_dir / AAN_FOLDER)
    cache_dir = app.data_dir if app else Path.cwd()
    vectors, model_name, embedded_now = title_vectors(cache_dir, title_texts(corpus), show)

    if fit:
        splits = [prepare(corpus, make_split(corpus, y, min_library), vectors) for y in FIT_YEARS]
        weights, ndcg = fit_weights(splits)
        emit("bench recommend --fit", {"years": list(FIT_YEARS), "readers": sum(len(s.split.readers) for s in splits),
                                       "ndcg_at_10": ndcg, "weights": weights.__dict__}, as_json)
        return

    split = make_split(corpus, year, min_library)
    if not split.readers:
        fail(f"no readers in {year}: no author has a paper that year citing >= {min_library} earlier papers")
    data = prepare(corpus, split, vectors)
    known = np.flatnonzero((corpus.years > 0) & (corpus.years < year))
    svm = TfidfSvm(title_texts(corpus), known)
    methods = evaluate(data, svm)
    best_name = max(BASELINES, key=lambda m: methods[m]["ndcg_at_10"])
    best = methods[best_name]["ndcg_at_10"]
    figures: dict[str, Any] = {
        "year": year,
        "readers": len(split.readers),
        "methods": methods,
        "readers_without_relevant": split.readers_without_relevant,
        "candidates": len(split.candidates),
        "mean_library": round(float(np.mean([len(r.library) for r in split.readers])), 1),
        "mean_relevant": round(float(np.mean([len(r.relevant) for r in split.readers])), 2),
        "best_baseline": best_name,
        "ndcg_ratio_vs_best_baseline": round(methods["paperatlas"]["ndcg_at_10"] / best, 3) if best else None,
        "fitted_on": list(FIT_YEARS),
        "held_out": year not in FIT_YEARS,
        "weights": rec.WEIGHTS.__dict__,
        "retrain_and_score_ms_p50": _retrain_ms(data),
        "text": "titles",
        "model": model_name,
        "embedded_now": embedded_now,
        "recall_depth": K_RECALL,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": machine(),
    }
    emit(f"bench recommend: ACL Anthology Network, {year}", figures, as_json)
