"""Did-you-mean for a query that matched nothing: the nearest words the index actually holds.

Suggestions come from the index's own vocabulary (tantivy's term dictionary, read with ``terms_with_prefix``), so
they name only words some paper has: a typo ("transfromer") becomes a word that exists, a nonsense string gets
no suggestion at all rather than an invented one.  Only words that occur in no paper are replaced; a suggestion
is offered when the corrected query finds papers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rapidfuzz import fuzz, process

from . import query as q
from .index import NAME_ANALYZER, analyzer

SIMILARITY = 70  # rapidfuzz ratio (0..100) a vocabulary word needs to be offered for a typed one (two swapped
# letters in a 7-letter stem score 71)
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


def nearest_word(searcher: Any, schema: Any, word: str) -> str | None:
    """The indexed word closest to ``word`` (same first two letters, an edit or two away), or None.

    Title words are indexed stemmed ("definitions" as "definit"), so the typed word's stem is compared with them,
    and the winner is shown as a word some title actually has (:func:`surface`); names are unstemmed."""
    if len(word) < 4:
        return None
    stem = (analyzer(q.ANALYZER).analyze(word) or [word])[0]
    best: tuple[float, int, str, str] | None = None  # (similarity, frequency, field, term)
    for name, typed in (("title", stem), ("authors", word)):
        terms = {t: int(f) for t, f in searcher.terms_with_prefix(name, typed[:2], limit=SCAN)
                 if t != typed and len(t) >= 3}
        if not terms:
            continue
        for term, similarity, _ in process.extract(typed, list(terms), scorer=fuzz.ratio,
                                                   score_cutoff=SIMILARITY, limit=5):
            key = (float(similarity), terms[term], name, term)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is None:
        return None
    return best[3] if best[2] == "authors" else surface(searcher, schema, best[3], word)


def surface(searcher: Any, schema: Any, stem: str, typed: str) -> str:
    """The word, as titles write it, whose stem is ``stem`` and which is closest to what was typed ("transfromer"
    -> "transformer", not "transformational"); the stem itself when no title shows one."""
    import tantivy as t

    forms: Counter[str] = Counter()
    for _, address in searcher.search(t.Query.term_query(schema, "title", stem), 20, count=False).hits:
        for token in analyzer(NAME_ANALYZER).analyze(searcher.doc(address).get_first("title") or ""):
            if (analyzer(q.ANALYZER).analyze(token) or [""])[0] == stem:
                forms[token] += 1
    if not forms:
        return stem
    return max(forms, key=lambda f: (fuzz.ratio(typed, f), forms[f]))


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
            near = nearest_word(searcher, schema, token)
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
