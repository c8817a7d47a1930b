"""Normalization of names, titles and identifiers, shared by readers, merge, disambiguation and search.

These functions decide what counts as "the same": the same name cluster (case-insensitive exact name after Unicode
normalization), the same title for merging, the same arXiv id or DOI whatever way a source spelled it.  Keeping
them in one place is what makes the stages agree with each other.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

_HOMONYM = re.compile(r"\s+(\d{4})$")
_SPACES = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "la", "le", "ter", "ten",
     "zu", "bin", "ibn", "al", "el"}
)
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def split_homonym(name: str) -> tuple[str, str | None]:
    """DBLP writes homonyms as ``Jun Wang 0006``: return the bare name and the homonym number (or None)."""
    name = name.strip()
    match = _HOMONYM.search(name)
    if match:
        return name[: match.start()].rstrip(), match.group(1)
    return name, None


# Names recur (an author writes many papers), so their keys are cached; titles are unique, and caching them only
# held memory (about 25 MB per 100,000 papers, in both ingest processes).  65,536 entries keep an ingest's
# memory flat whatever its size.
_NAME_CACHE = 65_536


@lru_cache(maxsize=_NAME_CACHE)
def name_key(name: str) -> str:
    """The name-cluster key: NFKC, case-folded, homonym number stripped, whitespace collapsed.

    Diacritics are kept (``Müller`` and ``Muller`` are different exact names); see :func:`ascii_fold` for the
    looser form that blocking and search use.
    """
    bare, _ = split_homonym(name)
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", bare).casefold()).strip()


@lru_cache(maxsize=_NAME_CACHE)
def ascii_fold(text: str) -> str:
    """Lower-case ASCII transliteration: ``Müller`` -> ``muller``, ``Łukasz`` -> ``lukasz``."""
    return _ascii_fold(text)


def _ascii_fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    return anyascii(unicodedata.normalize("NFKC", text)).lower()


def parse_name(name: str) -> tuple[str | None, str | None, str | None]:
    """Split a free-text personal name into (forenames, surname, suffix).

    Handles ``Surname, Forenames``, trailing suffixes (``Jr.``) and lower-case particles (``Ludwig van
    Beethoven`` -> surname ``van Beethoven``).  Sources that give parts (arXiv keyname/forenames) need not call it.
    """
    bare, _ = split_homonym(name)
    bare = _SPACES.sub(" ", bare).strip().strip(",")
    if not bare:
        return None, None, None
    suffix = None
    if "," in bare:
        head, _, tail = bare.partition(",")
        tail = tail.strip()
        if tail.lower().rstrip(".") in {s.rstrip(".") for s in _SUFFIXES}:
            bare, suffix = head.strip(), tail
        else:
            return (tail or None), head.strip() or None, None
    tokens = bare.split(" ")
    if len(tokens) > 1 and tokens[-1].lower() in _SUFFIXES:
        suffix = tokens.pop()
    if len(tokens) == 1:
        return None, tokens[0], suffix
    start = len(tokens) - 1
    while start > 1 and tokens[start - 1].lower() in PARTICLES:
        start -= 1
    return " ".join(tokens[:start]), " ".join(tokens[start:]), suffix


def full_name(forenames: str | None, surname: str | None, suffix: str | None = None) -> str:
    return " ".join(p for p in (forenames, surname, suffix) if p)


@lru_cache(maxsize=_NAME_CACHE)
def surname_key(surname: str | None) -> str:
    """Surname folded for matching across sources (diacritics, case, hyphens and particles ignored)."""
    if not surname:
        return ""
    tokens = [t for t in _NON_ALNUM.split(ascii_fold(surname)) if t]
    while len(tokens) > 1 and tokens[0] in PARTICLES:
        tokens.pop(0)
    return "".join(tokens)


_MARKUP = re.compile(r"<[^>]+>")
_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+")
# An accented letter in TeX: the letter alone, which is what ASCII folding makes of the Unicode spelling (ö -> o).
# Symbol accents take the next letter (\"o, \'{e}); letter accents need a space or braces (\c c, \H{o}, \v{\i}).
# Braces around the whole ({\"o}) go with it, so that a word stays one word (Gr{\"o}{\ss}e = Größe).
_LATEX_ACCENT = re.compile(
    r"\{?\\(?:[\"'`^~=.]\s*(?:\{\s*\\?([a-zA-Z])\s*\}|\\?([a-zA-Z]))"
    r"|[uvHckrbdt](?:\s*\{\s*\\?([a-zA-Z])\s*\}|\s+\\?([a-zA-Z])))\}?"
)
_LATEX_LETTERS = {"ss": "ss", "ae": "ae", "AE": "ae", "oe": "oe", "OE": "oe", "aa": "a", "AA": "a", "o": "o",
                  "O": "o", "l": "l", "L": "l", "i": "i", "j": "j"}
_LATEX_LETTER = re.compile(r"\{?\\(" + "|".join(sorted(_LATEX_LETTERS, key=len, reverse=True))
                           + r")(?![a-zA-Z])\s*\}?")
# Greek letters in TeX (\alpha, \Gamma, \varepsilon): what ASCII folding makes of the Unicode letter (α -> a).
_GREEK_NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
                "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega")


def _greek(name: str, case: str = "SMALL") -> str:
    letter = unicodedata.lookup(f"GREEK {case} LETTER {name.upper().replace('LAMBDA', 'LAMDA')}")
    return anyascii(letter).lower()


_GREEK = {**{name: _greek(name) for name in _GREEK_NAMES},
          **{name.capitalize(): _greek(name, "CAPITAL") for name in _GREEK_NAMES},
          **{f"var{name}": _greek(name) for name in ("epsilon", "theta", "pi", "rho", "sigma", "phi")}}


def _latex_word(match: re.Match) -> str:
    name = match.group(0)[1:]
    return _GREEK.get(name, " ")


def title_key(title: str | None) -> str:
    """Title folded for cross-source matching: ASCII, lower-case, markup and punctuation dropped, TeX accents and
    Greek letters read as the letters their Unicode spelling folds to (``Erd\\H{o}s`` = ``Erdős``, ``$\\alpha$`` =
    ``α``), other TeX commands dropped."""
    if not title:
        return ""
    text = _MARKUP.sub(" ", title) if "<" in title else title
    if "\\" in text:
        text = _LATEX_ACCENT.sub(lambda m: next(g for g in m.groups() if g), text)
        text = _LATEX_LETTER.sub(lambda m: _LATEX_LETTERS[m.group(1)], text)
        text = _LATEX_COMMAND.sub(_latex_word, text)
    return _NON_ALNUM.sub(" ", _ascii_fold(text)).strip()


_ARXIV_NEW = re.compile(r"(\d{4}\.\d{4,5})(v(\d+))?$")
_ARXIV_OLD = re.compile(r"([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v(\d+))?$", re.IGNORECASE)


_ARXIV_URL = re.compile(r"^https?://(export\.|www\.)?arxiv\.org/(abs|pdf)/")
_PDF = re.compile(r"\.pdf$")
_ARXIV_PLAIN = re.compile(r"(\d{4}\.\d{4,5})(?:v(\d+))?")


def parse_arxiv_id(raw: str) -> tuple[str, int | None] | None:
    """Canonical arXiv id and version from any spelling (``arXiv:1706.03762v5``, an abs/pdf URL, ``oai:arXiv.org:``).

    Returns None for strings that are not arXiv ids.
    """
    text = raw.strip()
    plain = _ARXIV_PLAIN.fullmatch(text)  # the common spelling (every OAI-PMH and snapshot record), in one step
    if plain:
        return plain.group(1), int(plain.group(2)) if plain.group(2) else None
    for prefix in ("oai:arXiv.org:", "arXiv:", "arxiv:"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = _PDF.sub("", _ARXIV_URL.sub("", text))
    for pattern in (_ARXIV_NEW, _ARXIV_OLD):
        match = pattern.search(text)
        if match and (match.start() == 0 or text[match.start() - 1] in "/:"):
            version = int(match.group(3)) if match.group(3) else None
            return match.group(1), version
    return None


def normalize_doi(raw: str | None) -> str | None:
    """DOIs are case-insensitive: lower-case, without ``https://doi.org/`` or ``doi:``."""
    if not raw:
        return None
    text = raw.strip()
    text = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", text, flags=re.IGNORECASE)
    return text.lower() if text.startswith("10.") else None
