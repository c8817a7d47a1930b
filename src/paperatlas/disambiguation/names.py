"""Name variants: how one person's name is written in different ways, and when two spellings cannot be one person.

Blocking key = folded surname + first initial (``"steinhardt j"``), so "Jacob Steinhardt", "J. Steinhardt" and
"Jacob N. Steinhardt" meet in one block while the pair model decides.  Forenames are folded (diacritics, case,
hyphens) and compared by :func:`given_compatible`, a hard rule: a written-out given name is an abbreviation only of
itself ("Xin" is not "Xinggang"), while an initial, the same name hyphenated, spaced or joined ("Xing-Gang",
"Xing Gang", "Xinggang"), its romanizations, a dropped middle name, and known nickname pairs ("bill"/"william")
may be one person.
"""

from __future__ import annotations

import gzip
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..normalize import PARTICLES, ascii_fold, parse_name, split_homonym, surname_key  # same particles

_TOKEN = re.compile(r"[a-z0-9]+")
_INITIALS_RUN = re.compile(r"^[A-Z]{2,3}$")  # "JS" in "Steinhardt JS" (PubMed style)


@dataclass(frozen=True, slots=True)
class NameParts:
    """A name folded for comparison: ``first`` is the first forename (may be a single initial)."""

    first: str
    middle: str  # remaining forenames, joined by spaces ("" when none)
    surname: str  # surname_key: folded, particles and hyphens dropped
    homonym: str | None = None
    block: str = ""  # filled by parts_of: folded surname + first initial
    first_is_initial: bool = True
    first_alt: str = ""  # the German spelling of an umlauted first name ("juergen" for "Jürgen"), else ""

    @property
    def initial(self) -> str:
        return self.first[:1]

    @property
    def middle_initials(self) -> str:
        return "".join(t[:1] for t in self.middle.split())


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """:func:`normalize.ascii_fold` with a fast path: most names are plain ASCII already (anyascii is the
    slowest step of blocking otherwise)."""
    return text.lower() if text.isascii() else ascii_fold(text)


def fast_surname_key(surname: str | None) -> str:
    """:func:`normalize.surname_key`, same result, without transliterating ASCII input."""
    if not surname:
        return ""
    if not surname.isascii():
        return surname_key(surname)
    if surname.isalnum():  # one token of ASCII letters and digits, the common case: nothing to split or drop
        return surname.lower()
    tokens = [t for t in _NON_ALNUM.split(surname.lower()) if t]
    while len(tokens) > 1 and tokens[0] in PARTICLES:
        tokens.pop(0)
    return "".join(tokens)


_JOINING_HYPHEN = re.compile(r"(?<=[a-z]{2})-(?=[a-z]{2})")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


@lru_cache(maxsize=262_144)
def _fold_forenames(forenames: str) -> tuple[str, str, str]:
    """(first, middle, first_alt) of written forenames; ``first_alt`` is the umlaut spelling where one exists."""
    raw = forenames.strip()
    if _INITIALS_RUN.match(raw):  # "JN" -> "j n"
        raw = " ".join(raw)
    # Hyphenated given names are one name ("Xiao-Ming" == "Xiaoming"); "J.-P." is two initials.
    folded = _JOINING_HYPHEN.sub("", fold(raw))
    tokens = _TOKEN.findall(folded)
    if not tokens:
        return "", "", ""
    alt = ""
    if not raw.isascii() and any(c in raw for c in "äöüÄÖÜ"):
        alt_tokens = _TOKEN.findall(_JOINING_HYPHEN.sub("", fold(raw.translate(_UMLAUTS))))
        alt = alt_tokens[0] if alt_tokens and alt_tokens[0] != tokens[0] else ""
    return tokens[0], " ".join(tokens[1:]), alt


@lru_cache(maxsize=262_144)
def parts_of(name: str, forenames: str | None = None, surname: str | None = None) -> NameParts:
    """Fold a name (given whole, or as parts when the source separated them) into :class:`NameParts`."""
    bare, homonym = (name or "").strip(), None
    if bare[-1:].isdigit():  # only a name ending in a digit can carry a DBLP homonym number
        bare, homonym = split_homonym(bare)
    if surname is None:
        forenames, surname, _ = parse_name(bare)
    first, middle, alt = _fold_forenames(forenames or "")
    folded = fast_surname_key(surname)
    return NameParts(first=first, middle=middle, surname=folded, homonym=homonym,
                     block=f"{folded} {first[:1]}".strip(), first_is_initial=len(first) <= 1, first_alt=alt)


@lru_cache(maxsize=1)
def nickname_pairs() -> frozenset[tuple[str, str]]:
    """Known first-name variants ("bill"/"william", "dan"/"daniel", "alec"/"alexander"): S2AND's name tuples
    (allenai/S2AND ``data/s2and_name_tuples.txt``, CC BY 4.0, a copy in ../shared/data/disambiguation/s2and/
    name_data), shipped with the model.  The table is the only way a written-out name may meet a different one."""
    pairs: set[tuple[str, str]] = set()
    try:
        data = resources.files("paperatlas.models.disambiguation").joinpath("name_tuples.txt.gz").read_bytes()
    except (FileNotFoundError, ModuleNotFoundError):
        return frozenset()
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        a, _, b = line.strip().partition(",")
        if a and b:
            pairs.add((a, b))
            pairs.add((b, a))
    return frozenset(pairs)


_CYRILLIC_ENDINGS = (("iy", "i"), ("ij", "i"), ("ii", "i"), ("yy", "i"), ("ey", "ei"), ("ej", "ei"))
_CONSONANT_Y = re.compile(r"(?<=[bcdfghklmnprstvz])y$")


@lru_cache(maxsize=262_144)
def transliterated(name: str) -> str:
    """One spelling for the romanizations of a Slavic given name ("Sergey"/"Sergei"/"Sergej", "Dmitry"/"Dmitrii",
    "Aleksei"/"Alexei"), folded the same way on both sides.  Only spellings pinyin never produces are rewritten
    ("ks", a final "iy"/"ii"/"ij"/"ey"/"ej", a final "y" after a consonant), so Chinese given names, where one
    letter is one name, are left exactly as written."""
    out = name.replace("ks", "x")
    for ending, repl in _CYRILLIC_ENDINGS:
        if out.endswith(ending) and len(out) > 3:
            return out[: -len(ending)] + repl
    return _CONSONANT_Y.sub("i", out) if len(out) > 3 else out


def given_key(p: NameParts) -> tuple[str, str, str]:
    """What the given-name rule reads of a name: the first forename, the next one (a split syllable: "Xing Gang"
    is "Xinggang"), and the German spelling of an umlaut ("Jürgen" is also "Juergen"), "" where absent."""
    second = p.middle.split(" ", 1)[0] if p.middle else ""
    return p.first, second, p.first_alt


def first_names_compatible(a: str, b: str) -> bool:
    """Can two folded first forenames belong to one person?  An initial matches any name it starts; a written-out
    name is an abbreviation only of itself: "xin", "xing", "xinggang" and "xinbing" are four names.  Two different
    written names meet only as a known nickname pair or as romanizations of one name (:func:`transliterated`)."""
    return given_compatible((a, "", ""), (b, "", ""))


@lru_cache(maxsize=262_144)
def given_compatible(x: tuple[str, str, str], y: tuple[str, str, str]) -> bool:
    """The given-name hard rule over :func:`given_key` readings (see :func:`first_names_compatible`); besides
    equal, nickname and transliterated first names, one side's first two forenames written joined are the other's
    first ("Xing Gang" / "Xing-Gang" / "Xinggang"; "Xing G." / "Xinggang"), and a dropped or added middle name is
    no conflict ("Xin Eric Wang" / "Xin Wang": evidence decides)."""
    a, b = x[0], y[0]
    if not a or not b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0] or (a, b) in nickname_pairs()
    if a == b or (a, b) in nickname_pairs():
        return True
    spellings_a = {a, transliterated(a), *([x[2]] if x[2] else [])}
    spellings_b = {b, transliterated(b), *([y[2]] if y[2] else [])}
    if spellings_a & spellings_b:
        return True
    return _joined(a, x[1], b) or _joined(b, y[1], a)


@lru_cache(maxsize=1)
def _nickname_partners() -> dict[str, tuple[str, ...]]:
    """:func:`nickname_pairs` as name -> the names it pairs with."""
    partners: dict[str, list[str]] = {}
    for a, b in nickname_pairs():
        partners.setdefault(a, []).append(b)
    return {a: tuple(bs) for a, bs in partners.items()}


def given_compatible_many(readings: Sequence[tuple[str, str, str]], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``given_compatible(readings[x[k]], readings[y[k]])`` for every k, the same answers as the rule itself (a
    test compares them over the real names of every labelled set and the arXiv harvest), in numpy: a whole
    corpus asks about 200,000 distinct pairs of readings, nearly all of them two different written names, and
    the rule in Python was a tenth of the clustering's CPU time.

    Each reading's strings (its first name, that name transliterated, its umlaut spelling, its first two
    forenames joined) become ints in one vocabulary, so equal spellings are equal ints; a known nickname pair is
    a pair of ints; and "the other name starts with my first name + my second initial" is a range of ranks in
    the sorted list of first names, so that no pair needs a string comparison."""
    x, y = np.asarray(x, dtype=np.int64), np.asarray(y, dtype=np.int64)
    if not len(x):
        return np.ones(0, dtype=bool)
    firsts = sorted({r[0] for r in readings})
    rank = {name: k for k, name in enumerate(firsts)}  # in sorted order: names with one prefix are a range
    spelling = dict(rank)  # first names and their other spellings, one int each
    absent = -1
    first = [rank[a] for a, _, _ in readings]
    trans, alt = first.copy(), first.copy()
    joined = [absent] * len(readings)  # the first two forenames written as one name, where that is a name
    lo = [0] * len(readings)  # first names starting with first + second initial: ranks lo .. hi-1
    hi = [0] * len(readings)
    for k, (a, second, umlaut) in enumerate(readings):
        if len(a) < 2:
            continue
        trans[k] = spelling.setdefault(transliterated(a), len(spelling))
        if umlaut:
            alt[k] = spelling.setdefault(umlaut, len(spelling))
        if len(second) > 1:
            joined[k] = rank.get(a + second, absent)
        elif second:
            lo[k] = bisect_left(firsts, a + second)
            hi[k] = bisect_left(firsts, a + second + "\U0010ffff")
    first, trans, alt, joined, lo, hi = (np.array(v, dtype=np.int64) for v in (first, trans, alt, joined, lo, hi))
    length = np.array([len(a) for a in firsts], dtype=np.int64)[first]
    width = len(firsts)
    partners = _nickname_partners()
    nicknames = np.array([rank[a] * width + rank[b] for a in firsts for b in partners.get(a, ()) if b in rank],
                         dtype=np.int64)
    fx, fy = first[x], first[y]
    nickname = np.isin(fx * width + fy, nicknames)
    letter = np.array([ord(a[0]) if a else 0 for a in firsts], dtype=np.int64)
    empty = (length[x] == 0) | (length[y] == 0)
    initial = (length[x] == 1) | (length[y] == 1)
    spelled = np.zeros(len(x), dtype=bool)
    for sx in (fx, trans[x], alt[x]):
        for sy in (fy, trans[y], alt[y]):
            spelled |= sx == sy

    def joins(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        by_initial = (first[b] >= lo[a]) & (first[b] < hi[a]) & (length[b] >= length[a] + 2)
        return ((joined[a] != absent) & (joined[a] == first[b])) | by_initial

    written = spelled | nickname | joins(x, y) | joins(y, x)
    return empty | np.where(initial, (letter[fx] == letter[fy]) | nickname, written)


def _joined(first: str, second: str, other: str) -> bool:
    """``first`` + ``second`` written as one name is ``other`` ("xing" + "gang" = "xinggang"); an initial for the
    second ("xing" + "g") must start the rest of ``other`` with at least two letters left over."""
    if not second or not other.startswith(first) or len(other) <= len(first):
        return False
    rest = other[len(first):]
    if len(second) == 1:
        return rest.startswith(second) and len(rest) >= 2
    return rest == second


def compatible(x: NameParts, y: NameParts) -> bool:
    """The hard rule on names: incompatible given names, or different DBLP homonym numbers, are two people."""
    if x.homonym and y.homonym and x.homonym != y.homonym:
        return False
    return given_compatible(given_key(x), given_key(y))


def middle_agreement(x: NameParts, y: NameParts) -> int:
    """+1 both give middle initials and they agree, -1 both give them and they differ, 0 otherwise."""
    a, b = x.middle_initials, y.middle_initials
    if not a or not b:
        return 0
    return 1 if (a.startswith(b) or b.startswith(a)) else -1


_PLAIN_NAME = re.compile(r"^[A-Za-z][A-Za-z.'-]*(?: [A-Za-z][A-Za-z.'-]*)+$")
_NOT_PLAIN = frozenset({*PARTICLES, "jr", "sr", "ii", "iii", "iv"})


def coauthor_key(name: str) -> str:
    """How a coauthor is matched across papers: folded surname + first initial (tolerant to name variants).

    The common case, "Forenames Surname" in plain ASCII letters with no particle, suffix or initials run, is
    keyed directly (the same key :func:`parts_of` gives, a tenth of its cost); anything else goes through it."""
    if _PLAIN_NAME.match(name):
        tokens = name.split(" ")
        last = tokens[-1].lower()
        head = tokens[0]
        if (last.rstrip(".") not in _NOT_PLAIN and tokens[-2].lower() not in _NOT_PLAIN
                and not _INITIALS_RUN.match(head)):
            surname = fast_surname_key(last)
            if surname:
                return f"{surname} {head[0].lower()}"
    return parts_of(name).block


def query_parts(query: str) -> list[NameParts]:
    """Readings of a typed name: as written, and swapped ("Steinhardt Jacob", "Zhang Jun") when two+ tokens."""
    readings = [parts_of(query)]
    tokens = query.replace(",", " ").split()
    if "," not in query and len(tokens) >= 2:
        swapped = parts_of(tokens[0] + ", " + " ".join(tokens[1:]))
        if swapped != readings[0]:
            readings.append(swapped)
    return readings
