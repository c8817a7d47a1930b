"""Mentions -> people, the stage's core: blocks and hard rules (:mod:`.blocking`), pair scores, linkage (single,
average, or seeds compared by the seed model, see :func:`cut`; the per-block code is :mod:`.linkage`), curation
pins.

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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..gcpause import gc_paused
from .blocking import blocks_of, candidate_pairs, codes, hard_rules, mention_codes, swap_aware_blocks
from .features import Evidence, pair_features
from .linkage import enforce_pins, link, respect_cannot_links
from .mentions import Mention, name_parts
from .names import NameParts, given_key
from .namesakes import pair_evidence
from .pairmodel import PairModel, shipped_model

CANNOT = 1e6
CHAIN_ON_EVIDENCE = True  # distance of a cannot-link pair: large enough that no average-linkage merge crosses it


@dataclass
class Clustering:
    labels: np.ndarray  # cluster id per mention (ids are unique across blocks)
    blocks: list[str]  # block key per mention
    pairs_scored: int


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
    firsts: list[tuple[str, str, str] | None]  # given-name reading per mention (None for an initial): what
    # chaining must not mix (see names.given_compatible)
    codes: dict[str, np.ndarray]  # orcid / homonym / paper / pin codes per mention (0 = unknown)
    evidence: Evidence | None = None  # for the seed stage (cluster-level features)
    model: PairModel | None = None
    seed_cache: dict | None = None  # seed threshold -> (seeds, seed pairs, their probabilities)
    first_ids: np.ndarray | None = None  # code of ``firsts`` per mention (0 = only an initial)
    evidenced: np.ndarray | None = None  # per pair: shares something beyond the name (namesakes.pair_evidence)


def score(mentions: list[Mention], model: PairModel, *, pins: Sequence[object | None] | None = None,
          keys: list[str] | None = None, evidence: Evidence | None = None,
          known: dict[str, np.ndarray] | None = None) -> Scored:
    """Pair distances of every block.  ``evidence``: these mentions' rows of a larger corpus's evidence (a
    share of its blocks, see ``parallel.py``), so that they are scored as within that corpus; ``known``: their
    rows of the corpus's :func:`blocking.mention_codes`, where the caller has them."""
    n = len(mentions)
    parts = evidence.parts if evidence is not None else name_parts(mentions)
    keys = keys if keys is not None else swap_aware_blocks(parts)
    blocks = blocks_of(parts, keys)
    pin_codes = codes(list(pins) if pins is not None else [None] * n)
    left, right, owner = candidate_pairs(blocks)
    ev = evidence if evidence is not None else Evidence.build(mentions, parts)
    known = {**(known if known is not None else mention_codes(mentions, parts)), "pin": pin_codes}
    cannot, must = hard_rules(mentions, ev, left, right, pin_codes, known)
    prob = np.zeros(len(left), dtype=np.float32)
    free = ~cannot & ~must
    x = pair_features(ev, left[free], right[free])
    prob[free] = model.predict(x)
    evidenced = must.copy()
    evidenced[free] = pair_evidence(x)
    dist = (1.0 - prob).astype(np.float64)
    dist[must] = 0.0
    dist[cannot] = CANNOT
    # Pairs come out grouped by block in order, so each block's condensed distances are one contiguous slice.
    bounds = np.searchsorted(owner, np.arange(len(blocks) + 1))
    return Scored(n=n, blocks=blocks, keys=keys, dist=dist, left=left, right=right, bounds=bounds,
                  pins=pin_codes if pins is not None else None, pairs_scored=int(free.sum()),
                  firsts=given_readings(parts), codes=known, evidence=ev, model=model, seed_cache={},
                  first_ids=written_given_codes(ev), evidenced=evidenced)


def given_readings(parts: list[NameParts]) -> list[tuple[str, str, str] | None]:
    """Per mention, the given-name reading chaining must not mix (None for an initial), read once per distinct
    :class:`NameParts` object (``name_parts`` hands one per spelling)."""
    by_id = dict(zip(map(id, parts), parts, strict=True))
    reading = {k: None if p.first_is_initial else given_key(p) for k, p in by_id.items()}
    return list(map(reading.__getitem__, map(id, parts)))


def written_given_codes(ev: Evidence) -> np.ndarray:
    """``blocking.codes(given_readings(ev.parts))`` from the evidence's reading ids: 0 for an initial, else
    1, 2, ... in order of first appearance (equal readings have equal ``given_ids``)."""
    out = np.zeros(len(ev.given_ids), dtype=np.int64)
    written = np.flatnonzero(~ev.first_initial)
    uniq, first, inverse = np.unique(ev.given_ids[written], return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(1, len(uniq) + 1)
    out[written] = rank[inverse]
    return out


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
        labels = respect_cannot_links(scored, labels.astype(np.int64), close)
        return enforce_pins(labels, scored.pins) if scored.pins is not None else labels
    labels = np.full(scored.n, -1, dtype=np.int64)
    next_label = 0
    for b, members in enumerate(scored.blocks):
        if len(members) == 1:
            labels[members[0]] = next_label
            next_label += 1
            continue
        local = link(len(members), scored.dist[scored.bounds[b] : scored.bounds[b + 1]], threshold, method)
        labels[members] = local + next_label
        next_label += int(local.max()) + 1
    if scored.pins is not None:
        labels = enforce_pins(labels, scored.pins)
    return labels


def seeds_of(scored: Scored, seed: float) -> np.ndarray:
    """The seeds: single linkage at ``seed`` over the pairs that share something beyond the name
    (``scored.evidenced``), pins ignored (they are enforced after the seed stage)."""
    pins, dist = scored.pins, scored.dist
    scored.pins = None
    if scored.evidenced is not None:
        scored.dist = np.where(scored.evidenced, dist, np.maximum(dist, seed))
    try:
        return cut(scored, seed, "single")
    finally:
        scored.pins, scored.dist = pins, dist


def _seed_stage(scored: Scored, threshold: float, seed: float) -> np.ndarray:
    from .seeds import link_seeds, seed_pairs

    cache = scored.seed_cache if scored.seed_cache is not None else {}
    if seed not in cache:
        seeds = seeds_of(scored, seed)
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
            local = link(len(members), dist[scored.bounds[b] : scored.bounds[b + 1]], threshold, "average")
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


