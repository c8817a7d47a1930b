"""Train the pair model on the labelled collections, holding out whole names, and tune the linkage threshold.

Every name of a training collection (AMiner files, S2AND-Qian blocks, UFMG names) is put in one of ``FOLDS``
folds by a hash of the name.  What is shipped:

- the *full* model, trained on every training name; the stage, ``bench --data DIR`` and the DBLP Jun Zhang set
  use it.  Its (linkage, threshold) is the best mean B3 F1 of the fold models on their own held-out folds.
- one *fold* model per fold, trained on the names of the other folds; the benchmark scores a fold's names only
  with that fold's model, so every scored name is scored by a model that never saw it.  Its (linkage, threshold)
  comes from a nested cross-validation over the other folds alone (models trained without fold k *and* fold j,
  scored on fold j), so no threshold is chosen on the names it is then scored on.

Each pair model has a *seed model* beside it (:mod:`.seeds`), trained on the same names; the seeds it learns from
are made on each of its folds by the pair model trained on its other folds (so they are as imperfect as seeds on
unseen names).  The linkage searched: single, average, single+average (seeds at 0.05 / 0.1 / 0.15, then average
linkage of the pair probabilities) and seeds@0.1 with the seed model; thresholds 0.05..0.95.

The DBLP Jun Zhang homonyms are never trained on: they are one name, so a split by person would train on the
other Jun Zhangs' coauthors and topics and score an easier subset of people; it is an evaluation-only set.

Reproducible: folds are a hash of the name, LightGBM is seeded and deterministic.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import name_counts
from .blocking import blocks_of, candidate_pairs, hard_rules, swap_aware_blocks
from .clustering import cut, score, seeded_method, seeds_of
from .datasets import Labelled, read_all
from .evaluation import scores
from .features import FEATURES, Evidence, pair_features
from .harvest_mentions import read_oai_mentions
from .mentions import name_parts
from .pairmodel import PairModel, fold_file, shipped_dir
from .seeds import SEED_FEATURES, seed_pairs

SEED = 13
TRAINED_ON = ("aminer-110", "s2and-qian", "ufmg-folds")  # k-fold over names; the rest are evaluation-only
FOLDS = 5
PAIRS_PER_BLOCK = 4000
THRESHOLDS = [round(float(t), 2) for t in np.arange(0.05, 0.951, 0.05)]
SEEDS = (0.05, 0.1, 0.15)  # single-linkage seed thresholds tried for "single+average"
SEED_AT = 0.1  # the seed threshold the seed-pair model is trained and used at ("seeds@0.1")
LINKAGES = ("single", "average", *(f"single+average@{seed}" for seed in SEEDS), f"seeds@{SEED_AT}")
PARAMS = {
    "objective": "binary", "learning_rate": 0.08, "num_leaves": 15, "min_data_in_leaf": 30,
    "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "seed": SEED, "deterministic": True, "num_threads": 2, "verbose": -1,
}
ROUNDS = 150


def fold_of(group: str) -> int:
    """The fold a name belongs to: a hash, stable across runs and machines."""
    return int.from_bytes(hashlib.blake2b(group.encode("utf-8"), digest_size=4).digest(), "big") % FOLDS


def by_fold(data: Labelled) -> list[Labelled]:
    """The collection cut into its FOLDS folds of whole names (each keeps the collection's name)."""
    groups: list[set[str]] = [set() for _ in range(FOLDS)]
    for g in data.group_names:
        groups[fold_of(g)].add(g)
    return [data.subset(keep) for keep in groups]


def labelled_pairs(data: Labelled, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Features and same-person labels for (sampled) candidate pairs, exactly as clustering would see them."""
    mentions = data.mentions
    parts = name_parts(mentions)
    blocks = blocks_of(parts, swap_aware_blocks(parts))
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


def _fit(x: np.ndarray, y: np.ndarray, names: list[str] | None = None) -> Any:
    import lightgbm as lgb

    return lgb.train(PARAMS, lgb.Dataset(x, y, feature_name=names or FEATURES, free_raw_data=True), ROUNDS)


SMALL_STORES_PER_NAME = 3
SMALL_STORES_PER_FOLD = 25  # per collection and fold: enough to show the case, cheap enough to score in training


def small_stores(data: Labelled, rng: np.random.Generator) -> list[Labelled]:
    """Two people of one name, alone: each a store of its own (its own TF-IDF weights, few seeds, no rivals).  A
    user who ingests a handful of papers gets blocks like these, and the seed model must not read "few seeds"
    as "one person"; real names, where one person often fills a block, would teach it just that."""
    out = []
    for group in data.group_names:
        idx = [i for i, g in enumerate(data.groups) if g == group]
        people: dict[str, list[int]] = {}
        for i in idx:
            people.setdefault(data.gold[i], []).append(i)
        names = sorted(p for p, members in people.items() if len(members) >= 2)
        if len(names) < 2:
            continue
        pairs = [(a, b) for k, a in enumerate(names) for b in names[k + 1:]]
        for j in rng.permutation(len(pairs))[:SMALL_STORES_PER_NAME].tolist():
            store = Labelled(data.name)
            for person in pairs[j]:
                for i in people[person]:
                    store.add(data.mentions[i], data.gold[i], group)
            out.append(store)
    keep = sorted(rng.permutation(len(out))[:SMALL_STORES_PER_FOLD].tolist())
    return [out[k] for k in keep]


class _Folds:
    """Training pairs of every (collection, fold), featurized once; models over any set of folds."""

    def __init__(self, collections: list[Labelled], rng: np.random.Generator):
        self.parts = [by_fold(c) for c in collections]  # [collection][fold]
        self.pooled: dict[tuple[int, int], Labelled] = {}  # (collection, fold) -> its pseudo-blocks
        self.pairs: list[list[tuple[np.ndarray, np.ndarray]]] = []
        for c, folds in enumerate(self.parts):
            row = []
            for k, f in enumerate(folds):
                chunks = [labelled_pairs(f, rng)] if f.mentions else []
                if f.mentions and f.name.startswith("aminer"):
                    self.pooled[(c, k)] = pseudo_blocks(f, rng)
                    chunks.append(labelled_pairs(self.pooled[(c, k)], rng))
                x = np.concatenate([xy[0] for xy in chunks]) if chunks else np.zeros((0, len(FEATURES)), np.float32)
                y = np.concatenate([xy[1] for xy in chunks]) if chunks else np.zeros(0, np.float32)
                row.append((x, y))
            self.pairs.append(row)
        self._scored: dict[tuple[frozenset[int], int, int], Any] = {}
        self.small = [[small_stores(f, rng) for f in folds] for folds in self.parts]  # [collection][fold]

    def seed_model(self, folds: set[int], models: dict[frozenset[int], Any]) -> Any:
        """The seed-pair model trained on the names of ``folds``.  Each fold's seeds come from the pair model
        trained on the *other* folds of the set (``models[folds - {f}]``), so the seed model learns from seeds as
        imperfect as those it will meet on names no model saw, and no name outside ``folds`` is looked at.
        Label: the seeds' majority people are one.  The pseudo-blocks the pair model learns from are seeds here too:
        a block of several people, each in a few seeds, is where comparing a seed with its rivals matters most,
        and real names rarely make blocks that large; so are :func:`small_stores`, two people of a name alone."""
        xs, ys = [], []
        for f in sorted(folds):
            model = PairModel(booster=models[frozenset(folds) - {f}])
            sets = [self.parts[c][f] for c in range(len(self.parts))]
            sets += [self.pooled[(c, f)] for c in range(len(self.parts)) if (c, f) in self.pooled]
            sets += [store for c in range(len(self.parts)) for store in self.small[c][f]]
            for data in sets:
                if not data.mentions:
                    continue
                scored = score(data.mentions, model)
                seeds = seeds_of(scored, SEED_AT)
                pairs = seed_pairs(scored.left, scored.right, scored.dist, scored.bounds, seeds, scored.evidence)
                majority: dict[int, str] = {}
                for label in np.unique(seeds).tolist():
                    members = np.flatnonzero(seeds == label)
                    values, counts = np.unique(np.array(data.gold, dtype=object)[members], return_counts=True)
                    majority[label] = values[np.argmax(counts)]
                free = ~pairs.cannot
                xs.append(pairs.x[free])
                ys.append(np.array([majority[a] == majority[b] for a, b in zip(pairs.a[free].tolist(),
                                                                               pairs.b[free].tolist(), strict=True)],
                                   dtype=np.float32))
        return _fit(np.concatenate(xs), np.concatenate(ys), SEED_FEATURES)

    def model(self, folds: set[int]) -> Any:
        xs = [self.pairs[c][f][0] for c in range(len(self.pairs)) for f in sorted(folds)]
        ys = [self.pairs[c][f][1] for c in range(len(self.pairs)) for f in sorted(folds)]
        return _fit(np.concatenate(xs), np.concatenate(ys))

    def curve(self, models: dict[frozenset[int], Any], held: list[tuple[frozenset[int], int]],
              seed_models: dict[frozenset[int], Any] | None = None) -> dict:
        """Mean B3 F1 per (linkage, threshold) of each model on the fold it did not see (one value per
        collection and fold: every name collection weighs alike, whatever its size)."""
        totals: dict[tuple[str, float], list[float]] = {
            (m, t): [] for m in LINKAGES for t in THRESHOLDS if (seeded_method(m)[1] or 0.0) < t}
        for trained, fold in held:
            for c, folds in enumerate(self.parts):
                data = folds[fold]
                if not data.mentions:
                    continue
                key = (trained, fold, c)
                if key not in self._scored:
                    self._scored[key] = score(data.mentions, PairModel(
                        booster=models[trained], seed_booster=(seed_models or {}).get(trained)))
                for method, t in totals:
                    totals[(method, t)].append(scores(cut(self._scored[key], t, method), data.gold)["b3_f1"])
        return {key: float(np.mean(v)) for key, v in totals.items() if v}


def _best(curve: dict[tuple[str, float], float]) -> tuple[str, float]:
    return max(curve, key=lambda key: (curve[key], -abs(key[1] - 0.5)))


def train(data_root: Path, out_dir: Path, log=print) -> dict[str, Any]:
    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    found = read_all(data_root)
    missing = [n for n in TRAINED_ON if n not in found]
    if missing:
        raise FileNotFoundError(f"missing training collections under {data_root}: {', '.join(missing)}")
    harvest = Path(data_root).parent / "arxiv" / "oai-pmh-cs-2016"
    if harvest.is_dir():  # the name-count census the features read, rebuilt from the same real corpora
        mentions, _ = read_oai_mentions(sorted(harvest.glob("page*.xml.gz")))
        dblp = name_counts.dblp_mentions(Path(data_root).parent / "dblp")
        name_counts.save(name_counts.count_names([*mentions, *dblp]), out_dir)
        name_counts.shipped.cache_clear()
        if out_dir.resolve() != shipped_dir().resolve():
            log("note: features read the name counts shipped in the package; copy them there to use this model")
        log(f"name counts from {len(mentions):,} arXiv and {len(dblp):,} DBLP mentions")
    collections = [found[n] for n in TRAINED_ON]
    log(f"training on {sum(len(c.mentions) for c in collections):,} mentions "
        f"({', '.join(f'{c.name}: {len(c.group_names)} names' for c in collections)}), {FOLDS} folds over names")
    folds = _Folds(collections, rng)
    everything = frozenset(range(FOLDS))
    models: dict[frozenset[int], Any] = {}
    for k in range(FOLDS):  # fold models, and the nested ones that tune their thresholds
        models[everything - {k}] = folds.model(set(everything - {k}))
    for k, j in itertools.combinations(range(FOLDS), 2):
        models[everything - {k, j}] = folds.model(set(everything - {k, j}))
    for left_out in itertools.combinations(range(FOLDS), 3):  # only to seed the nested seed models' training
        models[everything - set(left_out)] = folds.model(set(everything - set(left_out)))
    log(f"{len(models)} fold models in {time.perf_counter() - started:.0f}s")
    seed_models = {trained: folds.seed_model(set(trained), models) for trained in models
                   if len(trained) >= FOLDS - 2}
    log(f"{len(seed_models)} seed models in {time.perf_counter() - started:.0f}s")
    fold_meta = []
    for k in range(FOLDS):
        inner = [(everything - {k, j}, j) for j in range(FOLDS) if j != k]
        curve = folds.curve(models, inner, seed_models)
        linkage, threshold = _best(curve)
        booster = models[everything - {k}]
        PairModel(booster=booster).save_booster(out_dir / fold_file(k))
        PairModel(booster=booster).save_booster(out_dir / fold_file(k, "seed"), seed_models[everything - {k}])
        fold_meta.append({"fold": k, "linkage": linkage, "threshold": threshold,
                          "inner_b3_f1": round(curve[(linkage, threshold)], 4)})
        log(f"fold {k}: {linkage} linkage, threshold {threshold} (nested out-of-fold B3 F1 "
            f"{curve[(linkage, threshold)]:.4f})")
    curve = folds.curve(models, [(everything - {k}, k) for k in range(FOLDS)], seed_models)
    linkage, threshold = _best(curve)
    log(f"full model: {linkage} linkage, threshold {threshold} (out-of-fold B3 F1 {curve[(linkage, threshold)]:.4f})")
    booster = folds.model(set(everything))
    seed_booster = folds.seed_model(set(everything), models)
    groups = {c.name: {g: fold_of(g) for g in c.group_names} for c in collections}
    model = PairModel(booster=booster, threshold=threshold, linkage=linkage, seed_booster=seed_booster, meta={
        "version": f"pair-lgbm-{hashlib.blake2b(booster.model_to_string().encode(), digest_size=4).hexdigest()}",
        "seed": SEED, "rounds": ROUNDS, "params": PARAMS, "trained_on": list(TRAINED_ON), "folds": fold_meta,
        "fold_of_name": groups, "threshold_curve": {f"{m} {t}": round(v, 4) for (m, t), v in curve.items()},
    })
    model.save(out_dir)
    return {"linkage": linkage, "threshold": threshold, "folds": fold_meta,
            "seconds": round(time.perf_counter() - started, 1),
            "model_bytes": (out_dir / "pair_model.txt").stat().st_size, "version": model.version}
