"""A mention: one author slot on one paper with the evidence around it, whatever it was read from.

The store, the labelled datasets and the benchmarks all turn their rows into :class:`Mention` lists, so the
features, the model and the clustering never know where a mention came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .names import NameParts, parts_of


@dataclass(slots=True)
class Mention:
    key: Any  # authorship id in the store, signature id in a dataset
    paper: Any  # paper id (two mentions on one paper are never one person)
    name: str  # as written
    forenames: str | None = None
    surname: str | None = None
    coauthors: list[str] = field(default_factory=list)  # the other names on the paper
    title: str = ""
    venue: str = ""
    categories: list[str] = field(default_factory=list)
    affiliations: list[str] = field(default_factory=list)
    year: int | None = None
    orcid: str | None = None
    homonym: str | None = None  # DBLP homonym number, when the source kept it
    n_authors: int = 0

    @property
    def parts(self) -> NameParts:
        return parts_of(self.name, self.forenames, self.surname)


def name_parts(mentions: list[Mention]) -> list[NameParts]:
    """Every mention's :class:`NameParts`, folding each distinct way of writing a name once (a corpus writes
    most names many times: 122,000 distinct spellings among 284,000 arXiv mentions)."""
    spellings = [(m.name, m.forenames, m.surname) for m in mentions]
    folded = {spelling: parts_of(*spelling) for spelling in dict.fromkeys(spellings)}
    return list(map(folded.__getitem__, spellings))
