"""``paperatlas bench ai-score``: held-out quality of the AI Score and its scoring speed, in one run.

Quality: the model family in use, validated leave-one-venue-year-out on ../shared/data/citations/papercopilot-gs
(and the code-links venue-years): Spearman with Google Scholar citations within each held-out venue-year, its
mean and spread, NDCG@20; beside it, in the same run and on the same venue-years, the two baselines (tf-idf +
logistic regression on ICLR 2017 decisions; abstract length).  Speed: the model in use (the data folder's, else
the shipped one) scores every training paper, explanations included, and the CPU time of that call is divided
into the paper count.  Vectors are handed in already loaded ("once embeddings exist"): embedding is measured by
``paperatlas bench embed``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from ..context import AppContext, fail, pass_app
from ..shared_data import shared_data_dir
from .report import emit, json_option, machine, peak_rss_mb

TARGET_SPEARMAN = 0.30
TARGET_RATIO = 1.5
TARGET_PAPERS_PER_CPU_S = 2000.0


def _speed(model: Any, texts: list[str], vectors: list[Any], rounds: int) -> dict[str, Any]:
    """Best of ``rounds`` CPU-timed calls of ``model.score`` over all texts (explanations included)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        scored = model.score(texts, vectors)
        best = min(best, time.process_time() - started)
        if len(scored) != len(texts):
            raise RuntimeError("the model returned a different number of scores")
    rate = len(texts) / best if best > 0 else float("inf")
    return {"papers": len(texts), "cpu_s": round(best, 3), "papers_per_cpu_s": round(rate, 1),
            "with_vector": sum(v is not None for v in vectors), "target_papers_per_cpu_s": TARGET_PAPERS_PER_CPU_S,
            "meets_target": rate >= TARGET_PAPERS_PER_CPU_S}


@click.command("ai-score")
@click.option("--shared", "shared_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The real data folder [env PAPERATLAS_SHARED_DATA; default ../shared/data].")
@click.option("--vectors", "use_vectors", is_flag=True,
              help="Also validate words+MiniLM (the training vectors are embedded once and cached).")
@click.option("--cache", "cache_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Training vectors by text hash (default <data dir>/ai-score/training-vectors.npz).")
@click.option("--rounds", default=3, show_default=True, help="Timed scoring rounds (the best is kept).")
@json_option
@pass_app
def bench_ai_score(app: AppContext, shared_dir: Path | None, use_vectors: bool, cache_path: Path | None,
                   rounds: int, as_json: bool) -> None:
    """AI Score: held-out Spearman per venue-year vs the two baselines, and papers scored per CPU-second."""
    from ..metrics import ai_score, ai_score_train

    shared_dir = shared_dir or shared_data_dir("citations")
    if shared_dir is None or not (shared_dir / "citations" / "papercopilot-gs").is_dir():
        fail(f"no citations/papercopilot-gs under {shared_dir or '../shared/data'} (use --shared PATH)")
    if rounds < 1:
        fail("--rounds must be at least 1")
    cache_path = (cache_path or app.data_dir / ai_score.DATA_SUBDIR / "training-vectors.npz") if use_vectors else None
    try:
        data = ai_score_train.load_dataset(shared_dir, cache_path)
        report = ai_score_train.evaluate(data, candidates={})
        model = ai_score.shipped_model(app.data_dir)
    except (ValueError, OSError, ImportError) as exc:
        fail(str(exc))
    vectors: list[Any] = [None] * len(data.papers)
    if data.vectors is not None and model.embedder == data.embedder:
        vectors = list(data.vectors)
    tfidf = report["baselines"]["tfidf_logreg_iclr2017"]["mean_spearman"]
    figures = {
        "venue_years": report["venue_years"],
        "mean_spearman": report["mean_spearman"],
        "sd_spearman": report["sd_spearman"],
        "min_spearman": report["min_spearman"],
        "max_spearman": report["max_spearman"],
        "mean_ndcg20": report["mean_ndcg20"],
        "baselines": report["baselines"],
        "validated_model": report["model"],
        "protocol": report["protocol"],
        "ratio_to_tfidf_baseline": report["ratio_to_tfidf_baseline"],
        "targets": {"mean_spearman": TARGET_SPEARMAN, "ratio_to_tfidf_baseline": TARGET_RATIO,
                    "meets_spearman": report["mean_spearman"] >= TARGET_SPEARMAN,
                    "meets_ratio": tfidf <= 0 or report["mean_spearman"] >= TARGET_RATIO * tfidf},
        "scoring": {"model": model.version, **_speed(model, [p.text for p in data.papers], vectors, rounds)},
        "eval_cpu_s": report["eval_cpu_s"],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": machine(),
    }
    emit("bench ai-score", figures, as_json)
