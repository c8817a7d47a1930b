"""Blocking and name variants, and the hard rules of the clustering."""

from __future__ import annotations

from paperatlas.disambiguation.clustering import cluster_mentions
from paperatlas.disambiguation.mentions import Mention
from paperatlas.disambiguation.names import compatible, first_names_compatible, parts_of, query_parts


def test_blocks_join_name_variants():
    variants = ["Jacob Steinhardt", "J. Steinhardt", "Jacob N. Steinhardt", "Steinhardt, Jacob", "JACOB STEINHARDT"]
    assert {parts_of(v).block for v in variants} == {"steinhardt j"}
    assert parts_of("José Müller-Lüdenscheidt").block == "mullerludenscheidt j"
    assert parts_of("Ludwig van Beethoven").block == parts_of("L. Beethoven").block == "beethoven l"
    assert parts_of("Xiao-Ming Li").first == parts_of("Xiaoming Li").first == "xiaoming"
    assert parts_of("Jun Wang 0006").homonym == "0006"
    assert parts_of("Jun Wang 0006").block == "wang j"


def test_first_name_compatibility():
    assert first_names_compatible("j", "jacob")
    assert first_names_compatible("alex", "alexander")
    assert first_names_compatible("elizabeth", "elisabeth")  # name variant pair shipped with the model
    assert first_names_compatible("alec", "alexander")
    assert not first_names_compatible("jun", "jing")
    assert not first_names_compatible("jacob", "james")
    assert not compatible(parts_of("Jun Wang 0006"), parts_of("Jun Wang 0007"))


def test_a_written_out_given_name_abbreviates_only_itself():
    """Chinese given names are syllables: a shorter one written out is a different name, not an abbreviation."""
    four = ["Xin Wang", "Xing Wang", "Xinggang Wang", "Xinbing Wang"]
    for k, a in enumerate(four):
        for b in four[k + 1:]:
            assert not compatible(parts_of(a), parts_of(b)), (a, b)
    for a, b in [("Yan Song", "Yangqiu Song"), ("Han Liu", "Hanyu Liu"), ("Yanlin Wang", "Yanling Wang"),
                 ("Zhuo Zhang", "Zhuosheng Zhang"), ("Chen Zhao", "Chenlong Zhao"), ("Ming Gao", "Mingye Gao")]:
        assert not compatible(parts_of(a), parts_of(b)), (a, b)
    assert compatible(parts_of("X. Wang"), parts_of("Xinggang Wang"))


def test_one_given_name_written_several_ways():
    same = ["Xinggang Wang", "Xing-Gang Wang", "Xing Gang Wang", "Xing G. Wang", "XINGGANG WANG"]
    for a in same:
        for b in same:
            assert compatible(parts_of(a), parts_of(b)), (a, b)
    assert not compatible(parts_of("Xing Gang Wang"), parts_of("Xingbo Wang"))
    # a dropped or added middle name is no conflict: evidence decides
    assert compatible(parts_of("Xin Eric Wang"), parts_of("Xin Wang"))
    # diacritics and their German spelling; romanizations of one Slavic name
    assert compatible(parts_of("Jürgen Schmidhuber"), parts_of("Juergen Schmidhuber"))
    assert compatible(parts_of("Jürgen Schmidhuber"), parts_of("Jurgen Schmidhuber"))
    for a, b in [("Sergey Levine", "Sergei Levine"), ("Dmitry Vetrov", "Dmitrii Vetrov"),
                 ("Aleksei Petrov", "Alexei Petrov"), ("Yuriy Nesterov", "Yurii Nesterov")]:
        assert compatible(parts_of(a), parts_of(b)), (a, b)
    # pinyin spellings the romanization rule must leave alone
    assert not compatible(parts_of("Xue Li"), parts_of("Xu Li"))
    assert not compatible(parts_of("Mou Li"), parts_of("Mo Li"))
    # nickname pairs from the shipped table
    assert compatible(parts_of("Dan Klein"), parts_of("Daniel Klein"))
    assert compatible(parts_of("Chris Re"), parts_of("Christopher Re"))


def test_chained_evidence_never_joins_two_given_names():
    """Xin Wang and Xinggang Wang with the same coauthors, venue and topic stay two people; an initial may go
    with either."""
    base = dict(coauthors=["Wenyu Liu", "Chang Huang"], venue="CVPR", title="instance segmentation transformers")
    mentions = [_m(1, "p1", "Xinggang Wang", year=2021, **base), _m(2, "p2", "Xinggang Wang", year=2022, **base),
                _m(3, "p3", "Xin Wang", year=2022, **base), _m(4, "p4", "X. Wang", year=2023, **base),
                _m(5, "p5", "Xing-Gang Wang", year=2020, **base)]
    labels = cluster_mentions(mentions).labels.tolist()
    assert labels[0] == labels[1] == labels[4]
    assert labels[2] != labels[0]


def test_swapped_order_reading():
    readings = query_parts("Steinhardt Jacob")
    assert any(r.block == "steinhardt j" and r.first == "jacob" for r in readings)


def _m(key, paper, name, **kw):
    return Mention(key=key, paper=paper, name=name, **kw)


def test_hard_rules_override_the_model():
    same_evidence = dict(coauthors=["Percy Liang", "Tatsunori Hashimoto"], title="robust statistics of learning",
                         venue="NeurIPS", year=2020)
    mentions = [
        _m(1, "p1", "Jacob Steinhardt", orcid="0000-0001", **same_evidence),
        _m(2, "p2", "Jacob Steinhardt", orcid="0000-0002", **same_evidence),  # different ORCID: different person
        _m(3, "p3", "James Steinhardt", **same_evidence),  # incompatible forename
        _m(4, "p1", "J. Steinhardt", **same_evidence),  # same paper as 1: cannot be the same person
    ]
    labels = cluster_mentions(mentions).labels.tolist()
    assert labels[0] != labels[1] and labels[0] != labels[3]
    assert labels[2] not in (labels[0], labels[1])  # "James" may be "J." but never "Jacob"
    # same ORCID joins even without any other evidence
    apart = [_m(1, "a", "Jacob Steinhardt", orcid="x", title="poetry"), _m(2, "b", "J. Steinhardt", orcid="x")]
    labels = cluster_mentions(apart).labels
    assert labels[0] == labels[1]


def test_shared_coauthors_join_and_pins_are_obeyed():
    base = dict(coauthors=["Percy Liang", "Tatsunori Hashimoto"], venue="ICML", title="certified defenses for data")
    mentions = [_m(i, f"p{i}", "Jacob Steinhardt", year=2017 + i, **base) for i in range(4)]
    assert len(set(cluster_mentions(mentions).labels.tolist())) == 1
    pins = ["a1", "a1", "a2", None]
    labels = cluster_mentions(mentions, pins=pins).labels
    assert labels[0] == labels[1] != labels[2]
