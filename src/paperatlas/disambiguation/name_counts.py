"""How common a first name and a surname are, counted once over a large real corpus (the 2016 arXiv cs harvest)
and shipped with the model: a corpus-independent prior, as S2AND's name counts are.  Two "Jun Zhang"s with no
shared evidence are probably two people; two "Jacob Steinhardt"s probably one."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

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


def save(counts: dict[str, dict[str, int]], directory: Path) -> None:
    (directory / FILE).write_bytes(gzip.compress(json.dumps(counts, sort_keys=True).encode(), mtime=0))


@lru_cache(maxsize=1)
def shipped() -> dict[str, dict[str, int]]:
    try:
        data = resources.files("paperatlas.models.disambiguation").joinpath(FILE).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError):
        return {"first": {}, "last": {}, "full": {}}
    return json.loads(gzip.decompress(data))
