"""Mentions -> people: blocking, hard rules, pair scores, linkage (single, average, or seeds compared by the seed
model, see :func:`cut`), curation pins.

Everything runs on whole arrays: pairs of all blocks are generated at once, featurized with sparse row products
and scored in one LightGBM call; only the linkage itself is per block (scipy, O(n^2) in the block size, which
:func:`blocks_of` caps by pre-splitting huge blocks on full first names, a hard rule anyway).

Constraints, strongest first:
- *pins* (curation, or existing identities during an incremental run): mentions with one pin end in one
  cluster, mentions with different pins never share one;
- same ORCID: one person; different ORCIDs, different DBLP homonym numbers, incompatible first names, or two
  slots of one paper: never one person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..gcpause import gc_paused
from .features import Evidence, pair_features
from .mentions import Mention, name_parts
from .names import NameParts, first_names_compatible
from .pairmodel import PairModel, shipped_model

MAX_BLOCK = 2500  # above this, a block is pre-split by full first name before the O(n^2) part
CANNOT = 1e6  # distance of a cannot-link pair: large enough that no average-linkage merge crosses it


@dataclass
class Clustering:
    labels: np.ndarray  # cluster id per mention (ids are unique across blocks)
    blocks: list[str]  # block key per mention
    pairs_scored: int


def swap_aware_blocks(parts: list[NameParts]) -> list[str]:
    """Block keys, with detectable swapped name order folded in: "Zhang Jun" (block "jun z") joins "Jun Zhang"
    (block "zhang j") when the corpus writes that person the other way round more often."""
    keys = [p.block for p in parts]
    full_counts: dict[tuple[str, str], int] = defaultdict(int)
    for p in parts:
        if not p.first_is_initial:
            full_counts[(p.surname, p.first)] += 1
    out = []
    for p, key in zip(parts, keys, strict=True):
        if not p.first_is_initial and not p.middle:
            here = full_counts[(p.surname, p.first)]
            there = full_counts.get((p.first, p.surname), 0)
            if there > here:
                key = f"{p.first} {p.surname[:1]}"
        out.append(key)
    return out


def blocks_of(parts: list[NameParts], keys: list[str]) -> list[np.ndarray]:
    """Groups of mention indices that may hold one person; huge blocks split by full first name."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        groups[key].append(i)
    out = []
    for members in groups.values():
        if len(members) <= MAX_BLOCK:
            out.append(np.array(members, dtype=np.int64))
            continue
        by_first: dict[str, list[int]] = defaultdict(list)
        for i in members:
            by_first[parts[i].first if not parts[i].first_is_initial else ""].append(i)
        for sub in by_first.values():
            for start in range(0, len(sub), MAX_BLOCK):
                out.append(np.array(sub[start : start + MAX_BLOCK], dtype=np.int64))
    return out


_TRIU: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _triu(n: int) -> tuple[np.ndarray, np.ndarray]:
    if n not in _TRIU:
        _TRIU[n] = np.triu_indices(n, 1)
    return _TRIU[n]


def candidate_pairs(blocks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All within-block pairs (left, right, block number)."""
    lefts, rights, owners = [], [], []
    for b, members in enumerate(blocks):
        if len(members) < 2:
            continue
        i, j = _triu(len(members))
        lefts.append(members[i])
        rights.append(members[j])
        owners.append(np.full(len(i), b, dtype=np.int64))
    if not lefts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(lefts), np.concatenate(rights), np.concatenate(owners)


def codes_of(values: Sequence[object | None]) -> np.ndarray:
    """Small ints for comparing optional values; 0 = unknown."""
    vocab: dict[object, int] = {}
    return np.array([vocab.setdefault(v, len(vocab) + 1) if v else 0 for v in values], dtype=np.int64)


def hard_rules(mentions: list[Mention], ev: Evidence, left: np.ndarray, right: np.ndarray,
               pins: np.ndarray, codes: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(cannot, must) boolean masks over the pairs.  ``codes``: the orcid / homonym / paper codes when the caller
    has them already (see :func:`mention_codes`)."""
    first_ok = np.ones(len(left), dtype=bool)
    if len(left):
        width = int(ev.first_ids.max()) + 1
        ids, first_index = np.unique(ev.first_ids, return_index=True)
        first_of = dict(zip(ids.tolist(), [ev.parts[i].first for i in first_index.tolist()], strict=True))
        pair_ids = ev.first_ids[left] * width + ev.first_ids[right]
        uniq, inverse = np.unique(pair_ids, return_inverse=True)
        first_ok = np.array([first_names_compatible(first_of[code // width], first_of[code % width])
                             for code in uniq.tolist()], dtype=bool)[inverse]
    codes = codes if codes is not None else mention_codes(mentions, ev.parts)
    orcid, homonym, paper = codes["orcid"], codes["homonym"], codes["paper"]
    ol, orr = orcid[left], orcid[right]
    hl, hr = homonym[left], homonym[right]
    pl, pr = pins[left], pins[right]
    cannot = (~first_ok) | ((ol > 0) & (orr > 0) & (ol != orr)) | ((hl > 0) & (hr > 0) & (hl != hr))
    cannot |= paper[left] == paper[right]
    cannot |= (pl > 0) & (pr > 0) & (pl != pr)
    must = ((ol > 0) & (ol == orr)) | ((pl > 0) & (pl == pr))
    return cannot, must & ~((pl > 0) & (pr > 0) & (pl != pr))


def mention_codes(mentions: list[Mention], parts: list[NameParts]) -> dict[str, np.ndarray]:
    """ORCID, DBLP homonym number and paper of each mention as small ints (0 = unknown)."""
    return {
        "orcid": codes_of([m.orcid for m in mentions]),
        "homonym": codes_of([m.homonym or p.homonym for m, p in zip(mentions, parts, strict=True)]),
        "paper": codes_of([m.paper for m in mentions]),
    }


SMALL_LINKAGE = 5  # up to this many items, average linkage runs in plain Python (scipy's call overhead is 10x)


def _average_small(n: int, dist: np.ndarray, threshold: float) -> np.ndarray:
    """Average linkage (UPGMA) cut at ``threshold``, for a handful of items: a whole-corpus run has thousands of
    blocks with three to five seeds, where scipy's validation and dispatch cost far more than the merging."""
    d: dict[tuple[int, int], float] = {}
    values = dist.tolist()
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            d[(i, j)] = values[k]
            k += 1
    size = dict.fromkeys(range(n), 1)
    owner = list(range(n))
    while len(size) > 1:
        (a, b), best = min(d.items(), key=lambda kv: kv[1])
        if best >= threshold:
            break
        na, nb = size[a], size[b]
        del d[(a, b)]
        for c in size:
            if c != a and c != b:
                ac, bc = (a, c) if a < c else (c, a), (b, c) if b < c else (c, b)
                d[ac] = (na * d[ac] + nb * d.pop(bc)) / (na + nb)
        size[a] = na + nb
        del size[b]
        owner = [a if x == b else x for x in owner]
    _, labels = np.unique(owner, return_inverse=True)
    return labels


def link_block(n: int, dist: np.ndarray, threshold: float, method: str) -> np.ndarray:
    if n == 2:
        return np.array([0, 0 if dist[0] < threshold else 1])
    if n <= SMALL_LINKAGE and method == "average":
        return _average_small(n, dist, threshold)
    from scipy.cluster.hierarchy import linkage

    tree = linkage(dist, method=method)
    # Cut the tree: apply every merge below the threshold (single/average linkage are monotone, so this is fcluster's
    # "distance" criterion without its per-call validation overhead, which dominates on small blocks).
    parent = list(range(2 * n - 1))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k, (a, b, height, _) in enumerate(tree):
        if height >= threshold:
            break
        parent[find(int(a))] = n + k
        parent[find(int(b))] = n + k
    roots = [find(i) for i in range(n)]
    _, labels = np.unique(roots, return_inverse=True)
    return labels


@dataclass
class Scored:
    """Pair distances of every block, ready to be cut at any threshold (tuning re-cuts without re-scoring)."""

    n: int
    blocks: list[np.ndarray]
    keys: list[str]
    dist: np.ndarray
    left: np.ndarray
    right: np.ndarray
    bounds: np.ndarray
    pins: np.ndarray | None
    pairs_scored: int
    firsts: list[str]  # full first name per mention ("" for an initial): what chaining must not mix
    codes: dict[str, np.ndarray]  # orcid / homonym / paper / pin codes per mention (0 = unknown)
    evidence: Evidence | None = None  # for the seed stage (cluster-level features)
    model: PairModel | None = None
    seed_cache: dict | None = None  # seed threshold -> (seeds, seed pairs, their probabilities)
    first_ids: np.ndarray | None = None  # code of the full first name per mention (0 = only an initial)


def score(mentions: list[Mention], model: PairModel, *, pins: Sequence[object | None] | None = None,
          keys: list[str] | None = None, evidence: Evidence | None = None) -> Scored:
    """Pair distances of every block.  ``evidence``: these mentions' rows of a larger corpus's evidence (a
    share of its blocks, see ``parallel.py``), so that they are scored as within that corpus."""
    n = len(mentions)
    parts = evidence.parts if evidence is not None else name_parts(mentions)
    keys = keys if keys is not None else swap_aware_blocks(parts)
    blocks = blocks_of(parts, keys)
    pin_codes = codes_of(list(pins) if pins is not None else [None] * n)
    left, right, owner = candidate_pairs(blocks)
    ev = evidence if evidence is not None else Evidence.build(mentions, parts)
    codes = {**mention_codes(mentions, parts), "pin": pin_codes}
    cannot, must = hard_rules(mentions, ev, left, right, pin_codes, codes)
    prob = np.zeros(len(left), dtype=np.float32)
    free = ~cannot & ~must
    prob[free] = model.predict(pair_features(ev, left[free], right[free]))
    dist = (1.0 - prob).astype(np.float64)
    dist[must] = 0.0
    dist[cannot] = CANNOT
    # Pairs come out grouped by block in order, so each block's condensed distances are one contiguous slice.
    bounds = np.searchsorted(owner, np.arange(len(blocks) + 1))
    return Scored(n=n, blocks=blocks, keys=keys, dist=dist, left=left, right=right, bounds=bounds,
                  pins=pin_codes if pins is not None else None, pairs_scored=int(free.sum()),
                  firsts=["" if p.first_is_initial else p.first for p in parts], codes=codes, evidence=ev,
                  model=model, seed_cache={},
                  first_ids=codes_of(["" if p.first_is_initial else p.first for p in parts]))


def seeded_method(method: str) -> tuple[str, float | None]:
    """``"single+average@0.1"`` -> ("single+average", 0.1); any other method has no seed threshold."""
    name, _, seed = method.partition("@")
    return name, (float(seed) if seed else None)


def cut(scored: Scored, threshold: float, method: str = "average") -> np.ndarray:
    """Cluster labels at ``threshold``.  Single linkage cut at t is the connected components of the pairs closer
    than t, computed for all blocks in one sparse-graph call; other linkages build a tree per block.

    ``"single+average@s"``: single linkage at the tight threshold s first (near-certain pairs chain into seeds),
    then average linkage over the seeds up to ``threshold``: two seeds join only when the mean probability over
    all their cross pairs is high, so one mistaken pair cannot chain two people together the way it does under
    single linkage at a loose threshold, while a seed's many papers pool their evidence (cluster-level, not
    pair-level)."""
    name, seed = seeded_method(method)
    if name == "seeds" and scored.model is not None and scored.model.seed_booster is not None:
        return _seed_stage(scored, threshold, seed if seed is not None else 0.1)
    if name in ("single+average", "seeds"):  # "seeds" without a seed model: average linkage over the seeds
        return _seeded_average(scored, threshold, seed if seed is not None else threshold)
    if method == "single":
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        close = scored.dist < threshold
        graph = coo_matrix((np.ones(int(close.sum()), dtype=np.int8), (scored.left[close], scored.right[close])),
                           shape=(scored.n, scored.n))
        _, labels = connected_components(graph, directed=False)
        labels = _respect_cannot_links(scored, labels.astype(np.int64), close)
        return enforce_pins(labels, scored.pins) if scored.pins is not None else labels
    labels = np.full(scored.n, -1, dtype=np.int64)
    next_label = 0
    for b, members in enumerate(scored.blocks):
        if len(members) == 1:
            labels[members[0]] = next_label
            next_label += 1
            continue
        local = link_block(len(members), scored.dist[scored.bounds[b] : scored.bounds[b + 1]], threshold, method)
        labels[members] = local + next_label
        next_label += int(local.max()) + 1
    if scored.pins is not None:
        labels = enforce_pins(labels, scored.pins)
    return labels


def _seed_stage(scored: Scored, threshold: float, seed: float) -> np.ndarray:
    from .seeds import link_seeds, seed_pairs

    cache = scored.seed_cache if scored.seed_cache is not None else {}
    if seed not in cache:
        pins, scored.pins = scored.pins, None
        try:
            seeds = cut(scored, seed, "single")
        finally:
            scored.pins = pins
        pairs = seed_pairs(scored.left, scored.right, scored.dist, scored.bounds, seeds, scored.evidence)
        prob = np.zeros(len(pairs.a), dtype=np.float32)
        prob[~pairs.cannot] = scored.model.predict_seeds(pairs.x[~pairs.cannot])
        cache[seed] = (seeds, pairs, prob)
    seeds, pairs, prob = cache[seed]
    labels = link_seeds(pairs, prob, seeds, threshold)
    return enforce_pins(labels, scored.pins) if scored.pins is not None else labels


def _seeded_average(scored: Scored, threshold: float, seed: float) -> np.ndarray:
    pins, scored.pins = scored.pins, None
    try:
        seeds = cut(scored, min(seed, threshold), "single")
    finally:
        scored.pins = pins
    left, right = scored.left, scored.right
    joined = seeds[left] == seeds[right]
    # Only blocks where two seeds have a cross pair closer than the threshold can merge anything.
    maybe = np.flatnonzero(~joined & (scored.dist < threshold))
    labels = seeds.copy()
    if len(maybe):
        owners = np.unique(np.searchsorted(scored.bounds, maybe, side="right") - 1)
        dist = np.where(joined & (scored.dist < CANNOT), 0.0, scored.dist)  # a seed is one cluster from the start
        next_label = int(seeds.max()) + 1
        for b in owners.tolist():
            members = scored.blocks[b]
            local = link_block(len(members), dist[scored.bounds[b] : scored.bounds[b + 1]], threshold, "average")
            labels[members] = local + next_label
            next_label += int(local.max()) + 1
    return enforce_pins(labels, scored.pins) if scored.pins is not None else labels


def cluster_mentions(mentions: list[Mention], model: PairModel | None = None, *, pins: Sequence[object | None]
                     | None = None, threshold: float | None = None, keys: list[str] | None = None) -> Clustering:
    """Cluster mentions into people.  ``pins`` (one per mention, None = free) are hard assignments.  A large
    corpus is clustered on every core (see ``parallel.py``), with the same result."""
    model = model or shipped_model()
    from .parallel import cluster_in_parallel, workers_for

    workers = workers_for(len(mentions))
    if workers > 1:
        with gc_paused():
            return cluster_in_parallel(mentions, model, workers, pins=pins, threshold=threshold, keys=keys)
    with gc_paused():  # millions of small lists and tuples, no cycles: full passes cost up to a fifth
        scored = score(mentions, model, pins=pins, keys=keys)
        labels = cut(scored, model.threshold if threshold is None else threshold, model.linkage)
    return Clustering(labels=labels, blocks=scored.keys, pairs_scored=scored.pairs_scored)


def _conflicted(scored: Scored, labels: np.ndarray) -> set[int]:
    """Components that chaining made impossible: two ORCIDs, homonym numbers or pins, one paper twice, or
    two different full first names.  (component, value) pairs are one int64 each, so np.unique stays 1-D."""
    bad: set[int] = set()
    labels = labels.astype(np.int64)
    for name, codes in scored.codes.items():
        known = codes >= 0 if name == "paper" else codes > 0  # as hard_rules: two unknown papers count as one
        if not known.any():
            continue
        width = int(codes.max()) + 1
        joint = labels[known] * width + codes[known]
        if name == "paper":
            values, counts = np.unique(joint, return_counts=True)
            bad.update((values[counts > 1] // width).tolist())  # a (component, paper) pair occurs twice
            continue
        distinct = np.unique(joint) // width
        values, counts = np.unique(distinct, return_counts=True)
        bad.update(values[counts > 1].tolist())
    first_ids = scored.first_ids if scored.first_ids is not None else codes_of(scored.firsts)
    known = first_ids > 0
    if known.any():
        width = int(first_ids.max()) + 1
        distinct = np.unique(labels[known] * width + first_ids[known]) // width
        values, counts = np.unique(distinct, return_counts=True)
        bad.update(values[counts > 1].tolist())
    return bad


def _respect_cannot_links(scored: Scored, labels: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Redo conflicted components with Kruskal's algorithm, refusing any union that would join a cannot-link
    (single linkage alone would chain "James" - "J." - "Jacob" into one person)."""
    bad = _conflicted(scored, labels)
    if not bad:
        return labels
    out = labels.copy()
    next_label = int(labels.max()) + 1
    edge_ids = np.flatnonzero(close)
    edge_ids = edge_ids[np.isin(labels[scored.left[edge_ids]], list(bad))]
    edge_ids = edge_ids[np.argsort(scored.dist[edge_ids], kind="stable")]
    members = np.flatnonzero(np.isin(labels, list(bad)))
    parent = {int(i): int(i) for i in members}
    info = {int(i): ({scored.firsts[i]} - {""}, *({int(scored.codes[k][i])} - {0} for k in ("orcid", "homonym",
                                                                                             "pin", "paper")))
            for i in members}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in edge_ids.tolist():
        a, b = find(int(scored.left[e])), find(int(scored.right[e]))
        if a == b:
            continue
        fa, oa, ha, pa, papers_a = info[a]
        fb, ob, hb, pb, papers_b = info[b]
        if len(oa | ob) > 1 or len(ha | hb) > 1 or len(pa | pb) > 1 or papers_a & papers_b:
            continue
        if any(not first_names_compatible(x, y) for x in fa for y in fb):
            continue
        parent[b] = a
        info[a] = (fa | fb, oa | ob, ha | hb, pa | pb, papers_a | papers_b)
        del info[b]
    roots: dict[int, int] = {}
    for i in members.tolist():
        root = find(i)
        if root not in roots:
            roots[root] = next_label
            next_label += 1
        out[i] = roots[root]
    return out


def enforce_pins(labels: np.ndarray, pins: np.ndarray) -> np.ndarray:
    """Make pins exact: one cluster per pin; free mentions follow the pin that holds most of their cluster."""
    out = labels.copy()
    base = int(labels.max()) + 1 if len(labels) else 0
    majority: dict[int, int] = {}
    counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for label, pin in zip(labels, pins, strict=True):
        if pin > 0:
            counts[int(label)][int(pin)] += 1
    for label, by_pin in counts.items():
        majority[label] = max(by_pin.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    for i, (label, pin) in enumerate(zip(labels, pins, strict=True)):
        if pin > 0:
            out[i] = base + int(pin)
        elif int(label) in majority:
            out[i] = base + majority[int(label)]
    return out
