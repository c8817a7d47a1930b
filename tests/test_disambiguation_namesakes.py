"""The per-pair guard (``namesakes.pair_evidence``): which pairs may chain seeds.  Its cut-offs were chosen on
training names (``scripts/tune_namesake_guards.py``, model card session 8); these rows pin what they mean."""

from __future__ import annotations

import numpy as np

from paperatlas.disambiguation.features import FEATURES
from paperatlas.disambiguation.namesakes import AFFIL_COS, PAIR_TITLE_COS, pair_evidence


def _row(**values: float) -> np.ndarray:
    """One pair's feature row: everything unknown (NaN) but ``values``."""
    row = np.full(len(FEATURES), np.nan, dtype=np.float32)
    for name, value in values.items():
        row[FEATURES.index(name)] = value
    return row


def test_only_evidence_beyond_the_name_lets_a_pair_chain_seeds():
    rows = np.stack([
        _row(),  # nothing known but the name (S2AND-Qian without affiliations)
        _row(coauthor_shared=0.0, venue_same=0.0, affil_cos=0.0, title_cos=0.0),
        _row(coauthor_shared=1.0),
        _row(venue_same=1.0),
        _row(affil_cos=AFFIL_COS),
        _row(affil_cos=AFFIL_COS - 0.01),
        _row(title_cos=PAIR_TITLE_COS),
        # one generic shared title word ("design", "knowledge") in a small store: below the cut-off
        _row(title_cos=0.15),
    ])
    assert pair_evidence(rows).tolist() == [False, False, True, True, True, False, True, False]

