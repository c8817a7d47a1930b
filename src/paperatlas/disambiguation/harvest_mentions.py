"""Mentions straight from arXiv OAI-PMH pages (the 2016 cs harvest), for the speed benchmark: no store in the
way, so the figure is the disambiguation's own cost per mention."""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from pathlib import Path

from lxml import etree

from .mentions import Mention

_A = "{http://arxiv.org/OAI/arXiv/}"


def _records(pages: Iterable[Path]) -> Iterator[etree._Element]:
    """Each arXiv metadata element of the pages, cleared once the caller has read it."""
    for page in pages:
        with gzip.open(page, "rb") as handle:
            for _, record in etree.iterparse(handle, tag=f"{_A}arXiv", recover=True):
                yield record
                record.clear()


def read_oai_mentions(pages: Iterable[Path]) -> tuple[list[Mention], int]:
    mentions: list[Mention] = []
    papers = 0
    for record in _records(pages):
        papers += 1
        arxiv_id = record.findtext(f"{_A}id") or str(papers)
        title = " ".join((record.findtext(f"{_A}title") or "").split())
        created = record.findtext(f"{_A}created") or ""
        categories = (record.findtext(f"{_A}categories") or "").split()
        journal = record.findtext(f"{_A}journal-ref") or ""
        people = []
        for author in record.iter(f"{_A}author"):
            keyname = author.findtext(f"{_A}keyname") or ""
            forenames = author.findtext(f"{_A}forenames") or ""
            affils = [a.text for a in author.iter(f"{_A}affiliation") if a.text]
            people.append((forenames, keyname, affils))
        names = [f"{f} {k}".strip() for f, k, _ in people]
        for pos, (forenames, keyname, affils) in enumerate(people):
            mentions.append(Mention(
                key=f"{arxiv_id}#{pos}", paper=arxiv_id, name=names[pos], forenames=forenames,
                surname=keyname, coauthors=names[:pos] + names[pos + 1 :], title=title,
                venue=journal.split(",")[0][:60], categories=categories, affiliations=affils,
                year=int(created[:4]) if created[:4].isdigit() else None, n_authors=len(people),
            ))
    return mentions, papers


def read_oai_texts(pages: Iterable[Path]) -> tuple[list[str], list[str]]:
    """Titles and abstracts of the harvest, whitespace-normalized: what the topic table is distilled from."""
    titles: list[str] = []
    abstracts: list[str] = []
    for record in _records(pages):
        titles.append(" ".join((record.findtext(f"{_A}title") or "").split()))
        abstracts.append(" ".join((record.findtext(f"{_A}abstract") or "").split()))
    return titles, abstracts
