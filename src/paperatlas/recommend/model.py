"""The per-reader recommendation model: a few signals per candidate paper, blended with fixed weights.

Why this shape.  arxiv-sanity-lite trains a linear SVM per reader over tf-idf; measured on the ACL Anthology
Network (``paperatlas bench recommend``, docs/recommendations.md) that recipe is beaten by signals it cannot see:
how close a candidate is to the *nearest* saved papers in embedding space (a library spans several topics, so
its centroid sits between them), whether the candidate cites the reader's saved papers (bibliographic coupling),
whether it is by authors the reader saves or follows, and how often the field cites it.  Each is a number per
candidate; the score is their weighted sum.  The weights were fitted once, offline, on the 2009 and 2010 AAN
splits only (``paperatlas bench recommend --fit``) and are constants here, so a reader's "training" is just
collecting their saved papers' vectors, references and authors: milliseconds, not an SVM fit over the corpus.

Negatives ("not relevant", downvotes) lower a candidate by its similarity to the nearest negative, Rocchio-style.
AAN has no negatives, so that weight is not fitted: it is set equal to the positive nearest-neighbour weight, and
a candidate exactly as close to a downvoted paper as to a saved one scores as if neither was there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOP_K = 3  # "close to the nearest saved papers": mean similarity to this many nearest


@dataclass(frozen=True)
class Weights:
    """Weights of the blended signals (fitted on AAN 2009-2010, see the module docstring)."""

    nearest: float  # mean cosine similarity to the TOP_K nearest positives
    centroid: float  # cosine similarity to the positives' centroid
    coupling: float  # log(1 + number of the reader's positives the candidate cites)
    authors: float  # log(1 + how many positives / follows share an author with the candidate)
    popularity: float  # log(1 + citations the candidate has received)
    negative: float  # mean cosine similarity to the TOP_K nearest negatives (subtracted)


WEIGHTS = Weights(nearest=1.0, centroid=0.03, coupling=10.0, authors=5.0, popularity=0.0, negative=1.0)

FEATURES = ("nearest", "centroid", "coupling", "authors", "popularity")


@dataclass
class ReaderModel:
    """What a reader's model is: their positives' unit vectors (and centroid) and their negatives' vectors."""

    positives: np.ndarray  # (p, d) float32, L2-normalised rows
    negatives: np.ndarray  # (n, d)
    centroid: np.ndarray | None  # (d,) unit vector, None without positives


def train(positives: np.ndarray, negatives: np.ndarray | None = None, dim: int | None = None) -> ReaderModel:
    """The reader's model from their positives' and negatives' vectors (rows need not be normalised)."""
    d = dim or (positives.shape[1] if positives.ndim == 2 and positives.size else
                (negatives.shape[1] if negatives is not None and negatives.ndim == 2 and negatives.size else 0))
    pos = _unit(positives.reshape(-1, d) if positives.size else np.zeros((0, d), np.float32))
    neg = _unit(negatives.reshape(-1, d) if negatives is not None and negatives.size else np.zeros((0, d), np.float32))
    centroid = None
    if len(pos):
        mean = pos.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        centroid = (mean / norm).astype(np.float32) if norm > 0 else None
    return ReaderModel(pos, neg, centroid)


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def nearest_similarity(reference: np.ndarray, candidates: np.ndarray, k: int = TOP_K) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: the mean cosine similarity to its ``k`` nearest reference rows, and the index of the single
    nearest (for the "close to <saved paper>" reason).  Zeros and -1 without references."""
    n = len(candidates)
    if len(reference) == 0 or n == 0:
        return np.zeros(n, dtype=np.float32), np.full(n, -1, dtype=np.int64)
    sims = candidates @ reference.T  # (n, p)
    nearest = sims.argmax(axis=1)
    k = min(k, sims.shape[1])
    top = sims if k == sims.shape[1] else np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
    return top.mean(axis=1).astype(np.float32), nearest.astype(np.int64)


def similarity_features(model: ReaderModel, candidates: np.ndarray) -> dict[str, np.ndarray]:
    """The embedding signals for candidate unit vectors ``candidates`` (m, d)."""
    nearest, which = nearest_similarity(model.positives, candidates)
    negative, _ = nearest_similarity(model.negatives, candidates)
    centroid = (candidates @ model.centroid).astype(np.float32) if model.centroid is not None else \
        np.zeros(len(candidates), dtype=np.float32)
    return {"nearest": nearest, "nearest_index": which, "centroid": centroid, "negative": negative}


def blend(features: dict[str, np.ndarray], weights: Weights = WEIGHTS) -> np.ndarray:
    """The score: weighted sum of the signals (missing ones count as zero), minus the negative term."""
    n = len(next(iter(features.values())))
    score = np.zeros(n, dtype=np.float64)
    for name in FEATURES:
        if name in features:
            score += getattr(weights, name) * np.asarray(features[name], dtype=np.float64)
    if "negative" in features:
        score -= weights.negative * np.asarray(features["negative"], dtype=np.float64)
    return score
