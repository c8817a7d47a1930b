"""``recommend_for``: one reader's feed from a store, each paper with the reasons it was picked.

Candidates are gathered from indexes the build already keeps, never by scoring every paper: the faiss vector
index's nearest neighbours of the reader's saved papers (``search/vectors.py``), the papers that cite a saved paper
(the ``citations_cited`` index), and the papers of followed authors and followed categories.  Only those few
hundred papers are scored by the blended model (``model.py``), so a page costs a handful of indexed queries and
one small matrix product whatever the size of the store.

The reader's "training" is reading their saved papers' vectors and authors: no model is fitted per reader, which
is why retraining after a vote is immediate (``ReaderModel`` is rebuilt per call from the profile).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..embeddings.store import load_vectors_for
from ..search.vectors import open_vectors
from ..store import Database, Store
from . import model as rec

# A page's cost is the number of candidates scored, so each source has a budget (measured: ~1,800 candidates cost
# ~300 ms on the demo store on a busy machine, ~600 about a quarter of that).
ANN_BUDGET = 360  # ANN neighbours in all, shared out over the seeds (at least MIN_NEIGHBOURS each)
MIN_NEIGHBOURS = 10
MAX_SEEDS = 32  # the most recent this many saved papers seed the ANN search (a page must not scale with a library)
PER_SOURCE = 200  # the most candidates taken from each of citing / followed-author / followed-category papers
FOLLOW_WEIGHT = 3.0  # a followed author counts as much as three saved papers by them (not fitted: AAN has no follows)
CATEGORY_WEIGHT = 0.5  # score added to a paper in a followed category (not fitted: AAN has no categories)


@dataclass(frozen=True)
class ReaderProfile:
    """Everything the model knows about a reader; the accounts code builds one from votes, library and follows."""

    positives: tuple[int, ...] = ()  # saved or upvoted paper ids, most recent last
    negatives: tuple[int, ...] = ()  # downvoted / "not relevant" paper ids
    follows: tuple[int, ...] = ()  # followed identity ids
    categories: tuple[str, ...] = ()  # followed categories, e.g. "cs.CL"

    @property
    def empty(self) -> bool:
        return not (self.positives or self.follows or self.categories)


@dataclass
class Recommendation:
    paper_id: int
    pid: str
    title: str
    year: int | None
    score: float
    reasons: list[str] = field(default_factory=list)  # most important first, e.g. "close to <saved title>"


def _chunks(values: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def recommend_for(store: Store, profile: ReaderProfile, limit: int = 20, *,
                  since_year: int | None = None) -> list[Recommendation]:
    """The ``limit`` best papers for ``profile`` (never one it saved or rejected), best first.

    ``since_year`` keeps only papers of that year or later (a feed of new papers).  A profile with saved papers
    needs the vector index of ``paperatlas build``; a cold-start profile (follows only) does not.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if profile.empty:
        return []
    db = store.db
    seen = set(profile.positives) | set(profile.negatives)
    candidates: set[int] = set()
    vindex = None
    if profile.positives:
        vindex = open_vectors(store)
        if vindex is None:
            raise LookupError("no vector index in this store: run `paperatlas build` first")
    model_name = vindex.model if vindex is not None else None

    vectors: dict[int, np.ndarray] = {}
    if model_name is not None:
        vectors = load_vectors_for(db, model_name, [*profile.positives, *profile.negatives])
        seeds = [p for p in profile.positives[-MAX_SEEDS:] if p in vectors]
        if seeds and vindex is not None:
            per_seed = max(MIN_NEIGHBOURS, ANN_BUDGET // len(seeds))
            for hits in vindex.search(np.vstack([vectors[p] for p in seeds]), per_seed):
                candidates.update(pid for pid, _ in hits)
    coupling = _citing_counts(db, profile.positives)
    candidates.update(list(coupling)[:PER_SOURCE])
    author_weight = _author_weights(db, profile)
    candidates.update(_papers_by(db, [i for i, _ in sorted(author_weight.items(), key=lambda kv: -kv[1])][:200]))
    in_category = _papers_in_categories(db, profile.categories, since_year)
    candidates.update(in_category)
    candidates -= seen
    if not candidates:
        return []

    info = _paper_info(db, sorted(candidates), since_year, with_categories=bool(profile.categories))
    ids = np.array(sorted(info), dtype=np.int64)
    if len(ids) == 0:
        return []
    features: dict[str, np.ndarray] = {}
    nearest_paper: np.ndarray | None = None
    positives_with_vectors = [p for p in profile.positives if p in vectors]
    if model_name is not None:
        cand_vectors = load_vectors_for(db, model_name, ids.tolist())
        dim = next(iter(vectors.values())).shape[0] if vectors else vindex.dim  # type: ignore[union-attr]
        matrix = np.vstack([cand_vectors.get(int(i), np.zeros(dim, np.float32)) for i in ids]).astype(np.float32)
        reader = rec.train(np.vstack([vectors[p] for p in positives_with_vectors]) if positives_with_vectors
                           else np.zeros((0, dim), np.float32),
                           np.vstack([vectors[p] for p in profile.negatives if p in vectors])
                           if any(p in vectors for p in profile.negatives) else None, dim=dim)
        sims = rec.similarity_features(reader, matrix)
        features.update({k: sims[k] for k in ("nearest", "centroid", "negative")})
        nearest_paper = np.array([positives_with_vectors[j] if j >= 0 else -1 for j in sims["nearest_index"]])
    features["coupling"] = np.log1p(np.array([coupling.get(int(i), 0) for i in ids], dtype=np.float64))
    paper_authors = _identities_of(db, ids.tolist())
    author_sum = np.array([sum(author_weight.get(a, 0.0) for a in paper_authors.get(int(i), ())) for i in ids])
    features["authors"] = np.log1p(author_sum)
    features["popularity"] = np.log1p(np.array([info[int(i)]["citations"] for i in ids], dtype=np.float64))
    scores = rec.blend(features)
    followed_categories = set(profile.categories)
    category_hit = np.array([bool(followed_categories & set(info[int(i)]["categories"])) for i in ids])
    scores = scores + CATEGORY_WEIGHT * category_hit

    # Ties (a cold start: every paper of a followed category scores alike) go to the more cited, then the newer.
    years = np.array([info[int(i)]["year"] or 0 for i in ids])
    cited = np.array([info[int(i)]["citations"] for i in ids])
    order = np.lexsort((ids, -years, -cited, -np.round(scores, 9)))[:limit]
    titles = _titles(db, {int(p) for p in (nearest_paper[order] if nearest_paper is not None else []) if p >= 0}
                     | {p for p in profile.positives})
    names = _identity_names(db, {a for i in ids[order] for a in paper_authors.get(int(i), ())
                                 if a in author_weight})
    out = []
    for j in order:
        paper_id = int(ids[j])
        reasons = _reasons(j, features, nearest_paper, titles, paper_authors.get(paper_id, ()), author_weight,
                           set(profile.follows), names, coupling.get(paper_id, 0), info[paper_id],
                           followed_categories)
        out.append(Recommendation(paper_id, info[paper_id]["pid"], info[paper_id]["title"], info[paper_id]["year"],
                                  round(float(scores[j]), 4), reasons))
    return out


def _reasons(j: int, features: dict[str, np.ndarray], nearest_paper: np.ndarray | None, titles: dict[int, str],
             authors: Sequence[int], author_weight: dict[int, float], follows: set[int], names: dict[int, str],
             cites: int, info: dict, categories: set[str]) -> list[str]:
    """Human reasons, strongest contribution first, from the same signals that made the score."""
    w = rec.WEIGHTS
    scored: list[tuple[float, str]] = []
    if nearest_paper is not None and nearest_paper[j] >= 0 and "nearest" in features:
        scored.append((w.nearest * float(features["nearest"][j]), f"close to {titles.get(int(nearest_paper[j]), '')}"))
    followed = [a for a in authors if a in follows]
    liked = [a for a in authors if a in author_weight and a not in follows]
    if followed:
        scored.append((w.authors * float(features["authors"][j]) + 1.0, f"by {names.get(followed[0], '')}"))
    elif liked:
        scored.append((w.authors * float(features["authors"][j]),
                       f"by {names.get(liked[0], '')}, an author of papers you saved"))
    if cites:
        scored.append((w.coupling * float(features["coupling"][j]),
                       f"cites {cites} paper{'s' if cites > 1 else ''} you saved"))
    hit = sorted(categories & set(info["categories"]))
    if hit:
        scored.append((CATEGORY_WEIGHT, f"in {hit[0]}, which you follow"))
    if info["citations"]:
        scored.append((w.popularity * math.log1p(info["citations"]), f"cited by {info['citations']} papers"))
    return [text for _, text in sorted(scored, key=lambda s: -s[0])]


def _citing_counts(db: Database, positives: Sequence[int]) -> dict[int, int]:
    """Papers citing the saved papers -> how many of them each cites (bibliographic coupling), most first."""
    counts: dict[int, int] = defaultdict(int)
    for chunk in _chunks(list(dict.fromkeys(positives))):
        for citing, n in db.query_tuples(
            f"SELECT citing_id, COUNT(DISTINCT cited_id) FROM citations WHERE cited_id IN ({_marks(chunk)}) "
            "GROUP BY citing_id", list(chunk)):
            counts[int(citing)] += int(n)
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _author_weights(db: Database, profile: ReaderProfile) -> dict[int, float]:
    """identity id -> weight: saved papers by that person, plus FOLLOW_WEIGHT for a followed one."""
    weights: dict[int, float] = defaultdict(float)
    for chunk in _chunks(list(dict.fromkeys(profile.positives))):
        for identity, n in db.query_tuples(
            f"SELECT identity_id, COUNT(DISTINCT paper_id) FROM authorships WHERE paper_id IN ({_marks(chunk)}) "
            "AND identity_id IS NOT NULL GROUP BY identity_id", list(chunk)):
            weights[int(identity)] += float(n)
    for identity in profile.follows:
        weights[int(identity)] += FOLLOW_WEIGHT
    return dict(weights)


def _papers_by(db: Database, identities: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(list(identities)):
        rows = db.query_tuples(
            f"SELECT paper_id FROM authorships WHERE identity_id IN ({_marks(chunk)}) "
            f"ORDER BY paper_id DESC LIMIT {PER_SOURCE}", list(chunk))
        found.update(int(r[0]) for r in rows)
    return found


def _papers_in_categories(db: Database, categories: Sequence[str], since_year: int | None) -> set[int]:
    """The newest papers whose primary category is followed (the ``papers_primary_category`` index)."""
    found: set[int] = set()
    for category in categories:
        rows = db.query_tuples(
            "SELECT id FROM papers WHERE primary_category = ? AND (? IS NULL OR year >= ?) "
            f"ORDER BY submitted DESC LIMIT {PER_SOURCE}", (category, since_year, since_year))
        found.update(int(r[0]) for r in rows)
    return found


def _paper_info(db: Database, ids: Sequence[int], since_year: int | None, *,
                with_categories: bool) -> dict[int, dict]:
    info: dict[int, dict] = {}
    for chunk in _chunks(list(ids)):
        for paper_id, pid, title, year, categories, citations in db.query_tuples(
            "SELECT p.id, p.pid, p.title, COALESCE(p.year, p.venue_year), p.categories, "
            f"COALESCE(m.citations, 0) FROM papers p LEFT JOIN paper_metrics m ON m.paper_id = p.id "
            f"WHERE p.id IN ({_marks(chunk)})", list(chunk)):
            if since_year is not None and (year is None or year < since_year):
                continue
            info[int(paper_id)] = {"pid": pid, "title": title or "", "year": year,
                                   "categories": json.loads(categories) if categories and with_categories else [],
                                   "citations": int(citations)}
    return info


def _identities_of(db: Database, ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(list(ids)):
        for paper_id, identity in db.query_tuples(
            f"SELECT paper_id, identity_id FROM authorships WHERE paper_id IN ({_marks(chunk)}) "
            "AND identity_id IS NOT NULL ORDER BY paper_id, position", list(chunk)):
            out[int(paper_id)].append(int(identity))
    return dict(out)


def _titles(db: Database, ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(sorted(ids)):
        out.update({int(i): t or "" for i, t in db.query_tuples(
            f"SELECT id, title FROM papers WHERE id IN ({_marks(chunk)})", list(chunk))})
    return out


def _identity_names(db: Database, ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(sorted(ids)):
        out.update({int(i): n for i, n in db.query_tuples(
            f"SELECT id, name FROM identities WHERE id IN ({_marks(chunk)})", list(chunk))})
    return out
