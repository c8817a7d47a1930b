"""AI Score: an estimate of a paper's citation percentile within its venue and year, from its title and abstract.

Why this target: a citation count depends mostly on the paper's age and field; its percentile among papers of
the same venue-year does not, so one model can serve every field and year a store holds.  What is known at
submission is all it reads: the words (tf-idf of 1-2-grams) and the MiniLM vector the embeddings stage already
stored for the same ``title. abstract`` text.  No citation count, no author, no decision.

The model is one ridge regression over [words, vector], trained on 12,000+ real papers of 23 venue-years with
Google Scholar counts (../shared/data) and validated on whole venue-years it never saw (see
:mod:`paperatlas.metrics.ai_score_train` and docs/model-card-ai-score.md).  A second head over the words alone
scores papers that have no stored vector (``build --no-embed``, another embedding model).  Scoring is a sparse
dot product plus a 384-wide one: thousands of papers per CPU-second, no model download, no GPU.

The score is ``100 * Phi(z)``, ``z`` the prediction standardised over the training papers: where this paper's
predicted impact falls among theirs.  The reason names the words that raised and lowered it, the share of the
text's overall meaning (the vector), the model's held-out figures, and "low" confidence for title-only papers.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..embeddings.store import paper_text
from ..settings import current

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

MODEL_FILE = "model.json.gz"
DATA_SUBDIR = "ai-score"  # <data dir>/ai-score/model.json.gz, written by `paperatlas train ai-score`
ENV_MODEL = "PAPERATLAS_AI_SCORE_MODEL"  # an explicit model file overrides both
EMBED_WEIGHT = 1.0  # scale of the vector block against the (L2-normalised) word block in the ridge fit
NGRAMS = (1, 2)
MAX_TERMS = 30000
MEANING = ("estimated impact percentile: where this paper's predicted citation rank within its venue and year "
           "falls among 12,000+ real papers, from title and abstract only; a weak signal, not a verdict")


def text_of(title: str | None, abstract: str | None) -> str:
    """The scored text: the same ``title. abstract`` the embeddings stage embeds (so words and vector agree)."""
    return paper_text(title, abstract)


def build_vectorizer(vocabulary: dict[str, int] | None = None) -> Any:
    """The one tf-idf configuration, for training and for loading (stop words change which bigrams exist)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    if vocabulary is not None:
        return TfidfVectorizer(vocabulary=vocabulary, ngram_range=NGRAMS, sublinear_tf=True, stop_words="english",
                               dtype=np.float32)
    return TfidfVectorizer(ngram_range=NGRAMS, min_df=2, max_features=MAX_TERMS, sublinear_tf=True,
                           stop_words="english", dtype=np.float32)


def _round(values: Any, digits: int = 6) -> list[float]:
    return [round(float(v), digits) for v in values]


def model_data(both: dict[str, Any] | None, words: dict[str, Any], *, embedder: str | None, papers: int,
               venue_years: int) -> dict[str, Any]:
    """The JSON form of a fitted model: vocabulary and idf, then each head's weights and its training spread.

    ``both`` (words + vector) is None for a words-only model; when present, both heads share one vocabulary.
    """
    vectorizer = words["vectorizer"]
    terms = vectorizer.get_feature_names_out().tolist()
    if both is not None and both["vectorizer"].get_feature_names_out().tolist() != terms:
        raise ValueError("the two heads were fit on different vocabularies")

    def head(fit: dict[str, Any]) -> dict[str, Any]:
        pred = fit["train_pred"]
        out = {"word_coef": _round(fit["word_coef"]), "intercept": round(float(fit["intercept"]), 6),
               "mean": round(float(pred.mean()), 6), "std": round(float(pred.std()), 6)}
        if fit["vector_coef"] is not None:
            out["vector_coef"] = _round(fit["vector_coef"])
            out["vector_mean"] = round(float(fit["vector_part_mean"]), 6)
        return out

    heads = {"words": head(words)}
    if both is not None:
        heads["words+vector"] = head(both)
    kind = embedder.partition("@")[0] if both is not None and embedder else "words"
    return {
        "version": f"ai-score-impact-ridge-{len(terms)}t-{kind}",
        "embedder": embedder if both is not None else None,
        "ngram_range": list(NGRAMS),
        "terms": terms,
        "idf": _round(vectorizer.idf_, 5),
        "heads": heads,
        "trained_on": {"papers": papers, "venue_years": venue_years},
    }


class AIScoreModel:
    """A loaded model: the tf-idf vocabulary and its linear heads (words alone, and words+vector if trained)."""

    def __init__(self, data: dict[str, Any]):
        import numpy as np

        self.data = data
        self.version: str = data["version"]
        self.embedder: str | None = data.get("embedder")
        self.terms: list[str] = data["terms"]
        self.vectorizer = build_vectorizer({t: i for i, t in enumerate(self.terms)})
        self.vectorizer.idf_ = np.asarray(data["idf"], dtype=np.float64)
        self.heads = {name: {k: np.asarray(v, dtype=np.float64) if isinstance(v, list) else v for k, v in h.items()}
                      for name, h in data["heads"].items()}
        if "words" not in self.heads:
            raise ValueError(f"AI-Score model {self.version}: no words head")
        for name, head in self.heads.items():
            if len(head["word_coef"]) != len(self.terms):
                raise ValueError(f"AI-Score model {self.version}: head {name!r} does not match the vocabulary")
        if "words+vector" in self.heads and not self.embedder:
            raise ValueError(f"AI-Score model {self.version}: a vector head without its embedder's name")
        self.heldout: dict[str, Any] = data.get("heldout") or {}

    @classmethod
    def load(cls, path: Path) -> AIScoreModel:
        try:
            return cls(orjson.loads(gzip.decompress(Path(path).read_bytes())))
        except (KeyError, TypeError, orjson.JSONDecodeError, gzip.BadGzipFile, EOFError) as exc:
            raise ValueError(f"{path} is not an AI-Score model ({type(exc).__name__}: {exc})") from exc

    def score(self, texts: Sequence[str], vectors: Sequence[np.ndarray | None], *,
              has_abstract: Sequence[bool] | None = None, explain: int = 3) -> list[tuple[float, dict[str, Any]]]:
        """(score 0..100, reason) per text.  ``vectors[i]`` is the paper's stored vector of :attr:`embedder`, or
        None (then the words-only head scores it).  ``has_abstract`` (default: all True) marks title-only papers,
        whose score is flagged low-confidence: the held-out figures are for papers with abstracts."""
        import numpy as np
        from scipy.special import ndtr

        if len(vectors) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
        if not texts:
            return []
        x = self.vectorizer.transform(list(texts)).tocsr()
        words = self.heads["words"]
        full = self.heads.get("words+vector")
        with_vec = np.asarray([v is not None and full is not None for v in vectors])
        if full is None:
            full = words
        raw_full = x @ full["word_coef"] + full["intercept"]
        raw_words = x @ words["word_coef"] + words["intercept"]
        vector_part = np.zeros(len(texts))
        if with_vec.any():
            matrix = np.vstack([np.asarray(vectors[i], dtype=np.float64) for i in np.flatnonzero(with_vec)])
            if matrix.shape[1] != len(full["vector_coef"]):
                raise ValueError(f"vectors of width {matrix.shape[1]}, the model expects {len(full['vector_coef'])}")
            vector_part[with_vec] = matrix @ full["vector_coef"]
        z = np.where(with_vec, (raw_full + vector_part - full["mean"]) / full["std"],
                     (raw_words - words["mean"]) / words["std"])
        scores = ndtr(z) * 100.0
        abstract_flags = [True] * len(texts) if has_abstract is None else list(has_abstract)
        out = []
        for i in range(len(texts)):
            head = full if with_vec[i] else words
            reason: dict[str, Any] = {"model": self.version, "meaning": MEANING}
            if explain:
                reason.update(self._words(x, i, head, explain))
                if with_vec[i]:
                    reason["text_as_a_whole"] = round(float((vector_part[i] - full["vector_mean"]) / full["std"]), 3)
            if not with_vec[i] and self.embedder:
                reason["scored_without"] = f"the {self.embedder} vector (words only)"
            if not abstract_flags[i]:
                reason["confidence"] = "low: title only (the held-out figures are for papers with abstracts)"
            if self.heldout:
                reason["heldout"] = self.heldout
            out.append((round(float(scores[i]), 1), reason))
        return out

    def _words(self, x: Any, i: int, head: dict[str, Any], explain: int) -> dict[str, list[tuple[str, float]]]:
        """The words whose weight x tf-idf moved this paper's z the most, up and down (in z units)."""
        import numpy as np

        start, end = x.indptr[i], x.indptr[i + 1]
        if end == start:
            return {"raised_by": [], "lowered_by": []}
        cols = x.indices[start:end]
        contrib = x.data[start:end] * head["word_coef"][cols] / head["std"]
        order = np.argsort(contrib)
        up = [(self.terms[cols[j]], round(float(contrib[j]), 3)) for j in order[::-1][:explain] if contrib[j] > 0]
        down = [(self.terms[cols[j]], round(float(contrib[j]), 3)) for j in order[:explain] if contrib[j] < 0]
        return {"raised_by": up, "lowered_by": down}


def shipped_path() -> Path:
    """The model shipped inside the package (used when the data folder has none of its own)."""
    return Path(__file__).resolve().parent.parent / "models" / "ai_score" / MODEL_FILE


def data_dir_path(data_dir: Path) -> Path:
    """Where ``paperatlas train ai-score`` writes its model for a data folder, and where builds look first."""
    return Path(data_dir) / DATA_SUBDIR / MODEL_FILE


def model_path(data_dir: Path | None = None) -> Path:
    """The ``ai_score_model`` setting if set, else the data folder's trained copy if present, else the shipped one."""
    explicit = current().ai_score_model
    if explicit:
        return explicit
    if data_dir is not None and data_dir_path(data_dir).is_file():
        return data_dir_path(data_dir)
    return shipped_path()


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int) -> AIScoreModel:
    return AIScoreModel.load(Path(path))


def load_model(path: Path) -> AIScoreModel:
    """The model in this file, loaded once per process (and again when the file changes)."""
    return _load_cached(str(path), Path(path).stat().st_mtime_ns)


def shipped_model(data_dir: Path | None = None) -> AIScoreModel:
    """The model in use for a data folder (see :func:`model_path`); reloaded when its file changes."""
    return load_model(model_path(data_dir))


def save(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(orjson.dumps(data), compresslevel=9, mtime=0))
