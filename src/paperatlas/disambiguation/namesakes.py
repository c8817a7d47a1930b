"""Evidence beyond the name: what two seeds must share before the seed stage may join them.

The seed model (:mod:`.seeds`) learned from real name groups, where a block with few seeds and no rivals is
usually one person: so in a small store, which holds only a handful of one name's papers, it reads "two seeds,
nothing else of this name" as "one person", and two namesakes from different fields end as one identity (9 of
the 23 pairs of DBLP Jun Zhangs who share no coauthor and no venue did, clustered alone).  How many seeds a
block holds depends on how much a user ingested, not on who wrote the papers.

So a seed join needs *positive evidence*, judged on each seed pair alone and never on the store's size:

- a coauthor both seeds share (surname + first initial, as :mod:`.features` keys them);
- an exact venue both published in;
- affiliations that agree (TF-IDF cosine of the seeds' pooled affiliation words >= ``AFFIL_COS``);
- vocabulary that agrees (TF-IDF cosine of the pooled titles >= ``TITLE_COS``);
- or papers the pair model finds alike on average (mean cross-pair probability >= ``P_MEAN``): the pair
  model weighs the shipped name census (a common name needs more than the name), so this carries the rarity
  prior without counting the store.

A seed pair without any of these keeps its learned probability out of the linkage (distance 1, not a
cannot-link): it may still end in one identity through a third seed that has evidence with both, as average
linkage decides.

How the cut-offs were chosen (``scripts/tune_namesake_guards.py``, model card session 8): on training names
only, by the mean B3 F1 of every (collection, fold) of names clustered by the fold model that never saw it, plus
AMiner "small stores" (two people of a name alone); the 541 settings are walked in that order and the first one
that keeps the namesakes-alone contract (``tests/test_disambiguation_small_store.py``, pass/fail) is the choice.
Every setting ranked above it loosens the seed-level cut-offs (mean p 0.1 or 0.15, or seed titles at 0.1) and
joins 5 to 9 of the 23 pairs of DBLP Jun Zhangs alone: strangers' cross pairs average p of 0.1 to 0.18 and
their pooled titles meet at a TF-IDF cosine of 0.03 to 0.2.  The AMiner small stores do not show this (half of
their people have 3 to 9 papers; the Jun Zhangs have 12 to 212), so on training names alone the seed-level
cut-offs would be looser.  So the seed-level pair (0.2 / 0.2) is held by the contract, and the validation moved
the pair-level title cut-off from 0.1 to 0.2 (4 of the 5 leave-one-fold-out choices; the fifth 0.15).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .features import FEATURES, Evidence

TITLE_COS = 0.2
AFFIL_COS = 0.5
P_MEAN = 0.2
PAIR_TITLE_COS = 0.2  # per pair, before seeds chain; 0.1 until session 8


def pair_evidence(x: np.ndarray) -> np.ndarray:
    """Per pair (rows of :func:`.features.pair_features`), True where the two papers share something beyond
    the name: a coauthor, the exact venue, affiliations (cosine >= ``AFFIL_COS``) or title words (cosine >=
    ``PAIR_TITLE_COS``).  Seeds chain only over such pairs: a pair the model trusts on the name alone is where
    single linkage joins two namesakes before any seed comparison can keep them apart."""
    col = {f: x[:, FEATURES.index(f)] for f in ("coauthor_shared", "venue_same", "affil_cos", "title_cos")}
    return ((np.nan_to_num(col["coauthor_shared"]) > 0) | (np.nan_to_num(col["venue_same"]) > 0)
            | (np.nan_to_num(col["affil_cos"]) >= AFFIL_COS) | (np.nan_to_num(col["title_cos"]) >= PAIR_TITLE_COS))


def shared_venues(ev: Evidence, member: sparse.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per seed pair, how many exact venues (``Evidence.venue_ids``) both seeds published in."""
    n = member.shape[1]
    known = ev.venue_ids >= 0
    if not known.any() or len(a) == 0:
        return np.zeros(len(a), dtype=np.float32)
    rows = np.flatnonzero(known)
    venue = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, ev.venue_ids[rows])),
                              shape=(n, int(ev.venue_ids.max()) + 1))
    by_seed = sparse.csr_matrix((member @ venue) > 0, dtype=np.float32)
    return np.asarray(by_seed[a].multiply(by_seed[b]).sum(axis=1), dtype=np.float32).ravel()


def seed_evidence(coauthor_shared: np.ndarray, venues_shared: np.ndarray, affil_cos: np.ndarray,
                  title_cos: np.ndarray, p_mean: np.ndarray) -> np.ndarray:
    """True where two seeds share something beyond the name (see the module docstring); NaN (unknown) is no
    evidence."""
    with np.errstate(invalid="ignore"):
        return ((np.nan_to_num(coauthor_shared) > 0) | (venues_shared > 0)
                | (np.nan_to_num(affil_cos) >= AFFIL_COS) | (np.nan_to_num(title_cos) >= TITLE_COS)
                | (np.nan_to_num(p_mean) >= P_MEAN))
