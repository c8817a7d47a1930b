"""Train the pair model on the labelled collections, holding out whole names, and tune the linkage threshold.

Reproducible: the name split is a hash of the name (committed in the model's meta.json), LightGBM is seeded and
single-threaded while training.  AMiner names and S2AND-Qian blocks are split in halves (train / held out);
the DBLP Jun Zhang homonyms and the UFMG names are never trained on, only scored.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import name_counts
from .clustering import _swap_aware_blocks, blocks_of, candidate_pairs, cut, hard_rules, score
from .datasets import Labelled, read_all
from .evaluation import scores
from .features import FEATURES, Evidence, pair_features
from .harvest_mentions import read_oai_mentions
from .pairmodel import PairModel, model_dir

SEED = 13
TRAINED_ON = ("aminer-110", "s2and-qian")  # halves of these; the rest are evaluation-only
PAIRS_PER_BLOCK = 4000
THRESHOLDS = [round(float(t), 2) for t in np.arange(0.05, 0.951, 0.05)]
LINKAGES = ("single", "average")
PARAMS = {
    "objective": "binary", "learning_rate": 0.08, "num_leaves": 15, "min_data_in_leaf": 30,
    "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "seed": SEED, "deterministic": True, "num_threads": 1, "verbose": -1,
}
ROUNDS = 150


def is_held_out(group: str) -> bool:
    """Half the names, chosen by a hash: stable across runs and machines."""
    return hashlib.blake2b(group.encode("utf-8"), digest_size=4).digest()[0] % 2 == 1


def split(data: Labelled) -> tuple[Labelled, Labelled]:
    names = data.group_names
    test = {g for g in names if is_held_out(g)}
    return data.subset(set(names) - test), data.subset(test)


def labelled_pairs(data: Labelled, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Features and same-person labels for (sampled) candidate pairs, exactly as clustering would see them."""
    mentions = data.mentions
    parts = [m.parts for m in mentions]
    blocks = blocks_of(parts, _swap_aware_blocks(parts))
    left, right, owner = candidate_pairs(blocks)
    ev = Evidence.build(mentions, parts)
    cannot, must = hard_rules(mentions, ev, left, right, np.zeros(len(mentions), dtype=np.int64))
    keep = ~cannot & ~must
    # cap pairs per block so one huge name does not drown the others
    chosen = []
    for b in np.unique(owner[keep]):
        idx = np.flatnonzero(keep & (owner == b))
        if len(idx) > PAIRS_PER_BLOCK:
            idx = rng.choice(idx, PAIRS_PER_BLOCK, replace=False)
        chosen.append(idx)
    sel = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
    gold = np.array(data.gold, dtype=object)
    y = (gold[left[sel]] == gold[right[sel]]).astype(np.float32)
    return pair_features(ev, left[sel], right[sel]), y


PSEUDO_NAMES_PER_BLOCK = 8


def pseudo_blocks(data: Labelled, rng: np.random.Generator) -> Labelled:
    """Several real names pooled under one made-up name: pairs across the pooled names are different people
    with no shared name to lean on, which teaches the model what "no evidence" means for a very common name
    (AMiner alone, where one person often dominates a name, makes it far too eager)."""
    names = list(data.group_names)
    rng.shuffle(names)
    pool = {g: f"pseudo-{i // PSEUDO_NAMES_PER_BLOCK}" for i, g in enumerate(names)}
    out = Labelled(f"{data.name}-pooled")
    # each pool borrows the name of one of its real names, so the name-count prior stays truthful
    borrowed = {}
    for m, group in zip(data.mentions, data.groups, strict=True):
        borrowed.setdefault(pool[group], m.name)
    for m, gold, group in zip(data.mentions, data.gold, data.groups, strict=True):
        fake = pool[group]
        out.add(replace(m, name=borrowed[fake], forenames=None, surname=None, key=f"{fake}/{m.key}"), gold, fake)
    return out


def fit(sets: list[Labelled], rng: np.random.Generator) -> Any:
    import lightgbm as lgb

    sets = [*sets, *(pseudo_blocks(s, rng) for s in sets if s.name.startswith("aminer"))]
    xs, ys = zip(*(labelled_pairs(s, rng) for s in sets if s.mentions), strict=True)
    x, y = np.concatenate(xs), np.concatenate(ys)
    return lgb.train(PARAMS, lgb.Dataset(x, y, feature_name=FEATURES, free_raw_data=True), ROUNDS)


def _fold_sets(sets: list[Labelled], k: int, fold: int) -> tuple[list[Labelled], list[Labelled]]:
    train, test = [], []
    for s in sets:
        names = s.group_names
        held = {g for i, g in enumerate(names) if i % k == fold}
        train.append(s.subset(set(names) - held))
        test.append(s.subset(held))
        train[-1].name = test[-1].name = s.name
    return train, test


def tune_threshold(sets: list[Labelled], rng: np.random.Generator, k: int = 3) -> tuple[tuple[str, float], dict]:
    """k-fold over names of the *training* half: the (linkage, threshold) with the best mean B3 F1 out of fold."""
    totals: dict[tuple[str, float], list[float]] = {(m, t): [] for m in LINKAGES for t in THRESHOLDS}
    for fold in range(k):
        train, test = _fold_sets(sets, k, fold)
        model = PairModel(booster=fit(train, rng))
        for s in test:
            if not s.mentions:
                continue
            scored = score(s.mentions, model)
            for method, t in totals:
                totals[(method, t)].append(scores(cut(scored, t, method), s.gold)["b3_f1"])
    curve = {key: float(np.mean(v)) for key, v in totals.items()}
    best = max(curve, key=lambda key: (curve[key], -abs(key[1] - 0.5)))
    return best, curve


def train(data_root: Path, out_dir: Path, log=print) -> dict[str, Any]:
    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    found = read_all(data_root)
    missing = [n for n in TRAINED_ON if n not in found]
    if missing:
        raise FileNotFoundError(f"missing training collections under {data_root}: {', '.join(missing)}")
    harvest = Path(data_root).parent / "arxiv" / "oai-pmh-cs-2016"
    if harvest.is_dir():  # the name-count prior the features read, rebuilt from the same real corpus
        mentions, _ = read_oai_mentions(sorted(harvest.glob("page*.xml.gz")))
        name_counts.save(name_counts.count_names(mentions), out_dir)
        name_counts.shipped.cache_clear()
        if out_dir.resolve() != model_dir().resolve():
            log("note: features read the name counts shipped in the package; copy them there to use this model")
        log(f"name counts from {len(mentions):,} arXiv mentions")
    train_sets, held = [], {}
    for name in TRAINED_ON:
        tr, te = split(found[name])
        train_sets.append(tr)
        held[name] = te.group_names
    log(f"training on {sum(len(s.mentions) for s in train_sets):,} mentions "
        f"({', '.join(f'{s.name}: {len(s.group_names)} names' for s in train_sets)})")
    (linkage, threshold), curve = tune_threshold(train_sets, rng)
    log(f"{linkage} linkage, threshold {threshold} (out-of-fold B3 F1 {curve[(linkage, threshold)]:.4f})")
    booster = fit(train_sets, rng)
    model = PairModel(booster=booster, threshold=threshold, linkage=linkage, meta={
        "version": f"pair-lgbm-{hashlib.blake2b(booster.model_to_string().encode(), digest_size=4).hexdigest()}",
        "seed": SEED, "rounds": ROUNDS, "params": PARAMS, "trained_on": list(TRAINED_ON),
        "held_out_names": held, "threshold_curve": {f"{m} {t}": round(v, 4) for (m, t), v in curve.items()},
    })
    model.save(out_dir)
    return {"linkage": linkage, "threshold": threshold, "seconds": round(time.perf_counter() - started, 1),
            "model_bytes": (out_dir / "pair_model.txt").stat().st_size, "version": model.version}
