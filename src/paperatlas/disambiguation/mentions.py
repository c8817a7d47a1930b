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
