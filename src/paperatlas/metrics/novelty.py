"""Novelty %: how far a paper stands from the work that came before it.

raw novelty = 1 - max cosine similarity between the paper's embedding and the embeddings of papers first
submitted in the preceding ``WINDOW_YEARS`` years (strictly earlier dates).  Novelty % is the mid-rank percentile
of raw novelty among papers of the same primary category and year (the whole year when the category has fewer
than ``MIN_GROUP`` papers that year), so it reads "more novel than N% of its peers".  The nearest earlier
papers are kept as the reason.  Without embeddings the figure is null and the reason says so.

Exact search in numpy blocks: each block of papers (in date order) is compared only with the contiguous slice of
papers inside its time window, so the work is about half of an all-pairs product and memory stays bounded.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from ..store import Database
from .common import dumps, loads, upsert_paper_metrics

if TYPE_CHECKING:
    import numpy as np

WINDOW_YEARS = 3
NEAREST = 5
MIN_GROUP = 10
QUERY_BLOCK = 512
CANDIDATE_BLOCK = 16384


def _day(submitted: str | None, year: int | None) -> int | None:
    if submitted:
        try:
            return date.fromisoformat(submitted[:10]).toordinal()
        except ValueError:
            pass
    if year:
        return date(int(year), 1, 1).toordinal()
    return None


def nearest_earlier(
    vectors: np.ndarray, days: np.ndarray, query_rows: np.ndarray, window_days: int, k: int = NEAREST
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each query row: (indexes of the k most similar earlier rows, their similarities, rows compared).

    ``vectors`` and ``days`` must be sorted by day.  Missing neighbours have index -1 and similarity -inf.
    """
    import numpy as np

    n_q = len(query_rows)
    best_idx = np.full((n_q, k), -1, dtype=np.int64)
    best_sim = np.full((n_q, k), -np.inf, dtype=np.float32)
    compared = np.zeros(n_q, dtype=np.int64)
    order = np.argsort(days[query_rows], kind="stable")
    for start in range(0, n_q, QUERY_BLOCK):
        block = query_rows[order[start : start + QUERY_BLOCK]]
        q_days = days[block]
        lo = int(np.searchsorted(days, q_days.min() - window_days, side="left"))
        hi = int(np.searchsorted(days, q_days.max(), side="left"))
        q = vectors[block]
        slot = order[start : start + QUERY_BLOCK]
        for c_start in range(lo, hi, CANDIDATE_BLOCK):
            c_end = min(hi, c_start + CANDIDATE_BLOCK)
            c_days = days[c_start:c_end]
            # candidates are sorted by day, so each query's valid candidates are one contiguous run [first, last)
            first = np.searchsorted(c_days, q_days - window_days, side="left")
            last = np.searchsorted(c_days, q_days, side="left")
            compared[slot] += np.maximum(last - first, 0)
            sims = q @ vectors[c_start:c_end].T
            cols = np.arange(c_end - c_start)
            invalid = (cols[None, :] < first[:, None]) | (cols[None, :] >= last[:, None])
            np.copyto(sims, -np.inf, where=invalid)
            kk = min(k, sims.shape[1])
            # top-k by repeated argmax: k passes over the block are far cheaper than argpartition for small k
            rows = np.arange(len(block))
            part = np.empty((len(block), kk), dtype=np.int64)
            part_sim = np.empty((len(block), kk), dtype=np.float32)
            for t in range(kk):
                best = sims.argmax(axis=1)
                part[:, t] = best
                part_sim[:, t] = sims[rows, best]
                sims[rows, best] = -np.inf
            merged_sim = np.concatenate([best_sim[slot], part_sim], axis=1)
            merged_idx = np.concatenate([best_idx[slot], part + c_start], axis=1)
            top = np.argsort(-merged_sim, axis=1, kind="stable")[:, :k]
            best_sim[slot] = np.take_along_axis(merged_sim, top, axis=1)
            best_idx[slot] = np.take_along_axis(merged_idx, top, axis=1)
    best_idx[~np.isfinite(best_sim)] = -1
    return best_idx, best_sim, compared


def compute_raw(db: Database, model: str, *, full: bool = False, changed: list[int] | None = None) -> dict[str, Any]:
    """Fill ``novelty_raw`` (and the nearest earlier papers) for papers that need it; return figures.

    A paper needs it when it has never been computed with this model, when its own vector changed, or when a
    paper whose vector is new or changed falls inside its window (an older paper ingested late).
    """
    import numpy as np

    from ..embeddings.store import load_vectors

    if not full and not changed and not db.scalar(
        "SELECT 1 FROM embeddings e LEFT JOIN paper_metrics m ON m.paper_id = e.paper_id WHERE e.model = ? "
        "AND (m.novelty_model IS NULL OR m.novelty_model <> ?) LIMIT 1", (model, model)
    ):  # nothing new since the last build: do not even load the vectors
        has_any = db.scalar("SELECT 1 FROM embeddings WHERE model = ? LIMIT 1", (model,))
        return {"novelty_computed": 0, **({} if has_any else {"novelty_status": f"no embeddings for {model}"})}
    ids, matrix = load_vectors(db, model)
    if len(ids) == 0:
        return {"novelty_computed": 0, "novelty_status": f"no embeddings for {model}"}
    meta = {row[0]: row[1:] for row in db.iterate("SELECT id, submitted, year FROM papers")}
    days_list = [_day(*meta.get(int(pid), (None, None))) for pid in ids]
    keep = np.array([d is not None for d in days_list], dtype=bool)
    ids = ids[keep]
    matrix = matrix[keep]
    days = np.array([d for d in days_list if d is not None], dtype=np.int64)
    order = np.argsort(days, kind="stable")
    ids, matrix, days = ids[order], matrix[order], days[order]
    row_of = {int(pid): i for i, pid in enumerate(ids)}

    done = dict(db.query_tuples("SELECT paper_id, novelty_model FROM paper_metrics WHERE novelty_model IS NOT NULL"))
    window = WINDOW_YEARS * 365 + WINDOW_YEARS // 4
    if full:
        dirty = np.ones(len(ids), dtype=bool)
    else:
        dirty = np.array([done.get(int(pid)) != model for pid in ids], dtype=bool)
        fresh = [row_of[p] for p in (changed or []) if p in row_of]
        fresh_days = days[np.flatnonzero(dirty)].tolist() + days[fresh].tolist()
        for i in fresh:
            dirty[i] = True
        if fresh_days:  # papers later than a new/changed one, inside its window, may have a new nearest neighbour
            first, last = min(fresh_days), max(fresh_days)
            dirty |= (days > first) & (days <= last + window)
    rows = np.flatnonzero(dirty)
    if len(rows) == 0:
        return {"novelty_computed": 0}
    best_idx, best_sim, compared = nearest_earlier(matrix, days, rows, window)
    out = []
    for n, row in enumerate(rows):
        pairs = zip(best_idx[n], best_sim[n], strict=True)
        neighbours = [[int(ids[j]), round(float(s), 4)] for j, s in pairs if j >= 0]
        raw = round(1.0 - neighbours[0][1], 5) if neighbours else None
        reason = {"model": model, "window_years": WINDOW_YEARS, "compared_with": int(compared[n]),
                  "max_similarity": neighbours[0][1] if neighbours else None, "nearest": neighbours}
        out.append((int(ids[row]), raw, model, dumps(reason)))
    with db.transaction():
        upsert_paper_metrics(db, ["novelty_raw", "novelty_model", "novelty_reason"], out)
    return {"novelty_computed": len(out)}


def percentile_ranks(values: list[float]) -> list[float]:
    """Mid-rank percentile (0..100) of each value within the list: ties share the middle of their ranks."""
    import numpy as np

    arr = np.asarray(values, dtype=np.float64)
    if len(arr) == 0:
        return []
    sorted_vals = np.sort(arr)
    below = np.searchsorted(sorted_vals, arr, side="left")
    upto = np.searchsorted(sorted_vals, arr, side="right")
    return [round(float(x), 1) for x in 100.0 * (below + (upto - below) / 2.0) / len(arr)]


def update_percentiles(db: Database) -> int:
    """Turn every stored raw novelty into its percentile among its category-year peers (cheap: no vectors)."""
    rows = db.query_tuples(
        "SELECT m.paper_id, m.novelty_raw, p.primary_category, p.year, m.novelty_reason, m.novelty "
        "FROM paper_metrics m JOIN papers p ON p.id = m.paper_id WHERE m.novelty_model IS NOT NULL"
    )
    by_group: dict[tuple, list[int]] = defaultdict(list)
    by_year: dict[Any, list[int]] = defaultdict(list)
    for i, (_, raw, category, year, _, _) in enumerate(rows):
        if raw is not None:
            by_group[(category, year)].append(i)
            by_year[year].append(i)
    result: dict[int, tuple[float | None, dict]] = {}
    for i, row in enumerate(rows):
        if row[1] is None and (row[5] is not None or '"percentile_among":null' not in (row[4] or "")):
            reason = loads(row[4], {})
            reason["percentile_among"] = None
            result[i] = (None, reason)
    for (category, year), members in by_group.items():
        peers, scope = (members, {"category": category, "year": year})
        if len(members) < MIN_GROUP:
            peers, scope = by_year[year], {"category": None, "year": year}
        ranks = percentile_ranks([rows[i][1] for i in peers])
        rank_of = dict(zip(peers, ranks, strict=True))
        for i in members:
            reason = loads(rows[i][4], {})
            among = {**scope, "papers": len(peers)}
            if rows[i][5] == rank_of[i] and reason.get("percentile_among") == among:
                continue  # unchanged since the last build: no write
            reason["percentile_among"] = among
            result[i] = (rank_of[i], reason)
    with db.transaction():
        upsert_paper_metrics(db, ["novelty", "novelty_reason"],
                             ((rows[i][0], value, dumps(reason)) for i, (value, reason) in result.items()))
    return len(result)

