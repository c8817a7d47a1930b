"""Real data: the shipped model on names it never trained on, and the labelled readers."""

from __future__ import annotations

import numpy as np
import pytest

from paperatlas.disambiguation.clustering import cluster_mentions
from paperatlas.disambiguation.datasets import read_aminer, read_dblp_homonyms, read_ufmg
from paperatlas.disambiguation.evaluation import b3, pairwise
from paperatlas.disambiguation.features import FEATURES, Evidence, pair_features
from paperatlas.disambiguation.mentions import Mention
from paperatlas.disambiguation.names import coauthor_key, parts_of
from paperatlas.disambiguation.pairmodel import fold_of_name, load_fold_model, shipped_model
from paperatlas.disambiguation.training import FOLDS, by_fold, fold_of


def test_b3_and_pairwise_on_known_cases():
    assert b3([1, 1, 2], ["a", "a", "b"]) == (1.0, 1.0, 1.0)
    p, r, _ = b3([1, 1, 1], ["a", "a", "b"])
    assert round(p, 4) == round(5 / 9, 4) and r == 1.0
    assert pairwise([1, 2, 3], ["a", "a", "a"])[1] == 0.0


def test_readers_parse_the_messy_sources(shared):
    root = shared / "disambiguation"
    aminer = read_aminer(root / "aminer-110")
    assert len(aminer.group_names) >= 70 and len(aminer.mentions) > 5000
    jz = read_dblp_homonyms(root / "dblp-jun-zhang-homonyms")
    assert len(set(jz.gold)) == 10 and 650 < len(jz.mentions) < 908  # 908 records, 673 of them authorships
    assert all(m.homonym is None and "0" not in m.name for m in jz.mentions)  # homonym numbers hidden
    assert read_ufmg(root / "ufmg-folds").mentions


def test_held_out_aminer_name_beats_one_cluster_per_name(shared):
    aminer = read_aminer(shared / "disambiguation" / "aminer-110")
    # the name with the most distinct people: the hardest case for "one cluster per name"
    people = {g: len({gold for gold, grp in zip(aminer.gold, aminer.groups, strict=True) if grp == g})
              for g in aminer.group_names}
    name = max(people, key=lambda g: (people[g], g))
    k = fold_of_name("aminer-110", name)
    assert k == fold_of(name)  # the shipped meta records the fold the name was held out in
    data = aminer.subset({name})
    labels = cluster_mentions(data.mentions, load_fold_model(k)).labels  # a model that never saw this name
    _, _, f_model = b3(labels, data.gold)
    _, _, f_block = b3([0] * len(data.gold), data.gold)
    assert f_model > f_block


def test_folds_hold_out_whole_names_and_cover_every_name(shared):
    aminer = read_aminer(shared / "disambiguation" / "aminer-110")
    folds = by_fold(aminer)
    assert len(folds) == FOLDS and sum(len(f.mentions) for f in folds) == len(aminer.mentions)
    seen = [set(f.group_names) for f in folds]
    assert all(not (a & b) for i, a in enumerate(seen) for b in seen[i + 1 :])  # no name in two folds
    meta = shipped_model().meta
    # no fold model trained on its own fold's names: the recorded folds are the hash folds
    assert all(meta["fold_of_name"]["aminer-110"][g] == fold_of(g) for g in aminer.group_names)
    assert "dblp-jun-zhang-homonyms" not in meta["trained_on"]
    assert {f["fold"] for f in meta["folds"]} == set(range(FOLDS))


def test_dblp_reader_skips_proceedings_the_person_did_not_write(shared):
    jz = read_dblp_homonyms(shared / "disambiguation" / "dblp-jun-zhang-homonyms")
    papers = {m.paper for m in jz.mentions}
    assert "DBLP:conf/mobimedia/2016" not in papers  # a volume a paper cross-references, edited by others
    assert "DBLP:conf/cis/2004" in papers  # a volume Jun Zhang 0001 edited: his
    assert all((parts_of(m.name).surname, parts_of(m.name).first) == ("zhang", "jun") for m in jz.mentions)


def test_fast_coauthor_key_matches_the_full_parse():
    for name in ["Jacob Steinhardt", "Rami Al-Rfou", "Ludwig van Beethoven", "J. Smith", "JS Smith", "Smith, John",
                 "John Smith Jr.", "Jean-Pierre Dupont", "Ugo de'Liguoro", "José García", "A B", "Xiao-Ming Li"]:
        assert coauthor_key(name) == parts_of(name).block, name


def test_missing_title_or_venue_is_unknown_not_dissimilar():
    a = Mention(key=1, paper=1, name="Jun Zhang", title="Evolutionary computation for scheduling", venue="GECCO")
    b = Mention(key=2, paper=2, name="Jun Zhang", title="", venue="")
    c = Mention(key=3, paper=3, name="Jun Zhang", title="Evolutionary scheduling", venue="GECCO")
    ev = Evidence.build([a, b, c])
    x = pair_features(ev, np.array([0, 0]), np.array([1, 2]))
    title, venue = FEATURES.index("title_cos"), FEATURES.index("venue_cos")
    assert np.isnan(x[0, title]) and np.isnan(x[0, venue])
    assert x[1, title] > 0 and x[1, venue] > 0


def test_two_jun_zhang_homonyms_are_split(shared):
    jz = read_dblp_homonyms(shared / "disambiguation" / "dblp-jun-zhang-homonyms")
    data = jz.subset({g for g in jz.group_names})
    keep = [i for i, g in enumerate(data.gold) if g in ("0001", "0010")]
    mentions = [data.mentions[i] for i in keep]
    gold = [data.gold[i] for i in keep]
    labels = cluster_mentions(mentions).labels
    # most clusters are pure: the two people are not lumped together
    p, _, _ = b3(labels, gold)
    assert p > 0.9


@pytest.mark.slow
def test_bench_scores_a_folder_beside_both_baselines(shared, cli):
    import orjson

    result = cli("bench", "disambiguation", "--data", str(shared / "disambiguation" / "ufmg-folds"), "--no-speed",
                 "--json")
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.output)["ufmg-folds"]
    for key in ("b3_precision", "b3_recall", "b3_f1", "pairwise_f1", "mentions_per_s"):
        assert 0 <= figures[key] <= 1 or key == "mentions_per_s"
    assert figures["b3_f1"] > figures["baseline_one_cluster_per_block"]["b3_f1"]
    assert figures["b3_f1"] > figures["baseline_every_mention_alone"]["b3_f1"]
    bad = cli("bench", "disambiguation", "--data", str(shared / "disambiguation" / "s2and" / "name_data"))
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_speed_run_clusters_harvest_pages_and_reports_its_figures(shared, tmp_path, monkeypatch):
    """The speed part of the bench on three harvest pages: every mention clustered, rates and CPU reported."""
    from paperatlas.bench.disambiguation import speed_on_harvest

    monkeypatch.setenv("PAPERATLAS_CACHE_DIR", str(tmp_path))
    figures = speed_on_harvest(shared / "arxiv", limit_pages=3)
    assert figures["mentions"] > 5000 and figures["papers"] > 2000
    assert 0 < figures["identities"] < figures["mentions"]
    assert figures["mentions_per_s"] > 0 and figures["cluster_cpu_seconds"] > 0
    assert figures["workers"] == 1  # a few pages stay in one process
    assert figures["compiled_trees"] is True  # the models compiled (here, or by an earlier test of this run)
