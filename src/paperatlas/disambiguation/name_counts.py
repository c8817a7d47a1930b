"""How common a first name and a surname are: a census counted at training time over real corpora in ../shared/data
(the 102,538-paper 2016 arXiv cs harvest and the DBLP XML fragments) and shipped with the model, never counted from
the store, so a common name stays common when a user ingests a handful of papers (as S2AND's name counts are).
Two "Jun Zhang"s with no shared evidence are probably two people; two "Jacob Steinhardt"s probably one.

S2AND's ``first_k_letter_counts_from_orcid.json`` (../shared/data/disambiguation/s2and/name_data) is not used:
it counts which first-name *prefixes* one ORCID holder writes together (name variants), not how common a name is.
"""

from __future__ import annotations

import gzip
import html
import json
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..normalize import split_homonym
from .mentions import Mention

FILE = "name_counts.json.gz"


def count_names(mentions: Iterable[Mention]) -> dict[str, dict[str, int]]:
    first: Counter[str] = Counter()
    last: Counter[str] = Counter()
    full: Counter[str] = Counter()
    for m in mentions:
        p = m.parts
        if p.surname:
            last[p.surname] += 1
        if p.first and not p.first_is_initial:
            first[p.first] += 1
            full[f"{p.first} {p.surname}"] += 1
    keep = lambda c, floor: {k: v for k, v in c.items() if v >= floor}  # noqa: E731
    return {"first": keep(first, 3), "last": keep(last, 4), "full": keep(full, 4)}


_AUTHOR = re.compile(r"<(?:author|editor)\b[^>]*>(.*?)</(?:author|editor)>", re.S)


def dblp_mentions(folder: Path) -> list[Mention]:
    """Every author and editor name in the DBLP XML files of ``folder`` (homonym numbers stripped), for counting.
    DBLP writes names with XML character entities (``&uuml;``), which ``html.unescape`` resolves."""
    out: list[Mention] = []
    for path in sorted(Path(folder).glob("*.xml")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        for raw in _AUTHOR.findall(text):
            name = split_homonym(html.unescape(raw).strip())[0]
            if name:
                out.append(Mention(key=len(out), paper=None, name=name))
    return out


def save(counts: dict[str, dict[str, int]], directory: Path) -> None:
    (directory / FILE).write_bytes(gzip.compress(json.dumps(counts, sort_keys=True).encode(), mtime=0))


@lru_cache(maxsize=1)
def shipped() -> dict[str, dict[str, int]]:
    try:
        data = resources.files("paperatlas.models.disambiguation").joinpath(FILE).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError):
        return {"first": {}, "last": {}, "full": {}}
    return json.loads(gzip.decompress(data))
