"""The seed stage: near-certain seeds compared as wholes by a second model, then average-linked per block."""

from __future__ import annotations

import numpy as np

from paperatlas.disambiguation.clustering import cut, score, seeded_method
from paperatlas.disambiguation.features import FEATURES
from paperatlas.disambiguation.mentions import Mention
from paperatlas.disambiguation.pairmodel import PairModel, load_fold_model, shipped_model
from paperatlas.disambiguation.seeds import SEED_FEATURES, seed_pairs


class _Const:
    """A stand-in booster: the same probability for every row."""

    def __init__(self, p: float):
        self.p = p

    def predict(self, x, num_threads=None):
        return np.full(len(x), self.p)


class _SharedCoauthor:
    """Pair stand-in: p = 0.99 when the pair shares a coauthor, 0.3 otherwise."""

    def predict(self, x, num_threads=None):
        return np.where(x[:, FEATURES.index("coauthor_shared")] > 0, 0.99, 0.3)


def _mentions() -> list[Mention]:
    # two tight groups of "Jun Zhang" papers (coauthors A/B and C/D), no coauthor across the groups
    rows = [("A Li", "x"), ("A Li", "y"), ("C Wu", "x"), ("C Wu", "z")]
    return [Mention(key=i, paper=f"p{i}", name="Jun Zhang", coauthors=[c], title=f"evolutionary {t}", year=2010)
            for i, (c, t) in enumerate(rows)]


def test_seed_model_joins_seeds_that_no_pair_would():
    mentions = _mentions()
    joined = PairModel(booster=_SharedCoauthor(), seed_booster=_Const(0.9))
    apart = PairModel(booster=_SharedCoauthor(), seed_booster=_Const(0.1))
    scored = score(mentions, joined)
    assert len(set(cut(scored, 0.5, "single").tolist())) == 2  # pair by pair: two people
    assert len(set(cut(scored, 0.5, "seeds@0.1").tolist())) == 1  # the seed model says one
    assert len(set(cut(score(mentions, apart), 0.5, "seeds@0.1").tolist())) == 2


def test_seed_stage_never_crosses_a_cannot_link():
    mentions = _mentions()
    mentions[2].orcid = mentions[3].orcid = "0000-0001"
    mentions[0].orcid = "0000-0002"  # the two seeds carry different ORCIDs
    scored = score(mentions, PairModel(booster=_SharedCoauthor(), seed_booster=_Const(1.0)))
    labels = cut(scored, 0.9, "seeds@0.1")
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2]


def test_seed_stage_obeys_pins():
    mentions = _mentions()
    pins = ["me", None, None, "other"]
    scored = score(mentions, PairModel(booster=_SharedCoauthor(), seed_booster=_Const(0.9)), pins=pins)
    labels = cut(scored, 0.5, "seeds@0.1")
    assert labels[0] != labels[3] and labels[1] == labels[0] and labels[2] == labels[3]


def test_seed_pair_features_pool_the_seeds():
    mentions = _mentions()
    scored = score(mentions, PairModel(booster=_SharedCoauthor()))
    seeds = cut(scored, 0.1, "single")
    pairs = seed_pairs(scored.left, scored.right, scored.dist, scored.bounds, seeds, scored.evidence)
    assert len(pairs.a) == 1 and not pairs.cannot[0]
    x = dict(zip(SEED_FEATURES, pairs.x[0].tolist(), strict=True))
    assert x["size_min"] == 2 and abs(x["n_cross"] - np.log1p(4)) < 1e-6
    assert abs(x["p_max"] - 0.3) < 1e-6 and x["coauthor_shared"] == 0 and x["year_gap"] == 0
    assert x["title_cos"] > 0  # both seeds are about "evolutionary ..."


def test_shipped_models_carry_their_seed_models():
    model = shipped_model()
    assert seeded_method("seeds@0.1") == ("seeds", 0.1)
    if seeded_method(model.linkage)[0] == "seeds":
        assert model.seed_booster is not None
    for fold in model.meta["folds"]:
        fold_model = load_fold_model(int(fold["fold"]))
        assert fold_model.linkage == fold["linkage"] and fold_model.seed_booster is not None


def test_small_average_linkage_cuts_as_scipy_does():
    """The plain-Python UPGMA used for blocks of up to five seeds gives scipy's partition."""
    from scipy.cluster.hierarchy import fcluster, linkage

    from paperatlas.disambiguation.linkage import SMALL_LINKAGE, average_small

    rng = np.random.default_rng(7)
    for _ in range(3000):
        n = int(rng.integers(3, SMALL_LINKAGE + 1))
        dist = rng.random(n * (n - 1) // 2)
        dist[rng.random(len(dist)) < 0.2] = 1e6  # cannot-links
        threshold = float(rng.choice([0.3, 0.5, 0.6, 0.8]))
        ours = average_small(n, dist, threshold)
        theirs = fcluster(linkage(dist, method="average"), t=threshold - 1e-12, criterion="distance")
        assert all((ours[i] == ours[j]) == (theirs[i] == theirs[j]) for i in range(n) for j in range(n))
