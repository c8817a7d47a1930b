"""Blocking and the hard rules: which mentions may be one person at all.

Block key = folded surname + first initial, with swapped name order folded in where the corpus shows it
(:func:`swap_aware_blocks`); only pairs within a block are scored.  The hard rules then settle pairs no evidence
may override: same ORCID or same pin (curation, existing identities) joins; different ORCIDs, DBLP homonym
numbers or pins, two slots of one paper, or given names that cannot be one person's (:func:`names.given_compatible`)
part.  Kept apart from the linkage and the stage so that the parallel and Spark runners, the training and the
benchmark share exactly one blocking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .features import Evidence
from .mentions import Mention
from .names import NameParts, given_compatible_many, given_key

MAX_BLOCK = 2500  # above this, a block is pre-split by full first name before the O(n^2) part


def swap_aware_blocks(parts: list[NameParts]) -> list[str]:
    """Block keys, with detectable swapped name order folded in: "Zhang Jun" (block "jun z") joins "Jun Zhang"
    (block "zhang j") when the corpus writes that person the other way round more often.

    Each distinct :class:`NameParts` object (``mentions.name_parts`` hands one per spelling) is read once, with
    its number of mentions as weight."""
    by_id = dict(zip(map(id, parts), parts, strict=True))
    position = {k: n for n, k in enumerate(by_id)}
    index = list(map(position.__getitem__, map(id, parts)))
    distinct = list(by_id.values())
    weight = np.bincount(np.array(index, dtype=np.int64), minlength=len(distinct)).tolist() if parts else []
    full_counts: dict[tuple[str, str], int] = defaultdict(int)
    for p, w in zip(distinct, weight, strict=True):
        if not p.first_is_initial:
            full_counts[(p.surname, p.first)] += w
    keys = []
    for p in distinct:
        key = p.block
        if not p.first_is_initial and not p.middle:
            here = full_counts[(p.surname, p.first)]
            there = full_counts.get((p.first, p.surname), 0)
            if there > here:
                key = f"{p.first} {p.surname[:1]}"
        keys.append(key)
    return list(map(keys.__getitem__, index))


def blocks_of(parts: list[NameParts], keys: list[str]) -> list[np.ndarray]:
    """Groups of mention indices that may hold one person (in order of first appearance, members ascending);
    huge blocks split by full first name."""
    position = {k: n for n, k in enumerate(dict.fromkeys(keys))}
    code = np.fromiter(map(position.__getitem__, keys), dtype=np.int64, count=len(keys))
    order = np.argsort(code, kind="stable")
    bounds = np.zeros(len(position) + 1, dtype=np.int64)
    np.cumsum(np.bincount(code, minlength=len(position)), out=bounds[1:])
    out = []
    for members in np.split(order, bounds[1:-1]) if len(keys) else []:
        if len(members) <= MAX_BLOCK:
            out.append(members)
            continue
        by_first: dict[str, list[int]] = defaultdict(list)
        for i in members.tolist():
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
    """All within-block pairs (left, right, block number), grouped by block in order, each block's in
    condensed (row-major upper-triangle) order.  Built per block size for all blocks of that size at once:
    a corpus has tens of thousands of small blocks and only a few hundred sizes."""
    sizes = np.fromiter(map(len, blocks), dtype=np.int64, count=len(blocks))
    counts = sizes * (sizes - 1) // 2
    offsets = np.zeros(len(blocks) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    left = np.empty(int(offsets[-1]), dtype=np.int64)
    right = np.empty(int(offsets[-1]), dtype=np.int64)
    owner = np.repeat(np.arange(len(blocks), dtype=np.int64), counts)
    if not len(left):
        return left, right, owner
    flat = np.concatenate(blocks).astype(np.int64, copy=False)
    starts = np.cumsum(sizes) - sizes
    for n in np.unique(sizes[sizes > 1]).tolist():
        which = np.flatnonzero(sizes == n)
        members = flat[starts[which][:, None] + np.arange(n)]
        i, j = _triu(n)
        dest = offsets[which][:, None] + np.arange(len(i))
        left[dest] = members[:, i]
        right[dest] = members[:, j]
    return left, right, owner


def codes(values: Sequence[object | None]) -> np.ndarray:
    """Small ints for comparing optional values (in order of first appearance); 0 = unknown."""
    if not any(values):
        return np.zeros(len(values), dtype=np.int64)
    if all(values):  # nothing unknown: the vocabulary and the lookups run in C
        vocab = {v: k for k, v in enumerate(dict.fromkeys(values), start=1)}
        return np.fromiter(map(vocab.__getitem__, values), dtype=np.int64, count=len(values))
    vocab: dict[object, int] = {}
    return np.array([vocab.setdefault(v, len(vocab) + 1) if v else 0 for v in values], dtype=np.int64)


def given_names_ok(ev: Evidence, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per pair: may the two written given names be one person's (:func:`names.given_compatible`)?  Decided once
    per distinct unordered pair of given-name readings (the rule is symmetric), which a corpus repeats many times
    over, and for all of those at once in numpy (:func:`names.given_compatible_many`)."""
    if not len(left):
        return np.ones(0, dtype=bool)
    ids, index, compact = np.unique(ev.given_ids, return_index=True, return_inverse=True)
    readings = [given_key(ev.parts[i]) for i in index.tolist()]
    a, b = compact[left], compact[right]
    out = np.ones(len(left), dtype=bool)  # one reading on both sides: always compatible
    differ = np.flatnonzero(a != b)
    width = len(ids)
    a, b = a[differ], b[differ]
    uniq, inverse = np.unique(np.minimum(a, b) * width + np.maximum(a, b), return_inverse=True)
    out[differ] = given_compatible_many(readings, uniq // width, uniq % width)[inverse]
    return out


def hard_rules(mentions: list[Mention], ev: Evidence, left: np.ndarray, right: np.ndarray,
               pins: np.ndarray, known: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(cannot, must) boolean masks over the pairs.  ``known``: the orcid / homonym / paper codes when the caller
    has them already (see :func:`mention_codes`)."""
    first_ok = given_names_ok(ev, left, right)
    known = known if known is not None else mention_codes(mentions, ev.parts)
    orcid, homonym, paper = known["orcid"], known["homonym"], known["paper"]
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
        "orcid": codes([m.orcid for m in mentions]),
        "homonym": codes([m.homonym or p.homonym for m, p in zip(mentions, parts, strict=True)]),
        "paper": codes([m.paper for m in mentions]),
    }


