"""People queries: when what was typed reads as a person's name, that person's papers come first.

A search box gets names as often as topics ("Dan Klein", "D. Klein", "Klein, Dan", ``author:"Dan Klein"``).
BM25 treats the two words as two unrelated terms, so a paper titled "Editorial" by someone named Dan and someone
named Klein can outrank every paper Dan Klein wrote.  Here a query that *could* be a name becomes tantivy phrase
queries on the ``authors`` field (names are indexed unstemmed, one value per author, in written order):

- ``exact``: the words as one name, given names first ("Klein, Dan" is turned around at the comma); a one-letter
  word stands for any given name with that initial ("D. Klein" finds "Dan Klein" and "D. Klein");
- ``loose``: the same with one extra word allowed in between (a middle name or initial the query left out:
  "Christopher Manning" finds "Christopher D. Manning").

The engine ranks papers matching ``exact`` first, then ``loose``, then the rest; a query that names nobody
matches no author phrase, so it costs one or two empty term look-ups and changes nothing.  We match on the
index, not on the disambiguated identities: the text says a name, and which person of that name is meant is the
People box's question (it lists the identities), not the ranking's.
"""

from __future__ import annotations

import re
from typing import Any

from .index import NAME_ANALYZER, analyzer
from .query import ParsedQuery

MAX_NAME_WORDS = 5
_NAME_WORD = re.compile(r"^[^\W\d_][\w.'\-]*$", re.UNICODE)  # starts with a letter; no digits-only tokens


def _tokens(text: str) -> list[str]:
    return [tok for tok in analyzer(NAME_ANALYZER).analyze(text) if tok]


def name_readings(parsed: ParsedQuery) -> list[list[str]]:
    """The query as a person's name, given names first (analysed tokens), or [] when it cannot be one.

    Only a query made of 2..5 plain words (or one ``author:"..."`` phrase) can be a name: no phrase on other
    fields, no prefix, no identifier, no digits.
    """
    positive = parsed.positive
    if not positive:
        return []
    if len(positive) == 1 and positive[0].fields == ("authors",) and positive[0].kind in ("term", "phrase"):
        words = _tokens(positive[0].text.strip('"'))
        return [words] if len(words) >= 2 else []
    def plain_word(c: Any) -> bool:  # a typed word; "Jin-Dong" or "Callison-Burch" is a two-token phrase clause
        if c.kind == "phrase" and not c.text.startswith('"'):
            return True
        return c.kind == "term" and (c.fields == ("authors",) or len(c.fields) > 1)

    if not all(plain_word(c) for c in positive):
        return []
    typed = [c.text for c in positive]
    if not 2 <= len(typed) <= MAX_NAME_WORDS or not all(_NAME_WORD.match(w.strip(",")) for w in typed):
        return []
    raw = " ".join(typed)
    if "," in raw:  # "Klein, Dan": surname before the comma
        surname, _, given = raw.partition(",")
        words = _tokens(given) + _tokens(surname)
    else:
        words = _tokens(raw)
    if len(words) < 2 or len(words[-1]) < 2:  # the surname is written out
        return []
    return [words]


def _phrase(schema: Any, words: list[str], slop: int) -> Any:
    import tantivy as t

    if any(len(w) == 1 for w in words[:-1]):  # an initial stands for any given name starting with it
        patterns = [f"{re.escape(w)}[^ ]*" if len(w) == 1 else re.escape(w) for w in words]
        return t.Query.regex_phrase_query(schema, "authors", patterns, slop=slop)
    return t.Query.phrase_query(schema, "authors", words, slop=slop)


def name_tiers(schema: Any, parsed: ParsedQuery) -> list[tuple[str, Any]]:
    """``[("name", exact), ("name, middle names", loose)]`` tantivy queries, or [] when the query is no name."""
    import tantivy as t

    tiers: list[tuple[str, Any]] = []
    for words in name_readings(parsed):
        exact = _phrase(schema, words, 0)
        loose = _phrase(schema, words, 1)
        tiers.append(("author name", exact))
        tiers.append(("author name with a middle name",
                      t.Query.boolean_query([(t.Occur.Must, loose), (t.Occur.MustNot, exact)])))
    return tiers
