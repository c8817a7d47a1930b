"""The offline evaluation's protocol on a tiny hand-made file in the real AAN format, and its two metrics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from paperatlas.bench.recommend_data import load_corpus, make_split
from paperatlas.bench.recommend_eval import TfidfSvm, evaluate, ndcg_at, prepare, recall_at, top
from paperatlas.sources.base import ErrorSink

METADATA = """id = {O06-0001}
author = {Old, One}
title = {Statistical parsing of old text}
venue = {ACL}
year = {2006}

id = {O06-0002}
author = {Old, Two}
title = {Old machine translation models}
venue = {ACL}
year = {2006}

id = {X07-0004}
author = {Ancient, Xavier}
title = {Too old to be a candidate}
venue = {ACL}
year = {2007}

id = {X08-0001}
author = {Smith, John}
title = {Parsing with neural networks}
venue = {EMNLP}
year = {2008}

id = {X09-0002}
author = {Doe, Jane}
title = {Translation with phrase tables}
venue = {ACL}
year = {2009}

id = {X09-0003}
author = {Roe, Rick}
title = {Speech recognition for dialogue}
venue = {ACL}
year = {2009}

id = {R09-0001}
author = {Reader, Ann}
title = {A reader's earlier paper on parsing}
venue = {ACL}
year = {2009}

this line is not a field
id = {L09-0001}
author = {Lonely, Lou}
title = {A lonely earlier paper}
venue = {ACL}
year = {2009}

id = {R10-0001}
author = {Reader, Ann; Co, Bob}
title = {The reader's paper of the year}
venue = {ACL}
year = {2010}

id = {L10-0001}
author = {Lonely, Lou}
title = {A paper citing nothing new}
venue = {ACL}
year = {2010}
"""

EDGES = """R09-0001 ==> O06-0001
R09-0001 ==> O06-0002
R09-0001 ==> X09-0002
L09-0001 ==> O06-0001
L09-0001 ==> O06-0002
R10-0001 ==> X08-0001
R10-0001 ==> X09-0002
R10-0001 ==> X07-0004
L10-0001 ==> O06-0001
this is not an edge
R10-0001 ==> Z99-9999
"""


@pytest.fixture
def corpus(tmp_path: Path):
    (tmp_path / "acl-metadata.txt").write_text(METADATA)
    (tmp_path / "acl.txt").write_text(EDGES)
    errors = ErrorSink(echo=False)
    loaded = load_corpus(tmp_path, errors)
    assert errors.count == 2  # the broken metadata line and the broken edge, reported, not fatal
    return loaded


def test_readers_library_candidates_and_relevant_follow_the_protocol(corpus):
    split = make_split(corpus, 2010, min_library=2)
    idx = corpus.index
    # candidates: every paper of 2008 and 2009, whoever wrote it
    assert sorted(corpus.ids[i] for i in split.candidates) == [
        "L09-0001", "R09-0001", "X08-0001", "X09-0002", "X09-0003"]
    # Ann: a 2010 paper and 3 papers cited before 2010.  Bob has a 2010 paper but cited nothing before: not a
    # reader.  Lou qualifies but cites no candidate in 2010: counted apart, not averaged.
    assert [r.name for r in split.readers] == ["ann reader"]
    assert split.readers_without_relevant == 1
    ann = split.readers[0]
    assert sorted(corpus.ids[i] for i in ann.library) == ["O06-0001", "O06-0002", "X09-0002"]
    # X09-0002 is cited again in 2010 but is already in her library; X07-0004 is too old; Z99 is not in the corpus
    assert {corpus.ids[i] for i in ann.relevant} == {"X08-0001"}
    assert ann.own_papers == [idx["R09-0001"]]
    # citations received from papers published before 2010 only
    assert split.citations_before[idx["O06-0001"]] == 2
    assert split.citations_before[idx["X08-0001"]] == 0


def test_min_library_is_a_threshold(corpus):
    assert make_split(corpus, 2010, min_library=4).readers == []
    assert make_split(corpus, 2010, min_library=4).readers_without_relevant == 0


def test_ndcg_and_recall_by_hand():
    relevant = {3, 7}
    ranked = np.array([5, 3, 9, 7])
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at(ranked, relevant) == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert ndcg_at(np.array([3, 7]), relevant) == pytest.approx(1.0)
    assert ndcg_at(np.array([1, 2]), relevant) == 0.0
    assert recall_at(ranked, relevant, k=2) == 0.5
    assert recall_at(ranked, relevant) == 1.0


def test_top_breaks_ties_by_id():
    assert top(np.array([1.0, 2.0, 2.0, 0.5]), np.array([40, 30, 10, 20]), 3).tolist() == [10, 30, 40]


def test_every_method_ranks_the_same_candidates(corpus):
    split = make_split(corpus, 2010, min_library=2)
    n = len(corpus.ids)
    vectors = np.eye(n, 8, dtype=np.float32) + 0.01
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    data = prepare(corpus, split, vectors)
    known = np.flatnonzero((corpus.years > 0) & (corpus.years < 2010))
    svm = TfidfSvm(corpus.titles, known, min_df=1, max_df=1.0)  # a tiny corpus: keep every word
    figures = evaluate(data, svm)
    assert set(figures) == {"paperatlas", "popularity", "tfidf_svm", "embedding_centroid"}
    for method in figures.values():
        # one relevant paper among four candidates (her library's X09-0002 is not offered): recall@50 is 1
        assert method["recall_at_50"] == 1.0
        assert 1 / math.log2(5) <= method["ndcg_at_10"] <= 1.0
