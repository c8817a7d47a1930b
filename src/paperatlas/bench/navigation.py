"""Navigational queries for ``paperatlas bench relevance``, drawn at random (seeded) from the store it runs on.

A search box is asked for people, for titles someone half-remembers, and for typos and nonsense.  The TL;DR set
measures topical retrieval; these three measure the rest, on whatever store the bench is pointed at (``--data-dir``),
so a ranking tuned to one store's names shows up on another's:

- ``author_p_at_10``: author names with at least ``MIN_PAPERS`` papers; the share of the top 10 (the top n for a
  person with n < 10 papers) that have an author of that name.  A paper counts when one of its authors has the same
  name tokens, or the same first and last tokens (a middle name written or not), folded as the index folds them;
- ``title_mrr``: exact titles; reciprocal rank of the first result whose (folded) title is the query's, 0 beyond
  the top 10 (two papers with one title are the same answer to the person typing it);
- ``nonsense_with_results``: random letter strings that are no word of the index (plain, ``title:``, quoted as
  a phrase); the share of them that return any paper (it should be 0).
"""

from __future__ import annotations

import random
import string
from collections import defaultdict
from typing import Any

from ..store import Store

MIN_PAPERS = 3
AUTHORS = 60
TITLES = 100
NONSENSE = 30
SEED = 18


def _fold(text: str) -> list[str]:
    from ..search.index import NAME_ANALYZER, analyzer

    return [tok for tok in analyzer(NAME_ANALYZER).analyze(text or "") if tok]


def same_name(query: list[str], author: list[str]) -> bool:
    if not query or not author:
        return False
    return query == author or (query[0] == author[0] and query[-1] == author[-1])


def author_names(store: Store, rng: random.Random, count: int) -> list[tuple[str, int]]:
    """Author names (as written) with at least MIN_PAPERS papers each, with that count; ``count`` drawn."""
    rows = store.db.query_tuples(
        "SELECT name, COUNT(DISTINCT paper_id) FROM authorships GROUP BY name HAVING COUNT(DISTINCT paper_id) >= ? "
        "ORDER BY name", (MIN_PAPERS,))
    named = [(str(n), int(c)) for n, c in rows if n and len(_fold(str(n))) >= 2]
    return rng.sample(named, min(count, len(named)))


def titles(store: Store, rng: random.Random, count: int) -> list[tuple[int, str]]:
    rows = store.db.query_tuples("SELECT id, title FROM papers WHERE title IS NOT NULL ORDER BY id")
    usable = [(int(i), str(t)) for i, t in rows if len(_fold(str(t))) >= 3]
    return rng.sample(usable, min(count, len(usable)))


def nonsense(store: Store, rng: random.Random, count: int) -> list[str]:
    """Strings of random letters that no paper contains (checked against the index), in three forms."""
    import tantivy as t

    from ..search.index import open_index

    index = open_index(store)
    searcher = index.searcher()
    schema = index.schema

    def unknown(word: str) -> bool:
        return all(searcher.search(t.Query.term_query(schema, f, word), 1, count=True).count == 0
                   for f in ("title", "abstract", "authors", "venue"))

    def word() -> str:
        while True:
            candidate = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 9)))
            if unknown(candidate):
                return candidate

    out = []
    for k in range(count):
        form = k % 3
        out.append(word() if form == 0 else f"title:{word()}" if form == 1 else f'"{word()} {word()}"')
    return out


def navigational(store: Store, seed: int = SEED) -> dict[str, Any]:
    """The three sets' figures on ``store`` (which must have a search index)."""
    from ..search import search_papers

    rng = random.Random(seed)
    people = author_names(store, rng, AUTHORS)
    precisions = []
    worst: list[tuple[float, str]] = []
    for name, n_papers in people:
        want = _fold(name)
        k = min(10, n_papers)
        found = search_papers(store, name, limit=k, facets=False)["results"]
        good = sum(1 for r in found[:k] if any(same_name(want, _fold(a)) for a in r["authors"]))
        precisions.append(good / k)
        worst.append((good / k, name))
    known = titles(store, rng, TITLES)
    rr = []
    title_key: dict[int, list[str]] = defaultdict(list)
    for pid, title in known:
        title_key[pid] = _fold(title)
        found = search_papers(store, title, limit=10, facets=False)["results"]
        rank = next((i for i, r in enumerate(found, 1) if _fold(r["title"]) == title_key[pid]), None)
        rr.append(1.0 / rank if rank else 0.0)
    strings = nonsense(store, rng, NONSENSE)
    answered = [s for s in strings if search_papers(store, s, limit=1, facets=False)["total"] > 0]
    return {
        "author_p_at_10": round(sum(precisions) / max(1, len(precisions)), 4),
        "title_mrr": round(sum(rr) / max(1, len(rr)), 4),
        "nonsense_with_results": round(len(answered) / max(1, len(strings)), 4),
        "navigational": {
            "seed": seed, "author_queries": len(people), "title_queries": len(known),
            "nonsense_queries": len(strings), "min_papers_per_author": MIN_PAPERS,
            "worst_authors": [f"{name} {p:.1f}" for p, name in sorted(worst)[:5]],
            "nonsense_answered": answered[:5],
        },
    }
