"""Linkage: pair distances of one block -> clusters (single, average), and the constraints every cut obeys
afterwards (cannot-links under chaining, curation pins).  Pure array code, no model and no names beyond the
given-name keys the stage hands in, so the stage, the seed stage and the parallel runners share it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from .blocking import codes
from .names import given_compatible

if TYPE_CHECKING:
    from .clustering import Scored

SMALL_LINKAGE = 5  # up to this many items, average linkage runs in plain Python (scipy's call overhead is 10x)


def average_small(n: int, dist: np.ndarray, threshold: float) -> np.ndarray:
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
    return ranks(owner)


def ranks(values: list[int]) -> np.ndarray:
    """``np.unique(values, return_inverse=True)[1]`` for a short list: each value's rank among the distinct
    values.  Thousands of small blocks are cut per corpus, and numpy's call overhead was most of their cost."""
    rank = {v: k for k, v in enumerate(sorted(set(values)))}
    return np.array([rank[v] for v in values], dtype=np.intp)


def link(n: int, dist: np.ndarray, threshold: float, method: str) -> np.ndarray:
    if n == 2:
        return np.array([0, 0 if dist[0] < threshold else 1])
    if n <= SMALL_LINKAGE and method == "average":
        return average_small(n, dist, threshold)
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
    return ranks([find(i) for i in range(n)])


def conflicted(scored: Scored, labels: np.ndarray) -> set[int]:
    """Components that chaining made impossible: two ORCIDs, homonym numbers or pins, one paper twice, or
    two different full first names.  (component, value) pairs are one int64 each, so np.unique stays 1-D."""
    bad: set[int] = set()
    labels = labels.astype(np.int64)
    for name, values in scored.codes.items():
        known = values >= 0 if name == "paper" else values > 0  # as hard_rules: two unknown papers count as one
        if not known.any():
            continue
        width = int(values.max()) + 1
        joint = labels[known] * width + values[known]
        if name == "paper":
            values, counts = np.unique(joint, return_counts=True)
            bad.update((values[counts > 1] // width).tolist())  # a (component, paper) pair occurs twice
            continue
        distinct = np.unique(joint) // width
        values, counts = np.unique(distinct, return_counts=True)
        bad.update(values[counts > 1].tolist())
    first_ids = scored.first_ids if scored.first_ids is not None else codes(scored.firsts)
    known = first_ids > 0
    if known.any():
        width = int(first_ids.max()) + 1
        distinct = np.unique(labels[known] * width + first_ids[known]) // width
        values, counts = np.unique(distinct, return_counts=True)
        bad.update(values[counts > 1].tolist())
    return bad


def respect_cannot_links(scored: Scored, labels: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Redo conflicted components with Kruskal's algorithm, refusing any union that would join a cannot-link
    (single linkage alone would chain "James" - "J." - "Jacob" into one person)."""
    bad = conflicted(scored, labels)
    if not bad:
        return labels
    out = labels.copy()
    next_label = int(labels.max()) + 1
    edge_ids = np.flatnonzero(close)
    edge_ids = edge_ids[np.isin(labels[scored.left[edge_ids]], list(bad))]
    edge_ids = edge_ids[np.argsort(scored.dist[edge_ids], kind="stable")]
    members = np.flatnonzero(np.isin(labels, list(bad)))
    listed = members.tolist()
    parent = dict(zip(listed, listed, strict=True))
    firsts = scored.firsts
    columns = [scored.codes[k][members].tolist() for k in ("orcid", "homonym", "pin", "paper")]
    info = {i: ({firsts[i]} - {None}, {o} - {0}, {h} - {0}, {p} - {0}, {q} - {0})
            for i, o, h, p, q in zip(listed, *columns, strict=True)}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(scored.left[edge_ids].tolist(), scored.right[edge_ids].tolist(), strict=True):
        a, b = find(x), find(y)
        if a == b:
            continue
        fa, oa, ha, pa, papers_a = info[a]
        fb, ob, hb, pb, papers_b = info[b]
        if len(oa | ob) > 1 or len(ha | hb) > 1 or len(pa | pb) > 1 or papers_a & papers_b:
            continue
        if any(not given_compatible(x, y) for x in fa for y in fb):
            continue
        parent[b] = a
        info[a] = (fa | fb, oa | ob, ha | hb, pa | pb, papers_a | papers_b)
        del info[b]
    roots: dict[int, int] = {}
    for i in listed:
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
