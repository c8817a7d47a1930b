"""Real data: the shipped model on names it never trained on, and the labelled readers."""

from __future__ import annotations

from paperatlas.disambiguation.clustering import cluster_mentions
from paperatlas.disambiguation.datasets import read_aminer, read_dblp_homonyms, read_ufmg
from paperatlas.disambiguation.evaluation import b3, pairwise
from paperatlas.disambiguation.training import is_held_out


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
    assert len(set(jz.gold)) == 10 and len(jz.mentions) > 900
    assert all(m.homonym is None and "0" not in m.name for m in jz.mentions)  # homonym numbers hidden
    assert read_ufmg(root / "ufmg-folds").mentions


def test_held_out_aminer_name_beats_one_cluster_per_name(shared):
    aminer = read_aminer(shared / "disambiguation" / "aminer-110")
    held = [g for g in aminer.group_names if is_held_out(g)]
    assert held
    # the held-out name with the most distinct people: the hardest case for "one cluster per name"
    people = {g: len({gold for gold, grp in zip(aminer.gold, aminer.groups, strict=True) if grp == g}) for g in held}
    name = max(people, key=lambda g: (people[g], g))
    data = aminer.subset({name})
    labels = cluster_mentions(data.mentions).labels
    _, _, f_model = b3(labels, data.gold)
    _, _, f_block = b3([0] * len(data.gold), data.gold)
    assert f_model > f_block


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
