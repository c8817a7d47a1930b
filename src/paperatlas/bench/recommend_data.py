"""The ACL Anthology Network as an offline recommendation test: authors stand in for readers.

Read with the product's own AAN readers (``sources/acl_anthology.py``), so a malformed block is reported and
skipped exactly as ``paperatlas ingest`` would.  The protocol (issue 22, item 3), for a year Y:

- readers: authors with >= 1 paper in Y and >= ``min_library`` distinct papers cited (by their papers) before Y;
- a reader's library: the papers they cited before Y;
- candidates: every paper published in Y-2 or Y-1, minus the reader's own library (a feed never offers a paper
  the reader already saved, and re-citing a paper one cited last year is not a discovery);
- relevant: the candidates the reader's Y papers cite.

Readers with no relevant candidate are counted (``readers_without_relevant``) but not averaged: nDCG is undefined
for them and they would scale every method's figure alike.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..embeddings.store import paper_text
from ..sources.acl_anthology import AclCitationsReader, AclMetadataReader
from ..sources.base import ErrorSink
from .vector_cache import cached_vectors

AAN_FOLDER = Path("citations") / "acl-anthology-network"


@dataclass
class Corpus:
    """Papers (index = position), their authors, years and the citation edges among them."""

    ids: list[str]
    titles: list[str]
    years: np.ndarray  # int, 0 when unknown
    authors: list[list[str]]
    cites: list[list[int]]  # references of each paper (indices), deduplicated
    index: dict[str, int] = field(default_factory=dict)


@dataclass
class Reader:
    name: str
    library: list[int]  # sorted paper indices cited before the year
    relevant: set[int]  # candidates (library excluded) cited in the year
    own_papers: list[int]  # the reader's papers published before the year


@dataclass
class Split:
    year: int
    candidates: np.ndarray  # paper indices published in Y-2 or Y-1
    readers: list[Reader]
    readers_without_relevant: int
    citations_before: np.ndarray  # per paper: citations received from papers published before Y


def author_key(name: str) -> str:
    """One reader per written name, compared without case and punctuation (AAN spells a person one way)."""
    return re.sub(r"[^\w]+", " ", name.lower()).strip()


def load_corpus(folder: Path, errors: ErrorSink | None = None) -> Corpus:
    errors = errors or ErrorSink(echo=False)
    ids: list[str] = []
    titles: list[str] = []
    years: list[int] = []
    authors: list[list[str]] = []
    index: dict[str, int] = {}
    with open(folder / "acl-metadata.txt", "rb") as stream:
        for record in AclMetadataReader().read(stream, "acl-metadata.txt", errors):
            acl_id = record.ids["acl"]
            if acl_id in index:
                continue
            index[acl_id] = len(ids)
            ids.append(acl_id)
            titles.append(record.title or "")
            years.append(record.venue.year if record.venue and record.venue.year else 0)
            authors.append([author_key(a.name) for a in record.authors if author_key(a.name)])
    refs: list[set[int]] = [set() for _ in ids]
    with open(folder / "acl.txt", "rb") as stream:
        for edge in AclCitationsReader().read(stream, "acl.txt", errors):
            a, b = index.get(edge.citing.partition(":")[2]), index.get(edge.cited.partition(":")[2])
            if a is not None and b is not None and a != b:
                refs[a].add(b)
    return Corpus(ids, titles, np.asarray(years, dtype=np.int64), authors, [sorted(r) for r in refs], index)


def make_split(corpus: Corpus, year: int, min_library: int = 10) -> Split:
    years = corpus.years
    papers_of: dict[str, list[int]] = defaultdict(list)
    for p, names in enumerate(corpus.authors):
        for name in names:
            papers_of[name].append(p)
    candidates = np.flatnonzero((years == year - 1) | (years == year - 2))
    is_candidate = np.zeros(len(years), dtype=bool)
    is_candidate[candidates] = True
    readers: list[Reader] = []
    without = 0
    for name in sorted(papers_of):
        papers = papers_of[name]
        now = [p for p in papers if years[p] == year]
        if not now:
            continue
        before = [p for p in papers if 0 < years[p] < year]
        library = sorted({c for p in before for c in corpus.cites[p]})
        if len(library) < min_library:
            continue
        known = set(library)
        relevant = {c for p in now for c in corpus.cites[p] if is_candidate[c] and c not in known}
        if not relevant:
            without += 1
            continue
        readers.append(Reader(name, library, relevant, sorted(before)))
    cited_before = np.zeros(len(years), dtype=np.float64)
    for p, refs in enumerate(corpus.cites):
        if 0 < years[p] < year:
            for c in refs:
                cited_before[c] += 1
    return Split(year, candidates, readers, without, cited_before)


def title_texts(corpus: Corpus) -> list[str]:
    return [paper_text(t, None) for t in corpus.titles]


def title_vectors(cache_dir: Path, texts: list[str], show: bool) -> tuple[np.ndarray, str, int]:
    """The real embedding model's vectors for ``texts``, computing only those not cached (by model and content
    hash, as ``embeddings/cache.py`` keys them) in ``cache_dir``; returns (matrix, model name, computed now)."""
    return cached_vectors(cache_dir, "recommend", texts, show, unit="title", chunk=1024)
