"""Mentions -> people: blocking, hard rules, pair scores, average-linkage clustering, curation pins.

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

from .features import Evidence, pair_features
from .mentions import Mention
from .names import NameParts, first_names_compatible
from .pairmodel import PairModel, shipped_model

MAX_BLOCK = 2500  # above this, a block is pre-split by full first name before the O(n^2) part
CANNOT = 1e6  # distance of a cannot-link pair: large enough that no average-linkage merge crosses it


@dataclass
class Clustering:
    labels: np.ndarray  # cluster id per mention (ids are unique across blocks)
    blocks: list[str]  # block key per mention
    pairs_scored: int


def _swap_aware_blocks(parts: list[NameParts]) -> list[str]:
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


def _codes(values: Sequence[object | None]) -> np.ndarray:
    """Small ints for comparing optional values; 0 = unknown."""
    vocab: dict[object, int] = {}
    return np.array([vocab.setdefault(v, len(vocab) + 1) if v else 0 for v in values], dtype=np.int64)


def hard_rules(mentions: list[Mention], ev: Evidence, left: np.ndarray, right: np.ndarray,
               pins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cannot, must) boolean masks over the pairs."""
    first_ok = np.ones(len(left), dtype=bool)
    if len(left):
        firsts = [p.first for p in ev.parts]
        compat = {}
        pair_ids = ev.first_ids[left] * (int(ev.first_ids.max()) + 1) + ev.first_ids[right]
        uniq, inverse = np.unique(pair_ids, return_inverse=True)
        first_of = {int(ev.first_ids[i]): firsts[i] for i in range(len(firsts))}
        width = int(ev.first_ids.max()) + 1
        for k, code in enumerate(uniq):
            a, b = first_of[int(code) // width], first_of[int(code) % width]
            compat[k] = first_names_compatible(a, b)
        first_ok = np.array([compat[k] for k in range(len(uniq))], dtype=bool)[inverse]
    orcid = _codes([m.orcid for m in mentions])
    homonym = _codes([m.homonym or (p.homonym if p.homonym else None) for m, p in zip(mentions, ev.parts,
                                                                                        strict=True)])
    paper = _codes([m.paper for m in mentions])
    ol, orr = orcid[left], orcid[right]
    hl, hr = homonym[left], homonym[right]
    pl, pr = pins[left], pins[right]
    cannot = (~first_ok) | ((ol > 0) & (orr > 0) & (ol != orr)) | ((hl > 0) & (hr > 0) & (hl != hr))
    cannot |= paper[left] == paper[right]
    cannot |= (pl > 0) & (pr > 0) & (pl != pr)
    must = ((ol > 0) & (ol == orr)) | ((pl > 0) & (pl == pr))
    return cannot, must & ~((pl > 0) & (pr > 0) & (pl != pr))


LINKAGE = "average"


def _link(n: int, dist: np.ndarray, threshold: float) -> np.ndarray:
    if n == 2:
        return np.array([0, 0 if dist[0] < threshold else 1])
    from scipy.cluster.hierarchy import linkage

    tree = linkage(dist, method=LINKAGE)
    # Cut the tree: apply every merge below the threshold (average linkage is monotone, so this is fcluster's
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
    bounds: np.ndarray
    pins: np.ndarray | None
    pairs_scored: int


def score(mentions: list[Mention], model: PairModel, *, pins: Sequence[object | None] | None = None,
          keys: list[str] | None = None) -> Scored:
    n = len(mentions)
    parts = [m.parts for m in mentions]
    keys = keys if keys is not None else _swap_aware_blocks(parts)
    blocks = blocks_of(parts, keys)
    pin_codes = _codes(list(pins) if pins is not None else [None] * n)
    left, right, owner = candidate_pairs(blocks)
    ev = Evidence.build(mentions, parts)
    cannot, must = hard_rules(mentions, ev, left, right, pin_codes)
    prob = np.zeros(len(left), dtype=np.float32)
    free = ~cannot & ~must
    prob[free] = model.predict(pair_features(ev, left[free], right[free]))
    dist = (1.0 - prob).astype(np.float64)
    dist[must] = 0.0
    dist[cannot] = CANNOT
    # Pairs come out grouped by block in order, so each block's condensed distances are one contiguous slice.
    bounds = np.searchsorted(owner, np.arange(len(blocks) + 1))
    return Scored(n=n, blocks=blocks, keys=keys, dist=dist, bounds=bounds,
                  pins=pin_codes if pins is not None else None, pairs_scored=int(free.sum()))


def cut(scored: Scored, threshold: float) -> np.ndarray:
    labels = np.full(scored.n, -1, dtype=np.int64)
    next_label = 0
    for b, members in enumerate(scored.blocks):
        if len(members) == 1:
            labels[members[0]] = next_label
            next_label += 1
            continue
        local = _link(len(members), scored.dist[scored.bounds[b] : scored.bounds[b + 1]], threshold)
        labels[members] = local + next_label
        next_label += int(local.max()) + 1
    if scored.pins is not None:
        labels = _enforce_pins(labels, scored.pins)
    return labels


def cluster_mentions(mentions: list[Mention], model: PairModel | None = None, *, pins: Sequence[object | None]
                     | None = None, threshold: float | None = None, keys: list[str] | None = None) -> Clustering:
    """Cluster mentions into people.  ``pins`` (one per mention, None = free) are hard assignments."""
    model = model or shipped_model()
    scored = score(mentions, model, pins=pins, keys=keys)
    labels = cut(scored, model.threshold if threshold is None else threshold)
    return Clustering(labels=labels, blocks=scored.keys, pairs_scored=scored.pairs_scored)


def _enforce_pins(labels: np.ndarray, pins: np.ndarray) -> np.ndarray:
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
