"""Highlighted snippets: html-escaped text with the matched words in ``<mark>``.

Two ways to cut them, with the same rule for what is a match (a word of the text whose analyzed form, through
the field's own analyzer, is one of the query's terms; for a ``prefix*`` clause, a word that starts with it):

- :class:`Highlighter`, used for every page: a compiled regex finds the few words of a text that could be query
  terms (they start with a term's first two letters), and only those go through the analyzer, cached per word.
  On ASCII text this marks exactly the words tantivy's tokenizer + stemmer would; it is ~5x cheaper than
  tantivy's ``SnippetGenerator``, which re-tokenizes and stems every word of every abstract (measured at 100k
  papers: 0.54 ms of a 1.1 ms keyword query went into 20 abstract snippets).
- tantivy's ``SnippetGenerator`` (:func:`snippet_html`), for texts with non-ASCII characters: ASCII folding can
  make ``Schrödinger`` match ``schrodinger`` in ways a regex over the raw text cannot see.

Every piece of text is html-escaped, so a title such as ``<script>`` or ``a < b`` never becomes markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from typing import Any

_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
_STEM_CACHES: dict[str, dict[str, str]] = {}  # analyzer -> word -> its one token ("" when it makes none or two)
_STEM_CACHE_MAX = 200_000


def mark(fragment: str, ranges: list[tuple[int, int]]) -> str:
    data = fragment.encode("utf-8")
    out: list[str] = []
    at = 0
    for start, end in sorted(ranges):
        if start < at or end > len(data):
            continue
        out.append(html.escape(data[at:start].decode("utf-8", "replace")))
        out.append("<mark>" + html.escape(data[start:end].decode("utf-8", "replace")) + "</mark>")
        at = end
    out.append(html.escape(data[at:].decode("utf-8", "replace")))
    return "".join(out)


def plain(text: str, max_chars: int) -> str:
    """The beginning of ``text`` (escaped), cut at a word when longer than ``max_chars``."""
    if len(text) <= max_chars:
        return html.escape(text)
    cut = text[:max_chars].rsplit(" ", 1)[0]
    return html.escape(cut) + " …"


def snippet_html(generator: Any | None, doc: Any, text: str, max_chars: int) -> str:
    """tantivy's best fragment of ``text`` for the query, or its beginning when no word of the query is in it.

    tantivy's own ``to_html`` escapes ``<``, ``>``, ``&`` and ``"`` in the text and wraps matches in ``<b>``; since
    every ``<`` of the text comes out escaped, each remaining ``<b>`` is a match and becomes ``<mark>``.
    """
    if generator is not None and text:
        try:
            snip = generator.snippet_from_doc(doc)
            marked = snip.to_html()
            if "<b>" in marked:
                fragment = snip.fragment()
                prefix = "" if text.startswith(fragment[:40]) else "… "
                suffix = "" if text.endswith(fragment[-40:]) else " …"
                return prefix + marked.replace("<b>", "<mark>").replace("</b>", "</mark>") + suffix
        except (ValueError, UnicodeError):
            pass
    return plain(text, max_chars)


def probe(term: str) -> str:
    """The start every word whose analyzed form is ``term`` has: the stem less its last letter (Snowball turns a
    final ``y`` into ``i``: happy -> happi), at most 4 and at least 2 letters; ``dying`` stems to ``die``."""
    if term in _IRREGULAR:
        return term[0]
    return term[: max(2, min(4, len(term) - 1))]


_IRREGULAR = {"die", "lie", "tie", "sky"}  # Snowball's exceptional forms whose stem is not a prefix of the word
_WORD_REST = re.compile(r"[a-z0-9]*")
_SPECIAL = re.compile(r"[&<>\"']")


class Highlighter:
    """Marks the query's words in one field's texts (see the module docstring).

    ``terms``: the query's analyzed terms for this field; ``prefixes``: lower-case prefixes of ``prefix*``
    clauses; ``analyze``: the field's analyzer (text -> tokens); ``analyzer_key`` names it in the word cache.
    Candidates are found with ``str.find`` on the lower-cased text (a regex alternation scans ~10x slower).
    """

    def __init__(self, terms: Iterable[str], prefixes: Iterable[str], analyze: Callable[[str], list[str]],
                 analyzer_key: str, max_chars: int) -> None:
        self.terms = frozenset(t for t in terms if t)
        self.prefixes = tuple(sorted({p for p in prefixes if p}))
        self.analyze = analyze
        self.cache = _STEM_CACHES.setdefault(analyzer_key, {})
        self.max_chars = max_chars
        probes = {probe(t) for t in self.terms} | set(self.prefixes)
        # a probe that starts with another one finds nothing more
        self.probes = tuple(p for p in sorted(probes) if not any(p != o and p.startswith(o) for o in probes))

    @property
    def empty(self) -> bool:
        return not self.probes

    def _stem(self, word: str) -> str:
        tokens = self.analyze(word)
        stem = tokens[0] if len(tokens) == 1 else ""
        if len(self.cache) >= _STEM_CACHE_MAX:
            self.cache.clear()
        self.cache[word] = stem
        return stem

    def matches(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, term) of each matched word, in text order (character offsets; ASCII text)."""
        low = text.lower()
        out = []
        terms, prefixes, cache, rest = self.terms, self.prefixes, self.cache, _WORD_REST
        for p in self.probes:
            at = low.find(p)
            while at >= 0:
                if at == 0 or not low[at - 1].isalnum():
                    end = rest.match(low, at + len(p)).end()
                    word = low[at:end]
                    hit = None
                    if prefixes:
                        hit = next((x for x in prefixes if word.startswith(x)), None)
                    if hit is None and terms:
                        stem = cache.get(word)
                        if stem is None:
                            stem = self._stem(word)
                        hit = stem if stem in terms else None
                    if hit is not None:
                        out.append((at, end, hit))
                    at = low.find(p, end)
                else:
                    at = low.find(p, at + 1)
        if len(self.probes) > 1:
            out.sort()
        return out

    def html(self, text: str) -> str | None:
        """The best fragment of ``text`` with its matches marked, or None when no word matches (or the text is not
        ASCII: then the caller asks tantivy's generator, see the module docstring)."""
        if not text or not self.probes or not text.isascii():
            return None
        found = self.matches(text)
        if not found:
            return None
        start, end = self._window(text, found)
        escape = html.escape if _SPECIAL.search(text, start, end) else _same
        parts = ["… "] if start > 0 else []
        at = start
        for s, e, _ in found:
            if s < start or e > end:
                continue
            parts.append(escape(text[at:s]))
            parts.append("<mark>")
            parts.append(escape(text[s:e]))
            parts.append("</mark>")
            at = e
        parts.append(escape(text[at:end]))
        if end < len(text):
            parts.append(" …")
        return "".join(parts)

    def _window(self, text: str, found: list[tuple[int, int, str]]) -> tuple[int, int]:
        """At most ``max_chars`` of text holding the most distinct terms (then the most matches), cut at words."""
        size = self.max_chars
        if len(text) <= size:
            return 0, len(text)
        first = found[0][0]
        if len(found) > 1 and found[-1][1] - first > size:
            # two pointers over the matches: the window starting at each match, its terms counted as it slides
            best = (-1, -1)
            counts: dict[str, int] = {}
            j = 0
            for i, (s, _, term) in enumerate(found):
                while j < len(found) and (j <= i or found[j][1] - s <= size):
                    counts[found[j][2]] = counts.get(found[j][2], 0) + 1
                    j += 1
                score = (len(counts), j - i)
                if score > best:
                    best, first = score, s
                left = counts[term] - 1
                if left:
                    counts[term] = left
                else:
                    del counts[term]
        # start a little before the first match, at a sentence or word boundary, so the fragment reads as text
        lead = max(0, first - size // 5)
        sentence = text.rfind(". ", lead, first)
        if first == 0:
            start = 0
        elif sentence >= 0:
            start = sentence + 2
        else:
            space = text.rfind(" ", 0, lead + 1) if lead > 0 else -1
            start = space + 1 if space >= 0 else 0
        end = start + size
        if end >= len(text):
            end = len(text)
            start = max(0, min(start, end - size))
            if start > 0:
                space = text.find(" ", start, first)
                start = space + 1 if space >= 0 else start
        else:
            space = text.rfind(" ", start, end)
            end = space if space > first else end
        return start, end


def _same(text: str) -> str:
    return text
