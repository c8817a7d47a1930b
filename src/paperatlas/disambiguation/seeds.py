"""Cluster-level evidence: *seeds* (the near-certain clusters single linkage makes at a tight threshold) compared
as wholes by a second learned model, then joined by average linkage.

A person's papers that share no coauthor are far apart pair by pair, but a seed of twenty papers has a venue
profile, a vocabulary, a coauthor circle and a span of years, and two seeds of one person agree on those far more
clearly than any two of their papers do.  The seed-pair model sees both kinds of evidence: how the pair model
scored the cross pairs (max / mean / min), and the seeds' pooled profiles (centroid cosines of titles, venues,
coauthors and affiliations; the gap between their year ranges; their sizes; name frequency).

Everything is vectorised over all seed pairs of all blocks; only the final linkage runs per block, and only in
blocks where some seed pair is close enough to merge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from . import topics
from .features import Evidence
from .linkage import link
from .namesakes import seed_evidence, shared_venues

SEED_FEATURES: list[str] = [
    "p_max", "p_mean", "p_min", "n_cross",
    "size_min", "size_max",
    "title_cos", "venue_cos", "coauthor_cos", "coauthor_shared", "affil_cos",
    "year_gap", "year_span_max",
    "full_first", "surname_count", "first_count",
    "topic_cos",
    # competition: how this pair compares with each seed's best other partner (see _versus_rivals)
    *(f"{f}_vs_rival_{side}" for f in ("p_mean", "p_max", "title_cos", "venue_cos", "coauthor_cos", "topic_cos")
      for side in ("min", "max")),
    "seeds_in_block",
]
_RIVALLED = ("p_mean", "p_max", "title_cos", "venue_cos", "coauthor_cos", "topic_cos")
CANNOT = 1e6


@dataclass
class SeedPairs:
    a: np.ndarray  # seed label of one side (a < b)
    b: np.ndarray
    block: np.ndarray  # block index of the pair, sorted ascending
    cannot: np.ndarray  # some cross pair is a cannot-link: never one person
    x: np.ndarray  # len(a) x len(SEED_FEATURES)
    # the seeds share something beyond the name (namesakes.seed_evidence): without it, no join on the model's
    # word alone.  None: no guard (every pair counts as evidenced)
    evidence: np.ndarray | None = None


def _group_min_max(inv: np.ndarray, values: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group (ids 0..groups-1, every one present) the min and max of ``values``: one stable sort."""
    order = np.argsort(inv, kind="stable")
    starts = np.searchsorted(inv[order], np.arange(groups))
    ordered = values[order]
    return np.minimum.reduceat(ordered, starts), np.maximum.reduceat(ordered, starts)


def _normalized(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(matrix)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags((1.0 / norms).astype(np.float32)) @ matrix


def _rowdot(matrix: sparse.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if matrix.nnz == 0 or len(a) == 0:
        return np.zeros(len(a), dtype=np.float32)
    return np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1), dtype=np.float32).ravel()


def _topic_cos(member: sparse.csr_matrix, ev: Evidence, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of the two seeds' mean topic vectors (NaN where a seed has no title with a known word, or no
    topic table is installed).  Only the titles of these pairs' seeds are embedded: most seeds of a corpus have
    no free partner."""
    table = topics.shipped()
    if table is None or len(a) == 0:
        return np.full(len(a), np.nan, dtype=np.float32)
    used, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    rows = member[used]  # seeds x mentions
    titles, column = np.unique(ev.title_index[rows.indices], return_inverse=True)
    by_title = sparse.csr_matrix((rows.data, column, rows.indptr), shape=(len(used), len(titles)))
    pooled = np.asarray(by_title @ table.embed([ev.distinct_titles[t] for t in titles.tolist()]), dtype=np.float32)
    norms = np.linalg.norm(pooled, axis=1)
    known = norms > 0
    pooled /= np.where(known, norms, 1.0)[:, None]
    ia, ib = inverse[: len(a)], inverse[len(a) :]
    cos = np.einsum("ij,ij->i", pooled[ia], pooled[ib])
    return np.where(known[ia] & known[ib], cos, np.nan).astype(np.float32)


@dataclass
class _BySeed:
    """Both sides of every seed pair (each pair once per seed), grouped by seed: one stable sort shared by the
    rival comparisons of all six values."""

    seed: np.ndarray  # per side, in the order of concatenate([a, b])
    partner: np.ndarray
    order: np.ndarray  # sides by seed, each seed's in their original order
    starts: np.ndarray  # first position in ``order`` of each seed present
    group: np.ndarray  # per position in ``order``, its seed's number among those present
    n_seeds: int

    @classmethod
    def of(cls, a: np.ndarray, b: np.ndarray) -> _BySeed:
        seed, partner = np.concatenate([a, b]), np.concatenate([b, a])
        order = np.argsort(seed, kind="stable")
        s_sorted = seed[order]
        change = np.r_[True, s_sorted[1:] != s_sorted[:-1]]
        return cls(seed, partner, order, np.flatnonzero(change), np.cumsum(change) - 1, int(seed.max()) + 1)


def _versus_rivals(a: np.ndarray, b: np.ndarray, value: np.ndarray,
                   by_seed: _BySeed | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each seed pair, ``value`` minus the best ``value`` either seed has with any *other* seed, from the two
    sides (min, max).  A fragment of a person is usually closer to that person's other seeds than to anyone else,
    even where every seed of a common name looks alike in absolute terms (one field, one kind of venue): the
    pair model's and the profiles' absolute levels shift from name to name, the ranking much less.  NaN where a
    seed has no other partner or the value is unknown.

    Per seed: its best value (its first pair with that value is the best partner) and the best among its other
    pairs, by group maxima over ``by_seed`` (:meth:`_BySeed.of`, computed once for all values)."""
    m = len(a)
    if m == 0:
        empty = np.zeros(0, dtype=np.float32)
        return empty, empty
    g = by_seed if by_seed is not None else _BySeed.of(a, b)
    v = np.concatenate([value, value]).astype(np.float64)
    v = np.where(np.isnan(v), -np.inf, v)
    v_sorted = v[g.order]
    top = np.maximum.reduceat(v_sorted, g.starts)
    at_top = np.flatnonzero(v_sorted == top[g.group])
    first_top = at_top[np.r_[True, g.group[at_top[1:]] != g.group[at_top[:-1]]]]  # one per seed, the earliest
    rest = v_sorted.copy()
    rest[first_top] = -np.inf
    present = g.seed[g.order[g.starts]]
    best = np.full(g.n_seeds, -np.inf)
    second = np.full(g.n_seeds, -np.inf)
    best_partner = np.full(g.n_seeds, -1, dtype=np.int64)
    best[present] = top
    second[present] = np.maximum.reduceat(rest, g.starts)
    best_partner[present] = g.partner[g.order[first_top]]
    seed, partner = g.seed, g.partner
    rival = np.where(best_partner[seed] == partner, second[seed], best[seed])
    with np.errstate(invalid="ignore"):
        diff = np.where(np.isfinite(rival) & np.isfinite(v), v - rival, np.nan)
    side_a, side_b = diff[:m], diff[m:]
    return np.fmin(side_a, side_b).astype(np.float32), np.fmax(side_a, side_b).astype(np.float32)


def seed_pairs(left: np.ndarray, right: np.ndarray, dist: np.ndarray, bounds: np.ndarray, seeds: np.ndarray,
               ev: Evidence) -> SeedPairs:
    """Every pair of distinct seeds that share a block, with its features."""
    sl, sr = seeds[left], seeds[right]
    idx = np.flatnonzero(sl != sr)
    n_seeds = int(seeds.max()) + 1 if len(seeds) else 0
    if len(idx) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return SeedPairs(empty, empty, empty, np.zeros(0, dtype=bool), np.zeros((0, len(SEED_FEATURES)), np.float32),
                         np.zeros(0, dtype=bool))
    lo, hi = np.minimum(sl[idx], sr[idx]), np.maximum(sl[idx], sr[idx])
    uniq, first, inv = np.unique(lo.astype(np.int64) * n_seeds + hi, return_index=True, return_inverse=True)
    groups = len(uniq)
    d = dist[idx]
    cannot = np.bincount(inv, weights=(d >= CANNOT), minlength=groups) > 0
    # Seed pairs with a cannot-link are settled: features only for the others (most pairs, on a big corpus).
    free_pair = ~cannot[inv]
    inv_free = inv[free_pair]
    keep = np.flatnonzero(~cannot)
    renumber = np.full(groups, -1, dtype=np.int64)
    renumber[keep] = np.arange(len(keep))
    inv_free = renumber[inv_free]
    p = np.clip(1.0 - d[free_pair], 0.0, 1.0)
    n_cross = np.bincount(inv_free, minlength=len(keep)).astype(np.float32)
    p_mean = np.bincount(inv_free, weights=p, minlength=len(keep)) / np.maximum(n_cross, 1)
    p_min, p_max = _group_min_max(inv_free, p, len(keep)) if len(keep) else (p_mean, p_mean)
    a_all, b_all = uniq // n_seeds, uniq % n_seeds
    block_all = np.searchsorted(bounds, idx[first], side="right") - 1
    a, b = a_all[keep], b_all[keep]

    # seed profiles: sums of the members' rows
    n = len(seeds)
    member = sparse.csr_matrix((np.ones(n, dtype=np.float32), (seeds, np.arange(n))), shape=(n_seeds, n))
    size = np.asarray(member.sum(axis=1)).ravel()

    def profile_cos(matrix: sparse.csr_matrix, known: np.ndarray | None) -> np.ndarray:
        cos = _rowdot(_normalized(member @ matrix), a, b)
        if known is not None:
            has = (member @ known.astype(np.float32)) > 0
            cos = np.where(has[a] & has[b], cos, np.nan)
        return cos

    coauthor_bin = (member @ ev.coauthors) > 0
    years = ev.years
    known_year = ~np.isnan(years)
    y_min = np.full(n_seeds, np.inf, dtype=np.float64)
    y_max = np.full(n_seeds, -np.inf, dtype=np.float64)
    np.minimum.at(y_min, seeds[known_year], years[known_year])
    np.maximum.at(y_max, seeds[known_year], years[known_year])
    has_year = np.isfinite(y_min)
    gap = np.maximum(0.0, np.maximum(y_min[a], y_min[b]) - np.minimum(y_max[a], y_max[b]))
    gap = np.where(has_year[a] & has_year[b], gap, np.nan)
    span = np.where(has_year, y_max - y_min, np.nan)
    full_first = (member @ (~ev.first_initial).astype(np.float32)) > 0
    first_count = np.full(n_seeds, -np.inf, dtype=np.float32)
    fc = np.nan_to_num(ev.first_count, nan=-np.inf)
    np.maximum.at(first_count, seeds, fc)
    first_count = np.where(np.isfinite(first_count), first_count, np.nan)
    surname = np.zeros(n_seeds, dtype=np.float32)
    surname[seeds] = ev.surname_count

    x = np.column_stack([
        p_max, p_mean, p_min, np.log1p(n_cross),
        np.minimum(size[a], size[b]), np.maximum(size[a], size[b]),
        profile_cos(ev.titles, ev.has_title), profile_cos(ev.venues, ev.has_venue),
        profile_cos(ev.coauthor_idf, None), _rowdot(sparse.csr_matrix(coauthor_bin, dtype=np.float32), a, b),
        profile_cos(ev.affils, ev.has_affil),
        gap, np.fmax(span[a], span[b]),
        full_first[a].astype(np.float32) + full_first[b].astype(np.float32),
        surname[a], np.fmax(first_count[a], first_count[b]),
        _topic_cos(member, ev, a, b),
    ]).astype(np.float32)
    by_seed = _BySeed.of(a, b) if len(a) else None
    rivals = [_versus_rivals(a, b, x[:, SEED_FEATURES.index(f)], by_seed) for f in _RIVALLED]
    block = block_all[keep]
    # "seeds in the block": the free partners of its best-connected seed, plus that seed (a lower bound where
    # cannot-links settle some pairs, exact otherwise)
    partners = np.bincount(np.concatenate([a, b]), minlength=n_seeds)
    seeds_in_block = np.zeros(int(block.max()) + 1 if len(block) else 0, dtype=np.float64)
    np.maximum.at(seeds_in_block, block, np.maximum(partners[a], partners[b]) + 1.0)
    x = np.column_stack([x, *(c for pair in rivals for c in pair), np.log1p(seeds_in_block[block])]).astype(np.float32)
    full_x = np.full((groups, len(SEED_FEATURES)), np.nan, dtype=np.float32)
    full_x[keep] = x
    column = {f: x[:, SEED_FEATURES.index(f)] for f in ("coauthor_shared", "affil_cos", "title_cos", "p_mean")}
    evidenced = np.zeros(groups, dtype=bool)
    evidenced[keep] = seed_evidence(column["coauthor_shared"], shared_venues(ev, member, a, b), column["affil_cos"],
                                    column["title_cos"], column["p_mean"])
    order = np.argsort(block_all, kind="stable")
    return SeedPairs(a=a_all[order], b=b_all[order], block=block_all[order], cannot=cannot[order], x=full_x[order],
                     evidence=evidenced[order])


def link_seeds(pairs: SeedPairs, prob: np.ndarray, seeds: np.ndarray, threshold: float) -> np.ndarray:
    """Average linkage over the seeds of each block, at ``threshold`` on 1 - p(same person); labels per
    mention (a seed's mentions stay together).  A seed pair with nothing in common beyond the name
    (``pairs.evidence`` False) counts as distance 1: the model's probability alone never joins it."""
    dist = np.where(pairs.cannot, CANNOT, 1.0 - prob.astype(np.float64))
    if pairs.evidence is not None:
        dist = np.where(pairs.cannot | pairs.evidence, dist, 1.0)
    out = seeds.copy()
    n_seeds = int(seeds.max()) + 1 if len(seeds) else 0
    seed_label = np.arange(n_seeds, dtype=np.int64)
    close = dist < threshold
    if not close.any():
        return out
    bounds = np.searchsorted(pairs.block, np.arange(int(pairs.block.max()) + 2))
    next_label = n_seeds
    todo = np.unique(pairs.block[close])
    single = todo[bounds[todo + 1] - bounds[todo] == 1]  # two seeds in the block: they join, as they are close
    seed_label[pairs.b[bounds[single]]] = seed_label[pairs.a[bounds[single]]]
    # each seed's index among its block's seeds (a seed lies in one block), for all blocks at once
    seed_block = np.full(n_seeds, -1, dtype=np.int64)
    seed_block[pairs.a] = pairs.block
    seed_block[pairs.b] = pairs.block
    listed = np.flatnonzero(seed_block >= 0)
    by_block = listed[np.argsort(seed_block[listed], kind="stable")]
    block_start = np.searchsorted(seed_block[by_block], np.arange(int(pairs.block.max()) + 2))
    local_index = np.zeros(n_seeds, dtype=np.int64)
    local_index[by_block] = np.arange(len(by_block)) - block_start[seed_block[by_block]]
    # every block's condensed distance matrix, laid end to end and filled in one scatter (absent pairs: CANNOT)
    multi = todo[bounds[todo + 1] - bounds[todo] > 1]
    sizes = block_start[multi + 1] - block_start[multi]
    cond_start = np.zeros(len(multi) + 1, dtype=np.int64)
    np.cumsum(sizes * (sizes - 1) // 2, out=cond_start[1:])
    counts = bounds[multi + 1] - bounds[multi]
    owner = np.repeat(np.arange(len(multi)), counts)
    pair_idx = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + bounds[multi][owner]
    ia, ib = local_index[pairs.a[pair_idx]], local_index[pairs.b[pair_idx]]
    i, j, k = np.minimum(ia, ib), np.maximum(ia, ib), sizes[owner]
    condensed = np.full(int(cond_start[-1]), CANNOT)
    condensed[cond_start[owner] + k * i - i * (i + 1) // 2 + (j - i - 1)] = dist[pair_idx]
    for m, blk in enumerate(multi.tolist()):
        local_ids = by_block[block_start[blk] : block_start[blk + 1]]
        labels = link(len(local_ids), condensed[cond_start[m] : cond_start[m + 1]], threshold, "average")
        seed_label[local_ids] = labels + next_label
        next_label += int(labels.max()) + 1
    return seed_label[out]
