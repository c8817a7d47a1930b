"""Clustering mentions with the per-block work mapped through an engine (``paperatlas build --engine spark``).

Blocking, the corpus-wide evidence (TF-IDF weights over all mentions) and curation pins stay in the driver,
because they span blocks; chunks of whole name blocks go to the engine as items, each running the clustering
module's own ``score`` (hard rules, pair features, the pair model) and ``cut`` (linkage).  In one process the
stage uses :func:`paperatlas.disambiguation.clustering.cluster_mentions` instead, which deals blocks to forked
workers (``parallel.py``) with the same partition and so the same result.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..scale import map_items
from . import clustering as c
from .features import Evidence
from .mentions import name_parts

TASKS = 64  # chunks of blocks: spread over executors, yet one model call per many blocks


def cluster_chunk(payload: tuple) -> tuple[list[int], int]:
    """Some whole name blocks, on an executor: the per-item step of :func:`cluster_mentions_on`."""
    mentions, evidence, block_ids, pins, model, threshold, method = payload
    scored = c.score(mentions, model, pins=pins, keys=block_ids, evidence=evidence)
    scored.pins = None  # a pin may span blocks in other chunks: the driver enforces pins over all blocks at once
    return c.cut(scored, threshold, method).tolist(), int(scored.pairs_scored)


def cluster_mentions_on(engine: str, mentions: list, model: Any = None, *, pins: list | None = None,
                        threshold: float | None = None, keys: list | None = None) -> c.Clustering:
    """``clustering.cluster_mentions`` with chunks of whole blocks mapped through ``engine``."""
    model = model or c.shipped_model()
    parts = name_parts(mentions)
    keys = keys if keys is not None else c.swap_aware_blocks(parts)
    blocks = c.blocks_of(parts, keys)
    pin_codes = c.codes_of(list(pins) if pins is not None else [None] * len(mentions))
    evidence = Evidence.build(mentions, parts)
    cut_at = model.threshold if threshold is None else threshold
    method = getattr(model, "linkage", "average")
    labels = np.full(len(mentions), -1, dtype=np.int64)
    next_label = 0
    shared = []
    for members in blocks:
        if len(members) == 1:  # nothing to score: one person
            labels[members[0]] = next_label
            next_label += 1
        else:
            shared.append(members)
    per_task = max(1, -(-len(shared) // TASKS))
    payloads, index_of = [], []
    for start in range(0, len(shared), per_task):
        group = shared[start : start + per_task]
        rows = np.concatenate(group)
        block_ids = [str(b) for b, members in enumerate(group) for _ in members]
        payloads.append(([mentions[i] for i in rows], evidence.take(rows), block_ids,
                         pin_codes[rows].tolist() if pins is not None else None, model, cut_at, method))
        index_of.append(rows)
    pairs = 0
    for rows, (local, scored_pairs) in zip(index_of, map_items(payloads, cluster_chunk, engine=engine), strict=True):
        local_labels = np.asarray(local, dtype=np.int64)
        labels[rows] = local_labels + next_label
        next_label += int(local_labels.max()) + 1
        pairs += scored_pairs
    if pins is not None:
        labels = c.enforce_pins(labels, pin_codes)
    return c.Clustering(labels=labels, blocks=keys, pairs_scored=pairs)
