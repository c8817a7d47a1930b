"""Training and held-out validation of the AI Score (``paperatlas train ai-score``, ``paperatlas bench ai-score``).

The target is a paper's citation percentile *within its venue-year* (Google Scholar counts differ by orders of
magnitude between a 2013 ICML and a 2022 AAAI paper; a raw count would mostly learn the year and the field).
Validation holds out one whole venue-year at a time and trains on all the others (leave-one-venue-year-out), so
every figure is on papers of a venue-year the model never saw, which is the situation of a new user's store.
Per held-out venue-year it reports Spearman's rho between score and citations, and NDCG@20 (gain = citation
percentile) of the 20 papers the score ranks first.  In the same run, on the same venue-years, two baselines:
tf-idf + logistic regression trained on the ICLR 2017 accept/reject decisions, and abstract length.

Candidate models (all over what is known at submission: title + abstract only) are compared by the same
protocol; the shipped one is the best mean held-out Spearman.  Hyper-parameters are global, never per venue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .ai_score import EMBED_WEIGHT, build_vectorizer, model_data
from .ai_score_data import CitedPaper, cached_vectors, load_all

if TYPE_CHECKING:
    import numpy as np

MIN_GROUP = 50  # venue-years smaller than this are trained on but not reported: their rho is mostly noise
NDCG_K = 20


@dataclass(slots=True)
class Dataset:
    papers: list[CitedPaper]
    iclr2017: list[CitedPaper]
    vectors: Any  # float32 (n, 384) rows aligned with papers, or None: a words-only training run
    embedder: str | None
    _counts: WordCounts | None = None

    def word_counts(self) -> WordCounts:
        if self._counts is None:
            self._counts = WordCounts([p.text for p in self.papers])
        return self._counts

    @property
    def groups(self) -> list[str]:
        return [p.group for p in self.papers]


def within_group_percentile(values: Sequence[float], groups: Sequence[str]) -> np.ndarray:
    """Each value's percentile (0, 1] among the values of its own group (ties share their mean rank)."""
    import numpy as np
    from scipy.stats import rankdata

    values = np.asarray(values, dtype=np.float64)
    out = np.zeros(len(values))
    for idx in _group_index(groups).values():
        out[idx] = rankdata(values[idx]) / len(idx)
    return out


def _group_index(groups: Sequence[str]) -> dict[str, Any]:
    import numpy as np

    found: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        found.setdefault(g, []).append(i)
    return {g: np.asarray(idx) for g, idx in sorted(found.items())}


def ndcg_at(scores: np.ndarray, gains: np.ndarray, k: int = NDCG_K) -> float:
    """NDCG@k of ranking by ``scores`` with these ``gains`` (the ideal ranking sorts by gain)."""
    import numpy as np

    k = min(k, len(scores))
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    top = np.argsort(-scores, kind="stable")[:k]
    ideal = np.sort(gains)[::-1][:k]
    best = float((ideal * discounts).sum())
    return float((gains[top] * discounts).sum() / best) if best > 0 else 0.0


def load_dataset(shared: Path, cache: Path | None, *,
                 progress: Callable[[int, int], None] | None = None) -> Dataset:
    """Papers, ICLR 2017 decisions, and MiniLM vectors (from ``cache``; the rest embedded and added to it).

    ``cache=None`` trains on words alone: no embedding model is loaded (a busy CPU embeds ~14,000 abstracts in
    tens of minutes; an idle one in ~7).
    """
    papers, iclr = load_all(shared)
    papers = [p for p in papers if p.group != "iclr2017"]  # the baseline's training data: kept out, for a fair test
    if cache is None:
        return Dataset(papers, iclr, None, None)
    from ..embeddings import get_embedder

    embedder = get_embedder()
    vectors = cached_vectors([p.text for p in papers], cache, embedder.name, embedder.encode, progress=progress)
    return Dataset(papers, iclr, vectors, embedder.name)


# ---- candidate models: fit(train rows) -> predict(rows) ----------------------------------------------------------

Fitter = Callable[[Dataset, Any, Any], Any]  # (data, train index, test index) -> scores of the test rows


def _texts(data: Dataset, idx: Any) -> list[str]:
    return [data.papers[i].text for i in idx]


class WordCounts:
    """Every paper's 1-2-gram counts, tokenised once; each fold then builds its tf-idf from its training rows only.

    Why: refitting a ``TfidfVectorizer`` per held-out venue-year re-tokenises 12,000 abstracts 20+ times.  This
    gives the same matrix (same tokens, min_df, max_features by training term frequency, smooth idf, sublinear
    tf, L2 rows) with the vocabulary and idf taken from the training rows alone, as a refit would.
    """

    def __init__(self, texts: list[str]):
        from sklearn.feature_extraction.text import CountVectorizer

        template = build_vectorizer()
        counter = CountVectorizer(ngram_range=template.ngram_range, stop_words=template.stop_words, lowercase=True)
        self.counts = counter.fit_transform(texts).tocsr().astype("float64")
        self.terms = counter.get_feature_names_out()

    def tfidf(self, train: Any) -> Callable[[Any], Any]:
        """A transform of row indices to tf-idf rows, with vocabulary and idf learnt from ``train`` rows."""
        import numpy as np
        from sklearn.preprocessing import normalize

        template = build_vectorizer()
        part = self.counts[train]
        df = np.asarray((part > 0).sum(axis=0)).ravel()
        total = np.asarray(part.sum(axis=0)).ravel()
        keep = np.flatnonzero(df >= template.min_df)
        keep = keep[np.argsort(-total[keep], kind="stable")[: template.max_features]]
        keep.sort()
        idf = np.log((1 + len(train)) / (1 + df[keep])) + 1.0

        def transform(rows: Any) -> Any:
            x = self.counts[rows][:, keep].tocsr()
            x.data = (1.0 + np.log(x.data))
            x = x.multiply(idf[None, :]).tocsr()
            return normalize(x)

        return transform


def _fit_linear(data: Dataset, train: Any, *, alpha: float, embed_weight: float, use_words: bool = True,
                use_vectors: bool = True, vectorizer: Any = None) -> dict[str, Any]:
    """The shipped model family: one ridge regression over [tf-idf words, embed_weight x MiniLM vector]."""
    from scipy import sparse

    target = within_group_percentile([data.papers[i].citations for i in train], [data.papers[i].group for i in train])
    blocks = []
    if use_words and vectorizer is not None:  # a given vocabulary (the words-only head shares the full one's)
        blocks.append(vectorizer.transform(_texts(data, train)))
    elif use_words:
        vectorizer = build_vectorizer()
        blocks.append(vectorizer.fit_transform(_texts(data, train)))
    if use_vectors:
        blocks.append(sparse.csr_matrix(data.vectors[train] * embed_weight))
    return _ridge(data, train, blocks, target, alpha=alpha, embed_weight=embed_weight, use_vectors=use_vectors,
                  vectorizer=vectorizer)


def _ridge(data: Dataset, train: Any, blocks: list, target: Any, *, alpha: float, embed_weight: float,
           use_vectors: bool, vectorizer: Any) -> dict[str, Any]:
    import numpy as np
    from scipy import sparse
    from sklearn.linear_model import Ridge

    x = sparse.hstack(blocks, format="csr")
    ridge = Ridge(alpha=alpha)
    ridge.fit(x, target)
    n_words = x.shape[1] - (data.vectors.shape[1] if use_vectors else 0)
    coef = np.asarray(ridge.coef_, dtype=np.float64)
    vector_coef = coef[n_words:] * embed_weight if use_vectors else None
    return {"vectorizer": vectorizer, "word_coef": coef[:n_words], "vector_coef": vector_coef,
            "vector_part_mean": float((data.vectors[train] @ vector_coef).mean()) if use_vectors else 0.0,
            "intercept": float(ridge.intercept_), "train_pred": ridge.predict(x)}


def linear(alpha: float = 3.0, embed_weight: float = EMBED_WEIGHT, *, use_words: bool = True,
           use_vectors: bool = True) -> Fitter:
    """A ridge fitter for validation: words from the shared :class:`WordCounts`, so folds cost seconds."""

    def run(data: Dataset, train: Any, test: Any) -> np.ndarray:
        from scipy import sparse

        target = within_group_percentile([data.papers[i].citations for i in train],
                                         [data.papers[i].group for i in train])
        blocks_train, blocks_test = [], []
        if use_words:
            transform = data.word_counts().tfidf(train)
            blocks_train.append(transform(train))
            blocks_test.append(transform(test))
        if use_vectors:
            blocks_train.append(sparse.csr_matrix(data.vectors[train] * embed_weight))
            blocks_test.append(sparse.csr_matrix(data.vectors[test] * embed_weight))
        fit = _ridge(data, train, blocks_train, target, alpha=alpha, embed_weight=embed_weight,
                     use_vectors=use_vectors, vectorizer=None)
        x_test = sparse.hstack(blocks_test, format="csr")
        n_words = x_test.shape[1] - (data.vectors.shape[1] if use_vectors else 0)
        out = x_test[:, :n_words] @ fit["word_coef"] + fit["intercept"] if n_words else fit["intercept"]
        if use_vectors:
            out = out + data.vectors[test] @ fit["vector_coef"]
        return out

    return run


def lightgbm_vectors(data: Dataset, train: Any, test: Any) -> np.ndarray:
    """Gradient-boosted trees over the MiniLM vector (a non-linear alternative, compared, not shipped)."""
    import lightgbm as lgb

    target = within_group_percentile([data.papers[i].citations for i in train], [data.papers[i].group for i in train])
    model = lgb.LGBMRegressor(n_estimators=300, learning_rate=0.03, num_leaves=15, min_child_samples=40,
                              subsample=0.8, subsample_freq=1, colsample_bytree=0.5, verbose=-1, n_jobs=2)
    model.fit(data.vectors[train], target)
    return model.predict(data.vectors[test])


def mlp_vectors(data: Dataset, train: Any, test: Any) -> np.ndarray:
    """A small MLP (one hidden layer of 64) over the MiniLM vector (compared, not shipped)."""
    from sklearn.neural_network import MLPRegressor

    target = within_group_percentile([data.papers[i].citations for i in train], [data.papers[i].group for i in train])
    model = MLPRegressor(hidden_layer_sizes=(64,), alpha=1e-2, early_stopping=True, max_iter=200, random_state=0)
    model.fit(data.vectors[train], target)
    return model.predict(data.vectors[test])


WORDS, BOTH = "ridge words", "ridge words+minilm"  # the two families a model can ship as
WORD_CANDIDATES: dict[str, Fitter] = {
    WORDS: linear(use_vectors=False),
    "ridge words alpha=1": linear(alpha=1.0, use_vectors=False),
    "ridge words alpha=10": linear(alpha=10.0, use_vectors=False),
}
VECTOR_CANDIDATES: dict[str, Fitter] = {
    BOTH: linear(),
    "ridge minilm": linear(use_words=False),
    "lightgbm minilm": lightgbm_vectors,
    "mlp minilm": mlp_vectors,
}




def candidates_for(data: Dataset) -> dict[str, Fitter]:
    return {**WORD_CANDIDATES, **(VECTOR_CANDIDATES if data.vectors is not None else {})}


# ---- validation ---------------------------------------------------------------------------------------------------


def _held_out_groups(data: Dataset) -> dict[str, Any]:
    return {g: idx for g, idx in _group_index(data.groups).items() if len(idx) >= MIN_GROUP}


def _figures(data: Dataset, scores_by_group: dict[str, np.ndarray]) -> dict[str, Any]:
    import numpy as np
    from scipy.stats import spearmanr

    groups = _held_out_groups(data)
    per: dict[str, dict[str, float]] = {}
    for g, scores in scores_by_group.items():
        idx = groups[g]
        cites = np.asarray([data.papers[i].citations for i in idx], dtype=np.float64)
        rho = spearmanr(scores, cites).statistic
        per[g] = {"papers": len(idx), "spearman": round(float(rho), 4),
                  "ndcg20": round(ndcg_at(np.asarray(scores), within_group_percentile(cites, [g] * len(idx))), 4)}
    rhos = np.asarray([v["spearman"] for v in per.values()])
    return {"venue_years": per, "mean_spearman": round(float(rhos.mean()), 4),
            "sd_spearman": round(float(rhos.std(ddof=1)) if len(rhos) > 1 else 0.0, 4),
            "min_spearman": round(float(rhos.min()), 4), "max_spearman": round(float(rhos.max()), 4),
            "mean_ndcg20": round(float(np.mean([v["ndcg20"] for v in per.values()])), 4)}


def leave_one_venue_year_out(data: Dataset, fitter: Fitter) -> dict[str, Any]:
    """Train on every other venue-year, score the held-out one; figures per venue-year and their mean/spread."""
    import numpy as np

    everything = np.arange(len(data.papers))
    group_of = np.asarray(data.groups)
    scores = {g: fitter(data, everything[group_of != g], idx) for g, idx in _held_out_groups(data).items()}
    return _figures(data, scores)


def iclr_decision_baseline(data: Dataset) -> dict[str, Any]:
    """tf-idf + logistic regression fit on ICLR 2017 accept/reject, scored on every held-out venue-year."""
    from sklearn.linear_model import LogisticRegression

    train = [p for p in data.iclr2017 if p.accepted is not None]
    if len({p.accepted for p in train}) < 2:
        raise ValueError("the ICLR 2017 decisions baseline needs accepted and rejected papers")
    vectorizer = build_vectorizer()
    x = vectorizer.fit_transform([p.text for p in train])
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    clf.fit(x, [p.accepted for p in train])
    scores = {g: clf.decision_function(vectorizer.transform(_texts(data, idx)))
              for g, idx in _held_out_groups(data).items()}
    figures = _figures(data, scores)
    figures["trained_on"] = f"ICLR 2017 decisions ({len(train)} papers, {sum(p.accepted for p in train)} accepted)"
    return figures


def abstract_length_baseline(data: Dataset) -> dict[str, Any]:
    import numpy as np

    scores = {g: np.asarray([len(data.papers[i].abstract.split()) for i in idx], dtype=np.float64)
              for g, idx in _held_out_groups(data).items()}
    figures = _figures(data, scores)
    figures["trained_on"] = "nothing: longer abstract = higher score"
    return figures


def time_splits(data: Dataset, fitter: Fitter) -> dict[str, Any]:
    """Stricter tests than one venue-year out: hold out every venue of the paper's year, or train only on years
    before it (a new user's situation: the model never saw what was cited in the year it scores)."""
    import numpy as np

    years = np.asarray([p.year for p in data.papers])
    everything = np.arange(len(data.papers))
    out: dict[str, Any] = {}
    for name, pick in (("leave_one_year_out", lambda y: years != y), ("earlier_years_only", lambda y: years < y)):
        scores = {}
        for g, idx in _held_out_groups(data).items():
            train = everything[pick(data.papers[idx[0]].year)]
            if len(train) >= 1000:  # the earliest years have too little before them
                scores[g] = fitter(data, train, idx)
        figures = _figures(data, scores)
        out[name] = {"spearman": {g: v["spearman"] for g, v in figures["venue_years"].items()},
                     **{k: figures[k] for k in ("mean_spearman", "sd_spearman", "mean_ndcg20")}}
    return out


def evaluate(data: Dataset, *, candidates: dict[str, Fitter] | None = None,
             time_split: bool = False) -> dict[str, Any]:
    """The shipped model's held-out figures, the other candidates' means, and both baselines, in one run.

    With vectors, the shipped family is whichever of words and words+MiniLM has the better held-out mean.
    """
    started = time.process_time()
    every = candidates_for(data)
    candidates = every if candidates is None else candidates
    finalists = [WORDS, BOTH] if data.vectors is not None else [WORDS]
    validated = {name: leave_one_venue_year_out(data, every[name]) for name in finalists}
    name_shipped = max(finalists, key=lambda name: validated[name]["mean_spearman"])
    shipped = validated[name_shipped]
    keys = ("mean_spearman", "sd_spearman", "mean_ndcg20")
    compared = {name: {k: figures[k] for k in keys} for name, figures in validated.items()}
    for name, fitter in candidates.items():
        if name not in compared:
            compared[name] = {k: v for k, v in leave_one_venue_year_out(data, fitter).items() if k in keys}
    baselines = {"tfidf_logreg_iclr2017": iclr_decision_baseline(data),
                 "abstract_length": abstract_length_baseline(data)}
    tfidf = baselines["tfidf_logreg_iclr2017"]["mean_spearman"]
    report = {
        **shipped,
        "model": name_shipped,
        "protocol": "leave-one-venue-year-out: each venue-year scored by a model trained on all the others; "
                    "Spearman with Google Scholar citations within the venue-year; NDCG@20 with gain = citation "
                    "percentile within the venue-year",
        "papers": len(data.papers),
        "embedder": data.embedder or "none (words only)",
        "baselines": baselines,
        "ratio_to_tfidf_baseline": round(shipped["mean_spearman"] / tfidf, 2) if tfidf > 0 else None,
        "candidates": compared,
    }
    if time_split:
        report["time_splits"] = time_splits(data, every[name_shipped])
    report["eval_cpu_s"] = round(time.process_time() - started, 1)
    return report


def heldout_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The few held-out figures every score's reason carries (the model card has the rest)."""
    base = report["baselines"]
    return {"mean_spearman": report["mean_spearman"], "sd_spearman": report["sd_spearman"],
            "mean_ndcg20": report["mean_ndcg20"], "venue_years": len(report["venue_years"]),
            "tfidf_iclr_baseline": base["tfidf_logreg_iclr2017"]["mean_spearman"],
            "abstract_length_baseline": base["abstract_length"]["mean_spearman"],
            "how": "Spearman with citations within each venue-year the model never saw; docs/model-card-ai-score.md"}


def train_final(data: Dataset, *, heldout: dict[str, Any] | None = None, alpha: float = 3.0,
                embed_weight: float = EMBED_WEIGHT) -> dict[str, Any]:
    """The model family the held-out figures chose (words+vector only if it won), fit on every venue-year."""
    import numpy as np

    everything = np.arange(len(data.papers))
    both = None
    if data.vectors is not None and (heldout is None or heldout["model"] == BOTH):
        both = _fit_linear(data, everything, alpha=alpha, embed_weight=embed_weight)
    words = _fit_linear(data, everything, alpha=alpha, embed_weight=embed_weight, use_vectors=False,
                        vectorizer=both["vectorizer"] if both else None)
    out = model_data(both, words, embedder=data.embedder, papers=len(data.papers),
                     venue_years=len(set(data.groups)))
    if heldout is not None:
        out["heldout"] = heldout_summary(heldout)
    return out
