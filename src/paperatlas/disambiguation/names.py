"""Name variants: how one person's name is written in different ways, and when two spellings cannot be one person.

Blocking key = folded surname + first initial (``"steinhardt j"``), so "Jacob Steinhardt", "J. Steinhardt" and
"Jacob N. Steinhardt" meet in one block while the pair model decides.  Forenames are folded (diacritics, case,
hyphens: "Xiao-Ming" = "Xiaoming" = "xiao ming" is *not* assumed, but hyphen-joined is) and compared: two full
first names that differ and are not known nickname variants ("bill"/"william") are different people, a hard rule.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

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
    tokens = [t for t in _NON_ALNUM.split(surname.lower()) if t]
    while len(tokens) > 1 and tokens[0] in PARTICLES:
        tokens.pop(0)
    return "".join(tokens)


@lru_cache(maxsize=262_144)
def _fold_forenames(forenames: str) -> tuple[str, str]:
    raw = forenames.strip()
    if _INITIALS_RUN.match(raw):  # "JN" -> "j n"
        raw = " ".join(raw)
    # Hyphenated given names are one name ("Xiao-Ming" == "Xiaoming"); "J.-P." is two initials.
    folded = fold(raw)
    folded = re.sub(r"(?<=[a-z]{2})-(?=[a-z]{2})", "", folded)
    tokens = _TOKEN.findall(folded)
    if not tokens:
        return "", ""
    return tokens[0], " ".join(tokens[1:])


@lru_cache(maxsize=262_144)
def parts_of(name: str, forenames: str | None = None, surname: str | None = None) -> NameParts:
    """Fold a name (given whole, or as parts when the source separated them) into :class:`NameParts`."""
    bare, homonym = split_homonym(name or "")
    if surname is None:
        forenames, surname, _ = parse_name(bare)
    first, middle = _fold_forenames(forenames or "")
    folded = fast_surname_key(surname)
    return NameParts(first=first, middle=middle, surname=folded, homonym=homonym,
                     block=f"{folded} {first[:1]}".strip(), first_is_initial=len(first) <= 1)


@lru_cache(maxsize=1)
def nickname_pairs() -> frozenset[tuple[str, str]]:
    """Known first-name variants (S2AND's name tuples, shipped with the model): ("bill", "william")..."""
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


@lru_cache(maxsize=262_144)
def first_names_compatible(a: str, b: str) -> bool:
    """Can two folded first forenames belong to one person?  Initials match any name with that initial;
    full names must be equal, a known nickname pair, or one a prefix of the other ("alex"/"alexander")."""
    if not a or not b:
        return True
    if a[0] != b[0]:
        return (a, b) in nickname_pairs()
    if len(a) == 1 or len(b) == 1 or a == b:
        return True
    if (a.startswith(b) or b.startswith(a)) and min(len(a), len(b)) >= 3:
        return True
    return (a, b) in nickname_pairs()


def compatible(x: NameParts, y: NameParts) -> bool:
    """The hard rule on names: incompatible first names, or different DBLP homonym numbers, are two people."""
    if x.homonym and y.homonym and x.homonym != y.homonym:
        return False
    return first_names_compatible(x.first, y.first)


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
