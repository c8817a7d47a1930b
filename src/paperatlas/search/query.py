"""Turning whatever a person types into a tantivy query, without ever raising.

The query language is small on purpose, and every input has a meaning:

- words: each must match somewhere in title, abstract, authors or venue (all words first; when too few papers
  match all of them, the engine falls back to any word, ranked by BM25);
- ``"a phrase"``: the words in that order, in the title or the abstract; an unbalanced quote just ends;
- ``prefix*``: any word starting with it (at least two characters);
- ``-word`` or ``NOT word``: papers without it; ``AND`` / ``OR`` / ``&&`` / ``||`` are accepted and ignored
  (words already combine);
- ``title:``, ``abstract:``, ``author:``, ``venue:`` restrict a word or phrase to one field; an identifier
  (``arxiv:1706.03762``, a bare arXiv id or DOI) also finds the paper it names.

Anything else (parentheses, SQL fragments, FTS5 syntax, control characters) is punctuation: the analyzer drops it
and the remaining words are searched.  We build the query from tantivy's ``Query`` constructors rather than its
query-parser string syntax, so no user text is ever interpreted as syntax and nothing can fail to parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..store.papers import parse_ref
from .index import ANALYZER, NAME_ANALYZER, TEXT_FIELDS, analyzer

FIELD_ALIASES = {"title": "title", "ti": "title", "abstract": "abstract", "abs": "abstract", "author": "authors",
                 "authors": "authors", "au": "authors", "venue": "venue", "journal": "venue"}
_OPERATORS = {"and", "or", "&&", "||", "+"}
_TOKEN = re.compile(r'(-?)(?:(\w+):)?"([^"]*)"?|(\S+)')
_PREFIX_OK = re.compile(r"^[a-z0-9]{2,}$")
PHRASE_FIELDS = ("title", "abstract")


@dataclass
class Clause:
    kind: str  # "term" | "phrase" | "prefix" | "id"
    words: list[str]  # analyzed tokens (for "prefix": the folded, unstemmed prefix; for "id": scheme:value)
    fields: tuple[str, ...]
    negated: bool = False
    text: str = ""  # what the person typed, for messages


@dataclass
class ParsedQuery:
    clauses: list[Clause] = field(default_factory=list)
    raw: str = ""

    @property
    def positive(self) -> list[Clause]:
        return [c for c in self.clauses if not c.negated]

    @property
    def empty(self) -> bool:
        return not self.positive

    def free_text(self) -> str:
        """The words and phrases as plain text: what the semantic half embeds."""
        return " ".join(c.text for c in self.positive if c.kind != "id").strip()


def _analyze(text: str, name: str = ANALYZER) -> list[str]:
    return [tok for tok in analyzer(name).analyze(text) if tok]


def parse(raw: str | None) -> ParsedQuery:
    """Never raises: unknown syntax becomes words, words without letters or digits vanish."""
    text = "".join(ch if ch.isprintable() else " " for ch in (raw or ""))[:1000]
    parsed = ParsedQuery(raw=text)
    negate_next = False
    for match in _TOKEN.finditer(text):
        minus, field_name, phrase, word = match.groups()
        if word is not None:
            minus = ""
            field_name = None
            if word.upper() == "NOT":
                negate_next = True
                continue
            if word.lower() in _OPERATORS:
                continue
            if word.startswith("-") and len(word) > 1:
                minus, word = "-", word[1:]
            head, sep, tail = word.partition(":")
            if sep and head.lower() in FIELD_ALIASES and tail:
                field_name, word = head, tail
            elif sep and (ref := parse_ref(word)) is not None:
                parsed.clauses.append(Clause("id", [f"{ref[0]}:{ref[1]}"], ("ids",), bool(minus) or negate_next,
                                             word))
                negate_next = False
                continue
            elif parse_ref(word) is not None and re.match(r"^\d{4}\.\d{4,5}(v\d+)?$|^10\.\d{4,9}/", word):
                ref = parse_ref(word)
                parsed.clauses.append(Clause("id", [f"{ref[0]}:{ref[1]}"], ("ids",), False, word))
                # a bare id is also searched as words below (it may be a number in an abstract)
        negated = bool(minus) or negate_next
        negate_next = False
        fields = (FIELD_ALIASES[field_name.lower()],) if field_name and field_name.lower() in FIELD_ALIASES else None
        if phrase is not None:
            if field_name and not fields:  # "foo:"bar"" with an unknown field: both are words
                phrase = f"{field_name} {phrase}"
            tokens = _analyze(phrase, NAME_ANALYZER if fields == ("authors",) else ANALYZER)
            if len(tokens) > 1:
                parsed.clauses.append(Clause("phrase", tokens, fields or PHRASE_FIELDS, negated, f'"{phrase}"'))
            elif tokens:
                parsed.clauses.append(Clause("term", tokens, fields or tuple(TEXT_FIELDS), negated, phrase))
            continue
        if word.endswith("*"):
            stem = word.rstrip("*")
            folded = _analyze(stem, NAME_ANALYZER)
            if len(folded) == 1 and _PREFIX_OK.match(folded[0]):
                parsed.clauses.append(Clause("prefix", folded, fields or ("title", "abstract", "authors"), negated,
                                             stem))
                continue
            word = stem
        tokens = _analyze(word, NAME_ANALYZER) if fields == ("authors",) else _analyze(word)
        if len(tokens) > 1:  # "graph-based" -> the phrase "graph base", as Lucene does; "Jin-Dong" is a name too
            parsed.clauses.append(Clause("phrase", tokens, fields or (*PHRASE_FIELDS, "authors"), negated, word))
        elif tokens:
            parsed.clauses.append(Clause("term", tokens, fields or tuple(TEXT_FIELDS), negated, word))
    return parsed


def _field_tokens(clause: Clause, field_name: str) -> list[str]:
    """Tokens for one field: author names are indexed unstemmed, so re-analyze the typed text for them."""
    if field_name == "authors" and clause.kind in ("term", "phrase"):
        return _analyze(clause.text.strip('"'), NAME_ANALYZER)
    return clause.words


PREFIX_EXPANSIONS = 64


def _prefix_terms(searcher: Any, field_name: str, prefix: str) -> list[str]:
    """The most frequent indexed terms starting with ``prefix`` (stemmed fields: with its stem's prefix).

    Expanding to real terms, instead of a regex query, lets the snippet generator highlight what matched and
    bounds the cost of a two-letter prefix on a million papers.
    """
    if field_name != "authors":
        stem = (_analyze(prefix) or [prefix])[0]
        common = 0
        while common < min(len(stem), len(prefix)) and stem[common] == prefix[common]:
            common += 1
        prefix = prefix[: max(common, 2)]
    return [term for term, _ in searcher.terms_with_prefix(field_name, prefix, limit=PREFIX_EXPANSIONS)]


def clause_query(schema: Any, clause: Clause, searcher: Any = None) -> Any:
    import tantivy as t

    parts = []
    for name in clause.fields:
        boost = TEXT_FIELDS.get(name, 1.0)
        if clause.kind == "id":
            q = t.Query.term_query(schema, "ids", clause.words[0].lower())
            boost = 50.0
        elif clause.kind == "prefix" and searcher is not None:
            terms = _prefix_terms(searcher, name, clause.words[0])
            if not terms:
                continue
            q = t.Query.boolean_query([(t.Occur.Should, t.Query.term_query(schema, name, term)) for term in terms])
        elif clause.kind == "prefix":
            q = t.Query.regex_query(schema, name, re.escape(clause.words[0]) + ".*")
        else:
            tokens = _field_tokens(clause, name)
            if not tokens:
                continue
            if len(tokens) == 1:
                q = t.Query.term_query(schema, name, tokens[0])
            else:
                q = t.Query.phrase_query(schema, name, tokens)
        parts.append(t.Query.boost_query(q, boost) if boost != 1.0 else q)
    if not parts:
        return t.Query.empty_query()
    if len(parts) == 1:
        return parts[0]
    return t.Query.boolean_query([(t.Occur.Should, p) for p in parts])


def text_query(schema: Any, parsed: ParsedQuery, *, all_words: bool, searcher: Any = None) -> Any:
    """The full-text part: positive clauses combined with AND (``all_words``) or OR, negated ones excluded.

    Identifier clauses are always optional boosts: they lift the paper named, never exclude the others.
    """
    import tantivy as t

    subs = []
    for clause in parsed.clauses:
        q = clause_query(schema, clause, searcher)
        if clause.negated:
            subs.append((t.Occur.MustNot, q))
        elif clause.kind == "id" or not all_words:
            subs.append((t.Occur.Should, q))
        else:
            subs.append((t.Occur.Must, q))
    if not any(occ != t.Occur.MustNot for occ, _ in subs):
        subs.append((t.Occur.Must, t.Query.all_query()))
    return t.Query.boolean_query(subs)
