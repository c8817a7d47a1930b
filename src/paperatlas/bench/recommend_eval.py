"""Scoring the readers of one AAN split with the shipped model and the three baselines (``bench recommend``).

Every method ranks the same candidates for the same reader (the split's candidates minus the reader's library),
and is scored by the same two functions, so the figures differ only by the ranking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..recommend import model as rec
from .recommend_data import Corpus, Reader, Split

K_NDCG = 10
K_RECALL = 50
METHODS = ("paperatlas", "popularity", "tfidf_svm", "embedding_centroid")


def ndcg_at(ranked: np.ndarray, relevant: set[int], k: int = K_NDCG) -> float:
    """Binary-gain nDCG@k of a ranked list of paper indices."""
    gains = [1.0 / math.log2(i + 2) for i, p in enumerate(ranked[:k]) if int(p) in relevant]
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return sum(gains) / ideal if ideal else 0.0


def recall_at(ranked: np.ndarray, relevant: set[int], k: int = K_RECALL) -> float:
    return len({int(p) for p in ranked[:k]} & relevant) / len(relevant) if relevant else 0.0


def top(scores: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best ``ids`` by score, best first; ties go to the lower id so every run ranks alike."""
    order = np.lexsort((ids, -scores))
    return ids[order[:k]]


@dataclass
class SplitData:
    """What every reader of a split shares: candidate vectors, references and authors as sparse rows."""

    split: Split
    vectors: np.ndarray  # all papers, unit rows
    refs: sparse.csr_matrix  # candidates x papers, 1 where the candidate cites the paper
    authored: sparse.csr_matrix  # papers x authors
    candidate_authored: sparse.csr_matrix  # candidates x authors
    candidate_vectors: np.ndarray  # candidates x d
    popularity: np.ndarray  # log1p(citations before Y), per candidate


def prepare(corpus: Corpus, split: Split, vectors: np.ndarray) -> SplitData:
    n = len(corpus.ids)
    rows = [p for p, refs in enumerate(corpus.cites) for _ in refs]
    cols = [c for refs in corpus.cites for c in refs]
    refs = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    names: dict[str, int] = {}
    a_rows, a_cols = [], []
    for p, authors in enumerate(corpus.authors):
        for name in set(authors):
            a_rows.append(p)
            a_cols.append(names.setdefault(name, len(names)))
    authored = sparse.csr_matrix((np.ones(len(a_rows)), (a_rows, a_cols)), shape=(n, max(1, len(names))))
    c = split.candidates
    return SplitData(split, vectors, refs[c].tocsr(), authored, authored[c].tocsr(), vectors[c],
                     np.log1p(split.citations_before[c]))


def reader_candidates(data: SplitData, reader: Reader) -> np.ndarray:
    """Positions (into the split's candidates) of the reader's candidates: all but their library."""
    return np.flatnonzero(~np.isin(data.split.candidates, reader.library))


def features(data: SplitData, reader: Reader, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The shipped model's signals for one reader's candidate ``rows``, as the product computes them."""
    model = rec.train(data.vectors[reader.library])
    out = rec.similarity_features(model, data.candidate_vectors[rows])
    in_library = np.zeros(len(data.vectors))
    in_library[reader.library] = 1.0
    out["coupling"] = np.log1p(data.refs[rows] @ in_library)
    author_weight = np.asarray(data.authored[reader.library].sum(axis=0)).ravel()
    out["authors"] = np.log1p(data.candidate_authored[rows] @ author_weight)
    out["popularity"] = data.popularity[rows]
    return out


def rank_paperatlas(data: SplitData, reader: Reader, rows: np.ndarray,
                    weights: rec.Weights = rec.WEIGHTS) -> np.ndarray:
    return top(rec.blend(features(data, reader, rows), weights), data.split.candidates[rows], K_RECALL)


def rank_popularity(data: SplitData, reader: Reader, rows: np.ndarray) -> np.ndarray:
    return top(data.popularity[rows], data.split.candidates[rows], K_RECALL)


def rank_centroid(data: SplitData, reader: Reader, rows: np.ndarray) -> np.ndarray:
    model = rec.train(data.vectors[reader.library])
    return top(data.candidate_vectors[rows] @ model.centroid, data.split.candidates[rows], K_RECALL)


class TfidfSvm:
    """arxiv-sanity-lite's recipe: tf-idf of the text (its vectoriser settings), one LinearSVC per reader with
    positives = the reader's papers and negatives = every other paper known at Y, scoring the candidates."""

    def __init__(self, texts: list[str], known: np.ndarray, min_df: int = 5, max_df: float = 0.1):
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(input="content", encoding="utf-8", decode_error="replace",
                                     strip_accents="unicode", lowercase=True, analyzer="word", stop_words="english",
                                     token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
                                     max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
                                     max_df=max_df, min_df=min_df)
        self.known = known  # the papers in the reader's world at Y: published before Y
        vectorizer.fit([texts[i] for i in known])
        self.matrix = vectorizer.transform(texts).tocsr()

    def rank(self, reader: Reader, candidates: np.ndarray) -> np.ndarray:
        """Rank ``candidates`` (paper indices) for ``reader``."""
        from sklearn.svm import LinearSVC

        y = np.isin(self.known, reader.library).astype(int)
        classifier = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
        classifier.fit(self.matrix[self.known], y)
        return top(classifier.decision_function(self.matrix[candidates]), candidates, K_RECALL)


def evaluate(data: SplitData, svm: TfidfSvm | None, weights: rec.Weights = rec.WEIGHTS,
             methods: tuple[str, ...] = METHODS) -> dict[str, dict[str, float]]:
    """Mean nDCG@10 and recall@50 per method over the split's readers."""
    sums = {m: [0.0, 0.0] for m in methods}
    for reader in data.split.readers:
        rows = reader_candidates(data, reader)
        for method in methods:
            if method == "paperatlas":
                ranked = rank_paperatlas(data, reader, rows, weights)
            elif method == "popularity":
                ranked = rank_popularity(data, reader, rows)
            elif method == "embedding_centroid":
                ranked = rank_centroid(data, reader, rows)
            elif method == "tfidf_svm":
                if svm is None:
                    raise ValueError("tfidf_svm needs the tf-idf matrix")
                ranked = svm.rank(reader, data.split.candidates[rows])
            else:
                raise ValueError(f"unknown method {method!r}")
            sums[method][0] += ndcg_at(ranked, reader.relevant)
            sums[method][1] += recall_at(ranked, reader.relevant)
    n = max(1, len(data.split.readers))
    return {m: {"ndcg_at_10": round(s[0] / n, 4), "recall_at_50": round(s[1] / n, 4)} for m, s in sums.items()}
