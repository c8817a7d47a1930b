"""Choose the namesake guard cut-offs (``paperatlas.disambiguation.namesakes``) on training names, not on held-out
figures.  Run: ``PYTHONPATH=src python scripts/tune_namesake_guards.py [--out grid.json]`` (about 5 minutes on 2
cores).

Protocol (model card, session 8):

1. *Validation units*: every (training collection, fold) of names (AMiner-110, S2AND-Qian, UFMG; the folds of
   ``training.fold_of``), each clustered per name by the fold model that never saw it, plus per fold the AMiner
   "small stores": two people of one name with at least 3 papers each and no shared coauthor or venue, alone
   (up to 4 per name), as a user who ingests a handful of papers would cluster them.
2. *Objective*: the mean B3 F1 over those units (every unit weighs alike, as ``training._Folds.curve`` does).
3. *Gate*: the namesakes-alone contract of ``tests/test_disambiguation_small_store.py`` on the DBLP Jun Zhang set
   (no identity mixes two of its people who share no coauthor and no venue; recall bars).  The settings are
   walked in order of the objective and the first that passes is the choice.  The gate is pass/fail: no figure
   of the Jun Zhang set is optimized.
4. The same walk with each fold left out (objective over the other four folds) gives each fold the setting its
   held-out figure is scored with; the choice over all five folds is what ships.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from scipy import sparse

from paperatlas.disambiguation import clustering, namesakes
from paperatlas.disambiguation.clustering import cluster_mentions, score, seeds_of
from paperatlas.disambiguation.datasets import Labelled, read_all
from paperatlas.disambiguation.evaluation import b3
from paperatlas.disambiguation.names import coauthor_key
from paperatlas.disambiguation.pairmodel import load_fold_model
from paperatlas.disambiguation.seeds import SEED_FEATURES, link_seeds, seed_pairs
from paperatlas.disambiguation.training import FOLDS, by_fold
from paperatlas.shared_data import shared_data_dir_or_default

# (pair title cut-off or None = no pair-level guard, affiliation cut-off); (seed title, seed mean p or None =
# no mean-p evidence), or "off" = no seed-level guard
PAIR_LEVEL = [(pt, ac) for pt in (0.05, 0.1, 0.15, 0.2, None) for ac in (0.3, 0.5, 0.7)]
SEED_LEVEL: list[tuple[object, object]] = [
    (tc, pm) for tc in (0.1, 0.15, 0.2, 0.3, 0.4) for pm in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, None)] + [("off", "off")]
COLLECTIONS = ("aminer-110", "s2and-qian", "ufmg-folds")
SMALL = "aminer-small"


def _key(pt: object, ac: object, tc: object, pm: object) -> str:
    return f"{pt}|{ac}|{tc}|{pm}"


@contextmanager
def guards(key: str) -> Iterator[None]:
    """The namesakes module's cut-offs set to ``key`` for the duration (the module reads them at call time)."""
    saved = (namesakes.PAIR_TITLE_COS, namesakes.AFFIL_COS, namesakes.TITLE_COS, namesakes.P_MEAN,
             clustering.pair_evidence)
    pt, ac, tc, pm = key.split("|")
    namesakes.AFFIL_COS = float(ac)
    namesakes.PAIR_TITLE_COS = float(pt) if pt != "None" else saved[0]
    if pt == "None":
        clustering.pair_evidence = lambda x: np.ones(len(x), dtype=bool)
    namesakes.TITLE_COS = float(tc) if tc != "off" else -1.0  # -1: every seed pair has "evidence"
    namesakes.P_MEAN = -1.0 if pm == "off" else (float(pm) if pm != "None" else np.inf)
    try:
        yield
    finally:
        (namesakes.PAIR_TITLE_COS, namesakes.AFFIL_COS, namesakes.TITLE_COS, namesakes.P_MEAN,
         clustering.pair_evidence) = saved


def small_stores(fold: Labelled) -> list[tuple[list, list[str]]]:
    """Two people of one name, >= 3 papers each, no shared coauthor key and no shared venue; up to 4 per name
    (a seeded draw per name)."""
    out = []
    for group in fold.group_names:
        people: dict[str, list[int]] = {}
        for i, g in enumerate(fold.groups):
            if g == group:
                people.setdefault(fold.gold[i], []).append(i)
        coauthors = {p: {coauthor_key(c) for i in rows for c in fold.mentions[i].coauthors}
                     for p, rows in people.items()}
        venues = {p: {fold.mentions[i].venue.lower() for i in rows if fold.mentions[i].venue}
                  for p, rows in people.items()}
        enough = sorted(p for p, rows in people.items() if len(rows) >= 3)
        pairs = [(a, b) for a, b in itertools.combinations(enough, 2)
                 if not coauthors[a] & coauthors[b] and not venues[a] & venues[b]]
        rng = np.random.default_rng(zlib.crc32(group.encode("utf-8")))
        for j in rng.permutation(len(pairs))[:4].tolist():
            rows = people[pairs[j][0]] + people[pairs[j][1]]
            out.append(([fold.mentions[i] for i in rows], [fold.gold[i] for i in rows]))
    return out


def grid(found: dict[str, Labelled]) -> dict[str, dict[str, float]]:
    """B3 F1 of every unit under every setting (``unit/fold`` -> F1; ``aminer-small-merged/fold``: stores where one
    identity holds both people)."""
    models = [load_fold_model(k) for k in range(FOLDS)]
    units: list[tuple[str, int, list[tuple[list, list[str], list[str] | None]]]] = []
    for name in COLLECTIONS:
        for k, fold in enumerate(by_fold(found[name])):
            if fold.mentions:
                units.append((name, k, [(fold.mentions, list(fold.gold), list(fold.groups))]))
    for k, fold in enumerate(by_fold(found["aminer-110"])):
        stores = small_stores(fold)
        if stores:
            units.append((SMALL, k, [(mentions, gold, None) for mentions, gold in stores]))
    col = {f: SEED_FEATURES.index(f) for f in ("coauthor_shared", "affil_cos", "title_cos", "p_mean")}
    results: dict[str, dict[str, float]] = {}
    for pt, ac in PAIR_LEVEL:
        with guards(_key(pt, ac, 0.2, 0.2)):
            for unit, k, items in units:
                model = models[k]
                prepared = []
                for mentions, gold, keys in items:
                    scored = score(mentions, model, keys=keys)
                    seeds = seeds_of(scored, 0.1)
                    pairs = seed_pairs(scored.left, scored.right, scored.dist, scored.bounds, seeds, scored.evidence)
                    prob = np.zeros(len(pairs.a), dtype=np.float32)
                    prob[~pairs.cannot] = model.predict_seeds(pairs.x[~pairs.cannot])
                    n, n_seeds = len(seeds), int(seeds.max()) + 1
                    member = sparse.csr_matrix((np.ones(n, dtype=np.float32), (seeds, np.arange(n))),
                                               shape=(n_seeds, n))
                    venues = namesakes.shared_venues(scored.evidence, member, pairs.a, pairs.b)
                    prepared.append((pairs, prob, seeds, venues, gold))
                for tc, pm in SEED_LEVEL:
                    key = _key(pt, ac, tc, pm)
                    f1s, merged = [], 0
                    with guards(key):
                        for pairs, prob, seeds, venues, gold in prepared:
                            x = pairs.x
                            pairs.evidence = None if tc == "off" else namesakes.seed_evidence(
                                x[:, col["coauthor_shared"]], venues, x[:, col["affil_cos"]], x[:, col["title_cos"]],
                                x[:, col["p_mean"]])
                            labels = link_seeds(pairs, prob, seeds, model.threshold)
                            f1s.append(b3(labels.tolist(), gold)[2])
                            people = np.array(gold)
                            merged += any(len(set(people[labels == label].tolist())) > 1 for label in np.unique(labels))
                    results.setdefault(key, {})[f"{unit}/{k}"] = float(np.mean(f1s))
                    if unit == SMALL:
                        results[key][f"{unit}-merged/{k}"] = merged
        print(f"pair-level {pt} / {ac} done", file=sys.stderr, flush=True)
    return results


def contract(homonyms: Labelled, key: str) -> tuple[int, float, float]:
    """The checks of tests/test_disambiguation_small_store.py under ``key``: identities mixing two people, and
    the lowest and mean B3 recall, over every pair of people with no shared coauthor and no venue."""
    people = sorted(set(homonyms.gold))
    coauthors: dict[str, set[str]] = {p: set() for p in people}
    venues: dict[str, set[str]] = {p: set() for p in people}
    for mention, person in zip(homonyms.mentions, homonyms.gold, strict=True):
        coauthors[person] |= {coauthor_key(c) for c in mention.coauthors}
        if mention.venue:
            venues[person].add(mention.venue.lower())
    mixed, recalls = 0, []
    with guards(key):
        for a, b in itertools.combinations(people, 2):
            if coauthors[a] & coauthors[b] or venues[a] & venues[b]:
                continue
            rows = [i for i, person in enumerate(homonyms.gold) if person in (a, b)]
            gold = np.array([homonyms.gold[i] for i in rows])
            labels = cluster_mentions([homonyms.mentions[i] for i in rows]).labels
            mixed += any(len(set(gold[labels == label].tolist())) > 1 for label in np.unique(labels))
            recalls.append(b3(labels.tolist(), gold.tolist())[1])
    return mixed, min(recalls), float(np.mean(recalls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the grid (every unit's F1 per setting) here as JSON")
    args = parser.parse_args()
    root = shared_data_dir_or_default("disambiguation") / "disambiguation"
    found = read_all(root)
    results = grid(found)
    if args.out:
        args.out.write_text(json.dumps(results), encoding="utf-8")
    units = (*COLLECTIONS, SMALL)

    def objective(key: str, folds: list[int]) -> float:
        return float(np.mean([results[key][f"{u}/{k}"] for u in units for k in folds if f"{u}/{k}" in results[key]]))

    passed: dict[str, tuple[int, float, float]] = {}
    choice = {}
    for left_out in [*range(FOLDS), None]:
        folds = [k for k in range(FOLDS) if k != left_out]
        for rank, key in enumerate(sorted(results, key=lambda s: -objective(s, folds)), 1):
            if key not in passed:
                passed[key] = contract(found["dblp-jun-zhang-homonyms"], key)
            mixed, low, mean = passed[key]
            if mixed == 0 and low > 0.4 and mean > 0.75:
                merged = sum(results[key].get(f"{SMALL}-merged/{k}", 0) for k in folds)
                choice["all" if left_out is None else f"without fold {left_out}"] = {
                    "setting (pair title | affiliation | seed title | seed mean p)": key, "rank": rank,
                    "objective": round(objective(key, folds), 4), "aminer_small_stores_merged": merged}
                break
    print(json.dumps(choice, indent=1))


if __name__ == "__main__":
    main()
