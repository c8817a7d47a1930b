"""Did-you-mean for a query that matched nothing: the nearest words the index actually holds.

Suggestions come from the index's own vocabulary (tantivy's term dictionary, read with ``terms_with_prefix``), so
they name only words some paper has: a typo ("transfromer") becomes a word that exists, a nonsense string gets
no suggestion at all rather than an invented one.  Only words that occur in no paper are replaced; a suggestion
is offered when the corrected query finds papers.
"""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz, process

from . import query as q
from .index import NAME_ANALYZER, analyzer

SIMILARITY = 75  # rapidfuzz ratio (0..100) a vocabulary word needs to be offered for a typed one
SCAN = 4000  # vocabulary words read per two-letter prefix
FIELDS = ("title", "authors", "abstract")


def _known(searcher: Any, schema: Any, word: str) -> bool:
    import tantivy as t

    stem = (analyzer(q.ANALYZER).analyze(word) or [word])[0]
    for name in FIELDS:
        token = word if name == "authors" else stem
        if searcher.search(t.Query.term_query(schema, name, token), 1, count=True).count:
            return True
    return False


def nearest_word(searcher: Any, word: str) -> str | None:
    """The indexed word closest to ``word`` (same first letter, an edit or two away), or None."""
    if len(word) < 3:
        return None
    choices: dict[str, int] = {}
    for name in ("authors", "title"):  # unstemmed names first, then title words (stemmed, but readable)
        for term, freq in searcher.terms_with_prefix(name, word[:2], limit=SCAN):
            if term != word and len(term) >= 3:
                choices[term] = max(choices.get(term, 0), int(freq))
    if not choices:
        return None
    found = process.extract(word, list(choices), scorer=fuzz.ratio, score_cutoff=SIMILARITY, limit=5)
    if not found:
        return None
    best = max(found, key=lambda f: (f[1], choices[f[0]]))
    return best[0]


def did_you_mean(searcher: Any, schema: Any, parsed: q.ParsedQuery, limit: int = 3) -> list[str]:
    """Corrected queries (each finds papers), at most ``limit``; [] when no typed word has a near neighbour."""
    words = [c.text for c in parsed.positive if c.kind in ("term", "prefix") and len(c.fields) > 1]
    if not words:
        return []
    fixed: list[str] = []
    changed = False
    for typed in words:
        token = (analyzer(NAME_ANALYZER).analyze(typed) or [""])[0]
        if token and not _known(searcher, schema, token):
            near = nearest_word(searcher, token)
            if near:
                fixed.append(near)
                changed = True
                continue
        fixed.append(typed)
    if not changed:
        return []
    suggestion = " ".join(fixed)
    check = q.text_query(schema, q.parse(suggestion), all_words=False, searcher=searcher)
    if not searcher.search(check, 1, count=True).count:
        return []
    return [suggestion][:limit]
