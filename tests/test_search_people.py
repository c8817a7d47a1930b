"""Search answers the question people type: names rank that person's papers first, nonsense finds nothing (with
did-you-mean from the index's words), and one query is one result set: the same total on every page, no paper
twice, paging that ends, any sort the same set, facet counts equal to what clicking them gives.

The store is 3,000 real arXiv papers; names, titles and words are drawn from it at random (seeded), never typed in.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from pathlib import Path

import pytest

from paperatlas.bench.navigation import same_name
from paperatlas.search import search_papers
from paperatlas.search.corpus import load_papers, oai_papers
from paperatlas.search.index import NAME_ANALYZER, analyzer
from paperatlas.search.stage import update
from paperatlas.store import open_store

N_REAL = 3000


def fold(text: str) -> list[str]:
    return [t for t in analyzer(NAME_ANALYZER).analyze(text) if t]


@pytest.fixture(scope="module")
def people_store(shared: Path, tmp_path_factory: pytest.TempPathFactory):
    """Real papers, plus for a few real prolific names decoys that BM25 prefers: short papers whose two authors
    carry the person's given name and surname separately (the "Editorial by Dan X and Y Klein" case)."""
    papers = list(oai_papers(shared, limit=N_REAL))
    counts = Counter(name for p in papers for name in p["authors"])
    rng = random.Random(5)
    prolific = sorted(n for n, c in counts.items() if c >= 3 and len(fold(n)) == 2 and len(fold(n)[0]) > 1)
    chosen = rng.sample(prolific, 6)
    surnames = sorted({p["authors"][0].split()[-1] for p in papers if p["authors"]})
    givens = sorted({p["authors"][0].split()[0] for p in papers if p["authors"] and len(p["authors"][0].split()) > 1})
    decoys = []
    for k, name in enumerate(chosen):
        given, surname = name.split()[0], name.split()[-1]
        for j in range(12):
            other = papers[rng.randrange(len(papers))]
            decoys.append({**other, "ids": {"s2corpus": f"decoy-{k}-{j}"},
                           "title": " ".join(other["title"].split()[:3]), "abstract": None, "journal_ref": None,
                           "authors": [f"{given} {rng.choice(surnames)}", f"{rng.choice(givens)} {surname}"]})
    store = open_store(tmp_path_factory.mktemp("people") / "data")
    load_papers(store, papers + decoys)
    update(store)
    yield store, papers, chosen
    store.close()


def _precision(store, query: str, name: str) -> float:
    want = fold(name)
    n = store.db.scalar("SELECT COUNT(DISTINCT paper_id) FROM authorships WHERE name = ?", (name,))
    k = min(10, int(n))
    found = search_papers(store, query, limit=k)["results"]
    return sum(1 for r in found[:k] if any(same_name(want, fold(a)) for a in r["authors"])) / k


def test_a_name_ranks_that_persons_papers_first(people_store):
    store, _, chosen = people_store
    for name in chosen:
        given, surname = name.split()[0], name.split()[-1]
        assert _precision(store, name, name) == 1.0, name
        assert _precision(store, f"{surname}, {given}", name) == 1.0, name
        assert _precision(store, f'author:"{name}"', name) == 1.0, name
        # "initial surname" reads as anyone with that initial: that person's papers still come before the decoys
        found = search_papers(store, f"{given[0]}. {surname}", limit=3)["results"]
        assert all(any(fold(a)[-1] == fold(surname)[-1] and fold(a)[0].startswith(fold(given)[0][0])
                       for a in r["authors"]) for r in found), name


def test_nonsense_finds_nothing_and_typos_get_did_you_mean(people_store):
    store, papers, _ = people_store
    rng = random.Random(11)
    for _ in range(12):
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 9)))
        for text in (word, f"title:{word}", f'"{word} {word[::-1]}"'):
            found = search_papers(store, text, limit=5)
            if found["total"]:  # a random string that happens to be a word of some paper is no nonsense
                assert any(word in r["title"].lower() + (r["snippet"] or "").lower() for r in found["results"])
                continue
            assert found["results"] == [] and found["message"].startswith("no papers match"), text
    # a real title word with two letters swapped: did-you-mean offers the word (it is in the index vocabulary)
    words = sorted({w for p in papers for w in fold(p["title"]) if len(w) >= 9 and w.isalpha()})
    tried = 0
    for word in rng.sample(words, 20):
        typo = word[:3] + word[4] + word[3] + word[5:]
        found = search_papers(store, typo, limit=5)
        if found["total"]:
            continue
        tried += 1
        assert found["suggestions"], typo
        assert search_papers(store, found["suggestions"][0], limit=1)["total"] > 0
    assert tried >= 5


def test_one_result_set_per_query(people_store):
    store, papers, _ = people_store
    rng = random.Random(3)
    queries = []
    for p in rng.sample(papers, 40):
        words = [w for w in fold(p["title"]) if len(w) > 4]
        if len(words) >= 2:
            queries.append(" ".join(rng.sample(words, 2)))
    checked = 0
    for text in queries[:15]:
        first = search_papers(store, text, limit=7, facets=True)
        total = first["total"]
        if not 0 < total <= 120:
            continue
        checked += 1
        seen: list[int] = []
        offset = 0
        while True:
            page = search_papers(store, text, limit=7, offset=offset)
            assert page["total"] == total, (text, offset)
            if not page["results"]:
                break
            seen += [r["paper_id"] for r in page["results"]]
            offset += 7
        assert len(seen) == len(set(seen)) == total, text  # no duplicates, and paging reaches exactly the total
        for sort in ("date", "citations", "trending"):
            resorted = search_papers(store, text, limit=500, sort=sort)
            assert resorted["total"] == total and {r["paper_id"] for r in resorted["results"]} == set(seen), sort
        for year, count in first["facets"]["year"].items():
            clicked = search_papers(store, text, limit=1, filters={"year_from": year, "year_to": year})
            assert clicked["total"] == count, (text, year)
        for category, count in first["facets"]["category"].items():
            clicked = search_papers(store, text, limit=1, filters={"category": category})
            assert clicked["total"] == count, (text, category)
    assert checked >= 5
