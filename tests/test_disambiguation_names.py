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
