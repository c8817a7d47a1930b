"""AI Score: a learned, weak estimate (0-100) of how a paper will be received, from what is known at submission.

Trained on real peer-review outcomes (ICLR 2017-2021 decisions in ../shared/data/peer-review; accepted = poster,
spotlight, oral or talk at the main conference) with title + abstract words (TF-IDF of 1-2-grams) and the number
of authors; validated on ICLR 2022, which it never saw, and against Google Scholar citation counts of papers from
other venues (code-links).  The score is ``100 * P(accept)`` from a class-balanced logistic regression, so 50 is
the model's boundary, not an average.  The model is a few hundred kB of JSON shipped in
``paperatlas/models/ai_score/`` and scores thousands of papers per second without the embedding model.
Model card: docs/model-card-ai-score.md.  It is shown as a weak signal with its top contributing words.
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from ..settings import current

MODEL_FILE = "model.json.gz"
ACCEPTED = {"poster", "oral", "spotlight", "talk"}
TRAIN_YEARS = (2017, 2018, 2019, 2020, 2021)
TEST_YEARS = (2022,)


@dataclass(slots=True)
class Example:
    title: str
    abstract: str
    n_authors: int | None
    year: int
    source: str
    accepted: int | None = None
    rating: float | None = None
    citations: int | None = None


def text_of(title: str | None, abstract: str | None) -> str:
    return f"{title or ''}. {abstract or ''}".strip()


def _authors(field: str | None, sep: str = ";") -> int | None:
    names = [n for n in (field or "").split(sep) if n.strip()]
    return len(names) or None


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out > 0 else None


def load_iclr(shared: Path) -> list[Example]:
    """ICLR submissions of every year the shared data has, with decisions and mean reviewer ratings."""
    folder = Path(shared) / "peer-review"
    out: list[Example] = []
    for path in sorted((folder / "iclr-papercopilot").glob("iclr*.json")):
        year = int(re.sub(r"\D", "", path.stem))
        for row in orjson.loads(path.read_bytes()):
            status = (row.get("status") or "").strip().lower()
            if not status or not row.get("title"):
                continue
            out.append(Example(
                title=row["title"], abstract=row.get("abstract") or "", n_authors=_authors(row.get("author")),
                year=year, source=f"iclr{year}", accepted=int(status in ACCEPTED), rating=_float(row.get("rating_avg")),
                citations=int(row["gs_citation"]) if str(row.get("gs_citation") or "").isdigit() else None,
            ))
    # ICLR 2018: decisions and abstracts from OpenReview (-1 workshop, 0 reject, 1 oral, 2 poster).
    csv_2018 = folder / "openreview-iclr17-reviews" / "ICLR18_submissions.csv"
    if csv_2018.exists() and not any(e.year == 2018 for e in out):
        with csv_2018.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("Title"):
                    out.append(Example(title=row["Title"], abstract=row.get("Abstract") or "", n_authors=None,
                                       year=2018, source="iclr2018", accepted=int(row["Decision"] in ("1", "2"))))
    return out


def load_code_links(shared: Path) -> list[Example]:
    """Papers of ACL/NAACL/CVPR/ICML with abstracts and Google Scholar citation counts (external validation)."""
    path = Path(shared) / "code-links" / "paper_code_links.jsonl"
    out = []
    for line in path.read_bytes().splitlines():
        row = orjson.loads(line)
        if row.get("gs_citation") is None or not row.get("title"):
            continue
        year_match = re.search(r"(20\d\d)", row.get("conference_file") or "")
        out.append(Example(title=row["title"], abstract=row.get("abstract") or "",
                           n_authors=_authors(row.get("author"), ";"),
                           year=int(year_match.group(1)) if year_match else 0,
                           source=(row.get("conference_file") or "code-links").split("/")[0],
                           citations=int(row["gs_citation"])))
    return out


def _dense(n_authors: int | None) -> list[float]:
    """No dense features: author lists in the ICLR data are revealed mostly for accepted papers (2022: 1,117 of
    3,422 rows, almost exactly the accepted ones), so any author feature learns the leak, not the authors."""
    return []


DENSE_NAMES: list[str] = []


class AIScoreModel:
    """The shipped model: TF-IDF vocabulary and weights, and the logistic regression over them."""

    def __init__(self, data: dict[str, Any]):
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.data = data
        self.version: str = data["version"]
        self.terms: list[str] = data["terms"]
        self.vectorizer = TfidfVectorizer(
            vocabulary={t: i for i, t in enumerate(self.terms)}, ngram_range=tuple(data["ngram_range"]),
            sublinear_tf=True, lowercase=True, dtype=np.float32,
        )
        self.vectorizer.idf_ = np.asarray(data["idf"], dtype=np.float64)
        self.coef = np.asarray(data["coef"], dtype=np.float64)  # terms..., then dense features
        self.intercept = float(data["intercept"])
        self.names = [*self.terms, *DENSE_NAMES]

    @classmethod
    def load(cls, path: Path | None = None) -> AIScoreModel:
        return cls(orjson.loads(gzip.decompress(Path(path or shipped_path()).read_bytes())))

    def features(self, texts: list[str], n_authors: list[int | None]):
        import numpy as np
        from scipy import sparse

        words = self.vectorizer.transform(texts)
        dense = sparse.csr_matrix(np.asarray([_dense(n) for n in n_authors], dtype=np.float64).reshape(len(texts), -1))
        return sparse.hstack([words, dense], format="csr")

    def score(self, texts: list[str], n_authors: list[int | None], *, explain: int = 3) -> list[tuple[float, dict]]:
        """(score 0..100, reason) per text; the reason names the words that pushed the score up and down."""
        import numpy as np

        if not texts:
            return []
        x = self.features(texts, n_authors).tocsr()
        logits = x @ self.coef + self.intercept
        if self.data.get("link") == "probit":
            from scipy.special import ndtr

            probs = ndtr(logits)
        else:
            probs = 1.0 / (1.0 + np.exp(-logits))
        contrib_all = x.data * self.coef[x.indices]
        out = []
        for i in range(len(texts)):
            start, end = x.indptr[i], x.indptr[i + 1]
            up: list[tuple[str, float]] = []
            down: list[tuple[str, float]] = []
            if explain and end > start:
                contrib = contrib_all[start:end]
                order = np.argsort(contrib)
                cols = x.indices[start:end]
                up = [(self.names[cols[j]], round(float(contrib[j]), 3)) for j in order[::-1][:explain]
                      if contrib[j] > 0]
                down = [(self.names[cols[j]], round(float(contrib[j]), 3)) for j in order[:explain] if contrib[j] < 0]
            out.append((round(float(probs[i]) * 100, 1), {
                "model": self.version,
                "meaning": MEANING,
                "raised_by": up, "lowered_by": down,
            }))
        return out


ENV_MODEL = "PAPERATLAS_AI_SCORE_MODEL"  # a model file written by `paperatlas train ai-score --output`


@lru_cache(maxsize=2)
def _load_cached(path: str) -> AIScoreModel:
    return AIScoreModel.load(Path(path))


def shipped_model() -> AIScoreModel:
    """The model in use: ``$PAPERATLAS_AI_SCORE_MODEL`` if set, else the one shipped with PaperAtlas."""
    return _load_cached(str(current().ai_score_model or shipped_path()))


MEANING = ("about the percentile (0-100) of the paper's title and abstract wording among ICLR submissions and cited "
           "papers, half by what ICLR accepted, half by what got cited: a weak signal, not a verdict")
CITE_WEIGHT = 0.5  # share of the citation model in the score; fixed a priori, not tuned on a test set


def _within_group_percentile(rows: list[Example]) -> Any:
    """Citations as a percentile (0..1] within venue and year: comparable across venues of different sizes."""
    import numpy as np
    from scipy.stats import rankdata

    target = np.zeros(len(rows))
    groups: dict[tuple[str, int], list[int]] = {}
    for i, e in enumerate(rows):
        groups.setdefault((e.source, e.year), []).append(i)
    for idx in groups.values():
        target[idx] = rankdata([rows[i].citations for i in idx]) / len(idx)
    return target


def _fit(accept_rows: list[Example], cite_rows: list[Example], *, min_df: int, max_terms: int, c: float,
         alpha: float) -> dict[str, Any]:
    """One linear model over TF-IDF words: half acceptance (logistic), half citations (ridge), standardised.

    Both parts are linear in the same features, so their standardised sum is a single weight vector; the score
    is 100 * Phi(that sum, standardised over the training papers): about the paper's percentile among them.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge

    texts_a = [text_of(e.title, e.abstract) for e in accept_rows]
    texts_c = [text_of(e.title, e.abstract) for e in cite_rows]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, max_features=max_terms, sublinear_tf=True,
                                 stop_words="english", dtype=np.float32)
    vectorizer.fit(texts_a + texts_c)
    x_a = vectorizer.transform(texts_a)
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    clf.fit(x_a, [e.accepted for e in accept_rows])
    z_a = clf.decision_function(x_a)
    coef = (1 - CITE_WEIGHT) * clf.coef_[0] / z_a.std()
    intercept = (1 - CITE_WEIGHT) * (clf.intercept_[0] - z_a.mean()) / z_a.std()
    if cite_rows:
        x_c = vectorizer.transform(texts_c)
        ridge = Ridge(alpha=alpha)
        ridge.fit(x_c, _within_group_percentile(cite_rows))
        z_c = ridge.predict(x_c)
        coef = coef + CITE_WEIGHT * ridge.coef_ / z_c.std()
        intercept += CITE_WEIGHT * (ridge.intercept_ - z_c.mean()) / z_c.std()
    else:
        coef, intercept = coef / (1 - CITE_WEIGHT), intercept / (1 - CITE_WEIGHT)
    from scipy import sparse

    every = sparse.vstack([x_a, vectorizer.transform(texts_c)]) if cite_rows else x_a
    combined = every @ coef + intercept
    mean, std = float(combined.mean()), float(combined.std())
    terms = vectorizer.get_feature_names_out().tolist()
    return {
        "version": f"ai-score-iclr-cites-linear-{len(terms)}t",
        "link": "probit",
        "ngram_range": [1, 2],
        "terms": terms,
        "idf": [round(float(v), 5) for v in vectorizer.idf_],
        "coef": [round(float(v), 6) for v in coef / std],
        "intercept": round(float((intercept - mean) / std), 6),
    }


def _scores(model: AIScoreModel, rows: list[Example]) -> Any:
    import numpy as np

    return np.asarray([s for s, _ in model.score([text_of(e.title, e.abstract) for e in rows],
                                                 [e.n_authors for e in rows], explain=0)])


def train(shared: Path, *, min_df: int = 2, max_terms: int = 40000, c: float = 0.3, alpha: float = 3.0,
          refits: bool = True) -> tuple[dict, dict]:
    """Train on ICLR 2017-2021 decisions + cited papers; evaluate on data each model never saw.

    Held out: ICLR 2022 (decisions, ratings); with ``refits``, also ICLR 2018 (a model refit without it) and
    each code-links venue in turn (citation part refit without that venue).
    """
    import numpy as np
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    examples = load_iclr(shared)
    train_set = [e for e in examples if e.year in TRAIN_YEARS]
    test_set = [e for e in examples if e.year in TEST_YEARS]
    if not train_set or not test_set:
        raise ValueError(f"no ICLR training/test data under {shared}/peer-review")
    code_links = load_code_links(shared)
    cite_rows = code_links + [e for e in train_set if e.citations is not None]
    fit = {"min_df": min_df, "max_terms": max_terms, "c": c, "alpha": alpha}
    data = _fit(train_set, cite_rows, **fit)
    model = AIScoreModel(data)
    y_train = np.asarray([e.accepted for e in train_set])
    report: dict[str, Any] = {
        "model": data["version"],
        "train": {"accept_papers": len(train_set), "accepted": int(y_train.sum()),
                  "years": f"{min(TRAIN_YEARS)}-{max(TRAIN_YEARS)}", "cited_papers": len(cite_rows),
                  "auc": round(float(roc_auc_score(y_train, _scores(model, train_set))), 4)},
    }
    test_scores = _scores(model, test_set)
    y_test = np.asarray([e.accepted for e in test_set])
    rated = [(s, e.rating) for s, e in zip(test_scores, test_set, strict=True) if e.rating is not None]
    report["heldout_iclr2022"] = {
        "papers": len(test_set), "accepted": int(y_test.sum()),
        "auc": round(float(roc_auc_score(y_test, test_scores)), 4),
        "spearman_rating": round(float(spearmanr(*zip(*rated, strict=True)).statistic), 4) if rated else None,
        "note": "ICLR 2022 rows have titles only (no abstracts): a harder test than the training rows",
    }
    if not refits:
        return data, report
    rest = [e for e in train_set if e.year != 2018]
    year_2018 = [e for e in train_set if e.year == 2018]
    if rest and year_2018 and len({e.accepted for e in year_2018}) == 2:
        refit = AIScoreModel(_fit(rest, [e for e in cite_rows if e.year != 2018 or e.source != "iclr2018"], **fit))
        report["heldout_iclr2018"] = {
            "papers": len(year_2018), "accepted": int(sum(e.accepted for e in year_2018)),
            "auc": round(float(roc_auc_score([e.accepted for e in year_2018], _scores(refit, year_2018))), 4),
            "note": "model refit without ICLR 2018; its rows have abstracts",
        }
    per_venue: dict[str, float] = {}
    for venue in sorted({e.source for e in code_links}):
        held = [e for e in code_links if e.source == venue]
        if len(held) < 30:
            continue
        refit = AIScoreModel(_fit(train_set, [e for e in cite_rows if e.source != venue], **fit))
        per_venue[venue] = round(float(spearmanr(_scores(refit, held), _within_group_percentile(held)).statistic), 4)
    if per_venue:
        report["heldout_citations"] = {
            "papers": sum(1 for e in code_links if e.source in per_venue),
            "spearman_by_venue": per_venue,
            "spearman_mean": round(float(np.mean(list(per_venue.values()))), 4),
            "note": "leave-one-venue-out: Google Scholar citations (percentile within venue and year) of "
                    "ACL/NAACL/CVPR/ICML papers, citation part refit without the venue tested",
        }
    return data, report


def save(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(orjson.dumps(data), compresslevel=9, mtime=0))


def shipped_path() -> Path:
    return Path(__file__).resolve().parent.parent / "models" / "ai_score" / MODEL_FILE
